/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_files.c — file transfer: mu_client_get / mu_client_put against a
    mu_server serving a root directory: sizes, big files and options, CURVE,
    the digest cache, missing files and directories, existing files and
    overwriting, fairness between transfers. Paths are in
    test_files_paths.c, failures, resuming, progress and timeouts in
    test_files_fail.c, the raw protocol and digests in test_files_raw.c. */
#include "files_cases.h"

#define BIG (100 * MIB)

/* A sparse file of size bytes with a pattern block every 8 MiB. */
static bool
make_sparse(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t) size) < 0)
        return false;
    uint8_t block[4096];
    for (uint64_t off = 0; off + sizeof block <= size; off += 8 * MIB) {
        for (size_t i = 0; i < sizeof block; i++)
            block[i] = pattern(off, i);
        if (pwrite(fd, block, sizeof block, (off_t) off) != (ssize_t) sizeof block)
            return false;
    }
    return close(fd) == 0;
}

/* The server's files_sent, files_received and protocol_errors. */
static bool
server_counts(mu_client_t *client, unsigned long long counts[3])
{
    void *reply = NULL;
    size_t size;
    if (mu_client_request(client, "stats", 5, &reply, &size, 5000) != 0)
        return false;
    int n = sscanf(reply, "%llu %llu %llu", &counts[0], &counts[1], &counts[2]);
    free(reply);
    return n == 3;
}

/* ------------------------------------------------------------------ */
/* Transfers of every size around the chunk                            */

static const uint64_t sizes[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17 };

#define NSIZES (sizeof sizes / sizeof sizes[0])

static void
test_get_sizes(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], name[64];
    for (size_t i = 0; i < NSIZES; i++) {
        snprintf(name, sizeof name, "get-%zu", i);
        MU_CHECK(make_file(in_root(src, name), sizes[i], i + 1));
        MU_CHECK_EQ(mu_client_get(f.client, name, in_local(dst, name), NULL), 0);
        MU_CHECK(same_content(src, dst));
    }
    unsigned long long counts[3];
    MU_CHECK(server_counts(f.client, counts));
    MU_CHECK_EQ(counts[0], NSIZES);
    MU_CHECK_EQ(counts[1], 0);
    MU_CHECK_EQ(count_temp(local_dir), 0);
    fixture_close(&f);
}

static void
test_put_sizes(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], name[64];
    for (size_t i = 0; i < NSIZES; i++) {
        snprintf(name, sizeof name, "put-%zu", i);
        MU_CHECK(make_file(in_local(src, name), sizes[i], i + 100));
        MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), 0);
        MU_CHECK(same_content(src, in_root(dst, name)));
    }
    /* Into a subdirectory, and with a small chunk and window. */
    MU_CHECK(mkdir(in_root(dst, "sub"), 0755) == 0);
    mu_file_options_t opts = { .chunk_size = 1000, .window = 1 };
    MU_CHECK_EQ(mu_client_put(f.client, src, "sub/x", &opts), 0);
    MU_CHECK(same_content(src, in_root(dst, "sub/x")));
    unsigned long long counts[3];
    MU_CHECK(server_counts(f.client, counts));
    MU_CHECK_EQ(counts[1], NSIZES + 1);
    MU_CHECK_EQ(count_temp(root), 0);
    fixture_close(&f);
}

/* 100 MiB both ways (sparse source; 4 MiB chunks keep it quick under
   ASan), then small chunks and a window of 1 in both directions. */
static void
test_big_and_options(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], back[512];
    MU_CHECK(make_sparse(in_root(src, "big"), BIG));
    /* The server lowers a window of 64 x 4 MiB (more than it lets a client
       have in flight); the download must still flow. */
    mu_file_options_t opts = { .chunk_size = 4 * MIB, .window = 64 };
    MU_CHECK_EQ(mu_client_get(f.client, "big", in_local(dst, "big"), &opts), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_put(f.client, dst, "big-back", &opts), 0);
    MU_CHECK(same_content(src, in_root(back, "big-back")));
    unlink(dst);
    unlink(back);
    unlink(src);

    MU_CHECK(make_file(in_root(src, "small-chunks"), 100000, 7));
    mu_file_options_t tiny = { .chunk_size = 999, .window = 1 };
    MU_CHECK_EQ(mu_client_get(f.client, "small-chunks", in_local(dst, "small-chunks"), &tiny), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_put(f.client, dst, "small-chunks-back", &tiny), 0);
    MU_CHECK(same_content(src, in_root(back, "small-chunks-back")));

    /* Options out of range are refused before anything is sent. */
    mu_file_options_t bad = { .chunk_size = 4 * MIB + 1 };
    MU_CHECK_EQ(mu_client_get(f.client, "small-chunks", in_local(dst, "never"), &bad), MU_EINVAL);
    MU_CHECK_EQ(mu_client_put(f.client, src, "never", &bad), MU_EINVAL);
    bad = (mu_file_options_t) { .flags = 64 };
    MU_CHECK_EQ(mu_client_get(f.client, "small-chunks", in_local(dst, "never"), &bad), MU_EINVAL);
    MU_CHECK(!exists(in_local(dst, "never")));
    fixture_close(&f);
}

/* The same over CURVE with a shared secret. */
static void
test_curve(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 1, 0, 0));
    char src[512], dst[512];
    MU_CHECK(make_file(in_root(src, "curve"), 3 * CHUNK + 5, 9));
    MU_CHECK_EQ(mu_client_get(f.client, "curve", in_local(dst, "curve"), NULL), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_put(f.client, dst, "curve-back", NULL), 0);
    MU_CHECK(same_content(src, in_root(dst, "curve-back")));
    fixture_close(&f);
}

static void
test_missing_and_directories(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char path[512], dst[512], src[512];
    MU_CHECK(make_file(in_local(src, "md"), 10, 1));
    MU_CHECK(mkdir(in_root(path, "adir"), 0755) == 0);
    MU_CHECK_EQ(mu_client_get(f.client, "no-such", in_local(dst, "x"), NULL), MU_ENOENT);
    MU_CHECK_EQ(mu_client_get(f.client, "no-dir/no-such", in_local(dst, "x"), NULL), MU_ENOENT);
    MU_CHECK_EQ(mu_client_get(f.client, "adir", in_local(dst, "x"), NULL), MU_EISDIR);
    MU_CHECK_EQ(mu_client_get(f.client, ".", in_local(dst, "x"), NULL), MU_EISDIR);
    MU_CHECK(!exists(dst));
    /* Not a regular file (a FIFO: opening it must not block either). */
    MU_CHECK(mkfifo(in_root(path, "fifo"), 0644) == 0);
    MU_CHECK_EQ(mu_client_get(f.client, "fifo", in_local(dst, "x"), NULL), MU_EACCES);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(mu_client_put(f.client, src, "adir", NULL), MU_EISDIR);
    MU_CHECK_EQ(mu_client_put(f.client, src, "adir/", NULL), MU_EISDIR);
    MU_CHECK_EQ(mu_client_put(f.client, src, "md-file/x", NULL), 0); /* made: md-file/ */
    MU_CHECK_EQ(mu_client_put(f.client, src, "md-file/x/y", NULL), MU_ENOTDIR);
    /* Local side: a missing source, a directory as source. */
    MU_CHECK_EQ(mu_client_put(f.client, in_local(path, "no-such"), "x", NULL), MU_ENOENT);
    MU_CHECK_EQ(mu_client_put(f.client, local_dir, "x", NULL), MU_EISDIR);
    MU_CHECK_EQ(count_temp(root), 0);
    fixture_close(&f);
}

static void
test_exists_and_overwrite(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], other[512];
    MU_CHECK(make_file(in_root(src, "ow"), 5000, 3));
    MU_CHECK(make_file(in_local(dst, "ow"), 10, 4));
    MU_CHECK_EQ(mu_client_get(f.client, "ow", dst, NULL), MU_EEXIST);
    MU_CHECK_EQ(file_size(dst), 10);
    mu_file_options_t ow = { .flags = MU_FILE_OVERWRITE };
    MU_CHECK_EQ(mu_client_get(f.client, "ow", dst, &ow), 0);
    MU_CHECK(same_content(src, dst));

    MU_CHECK(make_file(in_local(other, "ow-new"), 777, 5));
    MU_CHECK_EQ(mu_client_put(f.client, other, "ow", NULL), MU_EEXIST);
    MU_CHECK_EQ(file_size(src), 5000);
    MU_CHECK_EQ(mu_client_put(f.client, other, "ow", &ow), 0);
    MU_CHECK(same_content(other, src));
    MU_CHECK_EQ(count_temp(root), 0);
    MU_CHECK_EQ(count_temp(local_dir), 0);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* The server's digest cache                                           */

/*  Progress callback that rewrites the served file once the first chunk
    has arrived (arg: the file's path). */
static int
change_file_midway(void *arg, uint64_t done, uint64_t total)
{
    static bool changed;
    if (done == 0)
        changed = false;
    if (!changed && done >= CHUNK) {
        int fd = open(arg, O_WRONLY);
        uint8_t byte = 0xee;
        if (fd >= 0) {
            if (pwrite(fd, &byte, 1, (off_t) (total - 1)) != 1)
                perror("pwrite");
            close(fd);
        }
        changed = true;
    }
    return 0;
}

/*  Progress callback that appends a byte to the served file once the
    first chunk has arrived (arg: the file's path). */
static int
grow_file_midway(void *arg, uint64_t done, uint64_t total)
{
    static bool grown;
    (void) total;
    if (done == 0)
        grown = false;
    if (!grown && done >= CHUNK) {
        int fd = open(arg, O_WRONLY | O_APPEND);
        if (fd < 0 || write(fd, "+", 1) != 1)
            perror("append");
        if (fd >= 0)
            close(fd);
        grown = true;
    }
    return 0;
}

/*  A file not in the digest cache (just written) that changes during a
    download fails it with MU_EIO as a cached one does: the digest of the
    bytes sent would vouch for a file that may never have been (it passed
    before, the digest taken over what was read). */
static void
test_changed_while_sent(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    MU_CHECK(make_file(in_root(src, "fresh"), 8 * CHUNK + 5, 43));
    mu_file_options_t opts = { .window = 1, .progress = grow_file_midway, .progress_arg = src };
    MU_CHECK_EQ(mu_client_get(f.client, "fresh", in_local(dst, "fresh-1"), &opts), MU_EIO);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(count_temp(local_dir), 0);
    MU_CHECK_EQ(mu_client_get(f.client, "fresh", in_local(dst, "fresh-2"), NULL), 0);
    MU_CHECK(same_content(src, dst));
    fixture_close(&f);
}

/*  Downloads of a settled file are served from the digest cache; a file
    rewritten at the same size is hashed again (new content arrives); a
    cached file that changes during a download fails it with MU_EIO and
    leaves nothing behind; the next download is right again. */
static void
test_digest_cache(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    uint64_t size = 8 * CHUNK + 5;
    MU_CHECK(make_file(in_root(src, "cached"), size, 41));
    /* the subject: the file's mtime and ctime older than the cache's
       settling time (2 s; ctime cannot be set back). A lower bound only. */
    sleep(3);
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-1"), NULL), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-2"), NULL), 0);
    MU_CHECK(same_content(src, dst));

    MU_CHECK(make_file(src, size, 42)); /* same size, other bytes */
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-3"), NULL), 0);
    MU_CHECK(same_content(src, dst));

    sleep(3); /* settled again (as above) */
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-4"), NULL), 0);
    mu_file_options_t opts = { .window = 1, .progress = change_file_midway, .progress_arg = src };
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-5"), &opts), MU_EIO);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(count_temp(local_dir), 0);
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-6"), NULL), 0);
    MU_CHECK(same_content(src, dst));
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Fairness: two big downloads and a third client's requests           */

typedef struct {
    const char *endpoint, *remote;
    char local[512];
    int rc;
    volatile int done;
} big_job_t;

static void *
big_download(void *arg)
{
    big_job_t *job = arg;
    mu_client_t *client = client_open(job->endpoint, 0);
    job->rc = client ? mu_client_get(client, job->remote, job->local, NULL) : -1;
    mu_client_destroy(&client);
    __atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void
test_fairness(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512];
    MU_CHECK(make_sparse(in_root(src, "fair"), 48 * MIB));
    big_job_t jobs[2] = { { f.endpoint, "fair", "", 0, 0 }, { f.endpoint, "fair", "", 0, 0 } };
    in_local(jobs[0].local, "fair-1");
    in_local(jobs[1].local, "fair-2");
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        MU_CHECK(pthread_create(&threads[i], NULL, big_download, &jobs[i]) == 0);
    int64_t worst = 0, during = 0;
    while (!__atomic_load_n(&jobs[0].done, __ATOMIC_SEQ_CST)
           || !__atomic_load_n(&jobs[1].done, __ATOMIC_SEQ_CST)) {
        bool both = !__atomic_load_n(&jobs[0].done, __ATOMIC_SEQ_CST)
                    && !__atomic_load_n(&jobs[1].done, __ATOMIC_SEQ_CST);
        int64_t start = mu_test_now_ms();
        void *reply = NULL;
        size_t size;
        int rc = mu_client_request(f.client, "ping", 4, &reply, &size, 5000);
        int64_t ms = mu_test_now_ms() - start;
        free(reply);
        if (rc != 0)
            break;
        worst = ms > worst ? ms : worst;
        during += both;
        usleep(10000); /* pacing of the pings, not a synchronisation */
    }
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    printf("# fairness: %lld requests during both downloads, worst latency %lld ms\n",
           (long long) during, (long long) worst);
    MU_CHECK_EQ(jobs[0].rc, 0);
    MU_CHECK_EQ(jobs[1].rc, 0);
    MU_CHECK(during >= 5);
    MU_CHECK(worst < mu_test_ms(1000));
    MU_CHECK(same_content(src, jobs[0].local));
    MU_CHECK(same_content(src, jobs[1].local));
    unlink(jobs[0].local);
    unlink(jobs[1].local);
    unlink(src);
    fixture_close(&f);
}

int
main(void)
{
    if (!files_suite_begin())
        return 1;

    MU_RUN(test_get_sizes);
    MU_RUN(test_put_sizes);
    MU_RUN(test_big_and_options);
    MU_RUN(test_curve);
    MU_RUN(test_changed_while_sent);
    MU_RUN(test_digest_cache);
    MU_RUN(test_missing_and_directories);
    MU_RUN(test_exists_and_overwrite);
    MU_RUN(test_fairness);

    files_suite_end();
    MU_DONE();
}
