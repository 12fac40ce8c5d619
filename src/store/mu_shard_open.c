/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard_open.c — opening and creating a store: shard files, pragmas,
    schema, meta, prepared statements; destroy and info. */
#include "store/mu_shard_int.h"
#include "store/mu_sqlite.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- opening: files, pragmas, schema, meta --------------------------------------- */

static void
shard_path(const char *dir, size_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/shard-%04zu.db", dir, i);
}

static int
exec_sql(sqlite3 *db, const char *sql, const char *what)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc == SQLITE_OK)
        return 0;
    int code = mu__shard_map_sqlite(db, rc);
    mu__fail(code, "%s: %s", what, code == MU_EFBIG || !err ? mu__sqlite_errmsg(db, code) : err);
    sqlite3_free(err);
    return code;
}

/*  Opens (or creates) a shard file and sets the connection up, writing
    nothing into the file: WAL mode, which is written into it, is set by
    set_wal once the file is known to be a shard. */
static int
open_db(const mu_shard_t *self, size_t i, bool create, sqlite3 **db_p)
{
    char path[PATH_MAX], sql[256];
    shard_path(self->dir, i, path, sizeof path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, db_p, flags, NULL);
    if (rc != SQLITE_OK) {
        int code = mu__shard_map_sqlite(*db_p, rc);
        mu__fail(code == MU_ENOENT ? MU_ECORRUPT : code, "%s: %s", path,
                 code == MU_ENOENT ? "shard file missing" : sqlite3_errmsg(*db_p));
        sqlite3_close(*db_p);
        *db_p = NULL;
        return code == MU_ENOENT ? MU_ECORRUPT : code;
    }
    sqlite3_busy_timeout(*db_p, self->busy_ms > 0 ? self->busy_ms : 0);
    snprintf(sql, sizeof sql,
             "PRAGMA synchronous = %s; PRAGMA cache_size = -%zu;"
             " PRAGMA mmap_size = %lld; PRAGMA temp_store = MEMORY;",
             self->sync_full ? "FULL" : "NORMAL", self->cache_kib, MMAP_BYTES);
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "%s: setting pragmas", path);
    rc = exec_sql(*db_p, sql, what);
    if (rc != 0) {
        sqlite3_close(*db_p);
        *db_p = NULL;
    }
    return rc;
}

/*  Puts shard file path (open as db) in WAL mode: a new one, or one whose
    meta and schema were checked. */
static int
set_wal(sqlite3 *db, const char *path)
{
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "%s: setting WAL mode", path);
    return exec_sql(db, "PRAGMA journal_mode = WAL", what);
}

static bool has_no_tables(sqlite3 *db);
static int read_meta(sqlite3 *db, const char *path, meta_t *m);

/*  A file that is there already when shard i is created must be empty or
    that very shard, as a process creating the same store at the same time
    makes it; another program's database, or another store's shard, is
    refused before anything is written into it. */
static int
check_existing(const mu_shard_t *self, size_t i, sqlite3 *db, const char *path)
{
    if (has_no_tables(db))
        return 0;
    meta_t m;
    int rc = read_meta(db, path, &m);
    if (rc != 0)
        return rc;
    if (m.k != self->meta.k || m.shards != self->meta.shards || m.shardidx != self->meta.shardidx
        || memcmp(m.types, self->meta.types, sizeof m.types) != 0 || m.shard != (long long) i)
        return mu__fail(MU_ECORRUPT, "%s: the file exists and is not shard %zu of this store", path,
                        i);
    return 0;
}

/*  The CREATE statements of a new shard. */
static void
sql_schema(const mu_shard_t *self, char *buf, size_t cap)
{
    size_t o = 0;
    mu__shard_put_text(buf, cap, &o,
                       "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value NOT NULL);"
                       "CREATE TABLE IF NOT EXISTS entries(");
    for (size_t j = 0; j < self->meta.k; j++)
        mu__shard_put_text(buf, cap, &o, "k%zu %s NOT NULL, ", j,
                           mu__shard_type_sql(self->meta.types[j]));
    mu__shard_put_text(buf, cap, &o,
                       "codec INTEGER NOT NULL, vlen INTEGER NOT NULL, value BLOB NOT NULL, "
                       "PRIMARY KEY(");
    mu__shard_sql_columns(self, buf, cap, &o);
    mu__shard_put_text(buf, cap, &o, ")) WITHOUT ROWID;");
    for (size_t j = 1; j < self->meta.k; j++)
        if (self->meta.index_mask & (1u << j))
            mu__shard_put_text(buf, cap, &o,
                               "CREATE INDEX IF NOT EXISTS entries_k%zu ON entries(k%zu);", j, j);
}

static void
types_text(const meta_t *m, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < m->k; j++)
        mu__shard_put_text(buf, cap, &o, "%s%s", j ? "," : "", mu__shard_type_name(m->types[j]));
}

/*  The INSERT OR IGNORE statements of meta for shard i. */
static void
sql_meta(const mu_shard_t *self, size_t i, char *buf, size_t cap)
{
    char types[MU_SHARD_MAX_K * 6 + 1];
    types_text(&self->meta, types, sizeof types);
    size_t o = 0;
    mu__shard_put_text(buf, cap, &o,
                       "INSERT OR IGNORE INTO meta(name, value) VALUES ('format', %d), ('k', %zu), "
                       "('shards', %zu), ('shardidx', %zu), ('types', '%s'), ('codec', '%s'), "
                       "('index_mask', %u), ('hash', '%s'), ('shard', %zu);",
                       MU_SHARD_FORMAT, self->meta.k, self->meta.shards, self->meta.shardidx, types,
                       mu__shard_codec_name(self->meta.codec), self->meta.index_mask, HASH_NAME, i);
}

/*  Creates the tables and meta rows of shard i if they are not there. */
static int
init_shard(const mu_shard_t *self, size_t i)
{
    sqlite3 *db = NULL;
    char path[PATH_MAX];
    shard_path(self->dir, i, path, sizeof path);
    int rc = open_db(self, i, true, &db);
    if (rc != 0)
        return rc;
    rc = check_existing(self, i, db, path);
    if (rc == 0)
        rc = set_wal(db, path);
    if (rc != 0) {
        sqlite3_close(db);
        return rc;
    }
    char sql[SQL_MAX * 2];
    size_t o = 0;
    mu__shard_put_text(sql, sizeof sql, &o, "BEGIN IMMEDIATE;");
    sql_schema(self, sql + o, sizeof sql - o);
    o += strlen(sql + o);
    sql_meta(self, i, sql + o, sizeof sql - o);
    o += strlen(sql + o);
    mu__shard_put_text(sql, sizeof sql, &o, "COMMIT;");
    char what[PATH_MAX + 32];
    shard_path(self->dir, i, what, sizeof what);
    strncat(what, ": creating", sizeof what - strlen(what) - 1);
    rc = exec_sql(db, sql, what);
    sqlite3_close(db);
    return rc;
}

/*  Parses "int,str,bytes" into m->types; false when malformed. */
static bool
types_parse(meta_t *m, const char *s)
{
    size_t j = 0;
    while (*s && j < MU_SHARD_MAX_K) {
        size_t n = strcspn(s, ",");
        m->types[j++] = n == 3 && !strncmp(s, "int", 3)     ? MU_SHARD_INT
                        : n == 3 && !strncmp(s, "str", 3)   ? MU_SHARD_STR
                        : n == 5 && !strncmp(s, "bytes", 5) ? MU_SHARD_BYTES
                                                            : 0;
        if (m->types[j - 1] == 0)
            return false;
        s += n + (s[n] == ',');
    }
    return j == m->k && *s == '\0';
}

static void
meta_row(meta_t *m, const char *name, sqlite3_stmt *st, bool *types_ok)
{
    long long v = sqlite3_column_int64(st, 1);
    const char *t = (const char *) sqlite3_column_text(st, 1);
    t = t ? t : "";
    if (!strcmp(name, "format"))
        m->format = v;
    else if (!strcmp(name, "k"))
        m->k = (size_t) v;
    else if (!strcmp(name, "shards"))
        m->shards = (size_t) v;
    else if (!strcmp(name, "shardidx"))
        m->shardidx = (size_t) v;
    else if (!strcmp(name, "index_mask"))
        m->index_mask = (unsigned) v;
    else if (!strcmp(name, "shard"))
        m->shard = v;
    else if (!strcmp(name, "codec"))
        m->codec = mu__shard_codec_parse(t);
    else if (!strcmp(name, "hash"))
        snprintf(m->hash, sizeof m->hash, "%s", t);
    else if (!strcmp(name, "types"))
        *types_ok = types_parse(m, t); /* k comes first: see ORDER BY */
}

/*  Reads meta of an open shard. Returns 0, ENOTSUP or MU_ECORRUPT. */
static int
read_meta(sqlite3 *db, const char *path, meta_t *m)
{
    memset(m, 0, sizeof *m);
    m->shard = -1;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT name, value FROM meta ORDER BY name = 'types', name",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mu__fail(MU_ECORRUPT, "%s: no meta table (%s): not a mu_shard store", path,
                        sqlite3_errmsg(db));
    bool types_ok = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text(st, 0);
        if (name)
            meta_row(m, name, st, &types_ok);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return mu__fail(mu__shard_map_sqlite(db, rc), "%s: reading meta: %s", path,
                        sqlite3_errstr(rc));
    if (m->format > MU_SHARD_FORMAT)
        return mu__fail(MU_ENOTSUP, "%s: format version %lld is newer than this library's %d", path,
                        m->format, MU_SHARD_FORMAT);
    if (m->format < 1 || m->k < 1 || m->k > MU_SHARD_MAX_K || m->shards < 1
        || m->shards > MU_SHARD_MAX_SHARDS || m->shardidx >= m->k || !types_ok || m->shard < 0)
        return mu__fail(MU_ECORRUPT, "%s: meta table is incomplete or damaged", path);
    if (strcmp(m->hash, HASH_NAME) != 0)
        return mu__fail(MU_ENOTSUP, "%s: placement hash '%s' is unknown", path, m->hash);
    return 0;
}

/*  Compares the parameters asked for with those stored. Returns 0 or
    MU_EINVAL naming the first difference. */
static int
compare_params(const mu_shard_opts_t *o, const meta_t *m, const char *dir)
{
    char want[MU_SHARD_MAX_K * 6 + 1], have[MU_SHARD_MAX_K * 6 + 1];
    meta_t asked = { .k = o->k };
    memcpy(asked.types, o->types, sizeof asked.types);
    types_text(&asked, want, sizeof want);
    types_text(m, have, sizeof have);
    const char *what = o->k != m->k                 ? "k"
                       : o->shards != m->shards     ? "shard count"
                       : o->shardidx != m->shardidx ? "shardidx"
                       : strcmp(want, have)         ? "types"
                                                    : NULL;
    if (what == NULL)
        return 0;
    return mu__fail(MU_EINVAL,
                    "%s: store has k=%zu shards=%zu shardidx=%zu types=%s, opened with k=%zu "
                    "shards=%zu shardidx=%zu types=%s: %s differs (a store is never re-sharded)",
                    dir, m->k, m->shards, m->shardidx, have, o->k, o->shards, o->shardidx, want,
                    what);
}

/*  Every shard's meta must agree with shard 0's and carry its own index. */
static int
check_shard_meta(const mu_shard_t *self, const meta_t *m, size_t i, const char *path)
{
    const meta_t *s0 = &self->meta;
    if (m->k != s0->k || m->shards != s0->shards || m->shardidx != s0->shardidx
        || memcmp(m->types, s0->types, sizeof m->types) != 0 || m->shard != (long long) i)
        return mu__fail(MU_ECORRUPT,
                        "%s: meta disagrees with shard 0 (shard %lld, k=%zu, shards=%zu)", path,
                        m->shard, m->k, m->shards);
    return 0;
}

/* ---- opening: handle --------------------------------------------------------------- */

static int
check_params(const mu_shard_opts_t *o)
{
    if (o->k < 1 || o->k > MU_SHARD_MAX_K)
        return mu__fail(MU_EINVAL, "k must be 1..%d, not %zu", MU_SHARD_MAX_K, o->k);
    if (o->shards < 1 || o->shards > MU_SHARD_MAX_SHARDS)
        return mu__fail(MU_EINVAL, "shards must be 1..%d, not %zu", MU_SHARD_MAX_SHARDS, o->shards);
    if (o->shardidx >= o->k)
        return mu__fail(MU_EINVAL, "shardidx %zu is not below k %zu", o->shardidx, o->k);
    for (size_t j = 0; j < o->k; j++)
        if (o->types[j] < MU_SHARD_INT || o->types[j] > MU_SHARD_BYTES)
            return mu__fail(MU_EINVAL, "element %zu has no valid type", j);
    return 0;
}

static int
check_settings(const mu_shard_opts_t *o)
{
    if (o->codec < MU_SHARD_CODEC_DEFAULT || o->codec > MU_SHARD_CODEC_ZSTD)
        return mu__fail(MU_EINVAL, "unknown codec %d", (int) o->codec);
    if (o->level < 0 || o->level > (o->codec == MU_SHARD_CODEC_ZLIB ? 9 : ZSTD_maxCLevel()))
        return mu__fail(MU_EINVAL, "compression level %d out of range", o->level);
    if (o->threads > MAX_THREADS)
        return mu__fail(MU_EINVAL, "threads must be at most %d", MAX_THREADS);
    return 0;
}

/*  Takes the handle settings from opts, resolving defaults. */
static void
apply_settings(mu_shard_t *self, const mu_shard_opts_t *o)
{
    self->level = o->level;
    self->min_compress = o->min_compress ? o->min_compress : DEFAULT_MIN_COMPRESS;
    self->sync_full = o->sync_full;
    self->busy_ms = o->busy_timeout_ms == 0 ? DEFAULT_BUSY_MS : o->busy_timeout_ms;
    self->cache_kib = o->cache_kib ? o->cache_kib : DEFAULT_CACHE_KIB;
    self->threads = o->threads;
    self->codec = o->codec;
}

static void
resolve_threads(mu_shard_t *self)
{
    if (self->threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t t = cpus > 2 ? (size_t) cpus : 2;
        t = t < self->meta.shards ? t : self->meta.shards;
        self->threads = t < MAX_THREADS ? t : MAX_THREADS;
    }
}

/*  Creates the store's files: shards N-1 down to 0, so that shard 0, whose
    presence means "the store exists", comes last. */
static int
create_store(mu_shard_t *self, const mu_shard_opts_t *o)
{
    self->meta.k = o->k;
    self->meta.shards = o->shards;
    self->meta.shardidx = o->shardidx;
    memcpy(self->meta.types, o->types, sizeof self->meta.types);
    self->meta.index_mask = o->index_mask ? o->index_mask : (1u << o->k) - 1;
    self->meta.codec = o->codec ? o->codec : MU_SHARD_CODEC_ZSTD;
    if (mkdir(self->dir, 0777) != 0 && errno != EEXIST)
        return mu__fail(-errno, "%s: cannot create directory: %s", self->dir, strerror(errno));
    for (size_t i = self->meta.shards; i-- > 0;) {
        int rc = init_shard(self, i);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
prepare_shard(mu_shard_t *self, shard_t *s)
{
    for (int w = 0; w < ST__N; w++) {
        char sql[SQL_MAX];
        mu__shard_sql_statement(self, w, sql, sizeof sql);
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[w], NULL);
        if (rc != SQLITE_OK)
            return mu__fail(mu__shard_map_sqlite(s->db, rc) == MU_ETIMEDOUT ? MU_ETIMEDOUT
                                                                            : MU_ECORRUPT,
                            "shard %zu: preparing '%s': %s", s->index, sql, sqlite3_errmsg(s->db));
    }
    return 0;
}

/*  Sets up every shard's codec contexts once the codec of writes is known. */
static int
init_codecs(mu_shard_t *self)
{
    for (size_t i = 0; i < self->meta.shards; i++) {
        shard_t *s = &self->shards[i];
        if (mu__shard_comp_init(&s->comp, self) != 0 || mu__shard_dec_init(&s->dec) != 0)
            return mu__fail(MU_ENOMEM, "out of memory (codec contexts)");
    }
    return 0;
}

static int
init_mutex(pthread_mutex_t *mu)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init(mu, &a);
    pthread_mutexattr_destroy(&a);
    return -rc;
}

/*  True when the database holds no table at all: a shard that another
    process is creating right now (its schema and meta commit together). */
static bool
has_no_tables(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    bool empty = false;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int64(st, 0) == 0;
    sqlite3_finalize(st);
    return empty;
}

/*  Opens shard i and reads its meta. While the file holds no table yet,
    because another process is still creating the store, it closes, waits
    10 ms and tries again, up to the busy timeout. */
static int
open_and_read_meta(mu_shard_t *self, size_t i, shard_t *s, const char *path, meta_t *m)
{
    int64_t deadline = mu__now_ms() + (self->busy_ms > 0 ? self->busy_ms : 0);
    for (;;) {
        int rc = open_db(self, i, false, &s->db);
        if (rc != 0)
            return rc;
        if (!has_no_tables(s->db) || mu__now_ms() >= deadline)
            return read_meta(s->db, path, m);
        sqlite3_close(s->db);
        s->db = NULL;
        usleep(10 * 1000);
    }
}

/*  Opens shard i of an existing store and checks its meta. */
static int
open_shard(mu_shard_t *self, size_t i)
{
    shard_t *s = &self->shards[i];
    char path[PATH_MAX];
    shard_path(self->dir, i, path, sizeof path);
    s->index = i;
    int rc = init_mutex(&s->mu);
    if (rc != 0)
        return mu__fail(rc, "shard %zu: mutex: %s", i, strerror(-rc));
    self->nopen = i + 1;
    meta_t m = { 0 };
    rc = open_and_read_meta(self, i, s, path, &m);
    if (rc == 0 && i == 0) {
        self->meta = m;
        self->meta.shard = -1;
    }
    if (rc == 0)
        rc = check_shard_meta(self, &m, i, path);
    if (rc == 0)
        rc = prepare_shard(self, s);
    return rc != 0 ? rc : set_wal(s->db, path);
}

/*  A shard file past the count of the meta: the directory holds another
    store's files too, or was re-sharded by hand. */
static int
check_no_extra_shard(const mu_shard_t *self)
{
    char path[PATH_MAX];
    shard_path(self->dir, self->meta.shards, path, sizeof path);
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    return mu__fail(MU_ECORRUPT, "%s exists, but the store's meta says it has %zu shards", path,
                    self->meta.shards);
}

static void
close_shard(shard_t *s)
{
    for (int w = 0; w < ST__N; w++)
        sqlite3_finalize(s->st[w]);
    sqlite3_close(s->db);
    mu__shard_comp_fini(&s->comp);
    mu__shard_dec_fini(&s->dec);
    free(s->vbuf);
    pthread_mutex_destroy(&s->mu);
}

/*  Opens every shard; shard 0 first, whose meta defines the store. */
static int
open_store(mu_shard_t *self, const mu_shard_opts_t *o)
{
    self->shards = calloc(o->k ? o->shards : 1, sizeof *self->shards);
    if (self->shards == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    int rc = open_shard(self, 0);
    if (rc == 0 && o->k != 0) {
        self->meta.shard = 0;
        rc = compare_params(o, &self->meta, self->dir);
    }
    if (rc != 0)
        return rc;
    shard_t *grown = realloc(self->shards, self->meta.shards * sizeof *grown);
    if (grown == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    self->shards = grown;
    memset(grown + 1, 0, (self->meta.shards - 1) * sizeof *grown);
    for (size_t i = 1; i < self->meta.shards && rc == 0; i++)
        rc = open_shard(self, i);
    if (rc == 0)
        rc = check_no_extra_shard(self);
    if (rc != 0)
        return rc;
    if (self->codec == MU_SHARD_CODEC_DEFAULT)
        self->codec = self->meta.codec ? self->meta.codec : MU_SHARD_CODEC_ZSTD;
    resolve_threads(self);
    rc = init_codecs(self);
    return rc != 0 ? rc : mu__shard_pool_start(self);
}

/*  Creates the store when asked and missing, then opens it. */
static int
open_or_create(mu_shard_t *self, const mu_shard_opts_t *o)
{
    char path0[PATH_MAX];
    shard_path(self->dir, 0, path0, sizeof path0);
    if (access(path0, F_OK) != 0) {
        if (!o->create)
            return mu__fail(MU_ENOENT, "%s: no store here (%s missing)", self->dir, path0);
        if (o->k == 0)
            return mu__fail(MU_EINVAL, "%s: no store here, and k is 0: give its parameters",
                            self->dir);
        int rc = create_store(self, o);
        if (rc != 0)
            return rc;
    }
    /* Settings that depend on the codec are fixed once the meta is known. */
    return open_store(self, o);
}

mu_shard_t *
mu_shard_open(const char *dir, const mu_shard_opts_t *opts)
{
    assert(dir && opts);
    int rc = 0;
    if (opts->k != 0)
        rc = check_params(opts);
    if (rc == 0)
        rc = check_settings(opts);
    mu_shard_t *self = rc == 0 ? calloc(1, sizeof *self) : NULL;
    if (rc == 0 && self == NULL)
        rc = mu__fail(MU_ENOMEM, "out of memory");
    if (rc == 0 && (self->dir = strdup(dir)) == NULL)
        rc = mu__fail(MU_ENOMEM, "out of memory");
    if (rc == 0) {
        apply_settings(self, opts);
        mu__ignore_sigxfsz(); /* a write past RLIMIT_FSIZE fails with MU_EFBIG */
        rc = open_or_create(self, opts);
    }
    if (rc != 0) {
        /* the failing step recorded the detail; destroy records nothing */
        mu_shard_destroy(&self);
        errno = mu_error_errno(rc);
        return NULL;
    }
    return self;
}

void
mu_shard_destroy(mu_shard_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    mu_shard_t *self = *self_p;
    mu__shard_pool_stop(self);
    for (size_t i = 0; i < self->nopen; i++)
        close_shard(&self->shards[i]);
    free(self->shards);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

void
mu_shard_info(const mu_shard_t *self, mu_shard_opts_t *out)
{
    assert(self && out);
    *out = (mu_shard_opts_t) {
        .k = self->meta.k,
        .shards = self->meta.shards,
        .shardidx = self->meta.shardidx,
        .index_mask = self->meta.index_mask,
        .codec = self->codec,
        .level = self->level,
        .min_compress = self->min_compress,
        .sync_full = self->sync_full,
        .busy_timeout_ms = self->busy_ms,
        .cache_kib = self->cache_kib,
        .threads = self->threads,
    };
    memcpy(out->types, self->meta.types, sizeof out->types);
}
