/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard_int.h — the store's private structures and the functions its
    files share (see mu_shard.h for the contract, doc/shard.md for the
    design). Files and what they call:
      mu_shard_codec.c  keys (checks, placement, text), value codecs, SQL text
      mu_shard_pool.c   the fan-out of all-shard calls        -> (nothing)
      mu_shard_open.c   open/create, schema, meta, destroy    -> codec, pool
      mu_shard.c        single-key calls                      -> codec
      mu_shard_batch.c  batches                               -> codec, mu_shard.c
      mu_shard_query.c  all-shard queries and walks           -> codec, pool
    Never installed. */
#ifndef MU_SHARD_INT_H_INCLUDED
#define MU_SHARD_INT_H_INCLUDED

#include "base/mu_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>
#include <zlib.h>
#include <zstd.h>

#define HASH_NAME "fnv1a64-fmix64"
#define DEFAULT_BUSY_MS 5000
#define DEFAULT_CACHE_KIB 32768
#define DEFAULT_MIN_COMPRESS 256
#define MMAP_BYTES (256LL * 1024 * 1024)
#define ZSTD_LEVEL_DEFAULT 3
#define ZLIB_LEVEL_DEFAULT 6
#define MAX_THREADS 32
#define MAX_VALUE MU_UNPACK_MAX_SIZE_DEFAULT
#define SQL_MAX 2048
#define MSG_MAX 512
#define KEY_TEXT_MAX 200

enum { ST_GET, ST_HAS, ST_PUT, ST_DEL, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_COUNT, ST__N };

/*  Compression state: a zstd context, a zlib stream and an output buffer. */
typedef struct {
    ZSTD_CCtx *zc;
    z_stream zs;
    bool zs_ready;
    int zlib_level;
    unsigned char *buf;
    size_t cap;
} compressor_t;

/*  Decompression state. */
typedef struct {
    ZSTD_DCtx *zd;
    z_stream zs;
    bool zs_ready;
} decompressor_t;

typedef struct {
    pthread_mutex_t mu; /* recursive: walk callbacks may call single-key functions */
    sqlite3 *db;
    sqlite3_stmt *st[ST__N];
    compressor_t comp;
    decompressor_t dec;
    unsigned char *vbuf; /* walks' decompressed values */
    size_t vcap;
    size_t index;
} shard_t;

typedef void job_fn(mu_shard_t *self, size_t shard, void *arg);

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_mutex_t call; /* one all-shard call at a time */
    pthread_t *threads;
    size_t nthreads; /* workers besides the caller */
    job_fn *fn;
    void *arg;
    size_t next, total, finished;
    uint64_t gen;
    bool stop;
} pool_t;

/*  Parameters recorded in meta. */
typedef struct {
    long long format;
    size_t k, shards, shardidx;
    mu_shard_type_t types[MU_SHARD_MAX_K];
    unsigned index_mask;
    mu_shard_codec_t codec;
    char hash[32];
    long long shard;
} meta_t;

struct mu_shard_t {
    char *dir;
    meta_t meta;            /* the store's parameters */
    mu_shard_codec_t codec; /* of new writes */
    int level;
    size_t min_compress;
    bool sync_full;
    int busy_ms;
    size_t cache_kib;
    size_t threads;
    shard_t *shards;
    size_t nopen; /* shards[0..nopen) are set up */
    pool_t pool;
    bool pool_up;
};

/*  What a job hands back: per-shard counts and the first error with its
    message (the message of a worker thread is copied here). */
typedef struct {
    uint64_t *counts;
    atomic_int failed;
    int rc;
    char msg[MSG_MAX];
    size_t elem;
    const mu_shard_elem_t *lo, *hi;
} job_t;

/* ---- mu_shard_codec.c --------------------------------------------------------- */

/*  The library's code for an SQLite result; call it right after the failed
    call (a write past the file size limit is told by errno: MU_EFBIG). */
int mu__shard_map_sqlite(sqlite3 *db, int rc);

/*  Records the failure of statement step rc on shard s (mu__fail) and
    returns its code. */
int mu__shard_step_fail(shard_t *s, int rc, const char *what);

const char *mu__shard_type_name(mu_shard_type_t t);
const char *mu__shard_type_sql(mu_shard_type_t t);
const char *mu__shard_codec_name(mu_shard_codec_t c);
mu_shard_codec_t mu__shard_codec_parse(const char *s);

/*  Appends to buf[*o..cap), keeping room for the NUL; sets *o past cap-1 when cut. */
void mu__shard_put_text(char *buf, size_t cap, size_t *o, const char *fmt, ...) MU_PRINTF(4, 5);

/*  Checks one element against the declared type. Returns 0 or MU_EINVAL. */
int mu__shard_check_elem(const mu_shard_elem_t *e, mu_shard_type_t want, size_t j);

/*  Checks a key (not NULL: asserted) against the store. Returns 0 or MU_EINVAL. */
int mu__shard_check_key(const mu_shard_t *self, const mu_shard_elem_t *key, size_t n);

/*  Checks a value to be stored: exactly one MessagePack value within
    mu_unpack's default limits. Returns 0, MU_EINVAL or MU_ELIMIT. */
int mu__shard_check_value(const void *value, size_t size);

/*  The shard of a checked key. */
size_t mu__shard_of(const mu_shard_t *self, const mu_shard_elem_t *key);

/*  Records MU_ECORRUPT for a damaged stored value, naming the key. */
int mu__shard_corrupt_value(const mu_shard_t *self, size_t shard, const mu_shard_elem_t *key,
                            const char *why);

int mu__shard_comp_init(compressor_t *c, const mu_shard_t *self);
void mu__shard_comp_fini(compressor_t *c);
int mu__shard_dec_init(decompressor_t *d);
void mu__shard_dec_fini(decompressor_t *d);

/*  Chooses how to store value: sets *codec_p, *out_p and *olen_p (out_p
    points into c->buf or at value). Returns 0 or MU_ENOMEM. */
int mu__shard_compress_value(const mu_shard_t *self, compressor_t *c, const void *value,
                             size_t size, int *codec_p, const void **out_p, size_t *olen_p);

/*  Restores a stored value of vlen bytes into dst and checks it is one
    MessagePack value. Returns NULL on success or what is wrong. */
const char *mu__shard_decode_value(decompressor_t *d, int codec, const void *src, size_t slen,
                                   void *dst, size_t vlen);

/*  Reads codec, vlen and value of a row (columns c, c+1, c+2) and checks
    the recorded size against the stored bytes (before a buffer of that
    size is allocated): equal for a value stored as it is, the size a zstd
    frame records and at most 32768 times the bytes, at most 1032 times
    the bytes for zlib, a known codec.
    Returns NULL or what is wrong. */
const char *mu__shard_row_value(sqlite3_stmt *st, int c, int *codec_p, size_t *vlen_p,
                                const void **src_p, size_t *slen_p);

/*  "k0, k1, k2" */
void mu__shard_sql_columns(const mu_shard_t *self, char *buf, size_t cap, size_t *o);

/*  The SQL of prepared statement `which` (ST_*). */
void mu__shard_sql_statement(const mu_shard_t *self, int which, char *buf, size_t cap);

/*  Binds key elements to parameters first, first+1, ... */
int mu__shard_bind_key(sqlite3_stmt *st, const mu_shard_elem_t *key, size_t k, int first);

/*  Reads key elements from columns 0..k-1 of the current row into key.
    Returns false when a column has another type than declared. */
bool mu__shard_read_key(const mu_shard_t *self, sqlite3_stmt *st, mu_shard_elem_t *key);

/* ---- mu_shard_pool.c ---------------------------------------------------------- */

/*  Starts self->threads - 1 workers with every asynchronous signal
    blocked (mu__thread_create_blocking). */
int mu__shard_pool_start(mu_shard_t *self);

/*  Stops and joins the workers (no-op when never started). */
void mu__shard_pool_stop(mu_shard_t *self);

/*  Runs fn(self, i, job) for every shard i, on the pool and the caller's
    thread; returns the job's first error (copying its message into this
    thread's mu_last_error) or 0. */
int mu__shard_run_job(mu_shard_t *self, job_fn *fn, job_t *job);

/*  Records rc as the job's error when it is the first. */
void mu__shard_job_fail(job_t *job, int rc);

/* ---- mu_shard.c ------------------------------------------------------------------ */

/*  Binds and runs a PUT of an encoded value; the shard is locked. */
int mu__shard_put_locked(shard_t *s, const mu_shard_elem_t *key, size_t k, int codec, size_t vlen,
                         const void *blob, size_t blen);

/*  Runs a keyed statement (DEL or HAS) and returns SQLite's result. */
int mu__shard_keyed_step(shard_t *s, int which, const mu_shard_elem_t *key, size_t k);

#endif
