/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_lru_persist.c — mu_lru persistence: round trips for every
    durability policy, every documented error of mu_lru_open, SIGKILL
    during write loops (50 kills across the policies) and while creating,
    the file size limit (RLIMIT_FSIZE), and batches (read-only, the dirty
    bit against single calls). */
#include "test_lru.h"

/* ---- persistence ---------------------------------------------------------- */

static void
fill_some(mu_lru_t *lru, int n)
{
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i % (n / 2 + 1));
        int rc = inc(lru, key, 1 + (uint64_t) i % 3);
        (void) rc;
    }
}

static void
round_trip(mu_lru_durability_t policy, int explicit_flush)
{
    char dir[300];
    make_dir(dir, sizeof dir, "rt");
    mu_lru_t *lru = mu_lru_open(dir, "cache", 40, 4, MU_LRU_CREATE);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_set_durability(lru, policy, 5), 0);
    fill_some(lru, 60);
    MU_CHECK_EQ(mu_lru_delete(lru, "k3", 2), 0);
    MU_CHECK(mu_lru_evict(lru, 0, NULL, NULL) > 0);
    MU_CHECK_EQ(mu_lru_resize(lru, 30), 0);
    MU_CHECK(mu_lru_evict(lru, 0, NULL, NULL) > 0);
    MU_CHECK_EQ(inc(lru, "k3", 2), 0); /* deleted, then back */
    char before[4096];
    snprintf(before, sizeof before, "%s", dump(lru));
    uint64_t hits = STAT(lru, HITS, -1), misses = STAT(lru, MISSES, -1);
    uint64_t evictions = STAT(lru, EVICTIONS, -1), size = STAT(lru, SIZE, -1);
    if (explicit_flush)
        MU_CHECK_EQ(mu_lru_flush(lru), 0);
    mu_lru_destroy(&lru);
    lru = mu_lru_open(dir, "cache", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK(strcmp(dump(lru), before) == 0);
    MU_CHECK_EQ(STAT(lru, CAPACITY, -1), 30);
    MU_CHECK_EQ(STAT(lru, HITS, -1), hits);
    MU_CHECK_EQ(STAT(lru, MISSES, -1), misses);
    MU_CHECK_EQ(STAT(lru, EVICTIONS, -1), evictions);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), size);
    /* Keep going after the reopen: the order stays exact. */
    MU_CHECK_EQ(inc(lru, "k3", 1), 1); /* k3 was added last: present */
    MU_CHECK_EQ(inc(lru, "new", 1), 0);
    snprintf(before, sizeof before, "%s", dump(lru));
    mu_lru_destroy(&lru);
    lru = mu_lru_open(dir, "cache", 30, 4, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK(strcmp(dump(lru), before) == 0);
    mu_lru_destroy(&lru);
}

static void
test_round_trip_immediate(void)
{
    round_trip(MU_LRU_IMMEDIATE, 1);
}

static void
test_round_trip_group(void)
{
    round_trip(MU_LRU_GROUP, 0);
}

static void
test_round_trip_at_flush(void)
{
    round_trip(MU_LRU_AT_FLUSH, 1);
}

/*  A larger state (long keys, every level) survives a reopen exactly. */
static int
hash_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    uint64_t *h = arg;
    const unsigned char *p = key;
    for (size_t i = 0; i < len; i++)
        *h = (*h ^ p[i]) * 0x100000001B3ull;
    *h = (*h ^ size ^ ((uint64_t) level << 40)) * 0x100000001B3ull;
    return 0;
}

static void
test_round_trip_large(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "large");
    mu_lru_t *lru = mu_lru_open(dir, "big", 5000, 6, MU_LRU_CREATE);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_AT_FLUSH, 0), 0);
    zipf_t z;
    zipf_init(&z, 20000);
    rng_state = 99;
    for (int r = 0; r < 60000; r++) {
        uint32_t id = zipf_next(&z);
        unsigned char key[64];
        size_t len = make_key(id, key);
        MU_CHECK(mu_lru_increment(lru, key, len, 1 + id % 5) >= 0);
        if (r % 100 == 0)
            MU_CHECK(mu_lru_evict(lru, 0, NULL, NULL) >= 0);
        if (r % 20000 == 0)
            MU_CHECK_EQ(mu_lru_flush(lru), 0);
    }
    free(z.cdf);
    uint64_t h1 = 14695981039346656037ull, h2 = h1;
    mu_lru_foreach(lru, hash_cb, &h1);
    uint64_t count = STAT(lru, COUNT, -1);
    MU_CHECK_EQ(mu_lru_flush(lru), 0);
    mu_lru_destroy(&lru);
    lru = mu_lru_open(dir, "big", 0, 0, 0);
    MU_CHECK(lru != NULL);
    mu_lru_foreach(lru, hash_cb, &h2);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), count);
    MU_CHECK(h1 == h2);
    mu_lru_destroy(&lru);
}

static void
test_open_errors(void)
{
    char dir[300], path[400];
    make_dir(dir, sizeof dir, "err");
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "absent", 10, 4, 0) == NULL && errno == ENOENT);
    MU_CHECK_EQ(mu_last_code(), MU_ENOENT); /* the detail of a constructor's failure */
    const char *bad_names[] = { "", ".hidden", "a/b", "sp ace", "x\n" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        errno = 0;
        MU_CHECK(mu_lru_open(dir, bad_names[i], 10, 4, MU_LRU_CREATE) == NULL && errno == EINVAL);
    }
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 0, 4, MU_LRU_CREATE) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 10, 4, MU_LRU_CREATE | MU_LRU_READONLY) == NULL
             && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 10, 4, 64) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 10, 65, MU_LRU_CREATE) == NULL && errno == EINVAL);

    mu_lru_t *lru = mu_lru_open(dir, "c1", 100, 4, MU_LRU_CREATE | MU_LRU_SYNC_FULL);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 5), 0);
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_GROUP, 60001), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_GROUP, -1), MU_EINVAL);
    errno = 0; /* a second writer, even in the same process */
    MU_CHECK(mu_lru_open(dir, "c1", 0, 0, 0) == NULL && errno == EAGAIN);
    MU_CHECK_EQ(mu_lru_flush(lru), 0);
    mu_lru_t *ro = mu_lru_open(dir, "c1", 0, 0, MU_LRU_READONLY); /* readers are fine */
    MU_CHECK(ro != NULL);
    MU_CHECK_EQ(mu_lru_contains(ro, "a", 1), 1);
    MU_CHECK_EQ(inc(ro, "a", 1), MU_EACCES);
    MU_CHECK_EQ(mu_lru_delete(ro, "a", 1), MU_EACCES);
    MU_CHECK_EQ(mu_lru_resize(ro, 5), MU_EACCES);
    MU_CHECK_EQ(mu_lru_evict(ro, 0, NULL, NULL), MU_EACCES);
    MU_CHECK_EQ(mu_lru_evict(ro, MU_LRU_DRY_RUN, NULL, NULL), 0);
    MU_CHECK_EQ(mu_lru_set_durability(ro, MU_LRU_GROUP, 10), MU_ENOTSUP);
    MU_CHECK_EQ(mu_lru_flush(ro), 0);
    mu_lru_destroy(&ro);
    mu_lru_destroy(&lru);

    errno = 0; /* conflicting parameters */
    MU_CHECK(mu_lru_open(dir, "c1", 0, 3, 0) == NULL && errno == EEXIST);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c1", 99, 4, MU_LRU_CREATE) == NULL && errno == EEXIST);
    lru = mu_lru_open(dir, "c1", 100, 4, 0); /* the same ones are fine */
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_contains(lru, "a", 1), 1);
    mu_lru_destroy(&lru);

    /* Not an LRU: garbage bytes, then an SQLite file with other tables. */
    snprintf(path, sizeof path, "%s/junk.lru", dir);
    FILE *f = fopen(path, "w");
    MU_CHECK(f != NULL);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database ", f);
    fclose(f);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "junk", 0, 0, 0) == NULL && errno == EBADMSG);
    snprintf(path, sizeof path, "%s/other.lru", dir);
    sqlite3 *db;
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "other", 0, 0, 0) == NULL && errno == EBADMSG);

    /* Impossible stored values. */
    snprintf(path, sizeof path, "%s/c1.lru", dir);
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db, "UPDATE entries SET level = 9", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c1", 0, 0, 0) == NULL && errno == EBADMSG);
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db,
                             "UPDATE entries SET level = 0;"
                             "UPDATE meta SET value = 2 WHERE name = 'format'",
                             NULL, NULL, NULL),
                SQLITE_OK);
    sqlite3_close(db);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c1", 0, 0, 0) == NULL && errno == EBADMSG);

    /* A directory that cannot be created. */
    errno = 0;
    MU_CHECK(mu_lru_open("/proc/no/such/dir", "x", 10, 4, MU_LRU_CREATE) == NULL && errno != 0);
    errno = 0;
    MU_CHECK(mu_lru_open("/nonexistent-mutil", "x", 10, 4, 0) == NULL && errno == ENOENT);
}

/* ---- waiting on file events ------------------------------------------------ */

/*  An inotify descriptor watching dir for the events in mask, or -1. */
static int
watch_dir(const char *dir, uint32_t mask)
{
    int in = inotify_init1(IN_CLOEXEC);
    if (in >= 0 && inotify_add_watch(in, dir, mask) < 0) {
        close(in);
        return -1;
    }
    return in;
}

/*  Reads the next events of inotify descriptor in into buf, waiting until
    deadline (ms, mu_test_now_ms clock). Returns the bytes read, 0 on
    timeout. */
static ssize_t
read_events(int in, int64_t deadline, char *buf, size_t size)
{
    int left = (int) (deadline - mu_test_now_ms());
    struct pollfd p = { in, POLLIN, 0 };
    if (left <= 0 || poll(&p, 1, left) <= 0)
        return 0;
    ssize_t n = read(in, buf, size);
    return n > 0 ? n : 0;
}

/*  Waits up to timeout_ms (scaled) until in reports a file created other
    than a lock file. Returns 1 when one was, 0 on timeout. */
static int
wait_file_created(int in, int timeout_ms)
{
    union {
        struct inotify_event ev;
        char bytes[4096];
    } buf;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    ssize_t n;
    while ((n = read_events(in, deadline, buf.bytes, sizeof buf.bytes)) > 0)
        for (ssize_t off = 0; off < n;) {
            const struct inotify_event *ev = (const void *) (buf.bytes + off);
            if (ev->len > 0 && strstr(ev->name, ".lock") == NULL)
                return 1;
            off += (ssize_t) (sizeof *ev + ev->len);
        }
    return 0;
}

/*  Keys in DIR/NAME.lru as another process committed them (0 when it
    cannot be opened). */
static uint64_t
stored_keys(const char *dir, const char *name)
{
    mu_lru_t *lru = mu_lru_open(dir, name, 0, 0, MU_LRU_READONLY);
    uint64_t n = lru ? lru_stat(lru, T_STAT_COUNT, -1) : 0;
    mu_lru_destroy(&lru);
    return n;
}

/*  Waits up to timeout_ms (scaled) until DIR/NAME.lru holds n keys for a
    reader. The condition is polled: a commit becomes visible when SQLite
    updates its shared-memory index, a store to a mapping that raises no
    file event to wait on. Returns 1 when it holds, 0 on timeout. */
static int
wait_stored_keys(const char *dir, const char *name, uint64_t n, int timeout_ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    while (stored_keys(dir, name) != n) {
        if (mu_test_now_ms() > deadline)
            return 0;
        usleep(10 * 1000);
    }
    return 1;
}

/* ---- SIGKILL during write loops -------------------------------------------- */

/*  What the child reports on the side channel after a call returned. */
typedef struct {
    int32_t kind; /* 1: new key added, 2: flush done */
    uint32_t id;  /* key id (for a flush: the last id added before it) */
    int64_t t_ms; /* when the call returned */
} report_t;

static void
child_loop(const char *dir, mu_lru_durability_t policy, int group_ms, uint32_t first, int fd,
           int idle_after)
{
    mu_lru_t *lru = mu_lru_open(dir, "crash", 1000000, 4, MU_LRU_CREATE);
    if (lru == NULL || mu_lru_set_durability(lru, policy, group_ms) != 0)
        _exit(3);
    mu_test_signal_byte(fd, 'R'); /* opened: the reports follow */
    char key[32];
    for (uint32_t id = first;; id++) {
        snprintf(key, sizeof key, "c%u", id);
        if (inc(lru, key, 1 + id % 7) != 0)
            _exit(4);
        report_t r = { 1, id, mu_test_now_ms() };
        if (write(fd, &r, sizeof r) != (ssize_t) sizeof r)
            _exit(5);
        if (idle_after && id + 1 - first == (uint32_t) idle_after)
            for (;;)
                pause(); /* an idle process: only the background thread can commit */
        snprintf(key, sizeof key, "c%u", first + (uint32_t) (rng() % (id - first + 1)));
        if (inc(lru, key, 1 + id % 5) != 1) /* a hit: memory only until flush */
            _exit(6);
        if (id % 97 == 0) {
            if (mu_lru_flush(lru) != 0)
                _exit(7);
            report_t f = { 2, id, mu_test_now_ms() };
            if (write(fd, &f, sizeof f) != (ssize_t) sizeof f)
                _exit(5);
        }
    }
}

typedef struct {
    uint32_t *ids;
    int64_t *t;
    size_t n, cap;
    uint32_t last_flush_id;
    int flushed;
} log_t;

static void
log_add(log_t *log, const report_t *r)
{
    if (r->kind == 2) {
        log->last_flush_id = r->id;
        log->flushed = 1;
        return;
    }
    if (log->n == log->cap) {
        log->cap = log->cap ? log->cap * 2 : 1024;
        log->ids = realloc(log->ids, log->cap * sizeof *log->ids);
        log->t = realloc(log->t, log->cap * sizeof *log->t);
    }
    log->ids[log->n] = r->id;
    log->t[log->n++] = r->t_ms;
}

/*  Reads reports until the deadline (-1: until EOF) or until the log holds
    `until` keys. */
static void
read_reports(int fd, log_t *log, int64_t deadline, size_t until)
{
    report_t r;
    size_t have = 0;
    while (log->n < until) {
        int wait = deadline < 0 ? -1 : (int) (deadline - mu_test_now_ms());
        if (deadline >= 0 && wait <= 0)
            return;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, wait) <= 0)
            continue;
        ssize_t n = read(fd, (char *) &r + have, sizeof r - have);
        if (n <= 0)
            return;
        have += (size_t) n;
        if (have == sizeof r) {
            log_add(log, &r);
            have = 0;
        }
    }
}

static int
integrity_ok(const char *dir)
{
    char path[400];
    snprintf(path, sizeof path, "%s/crash.lru", dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK
        && sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
        ok = sqlite3_step(st) == SQLITE_ROW
             && strcmp((const char *) sqlite3_column_text(st, 0), "ok") == 0;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return ok;
}

/*  Runs `kills` child lifetimes under one policy, each SIGKILLed after a
    random delay, and checks what survived. Returns the number of keys that
    the policy required and that were missing (0 expected), or -1 when a
    child or the reopen failed. */
static int
crash_policy(mu_lru_durability_t policy, int group_ms, int kills, int min_ms, int max_ms,
             int *checked_p)
{
    char dir[300];
    make_dir(dir, sizeof dir, "crash");
    int missing = 0;
    for (int k = 0; k < kills; k++) {
        int fds[2];
        if (pipe(fds) != 0)
            return -1;
        uint32_t first = (uint32_t) (k + 1) * 10000000u;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            rng_state = (uint64_t) k * 7919;
            child_loop(dir, policy, group_ms, first, fds[1], 0);
        }
        close(fds[1]);
        log_t log = { 0 };
        int delay = min_ms + (int) (rng() % (uint64_t) (max_ms - min_ms + 1));
        int ready = mu_test_wait_byte(fds[0], 10000);
        if (ready == 'R') /* the child has opened the LRU: kill it while it writes */
            read_reports(fds[0], &log, mu_test_now_ms() + delay, SIZE_MAX);
        int64_t kill_ms = mu_test_now_ms();
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        read_reports(fds[0], &log, -1, SIZE_MAX);
        close(fds[0]);
        if (ready != 'R' || !WIFSIGNALED(status)) {
            printf("# child not ready (%d) or exited with status %d\n", ready,
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            return -1;
        }
        if (!integrity_ok(dir)) {
            printf("# integrity_check failed after kill %d\n", k);
            return -1;
        }
        mu_lru_t *lru = mu_lru_open(dir, "crash", 0, 0, 0);
        if (lru == NULL) {
            printf("# reopen failed: %s\n", mu_strerror(-errno));
            return -1;
        }
        /* Group commits keep the order of new keys: every key logged before
           the last one that survived must have survived too (no holes), and
           a key older than the interval plus a generous slack must be there
           whatever the survivors (a commit can lag on a loaded machine's
           disk, so the time rule alone would be a guess). */
        size_t survived_to = 0;
        for (size_t i = 0; policy == MU_LRU_GROUP && i < log.n; i++) {
            char key[32];
            snprintf(key, sizeof key, "c%u", log.ids[i]);
            if (mu_lru_contains(lru, key, strlen(key)))
                survived_to = i;
        }
        for (size_t i = 0; i < log.n; i++) {
            int must = 0;
            if (policy == MU_LRU_IMMEDIATE)
                must = 1;
            else if (policy == MU_LRU_GROUP)
                must = i < survived_to || log.t[i] < kill_ms - group_ms - mu_test_ms(3000);
            if (log.flushed && log.ids[i] <= log.last_flush_id)
                must = 1;
            if (!must)
                continue;
            (*checked_p)++;
            char key[32];
            snprintf(key, sizeof key, "c%u", log.ids[i]);
            if (!mu_lru_contains(lru, key, strlen(key)))
                missing++;
        }
        /* Sizes and levels add up after the reopen. */
        uint64_t sum = 0, count = 0;
        for (int l = 0; l < 4; l++) {
            sum += lru_stat(lru, T_STAT_SIZE, l);
            count += lru_stat(lru, T_STAT_COUNT, l);
        }
        if (sum != lru_stat(lru, T_STAT_SIZE, -1) || count != lru_stat(lru, T_STAT_COUNT, -1))
            missing++;
        mu_lru_destroy(&lru);
        free(log.ids);
        free(log.t);
    }
    return missing;
}

static void
test_crash_immediate(void)
{
    int checked = 0;
    MU_CHECK_EQ(crash_policy(MU_LRU_IMMEDIATE, 0, 17, 5, 60, &checked), 0);
    printf("# immediate: %d keys checked after 17 kills\n", checked);
    MU_CHECK(checked > 0);
}

static void
test_crash_group(void)
{
    int checked = 0;
    MU_CHECK_EQ(crash_policy(MU_LRU_GROUP, 20, 17, 50, 400, &checked), 0);
    printf("# group (20 ms): %d keys checked after 17 kills\n", checked);
    MU_CHECK(checked > 0);
}

static void
test_crash_at_flush(void)
{
    int checked = 0;
    MU_CHECK_EQ(crash_policy(MU_LRU_AT_FLUSH, 0, 16, 5, 80, &checked), 0);
    printf("# at-flush: %d keys checked after 16 kills\n", checked);
    MU_CHECK(checked > 0);
}

/*  GROUP with an idle process: the keys reach the disk although no call
    follows them. */
static void
test_group_idle(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "idle");
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_loop(dir, MU_LRU_GROUP, 30, 1, fds[1], 10);
    }
    close(fds[1]);
    log_t log = { 0 };
    if (mu_test_wait_byte(fds[0], 10000) == 'R')
        read_reports(fds[0], &log, mu_test_now_ms() + mu_test_ms(10000), 10);
    /* The child now idles; its background thread alone commits the keys. */
    size_t reported = log.n;
    free(log.ids);
    free(log.t);
    int committed = reported == 10 && wait_stored_keys(dir, "crash", 10, 10000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    MU_CHECK_EQ(reported, 10);
    MU_CHECK(committed);
    mu_lru_t *lru = mu_lru_open(dir, "crash", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, -1), 10);
    mu_lru_destroy(&lru);
}

/* ---- SIGKILL while creating ----------------------------------------------- */

/*  Forks a child that creates DIR/made.lru and SIGKILLs it as soon as it
    has created its first file in DIR (seen by inotify, not guessed by a
    delay). Returns 1 when the kill landed before the creation returned,
    0 when after, -1 on a failure of the test itself. */
static int
kill_while_creating(const char *dir)
{
    int in = watch_dir(dir, IN_CREATE);
    int fds[2];
    if (in < 0 || pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        mu_lru_t *lru = mu_lru_open(dir, "made", 1000, 4, MU_LRU_CREATE);
        mu_test_signal_byte(fds[1], lru != NULL ? 'D' : 'F');
        for (;;)
            pause();
    }
    close(fds[1]);
    int seen = wait_file_created(in, 10000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(in);
    int done = mu_test_wait_byte(fds[0], 0);
    close(fds[0]);
    return !seen || done == 'F' ? -1 : done != 'D';
}

/*  A SIGKILL while an LRU is being created leaves no LRU or a complete one:
    opening it is ENOENT or succeeds, never MU_ECORRUPT; creating it again
    succeeds and leaves no temporary file. */
static void
test_crash_while_creating(void)
{
    int mid = 0;
    for (int round = 0; round < 20; round++) {
        char dir[300], tmp[400];
        make_dir(dir, sizeof dir, "creating");
        int killed = kill_while_creating(dir);
        MU_CHECK(killed >= 0);
        mid += killed;
        errno = 0;
        mu_lru_t *lru = mu_lru_open(dir, "made", 0, 0, 0);
        if (lru == NULL && errno != ENOENT)
            printf("# round %d: open after the kill: %s\n", round, mu_strerror(-errno));
        MU_CHECK(lru != NULL || errno == ENOENT);
        mu_lru_destroy(&lru);
        lru = mu_lru_open(dir, "made", 0, 0, MU_LRU_READONLY);
        MU_CHECK(lru != NULL || errno == ENOENT);
        mu_lru_destroy(&lru);
        lru = mu_lru_open(dir, "made", 1000, 4, MU_LRU_CREATE);
        MU_CHECK(lru != NULL);
        MU_CHECK_EQ(lru_stat(lru, T_STAT_CAPACITY, -1), 1000);
        MU_CHECK_EQ(inc(lru, "k", 1), 0);
        mu_lru_destroy(&lru);
        snprintf(tmp, sizeof tmp, "%s/.made.lru.new", dir);
        MU_CHECK(access(tmp, F_OK) != 0);
        lru = mu_lru_open(dir, "made", 0, 0, 0);
        MU_CHECK(lru != NULL && mu_lru_contains(lru, "k", 1));
        mu_lru_destroy(&lru);
    }
    printf("# %d of 20 kills landed while the LRU was being created\n", mid);
    MU_CHECK(mid > 0);
}

/* ---- the file size limit (RLIMIT_FSIZE) -------------------------------------- */

enum { FSIZE_LIMIT = 256 * 1024, FSIZE_KEY = 1000 };

/*  Key number i of the file-size test: FSIZE_KEY bytes. */
static void
fsize_key(char *key, int i)
{
    memset(key, 'a' + i % 26, FSIZE_KEY);
    snprintf(key, FSIZE_KEY, "key-%d-", i);
}

/*  The child of test_file_size_limit, SIGXFSZ at its default action (death)
    and files limited to FSIZE_LIMIT bytes: adds keys (committed at once)
    until one fails, then hits every key and flushes (fails too), then
    raises the limit, adds one key more and flushes. Writes the number of
    keys added before the failure to fd; exits 0 when every step went as
    documented, another status naming the step otherwise. */
static void
fsize_child(const char *dir, int fd)
{
    signal(SIGXFSZ, SIG_DFL);
    struct rlimit rl = { FSIZE_LIMIT, RLIM_INFINITY };
    mu_lru_t *lru = setrlimit(RLIMIT_FSIZE, &rl) == 0
                        ? mu_lru_open(dir, "big", 1ull << 40, 4, MU_LRU_CREATE)
                        : NULL;
    if (lru == NULL)
        _exit(10);
    char key[FSIZE_KEY];
    int n = 0, rc = 0;
    for (; n < 10000; n++) {
        fsize_key(key, n);
        if ((rc = mu_lru_increment(lru, key, sizeof key, 1)) != 0)
            break;
    }
    if (rc != MU_EFBIG)
        _exit(11);
    if (mu_lru_contains(lru, key, sizeof key) || lru_stat(lru, T_STAT_COUNT, -1) != (uint64_t) n)
        _exit(12); /* the failed key is not kept */
    for (int i = 0; i < n; i++) {
        fsize_key(key, i);
        if (mu_lru_increment(lru, key, sizeof key, 2) != 1)
            _exit(13);
    }
    if (mu_lru_flush(lru) != MU_EFBIG)
        _exit(14); /* the hits stay pending */
    rl.rlim_cur = RLIM_INFINITY;
    fsize_key(key, n);
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || mu_lru_increment(lru, key, sizeof key, 1) != 0)
        _exit(15);
    if (mu_lru_flush(lru) != 0)
        _exit(16);
    mu_lru_destroy(&lru);
    _exit(write(fd, &n, sizeof n) == (ssize_t) sizeof n ? 0 : 17);
}

/*  A write past RLIMIT_FSIZE fails with MU_EFBIG instead of killing the
    process (SIGXFSZ), loses nothing, and writing works again once the limit
    is raised: on reopen the keys added before the failure are there, with
    the hits of the flush that succeeded after the raise. */
static void
test_file_size_limit(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "fsize");
    int fd = -1, n = -1;
    pid_t pid = mu_test_fork_piped(fsize_child, dir, &fd);
    MU_CHECK(pid > 0);
    MU_CHECK_EQ(mu_test_child_status(pid), 0); /* not killed by SIGXFSZ */
    MU_CHECK_EQ(read(fd, &n, sizeof n), (ssize_t) sizeof n);
    close(fd);
    printf("# %d keys of %d bytes fitted under a %d-byte file size limit\n", n, FSIZE_KEY,
           FSIZE_LIMIT);
    MU_CHECK(n > 10);
    mu_lru_t *lru = mu_lru_open(dir, "big", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, -1), (uint64_t) n + 1);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, 1), (uint64_t) n);
    char key[FSIZE_KEY];
    int intact = 0;
    for (int i = 0; i <= n; i++) {
        fsize_key(key, i);
        uint64_t size = 0;
        intact += mu_lru_peek(lru, key, sizeof key, &size, NULL) == 0 && size == (i < n ? 2u : 1u);
    }
    MU_CHECK_EQ(intact, n + 1);
    mu_lru_destroy(&lru);
}

/* ---- batches -------------------------------------------------------------- */

/*  A read-only LRU refuses every item of a batch, even when each key is
    valid (the unchecked chunk loop must not run): MU_EACCES as from
    mu_lru_increment, and nothing changes. */
static void
test_batch_readonly(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "batchro");
    mu_lru_t *lru = mu_lru_open(dir, "ro", 100, 4, MU_LRU_CREATE);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 5), 0);
    MU_CHECK_EQ(inc(lru, "b", 3), 0);
    MU_CHECK_EQ(mu_lru_flush(lru), 0);
    mu_lru_destroy(&lru);
    mu_lru_t *ro = mu_lru_open(dir, "ro", 0, 0, MU_LRU_READONLY);
    MU_CHECK(ro != NULL);
    MU_CHECK_EQ(inc(ro, "a", 7), MU_EACCES); /* what a single call gets */
    mu_lru_item_t it[] = { { "a", 1, 7 }, { "new", 3, 2 } };
    int res[2] = { 99, 99 };
    MU_CHECK_EQ(mu_lru_increment_many(ro, it, 2, res), MU_EACCES);
    MU_CHECK_EQ(res[0], MU_EACCES);
    MU_CHECK_EQ(res[1], MU_EACCES);
    MU_CHECK_EQ(STAT(ro, SIZE, -1), 8);
    MU_CHECK_EQ(STAT(ro, COUNT, -1), 2);
    MU_CHECK_EQ(STAT(ro, HITS, -1), 0);
    uint64_t size = 0;
    int level = -1;
    MU_CHECK_EQ(mu_lru_peek(ro, "a", 1, &size, &level), 0);
    MU_CHECK_EQ(size, 5);
    MU_CHECK_EQ(level, 0);
    MU_CHECK_EQ(mu_lru_contains(ro, "new", 3), 0);
    mu_lru_destroy(&ro);
}

typedef struct {
    char text[8192];
} full_dump_t;

static int
full_dump_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    full_dump_t *d = arg;
    size_t used = strlen(d->text);
    snprintf(d->text + used, sizeof d->text - used, "%.*s:%llu:%d ", (int) len, (const char *) key,
             (unsigned long long) size, level);
    return 0;
}

/*  Every key with its size and level, in mu_lru_foreach order. */
static void
full_dump(mu_lru_t *lru, full_dump_t *d)
{
    d->text[0] = 0;
    mu_lru_foreach(lru, full_dump_cb, d);
}

/*  The same accesses (new keys, hits, hits that change the size; batches
    longer than a chunk) through mu_lru_increment_many on one LRU and
    mu_lru_increment on another mark the same entries dirty: after a flush
    and a reopen both hold the same keys, sizes, levels and counters. */
static void
batch_vs_single(mu_lru_durability_t policy)
{
    char dir[300];
    make_dir(dir, sizeof dir, "batchdirty");
    mu_lru_t *many = mu_lru_open(dir, "many", 1000000, 4, MU_LRU_CREATE);
    mu_lru_t *one = mu_lru_open(dir, "one", 1000000, 4, MU_LRU_CREATE);
    MU_CHECK(many != NULL && one != NULL);
    MU_CHECK_EQ(mu_lru_set_durability(many, policy, 5), 0);
    MU_CHECK_EQ(mu_lru_set_durability(one, policy, 5), 0);
    char keys[100][16];
    mu_lru_item_t it[100];
    int res[100], same = 0, total = 0;
    for (int r = 0; r < 6; r++) {
        for (int i = 0; i < 100; i++) {
            snprintf(keys[i], sizeof keys[i], "key%d", (r * 37 + i * 7) % 150);
            it[i] = (mu_lru_item_t) { keys[i], strlen(keys[i]), 1 + (uint64_t) (r + i) % 5 };
        }
        MU_CHECK(mu_lru_increment_many(many, it, 100, res) >= 0);
        for (int i = 0; i < 100; i++, total++)
            same += mu_lru_increment(one, it[i].key, it[i].len, it[i].size) == res[i];
    }
    MU_CHECK_EQ(same, total);
    static full_dump_t a, b;
    full_dump(many, &a);
    full_dump(one, &b);
    MU_CHECK(strcmp(a.text, b.text) == 0);
    MU_CHECK_EQ(mu_lru_flush(many), 0);
    MU_CHECK_EQ(mu_lru_flush(one), 0);
    mu_lru_destroy(&many);
    mu_lru_destroy(&one);
    many = mu_lru_open(dir, "many", 0, 0, 0);
    one = mu_lru_open(dir, "one", 0, 0, 0);
    MU_CHECK(many != NULL && one != NULL);
    static full_dump_t a2, b2;
    full_dump(many, &a2);
    full_dump(one, &b2);
    MU_CHECK(strcmp(a2.text, b2.text) == 0);
    MU_CHECK(strcmp(a2.text, a.text) == 0); /* what the batch did was all written */
    MU_CHECK_EQ(STAT(many, HITS, -1), STAT(one, HITS, -1));
    MU_CHECK_EQ(STAT(many, MISSES, -1), STAT(one, MISSES, -1));
    MU_CHECK_EQ(STAT(many, SIZE, -1), STAT(one, SIZE, -1));
    MU_CHECK_EQ(STAT(many, COUNT, 2), STAT(one, COUNT, 2));
    mu_lru_destroy(&many);
    mu_lru_destroy(&one);
}

static void
test_batch_dirty_immediate(void)
{
    batch_vs_single(MU_LRU_IMMEDIATE);
}

static void
test_batch_dirty_at_flush(void)
{
    batch_vs_single(MU_LRU_AT_FLUSH);
}

int
main(void)
{
    if (!lru_tests_begin())
        return 1;
    MU_RUN(test_round_trip_immediate);
    MU_RUN(test_round_trip_group);
    MU_RUN(test_round_trip_at_flush);
    MU_RUN(test_round_trip_large);
    MU_RUN(test_open_errors);
    MU_RUN(test_crash_immediate);
    MU_RUN(test_crash_group);
    MU_RUN(test_crash_at_flush);
    MU_RUN(test_group_idle);
    MU_RUN(test_crash_while_creating);
    MU_RUN(test_file_size_limit);
    MU_RUN(test_batch_readonly);
    MU_RUN(test_batch_dirty_immediate);
    MU_RUN(test_batch_dirty_at_flush);
    cleanup();
    MU_DONE();
}
