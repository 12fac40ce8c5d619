/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_dcache.c — mu_dcache: set/get/delete, TTL expiry on an injected
    clock, purge, size-cap eviction order (least recently used first, a get
    counting as a use), persistence of values, expiry and recency across a
    reopen, corrupt and foreign files, the lock, every documented MU_EINVAL,
    and the HTTP fetch-through against a local python3 http.server
    (tests/store/dcache_http_peer.py): one transfer per TTL, concurrent
    callers sharing one transfer, 404 / refused / timeout / oversized body
    as clear errors with nothing cached. */
#include "mu_test.h"
#include "mutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char tmp_root[256];
static _Atomic int64_t fake_now = 1000000;

static int64_t
fake_clock(void *arg)
{
    (void) arg;
    return atomic_load(&fake_now);
}

static void
db_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s.db", tmp_root, name);
}

static mu_dcache_t *
open_cache(const char *path, uint64_t max_bytes)
{
    mu_dcache_options_t o = { .size = sizeof o,
                              .max_bytes = max_bytes,
                              .clock = fake_clock,
                              .fetch_timeout_ms = 0 };
    mu_dcache_t *c = mu_dcache_open(path, &o);
    if (!c)
        printf("# open %s: %s\n", path, mu_last_error());
    return c;
}

/* Whether key holds exactly want (NUL-terminated text). */
static bool
holds(mu_dcache_t *c, const char *key, const char *want)
{
    void *v = NULL;
    size_t n = 0;
    int rc = mu_dcache_get(c, key, strlen(key), &v, &n);
    bool ok = rc == 0 && n == strlen(want) && memcmp(v, want, n) == 0 && ((char *) v)[n] == '\0';
    if (!ok)
        printf("# get %s: rc %d, %zu bytes\n", key, rc, n);
    free(v);
    return ok;
}

static int
get_rc(mu_dcache_t *c, const char *key)
{
    void *v = (void *) 1;
    int rc = mu_dcache_get(c, key, strlen(key), &v, NULL);
    if (rc != 0 && v != NULL)
        return 12345; /* *value_p must be NULL on failure */
    free(v);
    return rc;
}

static int
set_text(mu_dcache_t *c, const char *key, const char *value, int64_t ttl)
{
    return mu_dcache_set(c, key, strlen(key), value, strlen(value), ttl);
}

/* ---- the store ---- */

static void
test_set_get_delete(void)
{
    char path[300];
    db_path(path, sizeof path, "basic");
    mu_dcache_t *c = open_cache(path, 0);
    MU_CHECK(c);
    MU_CHECK_EQ(set_text(c, "a", "alpha", 1000), 0);
    MU_CHECK_EQ(set_text(c, "b", "", MU_DCACHE_FOREVER), 0); /* empty value */
    MU_CHECK(holds(c, "a", "alpha"));
    MU_CHECK(holds(c, "b", ""));
    MU_CHECK_EQ(set_text(c, "a", "again", 1000), 0); /* replaces */
    MU_CHECK(holds(c, "a", "again"));
    MU_CHECK_EQ(get_rc(c, "zz"), MU_ENOENT);
    MU_CHECK_EQ(mu_dcache_delete(c, "a", 1), 0);
    MU_CHECK_EQ(mu_dcache_delete(c, "a", 1), MU_ENOENT);
    MU_CHECK_EQ(get_rc(c, "a"), MU_ENOENT);
    /* Binary keys and values. */
    const unsigned char k[3] = { 0, 0xff, 7 }, v[4] = { 1, 0, 2, 0 };
    MU_CHECK_EQ(mu_dcache_set(c, k, 3, v, 4, 1000), 0);
    void *got = NULL;
    size_t n = 0;
    MU_CHECK_EQ(mu_dcache_get(c, k, 3, &got, &n), 0);
    bool same = n == 4 && memcmp(got, v, 4) == 0;
    free(got);
    MU_CHECK(same);
    mu_dcache_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.count, 2);
    MU_CHECK_EQ(st.bytes, 1 + 0 + 3 + 4);
    MU_CHECK_EQ(st.max_bytes, MU_DCACHE_MAX_BYTES_DEFAULT);
    MU_CHECK(st.hits == 4 && st.misses == 2);
    mu_dcache_stats_t small = { .size = 8 };
    MU_CHECK_EQ(mu_dcache_stats(c, &small), MU_EINVAL);
    mu_dcache_destroy(&c);
    MU_CHECK(c == NULL);
    mu_dcache_destroy(&c);
    mu_dcache_destroy(NULL);
}

static void
test_errors(void)
{
    char path[300];
    db_path(path, sizeof path, "errors");
    mu_dcache_t *c = open_cache(path, 1000);
    MU_CHECK(c);
    MU_CHECK_EQ(mu_dcache_set(c, NULL, 1, "v", 1, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_set(c, "k", 0, "v", 1, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_set(c, "k", MU_DCACHE_MAX_KEY + 1, "v", 1, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_set(c, "k", 1, NULL, 1, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_set(c, "k", 1, "v", 1, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_set(c, "k", 1, "v", 1, -2), MU_EINVAL);
    static char big[1001];
    MU_CHECK_EQ(mu_dcache_set(c, "k", 1, big, 1000, 10), MU_EMSGSIZE); /* key + value > cap */
    MU_CHECK(strstr(mu_last_error(), "over the limit") != NULL);
    MU_CHECK_EQ(mu_dcache_set(c, "k", 1, big, 999, 10), 0); /* exactly the cap */
    void *v = NULL;
    MU_CHECK_EQ(mu_dcache_get(c, "", 0, &v, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_delete(c, NULL, 0), MU_EINVAL);
    mu_dcache_destroy(&c);
    MU_CHECK(mu_dcache_open(NULL, NULL) == NULL && mu_last_code() == MU_EINVAL);
    MU_CHECK(mu_dcache_open("", NULL) == NULL && mu_last_code() == MU_EINVAL);
    mu_dcache_options_t o = { .size = 4 };
    MU_CHECK(mu_dcache_open(path, &o) == NULL && mu_last_code() == MU_EINVAL);
    o = (mu_dcache_options_t) { .size = sizeof o, .max_bytes = 10, .max_value = 11 };
    MU_CHECK(mu_dcache_open(path, &o) == NULL && mu_last_code() == MU_EINVAL);
    o = (mu_dcache_options_t) { .size = sizeof o, .max_value = MU_DCACHE_MAX_VALUE_LIMIT + 1u };
    MU_CHECK(mu_dcache_open(path, &o) == NULL && mu_last_code() == MU_EINVAL);
    char missing[400];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.db", tmp_root);
    MU_CHECK(mu_dcache_open(missing, NULL) == NULL && mu_last_code() == MU_ENOENT);
}

static void
test_ttl_expiry(void)
{
    char path[300];
    db_path(path, sizeof path, "ttl");
    mu_dcache_t *c = open_cache(path, 0);
    MU_CHECK(c);
    atomic_store(&fake_now, 1000000);
    MU_CHECK_EQ(set_text(c, "short", "s", 100), 0);
    MU_CHECK_EQ(set_text(c, "long", "l", 10000), 0);
    MU_CHECK_EQ(set_text(c, "never", "n", MU_DCACHE_FOREVER), 0);
    atomic_store(&fake_now, 1000099);
    MU_CHECK(holds(c, "short", "s")); /* 1 ms left */
    atomic_store(&fake_now, 1000100);
    MU_CHECK_EQ(get_rc(c, "short"), MU_ENOENT); /* expired exactly at set + ttl */
    MU_CHECK(holds(c, "long", "l"));
    mu_dcache_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.expired, 1);
    MU_CHECK_EQ(st.count, 2); /* the expired one was deleted by the get */
    MU_CHECK_EQ(set_text(c, "a", "1", 50), 0);
    MU_CHECK_EQ(set_text(c, "b", "2", 60), 0);
    atomic_store(&fake_now, 1000100 + 10000);
    MU_CHECK_EQ(mu_dcache_purge_expired(c), 3); /* long, a, b */
    MU_CHECK_EQ(mu_dcache_purge_expired(c), 0);
    MU_CHECK(holds(c, "never", "n"));
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.count, 1);
    MU_CHECK_EQ(st.expired, 4);
    mu_dcache_destroy(&c);
}

/* Entries of 10 bytes (1-byte key + 9-byte value) under a 40-byte cap. */
static int
set10(mu_dcache_t *c, char key, int64_t ttl)
{
    char k[2] = { key, 0 };
    return set_text(c, k, "123456789", ttl);
}

static bool
present(mu_dcache_t *c, char key)
{
    char k[2] = { key, 0 };
    return get_rc(c, k) == 0;
}

/*  At the time now, sets a, b, c (c with ttl_c ms, the others 100 s) and d,
    40 bytes in all (full under a 40-byte cap), then reads a: least recent
    first, b c d a. A failed check marks the case failed. */
static void
fill_abcd(mu_dcache_t *c, int64_t now, int64_t ttl_c)
{
    atomic_store(&fake_now, now);
    MU_CHECK_EQ(set10(c, 'a', 100000), 0);
    MU_CHECK_EQ(set10(c, 'b', 100000), 0);
    MU_CHECK_EQ(set10(c, 'c', ttl_c), 0);
    MU_CHECK_EQ(set10(c, 'd', 100000), 0);
    MU_CHECK(present(c, 'a'));
}

static void
test_size_cap_eviction(void)
{
    char path[300];
    db_path(path, sizeof path, "cap");
    mu_dcache_t *c = open_cache(path, 40);
    MU_CHECK(c);
    fill_abcd(c, 2000000, 100000);
    MU_CHECK(!mu_test_case_failed);
    MU_CHECK_EQ(set10(c, 'e', 100000), 0); /* evicts b, the least recent */
    MU_CHECK(!present(c, 'b'));
    MU_CHECK_EQ(set10(c, 'f', 100000), 0); /* evicts c */
    MU_CHECK(!present(c, 'c'));
    MU_CHECK(present(c, 'a') && present(c, 'd') && present(c, 'e') && present(c, 'f'));
    mu_dcache_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.evictions, 2);
    MU_CHECK_EQ(st.bytes, 40);
    /* Expired entries go before live ones: d expires, then g fits without
       evicting the least recent live entry (a). */
    MU_CHECK_EQ(mu_dcache_delete(c, "d", 1), 0);
    MU_CHECK_EQ(set10(c, 'd', 10), 0);
    atomic_store(&fake_now, 2000000 + 20);
    MU_CHECK_EQ(set10(c, 'g', 100000), 0);
    MU_CHECK(present(c, 'a') && present(c, 'e') && present(c, 'f') && present(c, 'g'));
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.evictions, 2);
    MU_CHECK_EQ(st.expired, 1);
    mu_dcache_destroy(&c);
}

static void
test_persistence(void)
{
    char path[300];
    db_path(path, sizeof path, "persist");
    mu_dcache_t *c = open_cache(path, 40);
    MU_CHECK(c);
    fill_abcd(c, 3000000, 500);
    MU_CHECK(!mu_test_case_failed);
    for (int i = 0; i < 600; i++) /* more gets than one batch of recency stamps */
        MU_CHECK(present(c, 'a'));
    mu_dcache_destroy(&c);
    c = open_cache(path, 0); /* 0: the stored cap */
    MU_CHECK(c);
    mu_dcache_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.count, 4);
    MU_CHECK_EQ(st.max_bytes, 40);
    MU_CHECK(holds(c, "a", "123456789"));  /* order: b c d a */
    MU_CHECK_EQ(set10(c, 'e', 100000), 0); /* evicts b: recency survived the reopen */
    MU_CHECK(!present(c, 'b') && present(c, 'c'));
    atomic_store(&fake_now, 3000000 + 500);
    mu_dcache_destroy(&c);
    c = open_cache(path, 0);
    MU_CHECK(c);
    MU_CHECK_EQ(get_rc(c, "c"), MU_ENOENT); /* its expiry survived too */
    MU_CHECK(present(c, 'd') && present(c, 'e'));
    mu_dcache_destroy(&c);
    /* A smaller cap on reopen evicts at once, least recent first. */
    c = open_cache(path, 20);
    MU_CHECK(c);
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.count, 2);
    MU_CHECK(present(c, 'd') && present(c, 'e'));
    mu_dcache_destroy(&c);
}

static bool
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static void
test_corrupt_and_foreign(void)
{
    char path[300];
    db_path(path, sizeof path, "garbage");
    char junk[8192];
    memset(junk, 'J', sizeof junk - 1);
    junk[sizeof junk - 1] = '\0';
    MU_CHECK(write_file(path, junk));
    MU_CHECK(mu_dcache_open(path, NULL) == NULL);
    MU_CHECK_EQ(mu_last_code(), MU_ECORRUPT);
    MU_CHECK_EQ(errno, EBADMSG);
    MU_CHECK(strstr(mu_last_error(), path) != NULL);
    /* A real SQLite database of something else. */
    db_path(path, sizeof path, "foreign");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'CREATE TABLE t(x); INSERT INTO t VALUES(1);'", path);
    if (system(cmd) != 0) {
        printf("# sqlite3 shell missing: foreign-database case skipped\n");
        return;
    }
    MU_CHECK(mu_dcache_open(path, NULL) == NULL);
    MU_CHECK_EQ(mu_last_code(), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "not a cache file") != NULL);
}

static void
test_lock(void)
{
    char path[300];
    db_path(path, sizeof path, "lock");
    mu_dcache_t *c = open_cache(path, 0);
    MU_CHECK(c);
    /* flock locks are per open file: a second open in this process
       conflicts as another process's would. */
    MU_CHECK(mu_dcache_open(path, NULL) == NULL);
    MU_CHECK_EQ(mu_last_code(), MU_EAGAIN);
    MU_CHECK(strstr(mu_last_error(), "in use") != NULL);
    mu_dcache_options_t o = { .size = sizeof o, .lock_timeout_ms = 50 };
    MU_CHECK(mu_dcache_open(path, &o) == NULL);
    MU_CHECK_EQ(mu_last_code(), MU_ETIMEDOUT);
    mu_dcache_destroy(&c);
    c = mu_dcache_open(path, NULL);
    MU_CHECK(c);
    mu_dcache_destroy(&c);
}

/* ---- fetch-through ---- */

static pid_t server_pid = -1;
static char base_url[64];

static void
server_child(const char *script, int fd)
{
    dup2(fd, 1);
    execl("/usr/bin/python3", "python3", script, (char *) NULL);
    _exit(127);
}

/* Starts the peer and reads its "READY <port>" line. */
static bool
start_server(void)
{
    const char *top = getenv("top_srcdir");
    char script[512];
    snprintf(script, sizeof script, "%s/tests/store/dcache_http_peer.py", top ? top : ".");
    int fd = -1;
    server_pid = mu_test_fork_piped(server_child, script, &fd);
    if (server_pid <= 0)
        return false;
    char line[64];
    size_t n = 0;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(20000);
    while (n < sizeof line - 1 && (n == 0 || line[n - 1] != '\n')) {
        struct pollfd p = { fd, POLLIN, 0 };
        int left = (int) (deadline - mu_test_now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0 || read(fd, line + n, 1) != 1)
            break;
        n++;
    }
    close(fd);
    line[n] = '\0';
    int port = 0;
    if (sscanf(line, "READY %d", &port) != 1 || port <= 0) {
        printf("# http peer did not start: '%s'\n", line);
        return false;
    }
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
    return true;
}

static void
stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        mu_test_child_status(server_pid);
        server_pid = -1;
    }
}

/* How many GETs of path the peer has seen (asked through a cache of its own
   with a fresh key each time). */
static int
server_count(const char *path)
{
    static int nonce;
    char probe_path[300], url[400];
    db_path(probe_path, sizeof probe_path, "probe");
    mu_dcache_t *p = mu_dcache_open(probe_path, NULL);
    if (!p)
        return -1;
    snprintf(url, sizeof url, "%s/count?p=%s&n=%d", base_url, path, nonce++);
    void *body = NULL;
    int rc = mu_dcache_fetch(p, url, 1000, &body, NULL, NULL);
    int count = rc == 0 ? atoi(body) : -1;
    free(body);
    mu_dcache_destroy(&p);
    return count;
}

static int
fetch_text(mu_dcache_t *c, const char *path, int64_t ttl, const char *want, int *from_cache)
{
    char url[300];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    void *body = (void *) 1;
    size_t n = 0;
    int rc = mu_dcache_fetch(c, url, ttl, &body, &n, from_cache);
    if (rc == 0 && want && (n != strlen(want) || memcmp(body, want, n) != 0))
        rc = 54321;
    if (rc != 0 && body != NULL)
        rc = 12345;
    free(body);
    return rc;
}

/* A build without libcurl: fetch is MU_ENOTSUP saying what to install,
   and the rest of the cache works. */
static void
test_fetch_not_supported(void)
{
    printf("# built without libcurl: checking MU_ENOTSUP instead of the transfers\n");
    char path[300];
    db_path(path, sizeof path, "nocurl");
    mu_dcache_t *c = open_cache(path, 0);
    MU_CHECK(c);
    void *body = (void *) 1;
    int from_cache = -1;
    int rc = mu_dcache_fetch(c, "http://127.0.0.1:1/", 1000, &body, NULL, &from_cache);
    bool says = strstr(mu_last_error(), "libcurl") != NULL;
    mu_dcache_destroy(&c);
    MU_CHECK_EQ(rc, MU_ENOTSUP);
    MU_CHECK(says && body == NULL && from_cache == 0);
}

static void
test_fetch_once_per_ttl(void)
{
    char path[300];
    db_path(path, sizeof path, "fetch");
    mu_dcache_t *c = open_cache(path, 0);
    MU_CHECK(c);
    atomic_store(&fake_now, 5000000);
    int cached = -1;
    MU_CHECK_EQ(fetch_text(c, "/hello", 1000, "body of /hello", &cached), 0);
    MU_CHECK_EQ(cached, 0);
    MU_CHECK_EQ(fetch_text(c, "/hello", 1000, "body of /hello", &cached), 0);
    MU_CHECK_EQ(cached, 1);
    atomic_store(&fake_now, 5000000 + 999);
    MU_CHECK_EQ(fetch_text(c, "/hello", 1000, "body of /hello", NULL), 0);
    MU_CHECK_EQ(server_count("/hello"), 1); /* once within the TTL */
    atomic_store(&fake_now, 5000000 + 1000);
    MU_CHECK_EQ(fetch_text(c, "/hello", 1000, "body of /hello", &cached), 0);
    MU_CHECK_EQ(cached, 0);
    MU_CHECK_EQ(server_count("/hello"), 2); /* expired: fetched again */
    /* The body is in the cache under the URL. */
    char url[300];
    snprintf(url, sizeof url, "%s/hello", base_url);
    MU_CHECK(holds(c, url, "body of /hello"));
    mu_dcache_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.fetches, 2);
    MU_CHECK_EQ(st.fetch_errors, 0);
    mu_dcache_destroy(&c);
}

typedef struct {
    mu_dcache_t *c;
    int rc;
} fetcher_t;

static void *
fetch_gate(void *arg)
{
    fetcher_t *f = arg;
    f->rc = fetch_text(f->c, "/gate", 100000, "body of /gate", NULL);
    return NULL;
}

static void
test_fetch_concurrent(void)
{
    char path[300];
    db_path(path, sizeof path, "concurrent");
    mu_dcache_t *c = open_cache(path, 0);
    MU_CHECK(c);
    enum { N = 8 };
    pthread_t t[N];
    fetcher_t f[N];
    for (int i = 0; i < N; i++) {
        f[i] = (fetcher_t) { c, -1 };
        MU_CHECK_EQ(pthread_create(&t[i], NULL, fetch_gate, &f[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++)
        MU_CHECK_EQ(f[i].rc, 0);
    MU_CHECK_EQ(server_count("/gate"), 1);
    mu_dcache_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.fetches, 1);
    mu_dcache_destroy(&c);
}

static void
test_fetch_errors(void)
{
    char path[300];
    db_path(path, sizeof path, "fetch-errors");
    mu_dcache_options_t o = { .size = sizeof o,
                              .clock = fake_clock,
                              .fetch_timeout_ms = mu_test_ms(30000),
                              .max_value = 1000 };
    mu_dcache_t *c = mu_dcache_open(path, &o);
    MU_CHECK(c);
    /* 404: MU_EREMOTE naming the status; nothing cached, asked again. */
    MU_CHECK_EQ(fetch_text(c, "/missing", 1000, NULL, NULL), MU_EREMOTE);
    MU_CHECK(strstr(mu_last_error(), "404") != NULL);
    MU_CHECK_EQ(fetch_text(c, "/missing", 1000, NULL, NULL), MU_EREMOTE);
    MU_CHECK_EQ(server_count("/missing"), 2);
    /* A timeout (the peer answers /slow after 60 s). */
    char slow_path[300];
    db_path(slow_path, sizeof slow_path, "fetch-slow");
    o.fetch_timeout_ms = 300;
    mu_dcache_t *slow = mu_dcache_open(slow_path, &o);
    MU_CHECK(slow);
    int slow_rc = fetch_text(slow, "/slow", 1000, NULL, NULL);
    bool says_ms = strstr(mu_last_error(), "300 ms") != NULL;
    mu_dcache_stats_t sst = { .size = sizeof sst };
    int stats_rc = mu_dcache_stats(slow, &sst);
    mu_dcache_destroy(&slow);
    MU_CHECK_EQ(slow_rc, MU_ETIMEDOUT);
    MU_CHECK(says_ms);
    MU_CHECK(stats_rc == 0 && sst.count == 0 && sst.fetch_errors == 1);
    /* A body over max_value. */
    MU_CHECK_EQ(fetch_text(c, "/big", 1000, NULL, NULL), MU_EMSGSIZE);
    mu_dcache_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.count, 0);
    MU_CHECK_EQ(st.fetch_errors, 3);
    /* Connection refused: a port nothing listens on. */
    char ep[64];
    MU_CHECK_EQ(mu_test_tcp_port(ep, sizeof ep, 0), 0);
    char url[128];
    snprintf(url, sizeof url, "http://%s/x", ep + strlen("tcp://"));
    void *body = NULL;
    MU_CHECK_EQ(mu_dcache_fetch(c, url, 1000, &body, NULL, NULL), MU_ECONNREFUSED);
    MU_CHECK(body == NULL);
    /* No file descriptor left for the connection: -EMFILE, not "refused". */
    struct rlimit saved, low;
    MU_CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0 && saved.rlim_cur > 256);
    low = (struct rlimit) { 256, saved.rlim_max };
    MU_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int fills[256], nfills = 0, fd;
    while (nfills < 256 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fills[nfills++] = fd;
    snprintf(url, sizeof url, "%s/fds", base_url);
    int no_fd_rc = mu_dcache_fetch(c, url, 1000, &body, NULL, NULL);
    while (nfills > 0)
        close(fills[--nfills]);
    (void) setrlimit(RLIMIT_NOFILE, &saved);
    MU_CHECK_EQ(no_fd_rc, -EMFILE);
    /* Bad URLs and TTLs. */
    MU_CHECK_EQ(mu_dcache_fetch(c, "ftp://x/y", 1000, &body, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_fetch(c, "", 1000, &body, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_fetch(c, NULL, 1000, &body, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_fetch(c, url, 0, &body, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_dcache_stats(c, &st), 0);
    MU_CHECK_EQ(st.count, 0);
    mu_dcache_destroy(&c);
}

int
main(void)
{
    mu_test_start(300);
    if (!mu_test_scratch_dir(tmp_root, sizeof tmp_root, "test-dcache")) {
        printf("Bail out! no scratch dir\n");
        return 1;
    }
    MU_RUN(test_set_get_delete);
    MU_RUN(test_errors);
    MU_RUN(test_ttl_expiry);
    MU_RUN(test_size_cap_eviction);
    MU_RUN(test_persistence);
    MU_RUN(test_corrupt_and_foreign);
    MU_RUN(test_lock);
    if (!mu_dcache_can_fetch()) {
        MU_RUN(test_fetch_not_supported);
    } else {
        bool server = start_server();
        if (!server)
            printf("# the python3 HTTP peer did not start\n");
        MU_RUN_AS(if (!server) mu_test_case_failed = 1;
                  else test_fetch_once_per_ttl(), "test_fetch_once_per_ttl");
        MU_RUN_AS(if (!server) mu_test_case_failed = 1;
                  else test_fetch_concurrent(), "test_fetch_concurrent");
        MU_RUN_AS(if (!server) mu_test_case_failed = 1;
                  else test_fetch_errors(), "test_fetch_errors");
    }
    stop_server();
    mu_test_remove_scratch_dir(tmp_root);
    MU_DONE();
}
