/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_lru_persist.c — the persistence of an LRU in SQLite (see mu_lru.h for
    the schema and the policies): new keys (immediate, group commit thread,
    at flush), flush, durability, opening. It calls the core (mu_lru.c); the
    core reaches it only through s->port.

    Bookkeeping:
      - dirty: every entry that entered a level's head since the last flush
        carries the dirty flag (set by list_push_head on a persistent LRU,
        branch-free). An entry only ever enters a level at its head and the
        flush clears every flag, so in each level the dirty entries form a
        prefix from the head, and the non-dirty suffix keeps the order (and
        the stored seq) it had at the last flush;
      - seq: the database's order key. It is not kept in memory: the flush
        walks each level's dirty prefix and stamps it with fresh values from
        a counter (next_seq, above every stored seq), decreasing from head to
        tail, so within a level seq decreases from head to tail in the
        database and ORDER BY level, seq rebuilds every list exactly; a new
        key committed before the flush (MU_LRU_IMMEDIATE, MU_LRU_GROUP) takes
        the next counter value, so it lands at the head of its level;
      - gone: keys deleted or evicted since the last flush (their rows are
        deleted at flush before the dirty rows are written, so a key removed
        and added again ends up present);
      - pending: new keys waiting for the group-commit thread (MU_LRU_GROUP),
        guarded by pend_mutex; db_mutex serialises every use of the SQLite
        connection between the owner and that thread. */
#include "store/mu_lru_int.h"
#include "base/mu_fs.h"
#include "base/mu_sync.h"
#include "store/mu_sqlite.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- SQLite ------------------------------------------------------------------- */

/*  Runs a bound statement to its end, then resets it and clears its
    bindings. Returns 0 or an error. */
static int
run_statement(mu_lru_t *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : mu__sqlite_db_error(s->db, rc); /* reads errno: first */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/*  Writes one row of entries. Returns 0 or an error. */
static int
sql_put_row(mu_lru_t *s, const void *key, uint32_t len, uint64_t size, int level, uint64_t seq)
{
    sqlite3_stmt *st = s->st[ST_INSERT];
    sqlite3_bind_blob(st, 1, len ? key : "", (int) len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) size);
    sqlite3_bind_int(st, 3, level);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) seq);
    return run_statement(s, st);
}

static int
sql_delete_key(mu_lru_t *s, const void *key, uint32_t len)
{
    sqlite3_stmt *st = s->st[ST_DELETE];
    sqlite3_bind_blob(st, 1, len ? key : "", (int) len, SQLITE_STATIC);
    return run_statement(s, st);
}

static int
sql_put_meta(mu_lru_t *s, const char *name, uint64_t value)
{
    sqlite3_stmt *st = s->st[ST_META];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) value);
    return run_statement(s, st);
}

/*  Writes the records of a pending buffer. */
static int
sql_put_pending(mu_lru_t *s, const buf_t *b)
{
    size_t off = 0;
    while (off < b->used) {
        pending_t p;
        memcpy(&p, b->data + off, sizeof p);
        off += sizeof p;
        int rc = sql_put_row(s, b->data + off, p.len, p.size, p.level, p.seq);
        if (rc != 0)
            return rc;
        off += p.len;
    }
    return 0;
}

/*  Commits a batch of pending new keys in one transaction (db_mutex held). */
static int
sql_commit_pending(mu_lru_t *s, const buf_t *b)
{
    if (b->used == 0)
        return 0;
    int rc = mu__sqlite_exec(s->db, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = sql_put_pending(s, b);
    if (rc == 0)
        rc = mu__sqlite_exec(s->db, "COMMIT");
    if (rc != 0)
        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*  Moves the pending buffer out (into *out, which must be empty) under
    pend_mutex. */
static void
pending_take(mu_lru_t *s, buf_t *out)
{
    pthread_mutex_lock(&s->pend_mutex);
    buf_t tmp = s->pending;
    s->pending = *out;
    *out = tmp;
    pthread_mutex_unlock(&s->pend_mutex);
}

/*  Puts records that could not be committed back in front of the pending
    buffer. */
static void
pending_restore(mu_lru_t *s, buf_t *b)
{
    pthread_mutex_lock(&s->pend_mutex);
    if (mu__lru_buf_reserve(b, s->pending.used) == 0) {
        mu__lru_buf_put(b, s->pending.data, s->pending.used);
        buf_t tmp = s->pending;
        s->pending = *b;
        *b = tmp;
    }
    pthread_mutex_unlock(&s->pend_mutex);
    b->used = 0;
}

/* ---- group commit thread -------------------------------------------------- */

/*  Commits the pending new keys, if any. */
static void
group_commit_once(mu_lru_t *s, buf_t *batch)
{
    pthread_mutex_lock(&s->db_mutex);
    pending_take(s, batch);
    if (sql_commit_pending(s, batch) != 0)
        pending_restore(s, batch); /* retried at the next tick or flush */
    batch->used = 0;
    pthread_mutex_unlock(&s->db_mutex);
}

static void *
group_thread(void *arg)
{
    mu_lru_t *s = arg;
    buf_t batch = { 0 };
    int64_t next = mu__now_ms();
    pthread_mutex_lock(&s->pend_mutex);
    while (!s->stop) {
        next += s->group_ms;
        while (!s->stop && mu__cond_wait_until(&s->cond, &s->pend_mutex, next))
            ;
        bool have = s->pending.used > 0;
        pthread_mutex_unlock(&s->pend_mutex);
        if (have)
            group_commit_once(s, &batch);
        pthread_mutex_lock(&s->pend_mutex);
    }
    pthread_mutex_unlock(&s->pend_mutex);
    free(batch.data);
    return NULL;
}

static void
group_stop(mu_lru_t *s)
{
    if (!s->thread_running)
        return;
    pthread_mutex_lock(&s->pend_mutex);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->pend_mutex);
    pthread_join(s->thread, NULL);
    s->thread_running = false;
    s->stop = false;
}

static int
group_start(mu_lru_t *s)
{
    int rc = pthread_create(&s->thread, NULL, group_thread, s);
    if (rc != 0)
        return mu__fail(-rc, "starting the group-commit thread: %s", strerror(rc));
    s->thread_running = true;
    return 0;
}

/* ---- new keys -------------------------------------------------------------- */

/*  port->add: makes the new key durable now or queues it, per the policy. */
static int
persist_new(mu_lru_t *s, const void *key, size_t len, uint64_t size, int level)
{
    if (s->db == NULL || s->policy == MU_LRU_AT_FLUSH)
        return 0;
    if (s->policy == MU_LRU_IMMEDIATE) {
        pthread_mutex_lock(&s->db_mutex);
        int rc = sql_put_row(s, key, (uint32_t) len, size, level, s->next_seq);
        pthread_mutex_unlock(&s->db_mutex);
        if (rc == 0)
            s->next_seq++;
        return rc;
    }
    pending_t p = { size, s->next_seq, (uint32_t) len, level };
    pthread_mutex_lock(&s->pend_mutex);
    int rc = mu__lru_buf_reserve(&s->pending, sizeof p + len);
    if (rc == 0) {
        mu__lru_buf_put(&s->pending, &p, sizeof p);
        mu__lru_buf_put(&s->pending, key, len);
    }
    pthread_mutex_unlock(&s->pend_mutex);
    if (rc == 0)
        s->next_seq++;
    return rc;
}

/* ---- flush --------------------------------------------------------------------- */

/*  Deletes the rows of removed keys. */
static int
flush_gone(mu_lru_t *s)
{
    size_t off = 0;
    while (off < s->gone.used) {
        uint32_t len;
        memcpy(&len, s->gone.data + off, sizeof len);
        off += sizeof len;
        int rc = sql_delete_key(s, s->gone.data + off, len);
        if (rc != 0)
            return rc;
        off += len;
    }
    return 0;
}

/*  The dirty prefixes of the levels as slot indices, level by level, each
    from head to tail. The lists are followed once, here; writing the rows
    and clearing the flags then read the slots from this array, loads the
    CPU can overlap (and prefetch), instead of chasing the lists again
    through a table in hash order. */
typedef struct {
    uint32_t *idx;
    size_t n;
    size_t end[MU_LRU_MAX_LEVELS]; /* level lv is idx[end[lv - 1] .. end[lv]) */
} dirty_t;

static int
dirty_collect(const mu_lru_t *s, dirty_t *d)
{
    d->n = 0;
    d->idx = malloc((size_t) (s->count ? s->count : 1) * sizeof *d->idx);
    if (d->idx == NULL)
        return MU_ENOMEM;
    for (int lv = 0; lv < s->nlevels; lv++) {
        for (uint32_t i = s->level[lv].head; i != NIL && (s->entries[i].meta & DIRTY);
             i = s->entries[i].next)
            d->idx[d->n++] = i;
        d->end[lv] = d->n;
    }
    return 0;
}

/*  Writes the rows of the dirty entries: the dirty prefix of each level,
    stamped with fresh seq values decreasing from head to tail. */
static int
flush_dirty(mu_lru_t *s, const dirty_t *d)
{
    size_t at = 0;
    for (int lv = 0; lv < s->nlevels; lv++) {
        uint64_t seq = s->next_seq + (d->end[lv] - at);
        s->next_seq = seq;
        for (; at < d->end[lv]; at++) {
            if (at + 8 < d->n)
                __builtin_prefetch(&s->entries[d->idx[at + 8]], 0, 3);
            const entry_t *e = &s->entries[d->idx[at]];
            int rc = sql_put_row(s, key_of(e), e_len(e), e->size, lv, --seq);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/*  Clears the dirty flags (they form a prefix of each level), walking the
    lists: after loading. */
static void
clear_dirty(mu_lru_t *s)
{
    for (int lv = 0; lv < s->nlevels; lv++)
        for (uint32_t i = s->level[lv].head; i != NIL && (s->entries[i].meta & DIRTY);
             i = s->entries[i].next)
            s->entries[i].meta &= ~DIRTY;
}

static int
flush_meta(mu_lru_t *s)
{
    int rc = sql_put_meta(s, "capacity", s->capacity);
    if (rc == 0)
        rc = sql_put_meta(s, "hits", s->hits);
    if (rc == 0)
        rc = sql_put_meta(s, "misses", s->misses);
    if (rc == 0)
        rc = sql_put_meta(s, "evictions", s->evictions);
    return rc;
}

/*  The transaction of mu_lru_flush, with db_mutex held. */
static int
flush_locked(mu_lru_t *s, buf_t *batch, const dirty_t *d)
{
    int rc = mu__sqlite_exec(s->db, "BEGIN IMMEDIATE");
    if (rc != 0)
        return rc;
    /* Every new key is also dirty, so its current state is written below:
       the pending records (its state when added) are dropped unwritten. */
    pending_take(s, batch);
    rc = flush_gone(s);
    if (rc == 0)
        rc = flush_dirty(s, d);
    if (rc == 0)
        rc = flush_meta(s);
    if (rc == 0)
        rc = mu__sqlite_exec(s->db, "COMMIT");
    if (rc != 0) {
        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        pending_restore(s, batch);
    }
    return rc;
}

int
mu_lru_flush(mu_lru_t *self)
{
    assert(self && !self->iterating);
    if (self->db == NULL || self->readonly)
        return 0;
    dirty_t d;
    if (dirty_collect(self, &d) != 0)
        return mu__fail(MU_ENOMEM, "mu_lru_flush: out of memory");
    buf_t batch = { 0 };
    pthread_mutex_lock(&self->db_mutex);
    int rc = flush_locked(self, &batch, &d);
    pthread_mutex_unlock(&self->db_mutex);
    free(batch.data);
    if (rc == 0) {
        for (size_t i = 0; i < d.n; i++)
            self->entries[d.idx[i]].meta &= ~DIRTY;
        self->gone.used = 0;
    }
    free(d.idx);
    return rc;
}

int
mu_lru_set_durability(mu_lru_t *self, mu_lru_durability_t policy, int group_ms)
{
    assert(self);
    assert(policy == MU_LRU_IMMEDIATE || policy == MU_LRU_GROUP || policy == MU_LRU_AT_FLUSH);
    if (group_ms < 0 || group_ms > 60000)
        return mu__fail(MU_EINVAL, "mu_lru_set_durability: group_ms %d is not 0..60000", group_ms);
    if (self->db == NULL || self->readonly)
        return mu__fail(MU_ENOTSUP, "mu_lru_set_durability: the LRU is %s",
                        self->db == NULL ? "in memory" : "read-only");
    group_stop(self);
    buf_t batch = { 0 };
    pthread_mutex_lock(&self->db_mutex);
    pending_take(self, &batch);
    int rc = sql_commit_pending(self, &batch);
    if (rc != 0)
        pending_restore(self, &batch);
    pthread_mutex_unlock(&self->db_mutex);
    free(batch.data);
    if (rc != 0)
        return rc;
    self->policy = policy;
    self->group_ms = group_ms ? group_ms : MU_LRU_GROUP_MS_DEFAULT;
    return policy == MU_LRU_GROUP ? group_start(self) : 0;
}

/* ---- opening a persistent LRU ------------------------------------------------ */

static bool
name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME || name[0] == '.')
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS entries(key BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    " level INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;";

/*  The largest seq a file may hold: the counter then has 2^48 values left
    before it would leave int64 (and the order of the rows written after
    it would be lost), years of new keys and flushes. A counter started
    at 1 never gets near it: only a damaged or made-up file does. */
#define MAX_SEQ ((uint64_t) INT64_MAX - ((uint64_t) 1 << 48))

/*  The code of a failed prepare (rc): MU_ECORRUPT with what and SQLite's
    message when the statement does not fit the tables (SQLITE_ERROR: no
    such table or column: the file is not an LRU's), else the SQLite
    error's own code (busy, I/O...). */
static int
prepare_fail(sqlite3 *db, int rc, const char *what)
{
    if ((rc & 0xff) == SQLITE_ERROR)
        return mu__fail(MU_ECORRUPT, "%s: %s", what, sqlite3_errmsg(db));
    return mu__sqlite_db_error(db, rc);
}

/*  Reads a meta value, which must be one row holding an integer; returns
    0, MU_ENOENT (no such row), MU_ECORRUPT (several rows, or not an
    integer) or an error. */
static int
meta_get(sqlite3 *db, const char *name, uint64_t *value_p)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = ?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return prepare_fail(db, rc, "the meta table cannot be read");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int result = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? MU_ENOENT : mu__sqlite_db_error(db, rc);
    if (rc == SQLITE_ROW) {
        bool integer = sqlite3_column_type(st, 0) == SQLITE_INTEGER;
        *value_p = (uint64_t) sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
        if (!integer || rc != SQLITE_DONE)
            result = rc == SQLITE_ROW || rc == SQLITE_DONE
                         ? mu__fail(MU_ECORRUPT, "meta '%s' is %s", name,
                                    integer ? "in several rows" : "not an integer")
                         : mu__sqlite_db_error(db, rc);
    }
    sqlite3_finalize(st);
    return result;
}

/*  Counts the tables of the database, and tells whether one is meta. */
static int
count_tables(sqlite3 *db, int64_t *tables, bool *meta)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT count(*), sum(name = 'meta') FROM sqlite_master"
                                " WHERE type = 'table'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mu__sqlite_db_error(db, rc);
    rc = sqlite3_step(st);
    *tables = sqlite3_column_int64(st, 0);
    *meta = sqlite3_column_int64(st, 1) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : mu__sqlite_db_error(db, rc);
}

/*  Writes into sql the statements that create the schema and the meta rows
    of a new LRU, in one transaction. */
static void
creation_sql(const mu_lru_t *s, char *sql, size_t size)
{
    snprintf(sql, size,
             "BEGIN IMMEDIATE; %s INSERT INTO meta VALUES ('format', %d), ('levels', %d),"
             " ('capacity', %llu), ('hits', 0), ('misses', 0), ('evictions', 0); COMMIT;",
             SCHEMA, FORMAT_VERSION, s->nlevels, (unsigned long long) s->capacity);
}

/*  Creates the schema and the meta rows in the open (empty) database. */
static int
create_schema(mu_lru_t *s)
{
    char sql[512];
    creation_sql(s, sql, sizeof sql);
    int rc = mu__sqlite_exec(s->db, sql);
    if (rc != 0)
        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*  Reads an optional counter of meta into *value_p (left as it is when
    the row is missing). */
static int
meta_counter(sqlite3 *db, const char *name, uint64_t *value_p)
{
    int rc = meta_get(db, name, value_p);
    return rc == MU_ENOENT ? 0 : rc;
}

/*  Checks the stored parameters against the given ones (0 = as stored)
    and adopts them. */
static int
check_meta(mu_lru_t *s, uint64_t capacity, int levels)
{
    uint64_t format, stored_levels, stored_cap;
    const char *name = "format";
    int rc = meta_get(s->db, name, &format);
    if (rc == 0)
        rc = meta_get(s->db, name = "levels", &stored_levels);
    if (rc == 0)
        rc = meta_get(s->db, name = "capacity", &stored_cap);
    if (rc == MU_ENOENT)
        return mu__fail(MU_ECORRUPT, "no meta '%s': not an LRU", name);
    if (rc != 0)
        return rc;
    if (format != FORMAT_VERSION)
        return mu__fail(MU_ECORRUPT, "format version %lld: this library reads version %d",
                        (long long) format, FORMAT_VERSION);
    if (stored_levels < 1 || stored_levels > MU_LRU_MAX_LEVELS)
        return mu__fail(MU_ECORRUPT, "meta levels %lld is not 1..%d", (long long) stored_levels,
                        MU_LRU_MAX_LEVELS);
    if (stored_cap == 0 || stored_cap > INT64_MAX)
        return mu__fail(MU_ECORRUPT, "meta capacity %lld is not positive", (long long) stored_cap);
    if ((levels != 0 && (uint64_t) levels != stored_levels)
        || (capacity != 0 && capacity != stored_cap))
        return mu__fail(MU_EEXIST, "stored levels %d and capacity %llu, asked for %d and %llu",
                        (int) stored_levels, (unsigned long long) stored_cap, levels,
                        (unsigned long long) capacity);
    s->nlevels = (int) stored_levels;
    s->capacity = stored_cap;
    mu__lru_divide_capacity(s);
    rc = meta_counter(s->db, "hits", &s->hits);
    if (rc == 0)
        rc = meta_counter(s->db, "misses", &s->misses);
    if (rc == 0)
        rc = meta_counter(s->db, "evictions", &s->evictions);
    return rc;
}

/*  What is wrong with the current row of st (key, size, level, seq) for
    s, or NULL: the key a blob (its length is the caller's check), the
    others integers, level in range, seq in 0..MAX_SEQ, the total size
    within 64 bits. */
static const char *
row_fault(const mu_lru_t *s, sqlite3_stmt *st)
{
    if (sqlite3_column_type(st, 0) != SQLITE_BLOB) /* the writer's statements bind blobs */
        return sqlite3_column_type(st, 0) == SQLITE_TEXT ? "its key is text, not a blob (x'...')"
                                                         : "its key is not a blob";
    for (int c = 1; c <= 3; c++)
        if (sqlite3_column_type(st, c) != SQLITE_INTEGER)
            return c == 1   ? "its size is not an integer"
                   : c == 2 ? "its level is not an integer"
                            : "its seq is not an integer";
    int64_t level = sqlite3_column_int64(st, 2), seq = sqlite3_column_int64(st, 3);
    if (level < 0 || level >= s->nlevels)
        return "its level is out of range";
    if (seq < 0 || (uint64_t) seq > MAX_SEQ)
        return "its seq is out of range";
    if ((uint64_t) sqlite3_column_int64(st, 1) > UINT64_MAX - s->total)
        return "the sizes add up to more than 2^64 - 1";
    return NULL;
}

/*  Adds the current row of st (key, size, level, seq), the count-th, at
    the head of its level; seq values above the counter move it past them. */
static int
load_row(mu_lru_t *s, sqlite3_stmt *st, uint64_t count)
{
    const char *fault = row_fault(s, st);
    const void *key = sqlite3_column_blob(st, 0); /* then its length */
    size_t len = (size_t) sqlite3_column_bytes(st, 0);
    if (fault == NULL && len > MU_LRU_MAX_KEY)
        fault = "its key is longer than MU_LRU_MAX_KEY";
    if (fault != NULL)
        return mu__fail(MU_ECORRUPT, "entry %llu (level %lld, seq %lld): %s",
                        (unsigned long long) count, (long long) sqlite3_column_int64(st, 2),
                        (long long) sqlite3_column_int64(st, 3), fault);
    uint64_t seq = (uint64_t) sqlite3_column_int64(st, 3);
    int rc = mu__lru_load_row(s, key, len, (uint64_t) sqlite3_column_int64(st, 1),
                              sqlite3_column_int64(st, 2));
    if (rc == MU_ECORRUPT) /* what is left: the key is there already */
        return mu__fail(MU_ECORRUPT, "entry %llu (level %lld, seq %lld): its key is a duplicate",
                        (unsigned long long) count, (long long) sqlite3_column_int64(st, 2),
                        (long long) seq);
    if (rc == 0 && seq >= s->next_seq)
        s->next_seq = seq + 1;
    return rc;
}

/*  Loads every row in level and seq order, then applies the cascade rule
    (a no-op after a clean flush) and forgets the load's bookkeeping. */
static int
load_entries(mu_lru_t *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT key, size, level, seq FROM entries"
                                " ORDER BY level, seq",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return prepare_fail(s->db, rc, "the entries table cannot be read");
    mu_lru_durability_t policy = s->policy;
    uint64_t misses = s->misses;
    s->policy = MU_LRU_AT_FLUSH; /* loading writes nothing */
    int result = 0;
    uint64_t count = 0;
    while (result == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        result = load_row(s, st, ++count);
    if (result == 0 && rc != SQLITE_DONE)
        result = mu__sqlite_db_error(s->db, rc);
    sqlite3_finalize(st);
    s->policy = policy;
    clear_dirty(s);
    s->misses = misses;
    if (result == 0)
        mu__lru_cascade(s, s->nlevels - 1); /* dirty marks from here are real moves */
    return result;
}

static int
prepare_statements(mu_lru_t *s)
{
    static const char *const sql[ST_COUNT] = {
        [ST_INSERT] = "INSERT INTO entries(key, size, level, seq) VALUES (?, ?, ?, ?)"
                      " ON CONFLICT(key) DO UPDATE SET size = excluded.size,"
                      " level = excluded.level, seq = excluded.seq",
        [ST_DELETE] = "DELETE FROM entries WHERE key = ?",
        [ST_META] = ("INSERT INTO meta(name, value) VALUES (?, ?)"
                     " ON CONFLICT(name) DO UPDATE SET value = excluded.value"),
    };
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
        if (rc != SQLITE_OK)
            return prepare_fail(s->db, rc, "the tables cannot be written");
    }
    return 0;
}

/*  Takes the writer's lock file DIR/NAME.lru.lock. */
static int
take_lock(mu_lru_t *s, const char *path)
{
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (s->lock_fd < 0)
        return -errno;
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? MU_EAGAIN : -errno;
    return 0;
}

/*  Opens the SQLite database (nothing is written yet). A writer must be
    able to write the file: a read-only file is MU_EACCES. */
static int
open_db(mu_lru_t *s, const char *path)
{
    int oflags = s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    int rc = sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return mu__fail(mu__sqlite_error(rc), "sqlite: %s",
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    sqlite3_busy_timeout(s->db, 5000);
    if (!s->readonly && sqlite3_db_readonly(s->db, "main") == 1)
        return mu__fail(MU_EACCES, "the file is read-only");
    return 0;
}

/*  Sets the pragmas of a writer, once the file is known to be an LRU:
    WAL mode is written into the file. */
static int
set_pragmas(mu_lru_t *s, int flags)
{
    int rc = mu__sqlite_exec(s->db, "PRAGMA journal_mode=WAL");
    if (rc == 0)
        rc = mu__sqlite_exec(s->db, flags & MU_LRU_SYNC_FULL ? "PRAGMA synchronous=FULL"
                                                             : "PRAGMA synchronous=NORMAL");
    return rc;
}

/*  Finds or makes the schema: a database without any table (an empty
    file) gets it with MU_LRU_CREATE; one with tables but no meta is not an
    LRU, and is left alone. */
static int
find_schema(mu_lru_t *s, uint64_t capacity, int flags)
{
    int64_t tables = 0;
    bool meta = false;
    int rc = count_tables(s->db, &tables, &meta);
    if (rc != 0 || meta)
        return rc;
    if (tables > 0 || !(flags & MU_LRU_CREATE))
        return mu__fail(MU_ECORRUPT, "no meta table: not an LRU");
    if (capacity == 0)
        return mu__fail(MU_EINVAL, "the file is empty and capacity is 0");
    return create_schema(s);
}

/*  The paths of an LRU's files in dir: NAME.lru, NAME.lru.lock and
    .NAME.lru.new (the file being created; no LRU name starts with '.'). */
typedef struct {
    char db[PATH_MAX], lock[PATH_MAX], tmp[PATH_MAX];
} paths_t;

static int
make_paths(paths_t *p, const char *dir, const char *name)
{
    if ((size_t) snprintf(p->db, sizeof p->db, "%s/%s.lru", dir, name) >= sizeof p->db
        || (size_t) snprintf(p->lock, sizeof p->lock, "%s/%s.lru.lock", dir, name) >= sizeof p->lock
        || (size_t) snprintf(p->tmp, sizeof p->tmp, "%s/.%s.lru.new", dir, name) >= sizeof p->tmp)
        return MU_EINVAL;
    return 0;
}

/*  Creates DIR/NAME.lru atomically (the writer's lock held): a SIGKILL at
    any point leaves either no LRU or a complete one, never a file that
    opens as MU_ECORRUPT. */
static int
create_file(mu_lru_t *s, const char *dir, const paths_t *p, uint64_t capacity)
{
    if (capacity == 0)
        return MU_EINVAL;
    char sql[512];
    creation_sql(s, sql, sizeof sql);
    return mu__sqlite_create_atomic(dir, p->db, p->tmp, sql);
}

/*  Everything of mu_lru_open after the arguments were checked. */
static int
open_persistent(mu_lru_t *s, const char *dir, const char *name, uint64_t capacity, int levels,
                int flags)
{
    paths_t p;
    int rc = make_paths(&p, dir, name);
    if (rc != 0)
        return rc;
    bool exists = access(p.db, F_OK) == 0;
    if (!exists && !(flags & MU_LRU_CREATE))
        return MU_ENOENT;
    if (!exists && mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -errno;
    if (!s->readonly) {
        rc = take_lock(s, p.lock);
        if (rc == 0 && (flags & MU_LRU_CREATE) && access(p.db, F_OK) != 0)
            rc = create_file(s, dir, &p, capacity);
        if (rc == 0)
            mu__sqlite_remove(p.tmp); /* left by a creator that crashed */
    }
    if (rc == 0)
        rc = open_db(s, p.db);
    if (rc == 0)
        rc = find_schema(s, capacity, flags);
    if (rc == 0)
        rc = check_meta(s, capacity, levels);
    if (rc == 0) {
        s->dirty_bit = DIRTY;
        rc = load_entries(s); /* before anything is written into the file */
    }
    if (rc == 0 && !s->readonly)
        rc = prepare_statements(s);
    if (rc == 0 && !s->readonly)
        rc = set_pragmas(s, flags);
    return rc;
}

/*  Closes the database and the lock and frees the synchronisation of the
    persistence; the core's part is freed by mu__lru_free. */
static void
close_db(mu_lru_t *s)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    s->db = NULL;
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
    pthread_mutex_destroy(&s->db_mutex);
    pthread_mutex_destroy(&s->pend_mutex);
    pthread_cond_destroy(&s->cond);
}

static void
port_close(mu_lru_t *s)
{
    group_stop(s);
    int rc = mu_lru_flush(s); /* best effort: see the contract of mu_lru_destroy */
    (void) rc;
    close_db(s);
}

static const mu__lru_port_t s_port = { persist_new, port_close };

/*  Sets up the persistence's fields of a new LRU. Returns 0 or an error. */
static int
persist_init(mu_lru_t *s, int flags)
{
    s->readonly = flags & MU_LRU_READONLY;
    s->lock_fd = -1;
    s->group_ms = MU_LRU_GROUP_MS_DEFAULT;
    pthread_mutex_init(&s->db_mutex, NULL);
    pthread_mutex_init(&s->pend_mutex, NULL);
    s->port = &s_port;
    return mu__cond_init(&s->cond);
}

mu_lru_t *
mu_lru_open(const char *dir, const char *name, uint64_t capacity, int levels, int flags)
{
    assert(dir && name);
    if (!name_ok(name) || levels < 0 || levels > MU_LRU_MAX_LEVELS || capacity > INT64_MAX
        || (flags & ~(MU_LRU_CREATE | MU_LRU_READONLY | MU_LRU_SYNC_FULL))
        || ((flags & MU_LRU_CREATE) && (flags & MU_LRU_READONLY)) || dir[0] == '\0')
        return mu__fail_null(MU_EINVAL,
                             "mu_lru_open: bad name '%s', levels %d, capacity or flags %d", name,
                             levels, flags);
    mu_lru_t *s = mu__lru_alloc(capacity ? capacity : 1, levels ? levels : MU_LRU_LEVELS_DEFAULT);
    if (s == NULL)
        return NULL;
    unsigned long fails = mu__fail_count();
    int rc = persist_init(s, flags);
    mu__ignore_sigxfsz(); /* a write past RLIMIT_FSIZE fails with MU_EFBIG */
    if (rc == 0)
        rc = open_persistent(s, dir, name, capacity, levels, flags);
    if (rc != 0) {
        /* The failing step's own detail (not an earlier failure's), copied:
           close_db may record failures of its own. */
        const char *said = mu__detail_since(fails, rc);
        char detail[512];
        snprintf(detail, sizeof detail, "%s", said ? said : "");
        close_db(s);
        mu__lru_free(s);
        return mu__fail_null(rc, "mu_lru_open %s/%s.lru%s%s", dir, name, *detail ? ": " : "",
                             detail);
    }
    return s;
}
