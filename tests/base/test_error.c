/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_error.c — the error table, mu_strerror/mu_errname/mu_error_errno,
    and (white-box) the thread-local failure record: mu__fail,
    mu__fail_null, mu_last_code, mu_last_error. */
#include "mu_test.h"
#include "mutil.h"
#include "base/mu_internal.h"
#include <pthread.h>

static const int all_codes[] = {
#define CODE(name, value, errno_value, message) name,
    MU_ERRORS(CODE)
#undef CODE
};
#define CODE_COUNT (sizeof all_codes / sizeof *all_codes)

static void
test_codes_are_negative_and_distinct(void)
{
    for (size_t i = 0; i < CODE_COUNT; i++) {
        MU_CHECK(all_codes[i] < 0);
        for (size_t j = i + 1; j < CODE_COUNT; j++)
            MU_CHECK(all_codes[i] != all_codes[j]);
    }
}

static void
test_errno_codes_pass_through(void)
{
    MU_CHECK_EQ(MU_EINVAL, -EINVAL);
    MU_CHECK_EQ(MU_EAGAIN, -EAGAIN);
    MU_CHECK_EQ(MU_EPIPE, -EPIPE);
    MU_CHECK(MU_ECLOSED < -1000);
    /* A code outside the table is a negated errno. */
    MU_CHECK(strcmp(mu_strerror(-EDOM), strerror(EDOM)) == 0);
    MU_CHECK(strcmp(mu_errname(-EDOM), "MU_E?") == 0);
}

static void
test_every_code_has_a_message_and_name(void)
{
    for (size_t i = 0; i < CODE_COUNT; i++) {
        const char *message = mu_strerror(all_codes[i]);
        MU_CHECK(message && *message);
        MU_CHECK(strcmp(message, "unknown error") != 0);
        MU_CHECK(strncmp(mu_errname(all_codes[i]), "MU_E", 4) == 0);
    }
    MU_CHECK(strcmp(mu_errname(MU_EPROTO), "MU_EPROTO") == 0);
    MU_CHECK(strcmp(mu_strerror(0), "success") == 0);
    MU_CHECK(strcmp(mu_strerror(-5000), "unknown error") == 0);
    MU_CHECK(strcmp(mu_strerror(7), "unknown error") == 0);
}

static void
test_nearest_errno(void)
{
    for (size_t i = 0; i < CODE_COUNT; i++) {
        int e = mu_error_errno(all_codes[i]);
        MU_CHECK(e > 0);
        if (all_codes[i] > -1000)
            MU_CHECK_EQ(e, -all_codes[i]);
    }
    MU_CHECK_EQ(mu_error_errno(MU_EAUTH), EACCES);
    MU_CHECK_EQ(mu_error_errno(MU_ECORRUPT), EBADMSG);
    MU_CHECK_EQ(mu_error_errno(MU_EADDRINUSE), EADDRINUSE);
    MU_CHECK_EQ(mu_error_errno(0), 0);
    MU_CHECK_EQ(mu_error_errno(-EDOM), EDOM);
    MU_CHECK_EQ(mu_error_errno(-5000), EINVAL);
}

static void
test_version(void)
{
    /* the headers' version (mu_defs.h) is configure's (PACKAGE_VERSION) */
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", MU_VERSION_MAJOR, MU_VERSION_MINOR, MU_VERSION_PATCH);
    MU_CHECK_EQ(mu_version(), MU_VERSION);
    MU_CHECK_EQ(strcmp(mu_version_string(), want), 0);
    MU_CHECK_EQ(strcmp(PACKAGE_VERSION, want), 0);
}

static void
test_fail_records_message_and_detail(void)
{
    MU_CHECK_EQ(mu__fail(MU_ENOENT, "key file '%s'", "/x/key"), MU_ENOENT);
    MU_CHECK_EQ(mu_last_code(), MU_ENOENT);
    MU_CHECK_EQ(strcmp(mu_last_error(), "no such file or entry: key file '/x/key'"), 0);
    MU_CHECK_EQ(strcmp(mu__last_detail(), "key file '/x/key'"), 0);
    MU_CHECK_EQ(mu__fail(MU_EAUTH, NULL), MU_EAUTH); /* no detail */
    MU_CHECK_EQ(strcmp(mu_last_error(), "authentication failed"), 0);
    MU_CHECK_EQ(strcmp(mu__last_detail(), ""), 0);
    MU_CHECK_EQ(mu__fail(-EDOM, "%s", ""), -EDOM); /* empty detail: none */
    MU_CHECK_EQ(strcmp(mu_last_error(), strerror(EDOM)), 0);
    /* the previous detail as an argument of the next one */
    mu__fail(MU_EIO, "disk %d", 3);
    mu__fail(MU_EPROTO, "while reading: %s", mu__last_detail());
    MU_CHECK_EQ(strcmp(mu_last_error(), "protocol error: malformed input from peer: "
                                        "while reading: disk 3"),
                0);
    mu__fail(MU_EPROTO, "again: %s", mu_last_error());
    MU_CHECK(strstr(mu_last_error(), ": again: protocol error"));
    /* a detail longer than the record is cut, still terminated */
    char longer[2000];
    memset(longer, 'z', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    mu__fail(MU_EINVAL, "%s", longer);
    MU_CHECK(strlen(mu_last_error()) < sizeof longer);
    MU_CHECK_EQ(strncmp(mu_last_error(), "invalid argument: zzz", 21), 0);
}

static void
test_fail_null_sets_errno(void)
{
    errno = 0;
    MU_CHECK(mu__fail_null(MU_EAUTH, "peer '%s'", "bob") == NULL);
    MU_CHECK_EQ(errno, EACCES);
    MU_CHECK_EQ(mu_last_code(), MU_EAUTH);
    MU_CHECK_EQ(strcmp(mu_last_error(), "authentication failed: peer 'bob'"), 0);
    MU_CHECK(mu__fail_null(-EMFILE, NULL) == NULL);
    MU_CHECK_EQ(errno, EMFILE);
    MU_CHECK(mu__fail_null(MU_ECORRUPT, "shard %d", 2) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
}

static void
test_detail_since(void)
{
    unsigned long before = mu__fail_count();
    MU_CHECK(mu__detail_since(before, MU_EIO) == NULL); /* nothing since */
    mu__fail(MU_EIO, "sector %d", 7);
    MU_CHECK(mu__fail_count() == before + 1);
    MU_CHECK_EQ(strcmp(mu__detail_since(before, MU_EIO), "sector 7"), 0);
    MU_CHECK(mu__detail_since(before, MU_EPIPE) == NULL); /* another code */
    before = mu__fail_count();
    mu__fail(MU_EIO, NULL);
    MU_CHECK(mu__detail_since(before, MU_EIO) == NULL); /* no detail */
}

typedef struct {
    int code_seen_first; /* the thread's code before it failed */
    int code;
    char error[128];
} thread_result_t;

static void *
fail_in_thread(void *arg)
{
    thread_result_t *r = arg;
    r->code_seen_first = mu_last_code();
    mu__fail(MU_EPIPE, "peer %d", 42);
    r->code = mu_last_code();
    snprintf(r->error, sizeof r->error, "%s", mu_last_error());
    return NULL;
}

/*  Each thread has its own record: one thread's failure is not another's. */
static void
test_last_error_per_thread(void)
{
    mu__fail(MU_ENOSPC, "volume '%s'", "main");
    thread_result_t r = { 0 };
    pthread_t thread;
    MU_CHECK_EQ(pthread_create(&thread, NULL, fail_in_thread, &r), 0);
    pthread_join(thread, NULL);
    MU_CHECK_EQ(r.code_seen_first, 0);
    MU_CHECK_EQ(r.code, MU_EPIPE);
    MU_CHECK_EQ(strcmp(r.error, "peer closed its end: peer 42"), 0);
    MU_CHECK_EQ(mu_last_code(), MU_ENOSPC);
    MU_CHECK_EQ(strcmp(mu_last_error(), "no space left on device: volume 'main'"), 0);
}

static void *
read_fresh_thread(void *arg)
{
    int *empty = arg;
    *empty = mu_last_code() == 0 && strcmp(mu_last_error(), "") == 0;
    return NULL;
}

/*  A thread that has not failed has code 0 and an empty message. */
static void
test_last_error_empty_in_new_thread(void)
{
    mu__fail(MU_EIO, "here");
    int empty = 0;
    pthread_t thread;
    MU_CHECK_EQ(pthread_create(&thread, NULL, read_fresh_thread, &empty), 0);
    pthread_join(thread, NULL);
    MU_CHECK(empty);
}

static void
test_expired_code(void)
{
    MU_CHECK_EQ(mu__expired(0), MU_EAGAIN);
    MU_CHECK_EQ(mu__expired(1), MU_ETIMEDOUT);
    MU_CHECK_EQ(mu__expired(-1), MU_ETIMEDOUT);
}

int
main(void)
{
    mu_test_start(30);
    MU_RUN(test_codes_are_negative_and_distinct);
    MU_RUN(test_errno_codes_pass_through);
    MU_RUN(test_every_code_has_a_message_and_name);
    MU_RUN(test_nearest_errno);
    MU_RUN(test_version);
    MU_RUN(test_fail_records_message_and_detail);
    MU_RUN(test_fail_null_sets_errno);
    MU_RUN(test_detail_since);
    MU_RUN(test_last_error_per_thread);
    MU_RUN(test_last_error_empty_in_new_thread);
    MU_RUN(test_expired_code);
    MU_DONE();
}
