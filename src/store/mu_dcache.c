/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_dcache.c — the TTL disk cache on SQLite (include/mu_dcache.h,
    doc/dcache.md): open and file checks, get/set/delete, expiry, size-cap
    eviction through an in-memory mu_lru. */
#include "store/mu_dcache_int.h"
#include "base/mu_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FORMAT 1
#define NEVER INT64_MAX

static const char *const stmt_sql[DC_NSTMT] = {
    [DC_GET] = "SELECT value, expires FROM entries WHERE key = ?1",
    [DC_PUT] = "INSERT INTO entries(key, value, expires, used) VALUES(?1, ?2, ?3, ?4) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
               "expires = excluded.expires, used = excluded.used",
    [DC_DEL] = "DELETE FROM entries WHERE key = ?1",
    [DC_TOUCH] = "UPDATE entries SET used = ?2 WHERE key = ?1",
    [DC_EXPIRED] = "SELECT key FROM entries WHERE expires <= ?1",
    [DC_PURGE] = "DELETE FROM entries WHERE expires <= ?1",
};

static int64_t
realtime_ms(void *arg)
{
    (void) arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mu__dcache_now(mu_dcache_t *self)
{
    return self->clock(self->clock_arg);
}

int
mu__dcache_check_ttl(int64_t ttl_ms)
{
    if (ttl_ms > 0 || ttl_ms == MU_DCACHE_FOREVER)
        return 0;
    return mu__fail(MU_EINVAL, "dcache: ttl %lld ms (> 0 or MU_DCACHE_FOREVER)",
                    (long long) ttl_ms);
}

static int
check_key(const void *key, size_t klen)
{
    if (!key || klen == 0 || klen > MU_DCACHE_MAX_KEY)
        return mu__fail(MU_EINVAL, "dcache: key of %zu bytes (1..%d)", klen, MU_DCACHE_MAX_KEY);
    return 0;
}

/* ---- SQLite ---- */

static int
db_fail(mu_dcache_t *self, int rc, const char *what)
{
    int code = mu__sqlite_db_error(self->db, rc);
    return mu__fail(code, "dcache %s: %s: %s", self->path, what, mu__sqlite_errmsg(self->db, code));
}

/* Steps a statement to its end and resets it. */
static int
run(mu_dcache_t *self, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : db_fail(self, rc, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int
exec(mu_dcache_t *self, const char *sql)
{
    int rc = sqlite3_exec(self->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(self, rc, sql);
}

static void
rollback(mu_dcache_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- the in-memory LRU, rebuilt from the file ---- */

/* The largest recency stamp a file may hold: the counter then has 2^48
   values left before it would leave int64 (one started at 1 never gets
   near it: only a damaged file does). */
#define MAX_USED (INT64_MAX - ((int64_t) 1 << 48))

/* What is wrong with the entry row st is on (key, size, used, value is a
   blob, expires is an integer), or NULL. */
static const char *
row_fault(sqlite3_stmt *st)
{
    size_t klen = (size_t) sqlite3_column_bytes(st, 0);
    if (sqlite3_column_type(st, 0) != SQLITE_BLOB) /* gets bind blobs: text is never found */
        return "a key that is not a blob";
    if (klen == 0 || klen > MU_DCACHE_MAX_KEY)
        return "a key of a bad length";
    if (!sqlite3_column_int(st, 3))
        return "a value that is not a blob";
    if (!sqlite3_column_int(st, 4))
        return "an expiry time that is not an integer";
    if (sqlite3_column_type(st, 2) != SQLITE_INTEGER || sqlite3_column_int64(st, 2) < 0
        || sqlite3_column_int64(st, 2) > MAX_USED)
        return "a recency stamp that is not an integer in range";
    return NULL;
}

/* Fills lru with the file's keys, least recently used first. */
static int
load_keys(mu_dcache_t *self, mu_lru_t *lru)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(self->db,
                                "SELECT key, length(key) + length(value), used,"
                                " typeof(value) = 'blob', typeof(expires) = 'integer'"
                                " FROM entries ORDER BY used",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(self, rc, "loading the entries");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *fault = row_fault(st);
        if (fault) {
            sqlite3_finalize(st);
            return mu__fail(MU_ECORRUPT, "dcache %s: an entry has %s", self->path, fault);
        }
        const void *k = sqlite3_column_blob(st, 0);
        size_t klen = (size_t) sqlite3_column_bytes(st, 0);
        int64_t size = sqlite3_column_int64(st, 1);
        int64_t used = sqlite3_column_int64(st, 2);
        if (mu_lru_increment(lru, k, klen, (uint64_t) size) < 0) {
            sqlite3_finalize(st);
            return mu__fail(MU_ENOMEM, "dcache: out of memory");
        }
        if (used >= self->next_used)
            self->next_used = used + 1;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(self, rc, "loading the entries");
    sqlite3_finalize(st);
    return rc;
}

/* Rebuilds the in-memory LRU from the file; on failure the old one (if
   any) stays. */
static int
load_lru(mu_dcache_t *self)
{
    mu_lru_t *lru = mu_lru_new(self->max_bytes, 1);
    if (!lru)
        return mu__fail(MU_ENOMEM, "dcache: out of memory");
    int rc = load_keys(self, lru);
    if (rc) {
        mu_lru_destroy(&lru);
        return rc;
    }
    mu_lru_destroy(&self->lru);
    self->lru = lru;
    return 0;
}

typedef struct {
    mu_dcache_t *self;
    int rc;
} evict_ctx_t;

static void
evict_row(void *arg, const void *key, size_t len, uint64_t size)
{
    (void) size;
    evict_ctx_t *c = arg;
    if (c->rc)
        return;
    sqlite3_stmt *st = c->self->st[DC_DEL];
    sqlite3_bind_blob(st, 1, key, (int) len, SQLITE_TRANSIENT);
    c->rc = run(c->self, st, "evicting");
    if (!c->rc)
        c->self->counts.evictions++;
}

/* Removes the expired entries (inside the caller's transaction). Returns
   how many or an error. */
static int
purge_locked(mu_dcache_t *self, int64_t now)
{
    sqlite3_stmt *st = self->st[DC_EXPIRED];
    sqlite3_bind_int64(st, 1, now);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int drc = mu_lru_delete(self->lru, sqlite3_column_blob(st, 0),
                                (size_t) sqlite3_column_bytes(st, 0));
        (void) drc; /* a key the LRU lacks: nothing to forget */
        n++;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(self, rc, "finding expired entries");
    sqlite3_reset(st);
    if (rc)
        return rc;
    st = self->st[DC_PURGE];
    sqlite3_bind_int64(st, 1, now);
    rc = run(self, st, "removing expired entries");
    if (rc)
        return rc;
    self->counts.expired += (uint64_t) n;
    return n;
}

/* Purges, then evicts, until the total fits (inside a transaction). */
static int
make_room(mu_dcache_t *self)
{
    if (mu_lru_over(self->lru) == 0)
        return 0;
    int rc = purge_locked(self, mu__dcache_now(self));
    if (rc < 0 || mu_lru_over(self->lru) == 0)
        return rc < 0 ? rc : 0;
    evict_ctx_t c = { self, 0 };
    rc = mu_lru_evict(self->lru, 0, evict_row, &c);
    return rc < 0 ? rc : c.rc;
}

/* Commits, or rolls back and rebuilds the LRU from the file (which then
   holds what it held before the transaction). */
static int
finish(mu_dcache_t *self, int rc)
{
    if (rc >= 0) {
        int c = exec(self, "COMMIT");
        if (c == 0)
            return rc;
        rc = c;
    }
    rollback(self);
    int64_t evicted = (int64_t) self->counts.evictions;
    (void) load_lru(self);
    self->counts.evictions = (uint64_t) evicted;
    return rc;
}

/* ---- recency stamps of gets, written in batches ---- */

/* Writes the pending stamps (inside the caller's transaction when there is
   one, else in one of their own) and forgets them. Best effort: a failed
   write only leaves the stored order older; nothing else depends on it. */
static void
touch_flush(mu_dcache_t *self)
{
    if (self->ntouch == 0)
        return;
    bool own = sqlite3_get_autocommit(self->db) != 0;
    if (own && sqlite3_exec(self->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        own = false;
    sqlite3_stmt *st = self->st[DC_TOUCH];
    for (size_t i = 0; i < self->ntouch; i++) {
        mu__dcache_touch_t *t = &self->touch[i];
        sqlite3_bind_blob(st, 1, t->key, (int) t->len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, t->used);
        sqlite3_step(st);
        sqlite3_reset(st);
        free(t->key);
    }
    sqlite3_clear_bindings(st);
    self->ntouch = 0;
    if (own && sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rollback(self);
}

/* Records that key was used now; written at the next flush (a set, every
   MU__DCACHE_TOUCH_MAX gets, close). */
static void
touch(mu_dcache_t *self, const void *key, size_t klen)
{
    if (self->ntouch == MU__DCACHE_TOUCH_MAX)
        touch_flush(self);
    void *copy = malloc(klen);
    if (!copy)
        return; /* only the stored order is older */
    memcpy(copy, key, klen);
    self->touch[self->ntouch++] = (mu__dcache_touch_t) { copy, klen, self->next_used++ };
}

/* ---- public operations ---- */

int
mu__dcache_set_locked(mu_dcache_t *self, const void *key, size_t klen, const void *value,
                      size_t len, int64_t ttl_ms)
{
    int rc = check_key(key, klen);
    if (!rc)
        rc = mu__dcache_check_ttl(ttl_ms);
    if (!rc && len && !value)
        rc = mu__fail(MU_EINVAL, "dcache: value NULL with len %zu", len);
    if (!rc && (len > self->max_value || klen + len > self->max_bytes))
        rc = mu__fail(MU_EMSGSIZE, "dcache: value of %zu bytes over the limit (%zu, cap %llu)", len,
                      self->max_value, (unsigned long long) self->max_bytes);
    if (rc)
        return rc;
    int64_t now = mu__dcache_now(self);
    int64_t expires = ttl_ms == MU_DCACHE_FOREVER || ttl_ms > NEVER - now ? NEVER : now + ttl_ms;
    rc = exec(self, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    touch_flush(self);
    sqlite3_stmt *st = self->st[DC_PUT];
    sqlite3_bind_blob(st, 1, key, (int) klen, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, len ? value : "", (int) len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, expires);
    sqlite3_bind_int64(st, 4, self->next_used++);
    rc = run(self, st, "storing");
    if (!rc && mu_lru_increment(self->lru, key, klen, klen + len) < 0)
        rc = mu__fail(MU_ENOMEM, "dcache: out of memory");
    if (!rc)
        rc = make_room(self);
    return finish(self, rc < 0 ? rc : 0);
}

int
mu_dcache_set(mu_dcache_t *self, const void *key, size_t klen, const void *value, size_t len,
              int64_t ttl_ms)
{
    assert(self);
    pthread_mutex_lock(&self->mutex);
    int rc = mu__dcache_set_locked(self, key, klen, value, len, ttl_ms);
    pthread_mutex_unlock(&self->mutex);
    return rc;
}

static int
delete_row(mu_dcache_t *self, const void *key, size_t klen)
{
    sqlite3_stmt *st = self->st[DC_DEL];
    sqlite3_bind_blob(st, 1, key, (int) klen, SQLITE_STATIC);
    int rc = run(self, st, "deleting");
    if (rc == 0) {
        int drc = mu_lru_delete(self->lru, key, klen);
        (void) drc; /* MU_ENOENT: the LRU had no such key */
    }
    return rc;
}

/* Copies the value of the row st is on, with a NUL past the end. */
static int
copy_value(sqlite3_stmt *st, void **value_p, size_t *len_p)
{
    size_t n = (size_t) sqlite3_column_bytes(st, 0);
    const void *v = sqlite3_column_blob(st, 0);
    char *copy = malloc(n + 1);
    if (!copy)
        return mu__fail(MU_ENOMEM, "dcache: out of memory for %zu bytes", n);
    if (n)
        memcpy(copy, v, n);
    copy[n] = '\0';
    *value_p = copy;
    if (len_p)
        *len_p = n;
    return 0;
}

int
mu__dcache_get_locked(mu_dcache_t *self, const void *key, size_t klen, void **value_p,
                      size_t *len_p)
{
    *value_p = NULL;
    int rc = check_key(key, klen);
    if (rc)
        return rc;
    sqlite3_stmt *st = self->st[DC_GET];
    sqlite3_bind_blob(st, 1, key, (int) klen, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        self->counts.misses++;
        return MU_ENOENT;
    }
    if (rc != SQLITE_ROW) {
        rc = db_fail(self, rc, "reading");
        sqlite3_reset(st);
        return rc;
    }
    int64_t expires = sqlite3_column_int64(st, 1);
    if (expires <= mu__dcache_now(self)) {
        sqlite3_reset(st);
        self->counts.misses++;
        if (delete_row(self, key, klen) == 0)
            self->counts.expired++;
        return MU_ENOENT;
    }
    size_t n = (size_t) sqlite3_column_bytes(st, 0);
    rc = copy_value(st, value_p, len_p);
    sqlite3_reset(st);
    if (rc)
        return rc;
    self->counts.hits++;
    /* Recency: in memory at once, in the file in batches. */
    int hit = mu_lru_increment(self->lru, key, klen, klen + n); /* present: cannot fail */
    (void) hit;
    touch(self, key, klen);
    return 0;
}

int
mu_dcache_get(mu_dcache_t *self, const void *key, size_t klen, void **value_p, size_t *len_p)
{
    assert(self && value_p);
    pthread_mutex_lock(&self->mutex);
    int rc = mu__dcache_get_locked(self, key, klen, value_p, len_p);
    pthread_mutex_unlock(&self->mutex);
    return rc;
}

int
mu_dcache_delete(mu_dcache_t *self, const void *key, size_t klen)
{
    assert(self);
    int rc = check_key(key, klen);
    if (rc)
        return rc;
    pthread_mutex_lock(&self->mutex);
    if (!mu_lru_contains(self->lru, key, klen))
        rc = MU_ENOENT;
    else
        rc = delete_row(self, key, klen);
    pthread_mutex_unlock(&self->mutex);
    return rc;
}

int
mu_dcache_purge_expired(mu_dcache_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->mutex);
    int rc = exec(self, "BEGIN IMMEDIATE");
    if (!rc)
        rc = finish(self, purge_locked(self, mu__dcache_now(self)));
    pthread_mutex_unlock(&self->mutex);
    return rc;
}

int
mu_dcache_stats(mu_dcache_t *self, mu_dcache_stats_t *stats)
{
    assert(self && stats);
    pthread_mutex_lock(&self->mutex);
    mu_dcache_stats_t all = self->counts;
    mu_lru_stats_t ls = { .size = sizeof ls };
    if (mu_lru_stats(self->lru, &ls) == 0) {
        all.count = ls.count;
        all.bytes = ls.total;
    }
    all.max_bytes = self->max_bytes;
    pthread_mutex_unlock(&self->mutex);
    all.size = sizeof all;
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}

/* ---- open / close ---- */

static int
take_lock(mu_dcache_t *self, int timeout_ms)
{
    char lock[PATH_MAX];
    if ((size_t) snprintf(lock, sizeof lock, "%s.lock", self->path) >= sizeof lock)
        return mu__fail(MU_ENAMETOOLONG, "dcache: path too long");
    self->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (self->lock_fd < 0)
        return mu__fail(-errno, "dcache: cannot open the lock file %s: %s", lock, strerror(errno));
    int64_t deadline = mu__deadline_ms(timeout_ms);
    while (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            return mu__fail(-errno, "dcache: lock %s: %s", lock, strerror(errno));
        if (timeout_ms == 0 || (timeout_ms > 0 && mu__remaining_ms(deadline) == 0))
            return mu__fail(mu__expired(timeout_ms), "dcache %s: in use by another process",
                            self->path);
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int
create_file(mu_dcache_t *self)
{
    char dirbuf[PATH_MAX], basebuf[PATH_MAX], tmp[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", self->path);
    snprintf(basebuf, sizeof basebuf, "%s", self->path);
    const char *dir = dirname(dirbuf), *base = basename(basebuf);
    if ((size_t) snprintf(tmp, sizeof tmp, "%s/.%s.new", dir, base) >= sizeof tmp)
        return mu__fail(MU_ENAMETOOLONG, "dcache: path too long");
    char sql[512];
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
             "CREATE TABLE entries(key BLOB PRIMARY KEY, value BLOB NOT NULL,"
             " expires INTEGER NOT NULL, used INTEGER NOT NULL);"
             "CREATE INDEX entries_expires ON entries(expires);"
             "INSERT INTO meta VALUES('format', %d), ('max_bytes', %llu);"
             "COMMIT;",
             FORMAT, (unsigned long long) self->max_bytes);
    int rc = mu__sqlite_create_atomic(dir, self->path, tmp, sql);
    if (rc)
        return mu__fail(rc, "dcache: cannot create %s: %s", self->path, mu_strerror(rc));
    return 0;
}

/* A meta value, -1 when it is missing or not an integer. */
static int64_t
meta_value(mu_dcache_t *self, const char *name)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    int rc = sqlite3_prepare_v2(self->db, "SELECT value FROM meta WHERE name = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* Opens the database and checks that it is a cache of this format,
   writing nothing into it (see set_up_db). */
static int
open_db(mu_dcache_t *self, uint64_t max_bytes)
{
    int rc = sqlite3_open_v2(self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK)
        return db_fail(self, rc, "opening");
    sqlite3_busy_timeout(self->db, 5000);
    rc = sqlite3_exec(self->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT
                   ? mu__fail(MU_ECORRUPT, "dcache %s: not an SQLite database", self->path)
                   : db_fail(self, rc, "reading");
    int64_t format = meta_value(self, "format");
    int64_t stored = meta_value(self, "max_bytes");
    if (format != FORMAT || stored <= 0)
        return mu__fail(MU_ECORRUPT, "dcache %s: not a cache file of format %d", self->path,
                        FORMAT);
    for (int i = 0; i < DC_NSTMT; i++) {
        rc = sqlite3_prepare_v3(self->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->st[i],
                                NULL);
        if (rc != SQLITE_OK)
            return mu__fail(MU_ECORRUPT, "dcache %s: not a cache file (%s)", self->path,
                            sqlite3_errmsg(self->db));
    }
    self->max_bytes = max_bytes ? max_bytes : (uint64_t) stored;
    self->stored_max_bytes = (uint64_t) stored;
    return 0;
}

/* Once the file was checked and loaded: WAL mode (written into the file)
   and the cap asked for. */
static int
set_up_db(mu_dcache_t *self)
{
    int rc = exec(self, "PRAGMA journal_mode=WAL");
    if (!rc)
        rc = exec(self, "PRAGMA synchronous=NORMAL");
    if (!rc && self->max_bytes != self->stored_max_bytes) {
        char sql[128];
        snprintf(sql, sizeof sql, "UPDATE meta SET value = %llu WHERE name = 'max_bytes'",
                 (unsigned long long) self->max_bytes);
        rc = exec(self, sql);
    }
    return rc;
}

static int
open_all(mu_dcache_t *self, const mu_dcache_options_t *o)
{
    int rc = take_lock(self, o->lock_timeout_ms);
    if (rc)
        return rc;
    if (access(self->path, F_OK) != 0) {
        if (errno != ENOENT)
            return mu__fail(-errno, "dcache %s: %s", self->path, strerror(errno));
        self->max_bytes = o->max_bytes ? o->max_bytes : MU_DCACHE_MAX_BYTES_DEFAULT;
        rc = create_file(self);
    }
    if (!rc)
        rc = open_db(self, o->max_bytes);
    if (!rc && self->max_value > self->max_bytes)
        self->max_value = (size_t) self->max_bytes;
    if (!rc)
        rc = load_lru(self);
    if (!rc)
        rc = set_up_db(self);
    if (!rc && mu_lru_over(self->lru) > 0) { /* the cap was lowered */
        rc = exec(self, "BEGIN IMMEDIATE");
        if (!rc)
            rc = finish(self, make_room(self));
    }
    return rc < 0 ? rc : 0;
}

mu_dcache_t *
mu_dcache_open(const char *path, const mu_dcache_options_t *options)
{
    mu_dcache_options_t o = { .size = sizeof o };
    if (options) {
        if (options->size < offsetof(mu_dcache_options_t, clock_arg) + sizeof(void *))
            return mu__fail_null(MU_EINVAL, "dcache: options size %zu too small", options->size);
        memcpy(&o, options, options->size < sizeof o ? options->size : sizeof o);
    }
    if (!path || !*path)
        return mu__fail_null(MU_EINVAL, "dcache: empty path");
    size_t max_value = o.max_value ? o.max_value : MU_DCACHE_MAX_VALUE_DEFAULT;
    if (o.max_value > MU_DCACHE_MAX_VALUE_LIMIT)
        return mu__fail_null(MU_EINVAL, "dcache: max_value %zu > %d (SQLite's row limit)",
                             o.max_value, MU_DCACHE_MAX_VALUE_LIMIT);
    if (o.max_value && o.max_bytes && o.max_value > o.max_bytes)
        return mu__fail_null(MU_EINVAL, "dcache: max_value %zu > max_bytes %llu", o.max_value,
                             (unsigned long long) o.max_bytes);
    mu_dcache_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        return mu__fail_null(MU_ENOMEM, "dcache: out of memory");
    }
    pthread_mutex_init(&self->mutex, NULL);
    if (mu__cond_init(&self->cv) != 0) {
        pthread_mutex_destroy(&self->mutex);
        free(self->path);
        free(self);
        return mu__fail_null(MU_ENOMEM, "dcache: cannot make a condition variable");
    }
    self->lock_fd = -1;
    self->max_value = max_value;
    self->fetch_timeout_ms = o.fetch_timeout_ms > 0 ? o.fetch_timeout_ms
                                                    : MU_DCACHE_FETCH_TIMEOUT_DEFAULT;
    self->clock = o.clock ? o.clock : realtime_ms;
    self->clock_arg = o.clock_arg;
    self->next_used = 1;
    int rc = open_all(self, &o);
    if (rc) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", mu__last_detail());
        mu_dcache_destroy(&self);
        return mu__fail_null(rc, "%s", detail);
    }
    return self;
}

void
mu_dcache_destroy(mu_dcache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_dcache_t *self = *self_p;
    if (self->st[DC_TOUCH])
        touch_flush(self);
    for (size_t i = 0; i < self->ntouch; i++)
        free(self->touch[i].key);
    for (int i = 0; i < DC_NSTMT; i++)
        sqlite3_finalize(self->st[i]);
    sqlite3_close(self->db);
    mu_lru_destroy(&self->lru);
    if (self->lock_fd >= 0)
        close(self->lock_fd);
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mutex);
    free(self->path);
    free(self);
    *self_p = NULL;
}
