/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_shard_procs.c — mu_shard shared and stressed: threads sharing one
    handle, opening a store while another process creates it, two writing
    processes, 50 SIGKILLs in the middle of write loops, and the file size
    limit. */
#include "shard_cases.h"

/* ---- processes ---------------------------------------------------------------- */

/*  Writes keys (who, 0..n-1) with singles and batches of 10; exits 0 when
    every call succeeded. */
static int
writer_child(const char *dir, int who, int n)
{
    mu_shard_opts_t o = { .k = 2,
                          .shards = 4,
                          .shardidx = 1,
                          .busy_timeout_ms = 20000,
                          .types = { MU_SHARD_INT, MU_SHARD_INT } };
    mu_shard_t *st = mu_shard_open(dir, &o);
    if (!st)
        return 10;
    mu_shard_batch_t *b = mu_shard_batch_new(st);
    int rc = b ? 0 : 11;
    for (int i = 0; i < n && rc == 0; i++) {
        size_t size;
        void *v = pack_value(who * 100000 + i, "from a child", &size);
        /* Shard on element 1 so both writers hit every shard. */
        mu_shard_elem_t key[2] = { mu_shard_int(who), mu_shard_int(i) };
        if (i % 20 < 10)
            rc = mu_shard_set(st, key, 2, v, size) ? 12 : 0;
        else if ((rc = mu_shard_batch_set(b, key, 2, v, size) ? 13 : 0) == 0 && i % 20 == 19)
            rc = mu_shard_batch_commit(b) ? 14 : 0;
        free(v);
    }
    mu_shard_batch_destroy(&b);
    mu_shard_destroy(&st);
    return rc;
}

static void
test_two_processes(void)
{
    enum { N = 600 };
    char dir[256];
    mu_shard_opts_t o = { .k = 2,
                          .shards = 4,
                          .shardidx = 1,
                          .create = true,
                          .types = { MU_SHARD_INT, MU_SHARD_INT } };
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    pid_t pids[2];
    for (int w = 0; w < 2; w++) {
        pids[w] = fork();
        MU_CHECK(pids[w] >= 0);
        if (pids[w] == 0)
            _exit(writer_child(dir, w + 1, N));
    }
    for (int w = 0; w < 2; w++) {
        int status = 0;
        MU_CHECK_EQ(waitpid(pids[w], &status, 0), pids[w]);
        MU_CHECK(WIFEXITED(status));
        MU_CHECK_EQ(WEXITSTATUS(status), 0);
    }
    st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    MU_CHECK_EQ(mu_shard_check(st), 0);
    uint64_t len = 0;
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 2 * N);
    for (int w = 1; w <= 2; w++)
        for (int i = 0; i < N; i++) {
            mu_shard_elem_t key[2] = { mu_shard_int(w), mu_shard_int(i) };
            char buf[256];
            size_t size;
            MU_CHECK_EQ(mu_shard_get_buf(st, key, 2, buf, sizeof buf, &size), 0);
            MU_CHECK_EQ(value_n(buf, size), w * 100000 + i);
        }
    mu_shard_destroy(&st);
}

/*  What a crash-loop child reports after each returned write: the range
    [first, first + count) of sequence numbers now committed. */
typedef struct {
    int64_t first, count;
} ack_t;

static void
crash_child(const char *dir, int run, int fd)
{
    mu_shard_opts_t o = { .k = 2, .shards = 4, .types = { MU_SHARD_INT, MU_SHARD_INT } };
    mu_shard_t *st = mu_shard_open(dir, &o);
    mu_shard_batch_t *b = st ? mu_shard_batch_new(st) : NULL;
    if (!b)
        _exit(3);
    mu_test_signal_byte(fd, 'R'); /* opened: the acks follow */
    size_t size;
    void *v = pack_value(run, long_text() + 1500, &size);
    for (int64_t seq = 0;;) {
        int batch = (seq / 7) % 2 ? 25 : 1;
        for (int i = 0; i < batch; i++) {
            mu_shard_elem_t key[2] = { mu_shard_int(run), mu_shard_int(seq + i) };
            if ((batch == 1 ? mu_shard_set(st, key, 2, v, size)
                            : mu_shard_batch_set(b, key, 2, v, size))
                != 0)
                _exit(4);
        }
        if (batch > 1 && mu_shard_batch_commit(b) != 0)
            _exit(5);
        ack_t a = { seq, batch };
        if (write(fd, &a, sizeof a) != (ssize_t) sizeof a)
            _exit(6);
        seq += batch;
    }
}

/*  Reads acks of one run until `until` acks (calls that returned) arrived
    or the pipe ends; adds the acked writes to *total_p, their sequence
    numbers marked in acked[0..cap). Returns the acks read. */
static int64_t
read_acks(int fd, unsigned char *acked, int64_t cap, int64_t until, int64_t *total_p)
{
    ack_t a;
    int64_t acks = 0;
    while (acks < until && read(fd, &a, sizeof a) == (ssize_t) sizeof a) {
        for (int64_t i = a.first; i < a.first + a.count && i < cap; i++, (*total_p)++)
            acked[i] = 1;
        acks++;
    }
    return acks;
}

static void
test_crash_loop(void)
{
    enum { RUNS = 50, CAP = 1 << 20 };
    char dir[256];
    mu_shard_opts_t o = { .k = 2,
                          .shards = 4,
                          .create = true,
                          .types = { MU_SHARD_INT, MU_SHARD_INT } };
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    unsigned char *acked = malloc(CAP);
    MU_CHECK(acked != NULL);
    srand((unsigned) time(NULL));
    int64_t total_acked = 0, total_mid = 0;
    for (int run = 0; run < RUNS; run++) {
        int fds[2];
        MU_CHECK_EQ(pipe(fds), 0);
        (void) fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
        pid_t pid = fork();
        MU_CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(dir, run, fds[1]);
        }
        close(fds[1]);
        memset(acked, 0, CAP);
        int64_t n = 0;
        /* Kill the child once it has opened the store and returned from a
           random number of writes. */
        int ready = mu_test_wait_byte(fds[0], 10000);
        if (ready == 'R')
            read_acks(fds[0], acked, CAP, 1 + rand() % 30, &n);
        kill(pid, SIGKILL);
        int status;
        MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
        MU_CHECK_EQ(ready, 'R');
        MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        read_acks(fds[0], acked, CAP, INT64_MAX, &n);
        close(fds[0]);
        total_acked += n;
        /* Every acked write is there; integrity_check is ok on every shard. */
        st = mu_shard_open(dir, &o);
        MU_CHECK(st != NULL);
        MU_CHECK_EQ(mu_shard_check(st), 0);
        for (int64_t i = 0; i < n + 30 && i < CAP; i++) {
            mu_shard_elem_t key[2] = { mu_shard_int(run), mu_shard_int(i) };
            int has = mu_shard_contains(st, key, 2);
            MU_CHECK(has >= 0);
            if (acked[i] && !has)
                printf("# run %d: acked write %" PRId64 " is missing\n", run, i);
            MU_CHECK(has || !acked[i]);
            total_mid += has && !acked[i]; /* committed, killed before the ack */
        }
        mu_shard_destroy(&st);
    }
    free(acked);
    printf("# crash loop: %d kills, %" PRId64 " acked writes all present, %" PRId64
           " more committed but not acked\n",
           RUNS, total_acked, total_mid);
    MU_CHECK(total_acked > 0);
}

/* ---- threads ---------------------------------------------------------------- */

enum { THREAD_WRITERS = 4, THREAD_KEYS = 400 };

typedef struct {
    mu_shard_t *store;
    int id;
    int failures; /* calls that did not return what they should */
} thread_job_t;

/*  Writes THREAD_KEYS keys of its own and one key shared by every writer,
    deletes its odd keys and reads back the even ones. */
static void *
writer_thread(void *arg)
{
    thread_job_t *job = arg;
    char name[16];
    snprintf(name, sizeof name, "t%d", job->id);
    for (int i = 0; i < THREAD_KEYS; i++) {
        mu_shard_elem_t key[3] = { mu_shard_str(name), mu_shard_int(i),
                                   mu_shard_bytes(&i, sizeof i) };
        mu_shard_elem_t shared[3] = { mu_shard_str("shared"), mu_shard_int(0),
                                      mu_shard_bytes("", 0) };
        size_t size;
        void *v = pack_value(job->id * 100000 + i, "x", &size);
        if (!v || mu_shard_set(job->store, key, 3, v, size) != 0
            || mu_shard_set(job->store, shared, 3, v, size) != 0)
            job->failures++;
        free(v);
    }
    for (int i = 1; i < THREAD_KEYS; i += 2) {
        mu_shard_elem_t key[3] = { mu_shard_str(name), mu_shard_int(i),
                                   mu_shard_bytes(&i, sizeof i) };
        if (mu_shard_delete(job->store, key, 3) != 0)
            job->failures++;
    }
    for (int i = 0; i < THREAD_KEYS; i += 2) {
        mu_shard_elem_t key[3] = { mu_shard_str(name), mu_shard_int(i),
                                   mu_shard_bytes(&i, sizeof i) };
        void *got = NULL;
        size_t size;
        if (mu_shard_get(job->store, key, 3, &got, &size) != 0
            || value_n(got, size) != job->id * 100000 + i)
            job->failures++;
        free(got);
    }
    return NULL;
}

/*  Runs all-shard queries while the writers write (each query sees some
    moment of the store, so only upper bounds can be checked). */
static void *
query_thread(void *arg)
{
    thread_job_t *job = arg;
    for (int round = 0; round < 40; round++) {
        uint64_t len = 0, in_range = 0;
        mu_shard_elem_t lo = mu_shard_int(0), hi = mu_shard_int(THREAD_KEYS / 2);
        if (mu_shard_len(job->store, &len) != 0 || len > THREAD_WRITERS * THREAD_KEYS + 1
            || mu_shard_count_range(job->store, 1, &lo, &hi, &in_range) != 0
            || in_range > THREAD_WRITERS * THREAD_KEYS + 1)
            job->failures++;
    }
    return NULL;
}

/*  One handle shared by writer threads and a query thread: every call
    succeeds and the end state is exactly what the writers left. */
static void
test_threads_share_one_handle(void)
{
    char dir[256];
    mu_shard_t *st = open_new3(dir, sizeof dir, 4);
    MU_CHECK(st != NULL);
    pthread_t threads[THREAD_WRITERS + 1];
    thread_job_t jobs[THREAD_WRITERS + 1];
    for (int t = 0; t <= THREAD_WRITERS; t++) {
        jobs[t] = (thread_job_t) { st, t, 0 };
        MU_CHECK_EQ(pthread_create(&threads[t], NULL,
                                   t < THREAD_WRITERS ? writer_thread : query_thread, &jobs[t]),
                    0);
    }
    int failures = 0;
    for (int t = 0; t <= THREAD_WRITERS; t++) {
        pthread_join(threads[t], NULL);
        failures += jobs[t].failures;
    }
    MU_CHECK_EQ(failures, 0);
    uint64_t len = 0;
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, THREAD_WRITERS * THREAD_KEYS / 2 + 1);
    mu_shard_elem_t shared[3] = { mu_shard_str("shared"), mu_shard_int(0), mu_shard_bytes("", 0) };
    void *got = NULL;
    size_t size;
    MU_CHECK_EQ(mu_shard_get(st, shared, 3, &got, &size), 0);
    int64_t n = value_n(got, size);
    free(got);
    MU_CHECK(n % 100000 == THREAD_KEYS - 1 && n / 100000 < THREAD_WRITERS);
    MU_CHECK_EQ(mu_shard_check(st), 0);
    mu_shard_destroy(&st);
}

/* ---- opening while another process creates -------------------------------------- */

typedef struct {
    char from[256], to[256];
    size_t shards;
    int watch; /* inotify descriptor watching the half-made shard 0 */
} finish_job_t;

/*  Waits up to timeout_ms (scaled) for an event on inotify descriptor in;
    returns 1 when one came, 0 on timeout. */
static int
wait_inotify(int in, int timeout_ms)
{
    union {
        struct inotify_event ev;
        char bytes[4096];
    } buf;
    struct pollfd p = { in, POLLIN, 0 };
    int n;
    while ((n = poll(&p, 1, mu_test_ms(timeout_ms))) < 0 && errno == EINTR)
        continue;
    return n == 1 && read(in, buf.bytes, sizeof buf.bytes) > 0;
}

/*  Once the opener has opened and closed the half-made shard 0 (it found
    no table and waits), moves a finished store's files over it, shard 0
    last, as a creating process would finish. */
static void *
finish_creation(void *arg)
{
    finish_job_t *job = arg;
    if (!wait_inotify(job->watch, 10000))
        return (void *) 1;
    for (size_t i = job->shards; i-- > 0;) {
        char from[300], to[300];
        snprintf(from, sizeof from, "%s/shard-%04zu.db", job->from, i);
        snprintf(to, sizeof to, "%s/shard-%04zu.db", job->to, i);
        if (rename(from, to) != 0)
            return (void *) 1;
    }
    return NULL;
}

/*  shard-0000.db exists but holds no table yet: an opener without create
    waits for the creator (up to the busy timeout) instead of calling the
    store corrupt; a file that never gets its tables is corrupt after it. */
static void
test_open_while_being_created(void)
{
    finish_job_t job = { .shards = 3 };
    mu_shard_opts_t o = opts3(3);
    new_dir(job.from, sizeof job.from);
    mu_shard_t *made = mu_shard_open(job.from, &o);
    MU_CHECK(made != NULL);
    mu_shard_elem_t key[3] = { mu_shard_str("k"), mu_shard_int(1), mu_shard_bytes("", 0) };
    size_t size;
    void *v = pack_value(42, "x", &size);
    MU_CHECK_EQ(mu_shard_set(made, key, 3, v, size), 0);
    free(v);
    mu_shard_destroy(&made);

    new_dir(job.to, sizeof job.to);
    MU_CHECK_EQ(mkdir(job.to, 0777), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/shard-0000.db", job.to);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    MU_CHECK(fd >= 0);
    close(fd);
    job.watch = inotify_init1(IN_CLOEXEC);
    MU_CHECK(job.watch >= 0);
    MU_CHECK(inotify_add_watch(job.watch, path, IN_CLOSE) >= 0);
    pthread_t finisher;
    MU_CHECK_EQ(pthread_create(&finisher, NULL, finish_creation, &job), 0);
    mu_shard_opts_t existing = { .k = 0, .busy_timeout_ms = mu_test_ms(10000) };
    mu_shard_t *st = mu_shard_open(job.to, &existing);
    void *moved = (void *) 1;
    pthread_join(finisher, &moved);
    close(job.watch);
    MU_CHECK(moved == NULL);
    MU_CHECK(st != NULL);
    void *got = NULL;
    MU_CHECK_EQ(mu_shard_get(st, key, 3, &got, &size), 0);
    MU_CHECK_EQ(value_n(got, size), 42);
    free(got);
    mu_shard_destroy(&st);

    char never[256];
    new_dir(never, sizeof never);
    MU_CHECK_EQ(mkdir(never, 0777), 0);
    snprintf(path, sizeof path, "%s/shard-0000.db", never);
    fd = open(path, O_CREAT | O_WRONLY, 0644);
    MU_CHECK(fd >= 0);
    close(fd);
    mu_shard_opts_t quick = { .k = 0, .busy_timeout_ms = 200 };
    int64_t t0 = mu_test_now_ms();
    errno = 0;
    MU_CHECK(mu_shard_open(never, &quick) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
    int64_t waited_ms = mu_test_now_ms() - t0;
    MU_CHECK(waited_ms >= 150 && waited_ms < mu_test_ms(5000));
}

/* ---- the file size limit (RLIMIT_FSIZE) -------------------------------------- */

enum { FSIZE_LIMIT = 256 * 1024 };

static mu_shard_opts_t
fsize_opts(void)
{
    mu_shard_opts_t o = { .k = 1,
                          .shards = 1,
                          .create = true,
                          .codec = MU_SHARD_CODEC_NONE,
                          .types = { MU_SHARD_INT } };
    return o;
}

/*  Stores key i with the value {"n": i, "s": 1 KB of text}. */
static int
fsize_set(mu_shard_t *st, mu_shard_batch_t *batch, int64_t i)
{
    size_t size;
    void *v = pack_value(i, long_text() + 1000, &size);
    mu_shard_elem_t key[1] = { mu_shard_int(i) };
    int rc = v == NULL ? MU_ENOMEM
             : batch   ? mu_shard_batch_set(batch, key, 1, v, size)
                       : mu_shard_set(st, key, 1, v, size);
    free(v);
    return rc;
}

/*  The child of test_file_size_limit, SIGXFSZ at its default action (death)
    and files limited to FSIZE_LIMIT bytes: sets keys until one fails, then
    commits a batch (fails too), reads the first key back, raises the limit
    and sets one key more. Writes the number of keys set before the failure
    to fd; exits 0 when every step went as documented, another status naming
    the step otherwise. */
static void
fsize_child(const char *dir, int fd)
{
    signal(SIGXFSZ, SIG_DFL);
    struct rlimit rl = { FSIZE_LIMIT, RLIM_INFINITY };
    mu_shard_opts_t o = fsize_opts();
    mu_shard_t *st = setrlimit(RLIMIT_FSIZE, &rl) == 0 ? mu_shard_open(dir, &o) : NULL;
    mu_shard_batch_t *batch = st ? mu_shard_batch_new(st) : NULL;
    if (batch == NULL)
        _exit(10);
    int64_t n = 0;
    int rc = 0;
    while (n < 10000 && (rc = fsize_set(st, NULL, n)) == 0)
        n++;
    if (rc != MU_EFBIG || strstr(mu_last_error(), "ulimit -f") == NULL)
        _exit(11);
    for (int i = 0; i < 20; i++)
        if (fsize_set(st, batch, n + i) != 0)
            _exit(12);
    if (mu_shard_batch_commit(batch) != MU_EFBIG)
        _exit(13);
    char buf[4096];
    size_t size;
    mu_shard_elem_t key[1] = { mu_shard_int(0) };
    if (mu_shard_get_buf(st, key, 1, buf, sizeof buf, &size) != 0 || value_n(buf, size) != 0)
        _exit(14);
    rl.rlim_cur = RLIM_INFINITY;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || fsize_set(st, NULL, n) != 0)
        _exit(15);
    mu_shard_batch_destroy(&batch);
    mu_shard_destroy(&st);
    _exit(write(fd, &n, sizeof n) == (ssize_t) sizeof n ? 0 : 16);
}

/*  A write past RLIMIT_FSIZE fails with MU_EFBIG (and a message naming the
    limit) instead of killing the process by SIGXFSZ, loses nothing, and
    writing works again once the limit is raised: on reopen the keys set
    before the failure hold their values, the failed ones are absent. */
static void
test_file_size_limit(void)
{
    char dir[256];
    new_dir(dir, sizeof dir);
    int fd = -1;
    int64_t n = -1;
    pid_t pid = mu_test_fork_piped(fsize_child, dir, &fd);
    MU_CHECK(pid > 0);
    MU_CHECK_EQ(mu_test_child_status(pid), 0); /* not killed by SIGXFSZ */
    MU_CHECK_EQ(read(fd, &n, sizeof n), (ssize_t) sizeof n);
    close(fd);
    printf("# %" PRId64 " values of 1 KB fitted under a %d-byte file size limit\n", n, FSIZE_LIMIT);
    MU_CHECK(n > 10);
    mu_shard_opts_t o = fsize_opts();
    mu_shard_t *st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    MU_CHECK_EQ(mu_shard_check(st), 0);
    uint64_t len = 0;
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, (uint64_t) n + 1);
    int64_t intact = 0;
    for (int64_t i = 0; i <= n; i++) {
        mu_shard_elem_t key[1] = { mu_shard_int(i) };
        char buf[4096];
        size_t size;
        intact += mu_shard_get_buf(st, key, 1, buf, sizeof buf, &size) == 0
                  && value_n(buf, size) == i;
    }
    MU_CHECK_EQ(intact, n + 1);
    mu_shard_elem_t after[1] = { mu_shard_int(n + 1) };
    MU_CHECK_EQ(mu_shard_contains(st, after, 1), 0); /* the failed batch left nothing */
    mu_shard_destroy(&st);
}

int
main(void)
{
    if (!shard_suite_begin())
        return 1;
    MU_RUN(test_threads_share_one_handle);
    MU_RUN(test_open_while_being_created);
    MU_RUN(test_two_processes);
    MU_RUN(test_crash_loop);
    MU_RUN(test_file_size_limit);
    shard_suite_end();
    MU_DONE();
}
