/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_files_fail.c — file transfer when things go wrong: writes failing
    on the client and on the server, resuming after a server restart and
    from a partial file, progress callbacks and cancelling, timeouts. */
#include "files_cases.h"

static int
remove_temp(const char *dir)
{
    return temp_files(dir, true);
}

/* ------------------------------------------------------------------ */
/* Failing writes                                                      */

/* A client under RLIMIT_FSIZE: MU_EFBIG, nothing left (checked in the
   forked job); the server still serves this client afterwards. */
static void
test_client_write_fails(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    MU_CHECK(make_file(in_root(src, "fbig"), 3 * MIB, 11));
    cmd_t c = { .op = OP_JOB_GET_FSIZE, .fsize = MIB };
    snprintf(c.endpoint, sizeof c.endpoint, "%s", f.endpoint);
    snprintf(c.path_a, sizeof c.path_a, "fbig");
    snprintf(c.path_b, sizeof c.path_b, "%s", in_local(dst, "fbig"));
    long pid = manager_call(&c);
    MU_CHECK(pid > 0);
    cmd_t w = { .op = OP_WAIT, .pid = (pid_t) pid };
    MU_CHECK_EQ(manager_call(&w), 0);
    MU_CHECK_EQ(mu_client_get(f.client, "fbig", dst, NULL), 0);
    MU_CHECK(same_content(src, dst));
    fixture_close(&f);
}

/* A server under RLIMIT_FSIZE (SIGXFSZ left at its default, which kills):
   the upload fails with MU_EFBIG at once, its temp file is removed, and the
   server keeps serving. */
static void
test_server_write_fails(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, MIB));
    char src[512], small[512], dst[512];
    MU_CHECK(make_file(in_local(src, "sfbig"), 3 * MIB, 12));
    MU_CHECK(make_file(in_local(small, "sfsmall"), 100000, 13));
    mu_file_options_t quick = { .timeout_ms = mu_test_ms(15000) };
    MU_CHECK_EQ(mu_client_put(f.client, src, "sfbig", &quick), MU_EFBIG);
    MU_CHECK(!exists(in_root(dst, "sfbig")));
    MU_CHECK(temp_gone(root, 2000));
    MU_CHECK_EQ(mu_client_put(f.client, small, "sfsmall", NULL), 0);
    MU_CHECK(same_content(small, in_root(dst, "sfsmall")));
    MU_CHECK_EQ(mu_client_get(f.client, "sfsmall", in_local(dst, "sfsmall-back"), NULL), 0);
    MU_CHECK(same_content(small, dst));
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Resume                                                              */

typedef struct {
    uint64_t last, calls, first, total;
    bool decreased;
    uint64_t cancel_at;  /* cancel when done reaches this (0: never) */
    uint64_t restart_at; /* restart the server there (0: never) */
    bool restarted;
    fixture_t *fixture;
} progress_t;

static int
on_progress(void *arg, uint64_t done, uint64_t total)
{
    progress_t *p = arg;
    if (p->calls++ == 0)
        p->first = done;
    else if (done < p->last)
        p->decreased = true;
    p->last = done;
    p->total = total;
    if (p->restart_at && !p->restarted && done >= p->restart_at) {
        p->restarted = true;
        child_kill(p->fixture->pid, SIGKILL);
        p->fixture->pid = server_start(p->fixture->endpoint, 0, 0, 0);
    }
    return p->cancel_at && done >= p->cancel_at;
}

/* The server is SIGKILLed mid-download and restarted on the same
   endpoint: the call resumes from the bytes it has and the digest
   matches. */
static void
test_resume_after_server_restart(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    MU_CHECK(make_file(in_root(src, "restart"), 24 * MIB, 21));
    progress_t p = { .restart_at = 8 * MIB, .fixture = &f };
    mu_file_options_t opts = { .chunk_size = 64 * 1024,
                               .window = 4,
                               .timeout_ms = 30000,
                               .progress = on_progress,
                               .progress_arg = &p };
    MU_CHECK_EQ(mu_client_get(f.client, "restart", in_local(dst, "restart"), &opts), 0);
    MU_CHECK(p.restarted);
    MU_CHECK(f.pid > 0);
    MU_CHECK(!p.decreased); /* resumed, not started over */
    MU_CHECK_EQ(p.last, 24 * MIB);
    MU_CHECK(same_content(src, dst));
    mu_client_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_client_stats(f.client, &st), 0);
    MU_CHECK(st.reconnects >= 1);
    MU_CHECK_EQ(count_temp(local_dir), 0);

    /* An upload whose server restarts starts over and completes. */
    p = (progress_t) { .restart_at = 8 * MIB, .fixture = &f };
    MU_CHECK_EQ(mu_client_put(f.client, dst, "restart-up", &opts), 0);
    MU_CHECK(p.restarted);
    MU_CHECK(f.pid > 0);
    MU_CHECK_EQ(p.last, 24 * MIB);
    MU_CHECK(same_content(src, in_root(dst, "restart-up")));
    /* The killed server could not remove its temporary file; the new one
       does not know it. */
    MU_CHECK_EQ(remove_temp(root), 1);
    fixture_close(&f);
}

/* MU_FILE_RESUME: a cancelled call keeps LOCAL.partial; the next call
   continues it; a corrupt .partial gives MU_EDIGEST and keeps nothing. */
static void
test_resume_partial(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], partial[600];
    uint64_t size = 2 * MIB + 123;
    MU_CHECK(make_file(in_root(src, "part"), size, 22));
    in_local(dst, "part");
    snprintf(partial, sizeof partial, "%s.partial", dst);

    progress_t p = { .cancel_at = MIB };
    mu_file_options_t opts = { .chunk_size = 64 * 1024,
                               .flags = MU_FILE_RESUME,
                               .progress = on_progress,
                               .progress_arg = &p };
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), MU_EINTR);
    MU_CHECK(!exists(dst));
    MU_CHECK(file_size(partial) >= MIB);
    uint64_t had = (uint64_t) file_size(partial);

    p = (progress_t) { 0 };
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), 0);
    MU_CHECK_EQ(p.first, had); /* it started from the partial file */
    MU_CHECK_EQ(p.last, size);
    MU_CHECK(same_content(src, dst));
    MU_CHECK(!exists(partial));
    unlink(dst);

    /* A .partial written by hand, with one wrong byte. */
    int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    MU_CHECK(fd >= 0);
    uint8_t head[1000];
    for (size_t i = 0; i < sizeof head; i++)
        head[i] = pattern(22, i);
    head[500] ^= 1;
    MU_CHECK(write(fd, head, sizeof head) == (ssize_t) sizeof head);
    close(fd);
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), MU_EDIGEST);
    MU_CHECK(!exists(dst));
    MU_CHECK(!exists(partial));

    /* A failure before any byte arrived leaves no empty .partial. */
    MU_CHECK_EQ(mu_client_get(f.client, "no-such", dst, &opts), MU_ENOENT);
    MU_CHECK(!exists(partial));
    MU_CHECK(!exists(dst));

    /* A .partial longer than the remote file is refused and dropped. */
    MU_CHECK(make_file(partial, size + 10, 22));
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), MU_EINVAL);
    MU_CHECK(!exists(dst));
    MU_CHECK(!exists(partial));
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Progress, cancel, timeouts                                          */

static void
test_progress_and_cancel(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    uint64_t size = 10 * CHUNK + 3;
    MU_CHECK(make_file(in_root(src, "prog"), size, 31));
    progress_t p = { 0 };
    mu_file_options_t opts = { .progress = on_progress, .progress_arg = &p };
    MU_CHECK_EQ(mu_client_get(f.client, "prog", in_local(dst, "prog"), &opts), 0);
    MU_CHECK(p.calls >= 11); /* at least once per chunk */
    MU_CHECK(!p.decreased);
    MU_CHECK_EQ(p.last, size);
    MU_CHECK_EQ(p.total, size);

    p = (progress_t) { 0 };
    MU_CHECK_EQ(mu_client_put(f.client, dst, "prog-up", &opts), 0);
    MU_CHECK(p.calls >= 11);
    MU_CHECK(!p.decreased);
    MU_CHECK_EQ(p.last, size);

    /* Cancel: MU_EINTR, nothing left on either side. */
    p = (progress_t) { .cancel_at = 3 * CHUNK };
    MU_CHECK_EQ(mu_client_get(f.client, "prog", in_local(dst, "prog-cancel"), &opts), MU_EINTR);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(count_temp(local_dir), 0);
    p = (progress_t) { .cancel_at = 3 * CHUNK };
    MU_CHECK_EQ(mu_client_put(f.client, src, "prog-cancel", &opts), MU_EINTR);
    MU_CHECK(temp_gone(root, 2000));
    MU_CHECK(!exists(in_root(dst, "prog-cancel")));
    /* The connection still works. */
    MU_CHECK_EQ(mu_client_get(f.client, "prog", in_local(dst, "prog-again"), NULL), 0);
    fixture_close(&f);
}

static void
test_timeout(void)
{
    char endpoint[300], dst[512], src[512];
    new_endpoint(endpoint, sizeof endpoint);
    mu_client_t *client = mu_client_new();
    MU_CHECK(client);
    MU_CHECK_EQ(mu_client_set_insecure(client), 0);
    MU_CHECK_EQ(mu_client_connect(client, endpoint), 0);
    mu_file_options_t opts = { .timeout_ms = 300 };
    MU_CHECK(make_file(in_local(src, "to"), 10, 1));
    /* nothing listens there: refused at once (tests/test_conn_fail.c) */
    MU_CHECK_EQ(mu_client_get(client, "x", in_local(dst, "to-x"), &opts), MU_ECONNREFUSED);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(mu_client_put(client, src, "x", &opts), MU_ECONNREFUSED);
    MU_CHECK_EQ(count_temp(local_dir), 0);
    mu_client_destroy(&client);
}

int
main(void)
{
    if (!files_suite_begin())
        return 1;

    MU_RUN(test_client_write_fails);
    MU_RUN(test_server_write_fails);
    MU_RUN(test_resume_after_server_restart);
    MU_RUN(test_resume_partial);
    MU_RUN(test_progress_and_cancel);
    MU_RUN(test_timeout);

    files_suite_end();
    MU_DONE();
}
