/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard.c — a persistent map over N SQLite shards (see mu_shard.h).

    Layout of this file: messages and SQLite error mapping; the placement
    hash; key checks and text; the MessagePack walker used to check stored
    values; the codecs; opening (schema, meta, statements); the thread pool;
    single-key calls; batches; all-shard queries; walks. */
#include "base/mu_internal.h"
#include "store/mu_sqlite.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- messages ------------------------------------------------------------- */

static _Thread_local char last_error[MSG_MAX];

const char *
mu_shard_last_error(void)
{
    return last_error;
}

/*  Sets this thread's message (printf-style) and returns rc. */
static int fail(int rc, const char *fmt, ...) MU_PRINTF(2, 3);

static int
fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return rc;
}

/*  The library's code for an SQLite result; call it right after the failed
    call (a write past the file size limit is told by errno: MU_EFBIG). */
static int
map_sqlite(sqlite3 *db, int rc)
{
    if (mu__sqlite_is_efbig(db, rc))
        return MU_EFBIG;
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE:
        return 0;
    case SQLITE_NOMEM:
        return MU_ENOMEM;
    case SQLITE_BUSY: case SQLITE_LOCKED:
        return MU_ETIMEDOUT;
    case SQLITE_CORRUPT: case SQLITE_NOTADB:
        return MU_ECORRUPT;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_PERM: case SQLITE_READONLY: case SQLITE_AUTH:
        return MU_EACCES;
    case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_RANGE: case SQLITE_TOOBIG:
        return MU_EINVAL;
    case SQLITE_CANTOPEN: {
        int e = db ? sqlite3_system_errno(db) : 0;
        return e > 0 ? -e : MU_ENOENT;
    }
    default:
        return -EIO;
    }
}

/* ---- placement hash -------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t
fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t
mu_shard_hash(const mu_shard_elem_t *elem)
{
    if (elem == NULL || elem->type < MU_SHARD_INT || elem->type > MU_SHARD_BYTES)
        return 0;
    unsigned char tag = (unsigned char) elem->type;
    uint64_t h = fnv1a(FNV_OFFSET, &tag, 1);
    if (elem->type == MU_SHARD_INT) {
        unsigned char be[8];
        uint64_t v = (uint64_t) elem->i;
        for (int i = 0; i < 8; i++)
            be[i] = (unsigned char) (v >> (56 - 8 * i));
        h = fnv1a(h, be, 8);
    } else if (elem->len > 0) {
        h = fnv1a(h, elem->ptr, elem->len);
    }
    return fmix64(h);
}

/* ---- the store's structures -------------------------------------------------- */

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
    pthread_mutex_t mu;       /* recursive: walk callbacks may call single-key functions */
    sqlite3 *db;
    sqlite3_stmt *st[ST__N];
    compressor_t comp;
    decompressor_t dec;
    unsigned char *vbuf;      /* walks' decompressed values */
    size_t vcap;
    size_t index;
} shard_t;

typedef void job_fn(mu_shard_t *self, size_t shard, void *arg);

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    pthread_mutex_t call;     /* one all-shard call at a time */
    pthread_t *threads;
    size_t nthreads;          /* workers besides the caller */
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
    meta_t meta;              /* the store's parameters */
    mu_shard_codec_t codec;   /* of new writes */
    int level;
    size_t min_compress;
    bool sync_full;
    int busy_ms;
    size_t cache_kib;
    size_t threads;
    shard_t *shards;
    size_t nopen;             /* shards[0..nopen) are set up */
    pool_t pool;
    bool pool_up;
};

/* ---- names and text ------------------------------------------------------------ */

static const char *
type_name(mu_shard_type_t t)
{
    return t == MU_SHARD_INT ? "int" : t == MU_SHARD_STR ? "str" : t == MU_SHARD_BYTES ? "bytes" : "?";
}

static const char *
type_sql(mu_shard_type_t t)
{
    return t == MU_SHARD_INT ? "INTEGER" : t == MU_SHARD_STR ? "TEXT" : "BLOB";
}

static const char *
codec_name(mu_shard_codec_t c)
{
    return c == MU_SHARD_CODEC_NONE ? "none" : c == MU_SHARD_CODEC_ZLIB ? "zlib"
         : c == MU_SHARD_CODEC_ZSTD ? "zstd" : "?";
}

static mu_shard_codec_t
codec_parse(const char *s)
{
    return strcmp(s, "none") == 0 ? MU_SHARD_CODEC_NONE : strcmp(s, "zlib") == 0 ? MU_SHARD_CODEC_ZLIB
         : strcmp(s, "zstd") == 0 ? MU_SHARD_CODEC_ZSTD : MU_SHARD_CODEC_DEFAULT;
}

/*  Appends to buf[*o..cap), keeping room for the NUL; sets *o past cap-1 when cut. */
static void
put_text(char *buf, size_t cap, size_t *o, const char *fmt, ...) MU_PRINTF(4, 5);

static void
put_text(char *buf, size_t cap, size_t *o, const char *fmt, ...)
{
    if (*o >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *o, cap - *o, fmt, ap);
    va_end(ap);
    *o += n < 0 ? 0 : (size_t) n;
}

static void
put_elem(char *buf, size_t cap, size_t *o, const mu_shard_elem_t *e)
{
    const unsigned char *p = e->ptr;
    if (e->type == MU_SHARD_INT) {
        put_text(buf, cap, o, "%lld", (long long) e->i);
    } else if (e->type == MU_SHARD_STR) {
        put_text(buf, cap, o, "\"");
        for (size_t i = 0; i < e->len && *o < cap; i++) {
            if (p[i] == '"' || p[i] == '\\')
                put_text(buf, cap, o, "\\%c", p[i]);
            else if (p[i] < 0x20 || p[i] > 0x7e)
                put_text(buf, cap, o, "\\x%02x", p[i]);
            else
                put_text(buf, cap, o, "%c", p[i]);
        }
        put_text(buf, cap, o, "\"");
    } else {
        put_text(buf, cap, o, "x'");
        for (size_t i = 0; i < e->len && *o < cap; i++)
            put_text(buf, cap, o, "%02x", p[i]);
        put_text(buf, cap, o, "'");
    }
}

const char *
mu_shard_key_format(const mu_shard_elem_t *key, size_t k, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return buf;
    size_t o = 0;
    buf[0] = '\0';
    put_text(buf, cap, &o, "(");
    for (size_t j = 0; key && j < k && o < cap; j++) {
        if (j > 0)
            put_text(buf, cap, &o, ", ");
        put_elem(buf, cap, &o, &key[j]);
    }
    put_text(buf, cap, &o, ")");
    if (o >= cap && cap > 4)
        memcpy(buf + cap - 4, "...", 4);
    return buf;
}

/* ---- key checks ------------------------------------------------------------------ */

/*  Checks one element against the declared type. Returns 0 or MU_EINVAL. */
static int
check_elem(const mu_shard_elem_t *e, mu_shard_type_t want, size_t j)
{
    if (e->type != want)
        return fail(MU_EINVAL, "key element %zu is %s, the store declares %s", j,
                    type_name(e->type), type_name(want));
    if (want != MU_SHARD_INT && e->ptr == NULL && e->len > 0)
        return fail(MU_EINVAL, "key element %zu has %zu bytes at NULL", j, e->len);
    if (e->len > (size_t) INT_MAX / 2)
        return fail(MU_EINVAL, "key element %zu is too long (%zu bytes)", j, e->len);
    return 0;
}

static int
check_key(const mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    if (key == NULL)
        return fail(MU_EINVAL, "key is NULL");
    if (n != self->meta.k)
        return fail(MU_EINVAL, "key has %zu elements, the store's keys have %zu", n, self->meta.k);
    for (size_t j = 0; j < n; j++) {
        int rc = check_elem(&key[j], self->meta.types[j], j);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static size_t
shard_of(const mu_shard_t *self, const mu_shard_elem_t *key)
{
    return (size_t) (mu_shard_hash(&key[self->meta.shardidx]) % self->meta.shards);
}

int
mu_shard_of(const mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    int rc = check_key(self, key, n);
    return rc != 0 ? rc : (int) shard_of(self, key);
}

/*  Formats "key (..) in shard i" into buf for messages. */
static const char *
key_where(const mu_shard_elem_t *key, size_t k, char *buf, size_t cap)
{
    return mu_shard_key_format(key, k, buf, cap);
}

/* ---- MessagePack walker -------------------------------------------------------------- */

/*  Size information of a MessagePack header byte: fixed bytes that follow,
    bytes of a big-endian length, and what the length counts. */
typedef struct {
    unsigned fixed;       /* bytes after the header byte before any payload */
    unsigned lenbytes;    /* 0, 1, 2 or 4 */
    unsigned items_mul;   /* length counts values: 1 array, 2 map; 0 bytes */
    unsigned extra;       /* ext: the type byte after the length */
    unsigned inline_len;  /* fix formats: the length in the header byte */
    bool bad;
} mp_head_t;

static mp_head_t
mp_head(unsigned char b)
{
    mp_head_t h = { 0 };
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return h;
    if (b <= 0x8f) { h.items_mul = 2; h.inline_len = b & 0x0f; return h; }
    if (b <= 0x9f) { h.items_mul = 1; h.inline_len = b & 0x0f; return h; }
    if (b <= 0xbf) { h.inline_len = b & 0x1f; return h; }
    switch (b) {
    case 0xc4: case 0xd9: h.lenbytes = 1; break;
    case 0xc5: case 0xda: h.lenbytes = 2; break;
    case 0xc6: case 0xdb: h.lenbytes = 4; break;
    case 0xc7: h.lenbytes = 1; h.extra = 1; break;
    case 0xc8: h.lenbytes = 2; h.extra = 1; break;
    case 0xc9: h.lenbytes = 4; h.extra = 1; break;
    case 0xca: case 0xce: case 0xd2: h.fixed = 4; break;
    case 0xcb: case 0xcf: case 0xd3: h.fixed = 8; break;
    case 0xcc: case 0xd0: h.fixed = 1; break;
    case 0xcd: case 0xd1: h.fixed = 2; break;
    case 0xd4: h.fixed = 2; break;
    case 0xd5: h.fixed = 3; break;
    case 0xd6: h.fixed = 5; break;
    case 0xd7: h.fixed = 9; break;
    case 0xd8: h.fixed = 17; break;
    case 0xdc: h.lenbytes = 2; h.items_mul = 1; break;
    case 0xdd: h.lenbytes = 4; h.items_mul = 1; break;
    case 0xde: h.lenbytes = 2; h.items_mul = 2; break;
    case 0xdf: h.lenbytes = 4; h.items_mul = 2; break;
    default: h.bad = true; break; /* 0xc1 */
    }
    return h;
}

/*  True when data[0..n) is exactly one well-formed MessagePack value. Not
    recursive: it counts the values still expected. */
static bool
mp_valid(const unsigned char *p, size_t n)
{
    size_t pos = 0;
    uint64_t pending = 1;
    while (pending > 0) {
        if (pos >= n || pending > n - pos)
            return false;
        mp_head_t h = mp_head(p[pos++]);
        pending--;
        if (h.bad || h.lenbytes > n - pos)
            return false;
        uint64_t len = h.inline_len;
        for (unsigned i = 0; i < h.lenbytes; i++)
            len = len << 8 | p[pos++];
        uint64_t skip = h.fixed + h.extra + (h.items_mul ? 0 : len);
        if (skip > n - pos)
            return false;
        pos += (size_t) skip;
        pending += h.items_mul * len;
    }
    return pos == n;
}

/* ---- codecs -------------------------------------------------------------------- */

static int
comp_init(compressor_t *c, const mu_shard_t *self)
{
    memset(c, 0, sizeof *c);
    c->zc = ZSTD_createCCtx();
    if (c->zc == NULL)
        return MU_ENOMEM;
    int zl = self->codec == MU_SHARD_CODEC_ZSTD && self->level ? self->level : ZSTD_LEVEL_DEFAULT;
    c->zlib_level = self->codec == MU_SHARD_CODEC_ZLIB && self->level ? self->level : ZLIB_LEVEL_DEFAULT;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, zl)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1)))
        return MU_EINVAL;
    return 0;
}

static void
comp_fini(compressor_t *c)
{
    ZSTD_freeCCtx(c->zc);
    if (c->zs_ready)
        deflateEnd(&c->zs);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

static int
comp_reserve(compressor_t *c, size_t need)
{
    if (need <= c->cap)
        return 0;
    unsigned char *b = realloc(c->buf, need);
    if (b == NULL)
        return MU_ENOMEM;
    c->buf = b;
    c->cap = need;
    return 0;
}

/*  zlib-compresses src into c->buf; returns the size, or 0 on failure. */
static size_t
zlib_pack(compressor_t *c, const void *src, size_t size)
{
    if (!c->zs_ready) {
        if (deflateInit(&c->zs, c->zlib_level) != Z_OK)
            return 0;
        c->zs_ready = true;
    } else if (deflateReset(&c->zs) != Z_OK) {
        return 0;
    }
    c->zs.next_in = (Bytef *) (uintptr_t) src;
    c->zs.avail_in = (uInt) size;
    c->zs.next_out = c->buf;
    c->zs.avail_out = (uInt) c->cap;
    return deflate(&c->zs, Z_FINISH) == Z_STREAM_END ? (size_t) c->zs.total_out : 0;
}

/*  Chooses how to store value: sets *codec_p, *out_p and *olen_p (out_p
    points into c->buf or at value). Returns 0 or MU_ENOMEM. */
static int
compress_value(const mu_shard_t *self, compressor_t *c, const void *value, size_t size,
               int *codec_p, const void **out_p, size_t *olen_p)
{
    *codec_p = MU_SHARD_CODEC_NONE;
    *out_p = value;
    *olen_p = size;
    if (self->codec == MU_SHARD_CODEC_NONE || size < self->min_compress)
        return 0;
    bool zstd = self->codec == MU_SHARD_CODEC_ZSTD;
    size_t bound = zstd ? ZSTD_compressBound(size) : compressBound((uLong) size);
    if (comp_reserve(c, bound) != 0)
        return MU_ENOMEM;
    size_t n = 0;
    if (zstd) {
        n = ZSTD_compress2(c->zc, c->buf, c->cap, value, size);
        if (ZSTD_isError(n))
            n = 0;
    } else {
        n = zlib_pack(c, value, size);
    }
    if (n > 0 && n < size) {
        *codec_p = self->codec;
        *out_p = c->buf;
        *olen_p = n;
    }
    return 0;
}

static int
dec_init(decompressor_t *d)
{
    memset(d, 0, sizeof *d);
    d->zd = ZSTD_createDCtx();
    return d->zd ? 0 : MU_ENOMEM;
}

static void
dec_fini(decompressor_t *d)
{
    ZSTD_freeDCtx(d->zd);
    if (d->zs_ready)
        inflateEnd(&d->zs);
    memset(d, 0, sizeof *d);
}

/*  Inflates exactly vlen bytes. Returns true on success. */
static bool
zlib_unpack(decompressor_t *d, const void *src, size_t slen, void *dst, size_t vlen)
{
    if (!d->zs_ready) {
        if (inflateInit(&d->zs) != Z_OK)
            return false;
        d->zs_ready = true;
    } else if (inflateReset(&d->zs) != Z_OK) {
        return false;
    }
    d->zs.next_in = (Bytef *) (uintptr_t) src;
    d->zs.avail_in = (uInt) slen;
    d->zs.next_out = dst;
    d->zs.avail_out = (uInt) vlen;
    return inflate(&d->zs, Z_FINISH) == Z_STREAM_END && d->zs.total_out == vlen &&
           d->zs.avail_in == 0;
}

/*  Restores a stored value of vlen bytes into dst and checks it is one
    MessagePack value. Returns NULL on success or what is wrong. */
static const char *
decode_value(decompressor_t *d, int codec, const void *src, size_t slen, void *dst, size_t vlen)
{
    if (codec == MU_SHARD_CODEC_NONE) {
        if (slen != vlen)
            return "stored size differs from the recorded size";
        memcpy(dst, src, vlen);
    } else if (codec == MU_SHARD_CODEC_ZSTD) {
        size_t n = ZSTD_decompressDCtx(d->zd, dst, vlen, src, slen);
        if (ZSTD_isError(n))
            return ZSTD_getErrorName(n);
        if (n != vlen)
            return "zstd: size differs from the recorded size";
    } else if (codec == MU_SHARD_CODEC_ZLIB) {
        if (!zlib_unpack(d, src, slen, dst, vlen))
            return "zlib: data do not inflate to the recorded size";
    } else {
        return "unknown codec number";
    }
    return mp_valid(dst, vlen) ? NULL : "not a valid MessagePack value";
}

/*  Reads codec, vlen and value of a row (columns c, c+1, c+2) and checks
    the size. Returns NULL or what is wrong. */
static const char *
row_value(sqlite3_stmt *st, int c, int *codec_p, size_t *vlen_p, const void **src_p, size_t *slen_p)
{
    sqlite3_int64 vlen = sqlite3_column_int64(st, c + 1);
    *codec_p = sqlite3_column_int(st, c);
    if (sqlite3_column_type(st, c + 2) != SQLITE_BLOB && sqlite3_column_type(st, c + 2) != SQLITE_TEXT)
        return "value column is not a blob";
    if (vlen < 1 || vlen > (sqlite3_int64) MAX_VALUE)
        return "recorded size out of range";
    *vlen_p = (size_t) vlen;
    *src_p = sqlite3_column_blob(st, c + 2);
    *slen_p = (size_t) sqlite3_column_bytes(st, c + 2);
    if (*src_p == NULL)
        *src_p = "";
    return NULL;
}

/* ---- SQL text --------------------------------------------------------------------- */

/*  "k0, k1, k2" */
static void
sql_columns(const mu_shard_t *self, char *buf, size_t cap, size_t *o)
{
    for (size_t j = 0; j < self->meta.k; j++)
        put_text(buf, cap, o, "%sk%zu", j ? ", " : "", j);
}

/*  "k0 = ?1 AND k1 = ?2 ..." */
static void
sql_key_where(const mu_shard_t *self, char *buf, size_t cap, size_t *o)
{
    for (size_t j = 0; j < self->meta.k; j++)
        put_text(buf, cap, o, "%sk%zu = ?%zu", j ? " AND " : "", j, j + 1);
}

static void
sql_statement(const mu_shard_t *self, int which, char *buf, size_t cap)
{
    size_t o = 0;
    switch (which) {
    case ST_GET: case ST_HAS: case ST_DEL:
        put_text(buf, cap, &o, "%s FROM entries WHERE ", which == ST_GET ? "SELECT codec, vlen, value"
                 : which == ST_HAS ? "SELECT 1" : "DELETE");
        sql_key_where(self, buf, cap, &o);
        break;
    case ST_PUT:
        put_text(buf, cap, &o, "INSERT OR REPLACE INTO entries(");
        sql_columns(self, buf, cap, &o);
        put_text(buf, cap, &o, ", codec, vlen, value) VALUES(");
        for (size_t j = 0; j < self->meta.k + 3; j++)
            put_text(buf, cap, &o, "%s?%zu", j ? ", " : "", j + 1);
        put_text(buf, cap, &o, ")");
        break;
    case ST_BEGIN: put_text(buf, cap, &o, "BEGIN IMMEDIATE"); break;
    case ST_COMMIT: put_text(buf, cap, &o, "COMMIT"); break;
    case ST_ROLLBACK: put_text(buf, cap, &o, "ROLLBACK"); break;
    default: put_text(buf, cap, &o, "SELECT count(*) FROM entries"); break;
    }
}

/*  Binds key elements to parameters first, first+1, ... */
static int
bind_key(sqlite3_stmt *st, const mu_shard_elem_t *key, size_t k, int first)
{
    int rc = SQLITE_OK;
    for (size_t j = 0; j < k && rc == SQLITE_OK; j++) {
        int i = first + (int) j;
        const void *p = key[j].ptr ? key[j].ptr : "";
        if (key[j].type == MU_SHARD_INT)
            rc = sqlite3_bind_int64(st, i, key[j].i);
        else if (key[j].type == MU_SHARD_STR)
            rc = sqlite3_bind_text(st, i, p, (int) key[j].len, SQLITE_STATIC);
        else
            rc = sqlite3_bind_blob(st, i, p, (int) key[j].len, SQLITE_STATIC);
    }
    return rc;
}

/*  Reads key elements from columns 0..k-1 of the current row into key.
    Returns false when a column has another type than declared. */
static bool
read_key(const mu_shard_t *self, sqlite3_stmt *st, mu_shard_elem_t *key)
{
    static const int want[] = { 0, SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB };
    for (size_t j = 0; j < self->meta.k; j++) {
        mu_shard_type_t t = self->meta.types[j];
        int c = (int) j;
        if (sqlite3_column_type(st, c) != want[t])
            return false;
        key[j] = (mu_shard_elem_t) { .type = t };
        if (t == MU_SHARD_INT) {
            key[j].i = sqlite3_column_int64(st, c);
        } else {
            key[j].ptr = t == MU_SHARD_STR ? (const void *) sqlite3_column_text(st, c)
                                           : sqlite3_column_blob(st, c);
            key[j].len = (size_t) sqlite3_column_bytes(st, c);
        }
    }
    return true;
}

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
    int code = map_sqlite(db, rc);
    fail(code, "%s: %s", what, code == MU_EFBIG || !err ? mu__sqlite_errmsg(db, code) : err);
    sqlite3_free(err);
    return code;
}

/*  Opens (or creates) a shard file and sets the connection up. */
static int
open_db(const mu_shard_t *self, size_t i, bool create, sqlite3 **db_p)
{
    char path[PATH_MAX], sql[256];
    shard_path(self->dir, i, path, sizeof path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, db_p, flags, NULL);
    if (rc != SQLITE_OK) {
        int code = map_sqlite(*db_p, rc);
        fail(code == MU_ENOENT ? MU_ECORRUPT : code, "%s: %s", path,
             code == MU_ENOENT ? "shard file missing" : sqlite3_errmsg(*db_p));
        sqlite3_close(*db_p);
        *db_p = NULL;
        return code == MU_ENOENT ? MU_ECORRUPT : code;
    }
    sqlite3_busy_timeout(*db_p, self->busy_ms > 0 ? self->busy_ms : 0);
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA cache_size = -%zu;"
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

/*  The CREATE statements of a new shard. */
static void
sql_schema(const mu_shard_t *self, char *buf, size_t cap)
{
    size_t o = 0;
    put_text(buf, cap, &o, "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value NOT NULL);"
             "CREATE TABLE IF NOT EXISTS entries(");
    for (size_t j = 0; j < self->meta.k; j++)
        put_text(buf, cap, &o, "k%zu %s NOT NULL, ", j, type_sql(self->meta.types[j]));
    put_text(buf, cap, &o, "codec INTEGER NOT NULL, vlen INTEGER NOT NULL, value BLOB NOT NULL, "
             "PRIMARY KEY(");
    sql_columns(self, buf, cap, &o);
    put_text(buf, cap, &o, ")) WITHOUT ROWID;");
    for (size_t j = 1; j < self->meta.k; j++)
        if (self->meta.index_mask & (1u << j))
            put_text(buf, cap, &o, "CREATE INDEX IF NOT EXISTS entries_k%zu ON entries(k%zu);", j, j);
}

static void
types_text(const meta_t *m, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < m->k; j++)
        put_text(buf, cap, &o, "%s%s", j ? "," : "", type_name(m->types[j]));
}

/*  The INSERT OR IGNORE statements of meta for shard i. */
static void
sql_meta(const mu_shard_t *self, size_t i, char *buf, size_t cap)
{
    char types[MU_SHARD_MAX_K * 6 + 1];
    types_text(&self->meta, types, sizeof types);
    size_t o = 0;
    put_text(buf, cap, &o,
             "INSERT OR IGNORE INTO meta(name, value) VALUES ('format', %d), ('k', %zu), "
             "('shards', %zu), ('shardidx', %zu), ('types', '%s'), ('codec', '%s'), "
             "('index_mask', %u), ('hash', '%s'), ('shard', %zu);",
             MU_SHARD_FORMAT, self->meta.k, self->meta.shards, self->meta.shardidx, types,
             codec_name(self->meta.codec), self->meta.index_mask, HASH_NAME, i);
}

/*  Creates the tables and meta rows of shard i if they are not there. */
static int
init_shard(const mu_shard_t *self, size_t i)
{
    sqlite3 *db = NULL;
    int rc = open_db(self, i, true, &db);
    if (rc != 0)
        return rc;
    char sql[SQL_MAX * 2];
    size_t o = 0;
    put_text(sql, sizeof sql, &o, "BEGIN IMMEDIATE;");
    sql_schema(self, sql + o, sizeof sql - o);
    o += strlen(sql + o);
    sql_meta(self, i, sql + o, sizeof sql - o);
    o += strlen(sql + o);
    put_text(sql, sizeof sql, &o, "COMMIT;");
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
        m->types[j++] = n == 3 && !strncmp(s, "int", 3) ? MU_SHARD_INT
                      : n == 3 && !strncmp(s, "str", 3) ? MU_SHARD_STR
                      : n == 5 && !strncmp(s, "bytes", 5) ? MU_SHARD_BYTES : 0;
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
    if (!strcmp(name, "format")) m->format = v;
    else if (!strcmp(name, "k")) m->k = (size_t) v;
    else if (!strcmp(name, "shards")) m->shards = (size_t) v;
    else if (!strcmp(name, "shardidx")) m->shardidx = (size_t) v;
    else if (!strcmp(name, "index_mask")) m->index_mask = (unsigned) v;
    else if (!strcmp(name, "shard")) m->shard = v;
    else if (!strcmp(name, "codec")) m->codec = codec_parse(t);
    else if (!strcmp(name, "hash")) snprintf(m->hash, sizeof m->hash, "%s", t);
    else if (!strcmp(name, "types")) *types_ok = types_parse(m, t); /* k comes first: see ORDER BY */
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
        return fail(MU_ECORRUPT, "%s: no meta table (%s): not a mu_shard store", path,
                    sqlite3_errmsg(db));
    bool types_ok = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text(st, 0);
        if (name)
            meta_row(m, name, st, &types_ok);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(map_sqlite(db, rc), "%s: reading meta: %s", path, sqlite3_errstr(rc));
    if (m->format > MU_SHARD_FORMAT)
        return fail(MU_ENOTSUP, "%s: format version %lld is newer than this library's %d", path,
                    m->format, MU_SHARD_FORMAT);
    if (m->format < 1 || m->k < 1 || m->k > MU_SHARD_MAX_K || m->shards < 1 ||
        m->shards > MU_SHARD_MAX_SHARDS || m->shardidx >= m->k || !types_ok || m->shard < 0)
        return fail(MU_ECORRUPT, "%s: meta table is incomplete or damaged", path);
    if (strcmp(m->hash, HASH_NAME) != 0)
        return fail(MU_ENOTSUP, "%s: placement hash '%s' is unknown", path, m->hash);
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
    const char *what = o->k != m->k ? "k" : o->shards != m->shards ? "shard count"
                     : o->shardidx != m->shardidx ? "shardidx" : strcmp(want, have) ? "types" : NULL;
    if (what == NULL)
        return 0;
    return fail(MU_EINVAL,
                "%s: store has k=%zu shards=%zu shardidx=%zu types=%s, opened with k=%zu "
                "shards=%zu shardidx=%zu types=%s: %s differs (a store is never re-sharded)",
                dir, m->k, m->shards, m->shardidx, have, o->k, o->shards, o->shardidx, want, what);
}

/*  Every shard's meta must agree with shard 0's and carry its own index. */
static int
check_shard_meta(const mu_shard_t *self, const meta_t *m, size_t i, const char *path)
{
    const meta_t *s0 = &self->meta;
    if (m->k != s0->k || m->shards != s0->shards || m->shardidx != s0->shardidx ||
        memcmp(m->types, s0->types, sizeof m->types) != 0 || m->shard != (long long) i)
        return fail(MU_ECORRUPT, "%s: meta disagrees with shard 0 (shard %lld, k=%zu, shards=%zu)",
                    path, m->shard, m->k, m->shards);
    return 0;
}

/* ---- opening: handle --------------------------------------------------------------- */

static int
check_params(const mu_shard_opts_t *o)
{
    if (o->k < 1 || o->k > MU_SHARD_MAX_K)
        return fail(MU_EINVAL, "k must be 1..%d, not %zu", MU_SHARD_MAX_K, o->k);
    if (o->shards < 1 || o->shards > MU_SHARD_MAX_SHARDS)
        return fail(MU_EINVAL, "shards must be 1..%d, not %zu", MU_SHARD_MAX_SHARDS, o->shards);
    if (o->shardidx >= o->k)
        return fail(MU_EINVAL, "shardidx %zu is not below k %zu", o->shardidx, o->k);
    for (size_t j = 0; j < o->k; j++)
        if (o->types[j] < MU_SHARD_INT || o->types[j] > MU_SHARD_BYTES)
            return fail(MU_EINVAL, "element %zu has no valid type", j);
    return 0;
}

static int
check_settings(const mu_shard_opts_t *o)
{
    if (o->codec < MU_SHARD_CODEC_DEFAULT || o->codec > MU_SHARD_CODEC_ZSTD)
        return fail(MU_EINVAL, "unknown codec %d", (int) o->codec);
    if (o->level < 0 || o->level > (o->codec == MU_SHARD_CODEC_ZLIB ? 9 : ZSTD_maxCLevel()))
        return fail(MU_EINVAL, "compression level %d out of range", o->level);
    if (o->threads > MAX_THREADS)
        return fail(MU_EINVAL, "threads must be at most %d", MAX_THREADS);
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
        return fail(-errno, "%s: cannot create directory: %s", self->dir, strerror(errno));
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
        sql_statement(self, w, sql, sizeof sql);
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[w], NULL);
        if (rc != SQLITE_OK)
            return fail(map_sqlite(s->db, rc) == MU_ETIMEDOUT ? MU_ETIMEDOUT : MU_ECORRUPT,
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
        if (comp_init(&s->comp, self) != 0 || dec_init(&s->dec) != 0)
            return fail(MU_ENOMEM, "out of memory (codec contexts)");
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
        return fail(rc, "shard %zu: mutex: %s", i, strerror(-rc));
    self->nopen = i + 1;
    meta_t m = { 0 };
    rc = open_and_read_meta(self, i, s, path, &m);
    if (rc == 0 && i == 0) {
        self->meta = m;
        self->meta.shard = -1;
    }
    if (rc == 0)
        rc = check_shard_meta(self, &m, i, path);
    return rc != 0 ? rc : prepare_shard(self, s);
}

static void
close_shard(shard_t *s)
{
    for (int w = 0; w < ST__N; w++)
        sqlite3_finalize(s->st[w]);
    sqlite3_close(s->db);
    comp_fini(&s->comp);
    dec_fini(&s->dec);
    free(s->vbuf);
    pthread_mutex_destroy(&s->mu);
}

static int pool_start(mu_shard_t *self);
static void pool_stop(mu_shard_t *self);

/*  Opens every shard; shard 0 first, whose meta defines the store. */
static int
open_store(mu_shard_t *self, const mu_shard_opts_t *o)
{
    self->shards = calloc(o->k ? o->shards : 1, sizeof *self->shards);
    if (self->shards == NULL)
        return fail(MU_ENOMEM, "out of memory");
    int rc = open_shard(self, 0);
    if (rc == 0 && o->k != 0) {
        self->meta.shard = 0;
        rc = compare_params(o, &self->meta, self->dir);
    }
    if (rc != 0)
        return rc;
    shard_t *grown = realloc(self->shards, self->meta.shards * sizeof *grown);
    if (grown == NULL)
        return fail(MU_ENOMEM, "out of memory");
    self->shards = grown;
    memset(grown + 1, 0, (self->meta.shards - 1) * sizeof *grown);
    for (size_t i = 1; i < self->meta.shards && rc == 0; i++)
        rc = open_shard(self, i);
    if (rc != 0)
        return rc;
    if (self->codec == MU_SHARD_CODEC_DEFAULT)
        self->codec = self->meta.codec ? self->meta.codec : MU_SHARD_CODEC_ZSTD;
    resolve_threads(self);
    rc = init_codecs(self);
    return rc != 0 ? rc : pool_start(self);
}

/*  Creates the store when asked and missing, then opens it. */
static int
open_or_create(mu_shard_t *self, const mu_shard_opts_t *o)
{
    char path0[PATH_MAX];
    shard_path(self->dir, 0, path0, sizeof path0);
    if (access(path0, F_OK) != 0) {
        if (!o->create)
            return fail(MU_ENOENT, "%s: no store here (%s missing)", self->dir, path0);
        if (o->k == 0)
            return fail(MU_EINVAL, "%s: no store here, and k is 0: give its parameters", self->dir);
        int rc = create_store(self, o);
        if (rc != 0)
            return rc;
    }
    /* Settings that depend on the codec are fixed once the meta is known. */
    return open_store(self, o);
}

mu_shard_t *
mu_shard_new(const char *dir, const mu_shard_opts_t *opts)
{
    int rc = dir == NULL || opts == NULL ? fail(MU_EINVAL, "dir or opts is NULL") : 0;
    if (rc == 0 && opts->k != 0)
        rc = check_params(opts);
    if (rc == 0)
        rc = check_settings(opts);
    mu_shard_t *self = rc == 0 ? calloc(1, sizeof *self) : NULL;
    if (rc == 0 && self == NULL)
        rc = fail(MU_ENOMEM, "out of memory");
    if (rc == 0 && (self->dir = strdup(dir)) == NULL)
        rc = fail(MU_ENOMEM, "out of memory");
    if (rc == 0) {
        apply_settings(self, opts);
        mu__ignore_sigxfsz(); /* a write past RLIMIT_FSIZE fails with MU_EFBIG */
        rc = open_or_create(self, opts);
    }
    if (rc != 0) {
        mu_shard_destroy(&self);
        errno = -rc;
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
    pool_stop(self);
    for (size_t i = 0; i < self->nopen; i++)
        close_shard(&self->shards[i]);
    free(self->shards);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int
mu_shard_info(const mu_shard_t *self, mu_shard_opts_t *out)
{
    if (self == NULL || out == NULL)
        return fail(MU_EINVAL, "store or out is NULL");
    *out = (mu_shard_opts_t) {
        .k = self->meta.k, .shards = self->meta.shards, .shardidx = self->meta.shardidx,
        .index_mask = self->meta.index_mask, .codec = self->codec, .level = self->level,
        .min_compress = self->min_compress, .sync_full = self->sync_full,
        .busy_timeout_ms = self->busy_ms, .cache_kib = self->cache_kib, .threads = self->threads,
    };
    memcpy(out->types, self->meta.types, sizeof out->types);
    return 0;
}

/* ---- thread pool -------------------------------------------------------------------- */

/*  Runs items of the current job until none is left; called and returns
    with pool->mu held. */
static void
pool_work(mu_shard_t *self)
{
    pool_t *p = &self->pool;
    while (p->next < p->total) {
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        p->fn(self, i, p->arg);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == p->total)
            pthread_cond_broadcast(&p->done);
    }
}

static void *
pool_main(void *arg)
{
    mu_shard_t *self = arg;
    pool_t *p = &self->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        pool_work(self);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/*  Starts threads-1 workers with every signal blocked. */
static int
pool_start(mu_shard_t *self)
{
    pool_t *p = &self->pool;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->call, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    self->pool_up = true;
    size_t want = self->threads > 1 ? self->threads - 1 : 0;
    p->threads = want ? calloc(want, sizeof *p->threads) : NULL;
    if (want && p->threads == NULL)
        return fail(MU_ENOMEM, "out of memory");
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (; p->nthreads < want && rc == 0; p->nthreads++)
        rc = pthread_create(&p->threads[p->nthreads], NULL, pool_main, self);
    if (rc != 0)
        p->nthreads--;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc ? fail(-rc, "starting the thread pool: %s", strerror(rc)) : 0;
}

static void
pool_stop(mu_shard_t *self)
{
    pool_t *p = &self->pool;
    if (!self->pool_up)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->call);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    self->pool_up = false;
}

/*  Runs fn(self, i, arg) for every shard i, on the pool and the caller's
    thread, and returns when all are done. */
static void
pool_run(mu_shard_t *self, job_fn *fn, void *arg)
{
    pool_t *p = &self->pool;
    if (p->nthreads == 0) {
        for (size_t i = 0; i < self->meta.shards; i++)
            fn(self, i, arg);
        return;
    }
    pthread_mutex_lock(&p->call);
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->next = p->finished = 0;
    p->total = self->meta.shards;
    p->gen++;
    pthread_cond_broadcast(&p->wake);
    pool_work(self);
    while (p->finished < p->total)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->call);
}

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

static void
job_fail(job_t *job, int rc)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&job->failed, &expected, 1)) {
        job->rc = rc;
        memcpy(job->msg, last_error, sizeof job->msg);
    }
}

/*  Runs a job on all shards; returns its first error (copying its message
    into this thread's) or 0. */
static int
run_job(mu_shard_t *self, job_fn *fn, job_t *job)
{
    atomic_init(&job->failed, 0);
    job->rc = 0;
    pool_run(self, fn, job);
    if (job->rc != 0)
        memcpy(last_error, job->msg, sizeof last_error);
    return job->rc;
}

/* ---- single keys ---------------------------------------------------------------------- */

static int
step_fail(shard_t *s, int rc, const char *what)
{
    int code = map_sqlite(s->db, rc);
    return fail(code, "shard %zu: %s: %s", s->index, what, mu__sqlite_errmsg(s->db, code));
}

/*  Checks a value to be stored. */
static int
check_value(const void *value, size_t size)
{
    if (value == NULL)
        return fail(MU_EINVAL, "value is NULL");
    mu_unpacked_t *root = NULL;
    int rc = mu_unpack(value, size, NULL, &root, NULL);
    mu_unpacked_destroy(&root);
    if (rc == MU_EPROTO)
        return fail(MU_EINVAL, "value is not exactly one valid MessagePack value");
    return rc != 0 ? fail(rc, "value: %s", mu_strerror(rc)) : 0;
}

/*  Binds and runs a PUT of an encoded value; the shard is locked. */
static int
put_locked(shard_t *s, const mu_shard_elem_t *key, size_t k, int codec, size_t vlen,
           const void *blob, size_t blen)
{
    sqlite3_stmt *st = s->st[ST_PUT];
    int rc = bind_key(st, key, k, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, (int) k + 1, codec);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, (int) k + 2, (sqlite3_int64) vlen);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, (int) k + 3, blen ? blob : "", (int) blen, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : step_fail(s, rc, "writing");
}

/*  Runs a keyed statement (DEL or HAS) and returns SQLite's result. */
static int
keyed_step(shard_t *s, int which, const mu_shard_elem_t *key, size_t k)
{
    sqlite3_stmt *st = s->st[which];
    int rc = bind_key(st, key, k, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

int
mu_shard_set(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, const void *value,
             size_t size)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    int rc = check_key(self, key, n);
    if (rc == 0)
        rc = check_value(value, size);
    if (rc != 0)
        return rc;
    shard_t *s = &self->shards[shard_of(self, key)];
    pthread_mutex_lock(&s->mu);
    int codec;
    const void *blob;
    size_t blen;
    rc = compress_value(self, &s->comp, value, size, &codec, &blob, &blen);
    if (rc == 0)
        rc = put_locked(s, key, n, codec, size, blob, blen);
    else
        fail(rc, "compressing: out of memory");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/*  Where a get puts the value: the caller's buffer, or a new one. */
typedef struct {
    void *buf;
    size_t cap;
    bool alloc;
    void *out;
    size_t size;
} get_dest_t;

static int
corrupt_value(const mu_shard_t *self, size_t shard, const mu_shard_elem_t *key, const char *why)
{
    char k[KEY_TEXT_MAX];
    return fail(MU_ECORRUPT, "%s: key %s in shard %zu: stored value is corrupt: %s", self->dir,
                key_where(key, self->meta.k, k, sizeof k), shard, why);
}

/*  Decodes the current GET row into d; the shard is locked. */
static int
get_row(const mu_shard_t *self, shard_t *s, const mu_shard_elem_t *key, get_dest_t *d)
{
    int codec;
    size_t vlen, slen;
    const void *src;
    const char *why = row_value(s->st[ST_GET], 0, &codec, &vlen, &src, &slen);
    if (why != NULL)
        return corrupt_value(self, s->index, key, why);
    d->size = vlen;
    if (!d->alloc && vlen > d->cap)
        return fail(MU_EMSGSIZE, "value of %zu bytes does not fit a buffer of %zu", vlen, d->cap);
    d->out = d->alloc ? malloc(vlen) : d->buf;
    if (d->out == NULL)
        return fail(MU_ENOMEM, "out of memory");
    why = decode_value(&s->dec, codec, src, slen, d->out, vlen);
    if (why == NULL)
        return 0;
    if (d->alloc)
        free(d->out);
    d->out = NULL;
    return corrupt_value(self, s->index, key, why);
}

static int
get_common(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, get_dest_t *d)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    int rc = check_key(self, key, n);
    if (rc != 0)
        return rc;
    shard_t *s = &self->shards[shard_of(self, key)];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->st[ST_GET];
    rc = bind_key(st, key, n, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = get_row(self, s, key, d);
    else if (rc == SQLITE_DONE)
        rc = fail(MU_ENOENT, "no such key");
    else
        rc = step_fail(s, rc, "reading");
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
mu_shard_get(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, void **value_p,
             size_t *size_p)
{
    if (value_p == NULL || size_p == NULL)
        return fail(MU_EINVAL, "value_p or size_p is NULL");
    get_dest_t d = { .alloc = true };
    int rc = get_common(self, key, n, &d);
    *value_p = rc == 0 ? d.out : NULL;
    *size_p = rc == 0 ? d.size : 0;
    return rc;
}

int
mu_shard_get_buf(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, void *buf, size_t cap,
                 size_t *size_p)
{
    if (size_p == NULL || (buf == NULL && cap > 0))
        return fail(MU_EINVAL, "size_p is NULL, or buf NULL with cap > 0");
    get_dest_t d = { .buf = buf, .cap = cap };
    int rc = get_common(self, key, n, &d);
    *size_p = rc == 0 || rc == MU_EMSGSIZE ? d.size : 0;
    return rc;
}

int
mu_shard_del(mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    int rc = check_key(self, key, n);
    if (rc != 0)
        return rc;
    shard_t *s = &self->shards[shard_of(self, key)];
    pthread_mutex_lock(&s->mu);
    rc = keyed_step(s, ST_DEL, key, n);
    if (rc == SQLITE_DONE)
        rc = sqlite3_changes(s->db) > 0 ? 0 : fail(MU_ENOENT, "no such key");
    else
        rc = step_fail(s, rc, "deleting");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
mu_shard_contains(mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    int rc = check_key(self, key, n);
    if (rc != 0)
        return rc;
    shard_t *s = &self->shards[shard_of(self, key)];
    pthread_mutex_lock(&s->mu);
    rc = keyed_step(s, ST_HAS, key, n);
    rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : step_fail(s, rc, "reading");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- batches ---------------------------------------------------------------------------- */

/*  One operation: a block holding this header, the key elements, their
    bytes and the encoded value. */
typedef struct {
    size_t shard;
    bool del;
    int codec;
    size_t vlen, blen;
    mu_shard_elem_t *key;
    unsigned char *blob;
} batch_op_t;

struct mu_shard_batch_t {
    mu_shard_t *store;
    batch_op_t **ops;
    size_t n, cap;
    compressor_t comp;
};

mu_shard_batch_t *
mu_shard_batch_new(mu_shard_t *store)
{
    if (store == NULL) {
        errno = EINVAL;
        return NULL;
    }
    mu_shard_batch_t *self = calloc(1, sizeof *self);
    if (self == NULL || comp_init(&self->comp, store) != 0) {
        if (self)
            comp_fini(&self->comp);
        free(self);
        errno = ENOMEM;
        return NULL;
    }
    self->store = store;
    return self;
}

static void
batch_empty(mu_shard_batch_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        free(self->ops[i]);
    self->n = 0;
}

void
mu_shard_batch_destroy(mu_shard_batch_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    mu_shard_batch_t *self = *self_p;
    batch_empty(self);
    free(self->ops);
    comp_fini(&self->comp);
    free(self);
    *self_p = NULL;
}

size_t
mu_shard_batch_size(const mu_shard_batch_t *self)
{
    return self ? self->n : 0;
}

/*  Copies key and encoded value into a new op block. */
static batch_op_t *
op_new(const mu_shard_t *store, const mu_shard_elem_t *key, const void *blob, size_t blen)
{
    size_t k = store->meta.k, bytes = 0;
    for (size_t j = 0; j < k; j++)
        bytes += key[j].len;
    batch_op_t *op = malloc(sizeof *op + k * sizeof *op->key + bytes + blen);
    if (op == NULL)
        return NULL;
    op->key = (mu_shard_elem_t *) (op + 1);
    unsigned char *p = (unsigned char *) (op->key + k);
    for (size_t j = 0; j < k; j++) {
        op->key[j] = key[j];
        if (key[j].len > 0) {
            memcpy(p, key[j].ptr, key[j].len);
            op->key[j].ptr = p;
            p += key[j].len;
        }
    }
    op->blob = p;
    if (blen > 0)
        memcpy(p, blob, blen);
    op->blen = blen;
    op->shard = shard_of(store, key);
    return op;
}

static int
batch_push(mu_shard_batch_t *self, batch_op_t *op)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        batch_op_t **grown = realloc(self->ops, cap * sizeof *grown);
        if (grown == NULL) {
            free(op);
            return fail(MU_ENOMEM, "out of memory");
        }
        self->ops = grown;
        self->cap = cap;
    }
    self->ops[self->n++] = op;
    return 0;
}

int
mu_shard_batch_set(mu_shard_batch_t *self, const mu_shard_elem_t *key, size_t n,
                   const void *value, size_t size)
{
    if (self == NULL)
        return fail(MU_EINVAL, "batch is NULL");
    int rc = check_key(self->store, key, n);
    if (rc == 0)
        rc = check_value(value, size);
    int codec = 0;
    const void *blob = NULL;
    size_t blen = 0;
    if (rc == 0 && compress_value(self->store, &self->comp, value, size, &codec, &blob, &blen) != 0)
        rc = fail(MU_ENOMEM, "out of memory");
    if (rc != 0)
        return rc;
    batch_op_t *op = op_new(self->store, key, blob, blen);
    if (op == NULL)
        return fail(MU_ENOMEM, "out of memory");
    op->del = false;
    op->codec = codec;
    op->vlen = size;
    return batch_push(self, op);
}

int
mu_shard_batch_del(mu_shard_batch_t *self, const mu_shard_elem_t *key, size_t n)
{
    if (self == NULL)
        return fail(MU_EINVAL, "batch is NULL");
    int rc = check_key(self->store, key, n);
    if (rc != 0)
        return rc;
    batch_op_t *op = op_new(self->store, key, NULL, 0);
    if (op == NULL)
        return fail(MU_ENOMEM, "out of memory");
    op->del = true;
    op->codec = 0;
    op->vlen = 0;
    return batch_push(self, op);
}

/*  Runs a control statement (BEGIN, COMMIT, ROLLBACK). */
static int
control(shard_t *s, int which)
{
    int rc = sqlite3_step(s->st[which]);
    sqlite3_reset(s->st[which]);
    return rc == SQLITE_DONE ? 0 : step_fail(s, rc, which == ST_BEGIN ? "beginning a transaction"
                                                    : "committing");
}

/*  Applies ops[order[from..to)] to shard s in one transaction. */
static int
commit_shard(mu_shard_batch_t *self, shard_t *s, const size_t *order, size_t from, size_t to)
{
    size_t k = self->store->meta.k;
    pthread_mutex_lock(&s->mu);
    int rc = control(s, ST_BEGIN);
    for (size_t i = from; i < to && rc == 0; i++) {
        const batch_op_t *op = self->ops[order[i]];
        if (op->del) {
            int r = keyed_step(s, ST_DEL, op->key, k);
            rc = r == SQLITE_DONE ? 0 : step_fail(s, r, "deleting");
        } else {
            rc = put_locked(s, op->key, k, op->codec, op->vlen, op->blob, op->blen);
        }
    }
    if (rc == 0)
        rc = control(s, ST_COMMIT);
    if (rc != 0 && !sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->st[ST_ROLLBACK]);
        sqlite3_reset(s->st[ST_ROLLBACK]);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/*  Orders op indices by shard, stable (counting sort); starts[] gets the
    first position of each shard (nshards + 1 entries). */
static void
order_ops(const mu_shard_batch_t *self, size_t *order, size_t *starts)
{
    size_t ns = self->store->meta.shards;
    memset(starts, 0, (ns + 1) * sizeof *starts);
    for (size_t i = 0; i < self->n; i++)
        starts[self->ops[i]->shard + 1]++;
    for (size_t s = 0; s < ns; s++)
        starts[s + 1] += starts[s];
    size_t *fill = starts + ns + 1; /* scratch after starts */
    memcpy(fill, starts, ns * sizeof *fill);
    for (size_t i = 0; i < self->n; i++)
        order[fill[self->ops[i]->shard]++] = i;
}

int
mu_shard_batch_commit(mu_shard_batch_t *self)
{
    if (self == NULL)
        return fail(MU_EINVAL, "batch is NULL");
    if (self->n == 0)
        return 0;
    size_t ns = self->store->meta.shards;
    size_t *order = malloc((self->n + 2 * ns + 1) * sizeof *order);
    if (order == NULL) {
        batch_empty(self);
        return fail(MU_ENOMEM, "out of memory");
    }
    size_t *starts = order + self->n;
    order_ops(self, order, starts);
    int rc = 0;
    for (size_t s = 0; s < ns && rc == 0; s++)
        if (starts[s + 1] > starts[s])
            rc = commit_shard(self, &self->store->shards[s], order, starts[s], starts[s + 1]);
    free(order);
    batch_empty(self);
    return rc;
}

/* ---- all-shard queries ----------------------------------------------------------------- */

static void
job_count(mu_shard_t *self, size_t i, void *arg)
{
    job_t *job = arg;
    shard_t *s = &self->shards[i];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->st[ST_COUNT];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        job->counts[i] = (uint64_t) sqlite3_column_int64(st, 0);
    else
        job_fail(job, step_fail(s, rc, "counting"));
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
}

int
mu_shard_len_each(mu_shard_t *self, uint64_t *counts, size_t n)
{
    if (self == NULL || counts == NULL || n != self->meta.shards)
        return fail(MU_EINVAL, "store or counts NULL, or n is not the shard count");
    job_t job = { .counts = counts };
    return run_job(self, job_count, &job);
}

int
mu_shard_len(mu_shard_t *self, uint64_t *len_p)
{
    if (self == NULL || len_p == NULL)
        return fail(MU_EINVAL, "store or len_p is NULL");
    uint64_t *counts = calloc(self->meta.shards, sizeof *counts);
    if (counts == NULL)
        return fail(MU_ENOMEM, "out of memory");
    int rc = mu_shard_len_each(self, counts, self->meta.shards);
    uint64_t total = 0;
    for (size_t i = 0; i < self->meta.shards; i++)
        total += counts[i];
    free(counts);
    *len_p = rc == 0 ? total : 0;
    return rc;
}

/*  Checks range arguments. */
static int
check_range(const mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo,
            const mu_shard_elem_t *hi)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    if (elem >= self->meta.k)
        return fail(MU_EINVAL, "element %zu does not exist: keys have %zu", elem, self->meta.k);
    int rc = lo ? check_elem(lo, self->meta.types[elem], elem) : 0;
    return rc == 0 && hi ? check_elem(hi, self->meta.types[elem], elem) : rc;
}

/*  "<head> FROM entries WHERE kE >= ?1 AND kE <= ?2" (present bounds only). */
static void
sql_range(const mu_shard_t *self, const char *head, size_t elem, const mu_shard_elem_t *lo,
          const mu_shard_elem_t *hi, char *buf, size_t cap)
{
    size_t o = 0;
    put_text(buf, cap, &o, "%s", head);
    if (strncmp(head, "SELECT k0", 9) == 0) {
        o = 0;
        put_text(buf, cap, &o, "SELECT ");
        sql_columns(self, buf, cap, &o);
        put_text(buf, cap, &o, ", codec, vlen, value");
    }
    put_text(buf, cap, &o, " FROM entries");
    if (lo)
        put_text(buf, cap, &o, " WHERE k%zu >= ?1", elem);
    if (hi)
        put_text(buf, cap, &o, " %s k%zu <= ?2", lo ? "AND" : "WHERE", elem);
}

/*  Prepares a range statement on shard s and binds the bounds. */
static int
prepare_range(shard_t *s, const char *sql, const mu_shard_elem_t *lo, const mu_shard_elem_t *hi,
              sqlite3_stmt **st_p)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st_p, NULL);
    if (rc == SQLITE_OK && lo)
        rc = bind_key(*st_p, lo, 1, 1);
    if (rc == SQLITE_OK && hi)
        rc = bind_key(*st_p, hi, 1, 2);
    return rc == SQLITE_OK ? 0 : step_fail(s, rc, "preparing a range query");
}

/*  Rows changed by the last statement. */
static uint64_t
changes(sqlite3 *db)
{
#if SQLITE_VERSION_NUMBER >= 3037000
    return (uint64_t) sqlite3_changes64(db);
#else
    return (uint64_t) sqlite3_changes(db);
#endif
}

/*  Counts (count_range) or deletes (prune) a range on one shard. */
static void
job_range(mu_shard_t *self, size_t i, void *arg, bool del)
{
    job_t *job = arg;
    shard_t *s = &self->shards[i];
    char sql[SQL_MAX];
    sql_range(self, del ? "DELETE" : "SELECT count(*)", job->elem, job->lo, job->hi, sql, sizeof sql);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = prepare_range(s, sql, job->lo, job->hi, &st);
    if (rc == 0) {
        int r = sqlite3_step(st);
        if (r == (del ? SQLITE_DONE : SQLITE_ROW))
            job->counts[i] = del ? changes(s->db)
                                 : (uint64_t) sqlite3_column_int64(st, 0);
        else
            rc = step_fail(s, r, del ? "pruning" : "counting");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        job_fail(job, rc);
}

static void
job_count_range(mu_shard_t *self, size_t i, void *arg)
{
    job_range(self, i, arg, false);
}

static void
job_prune(mu_shard_t *self, size_t i, void *arg)
{
    job_range(self, i, arg, true);
}

static int
range_job(mu_shard_t *self, job_fn *fn, size_t elem, const mu_shard_elem_t *lo,
          const mu_shard_elem_t *hi, uint64_t *count_p)
{
    int rc = check_range(self, elem, lo, hi);
    if (rc != 0)
        return rc;
    uint64_t *counts = calloc(self->meta.shards, sizeof *counts);
    if (counts == NULL)
        return fail(MU_ENOMEM, "out of memory");
    job_t job = { .counts = counts, .elem = elem, .lo = lo, .hi = hi };
    rc = run_job(self, fn, &job);
    uint64_t total = 0;
    for (size_t i = 0; i < self->meta.shards; i++)
        total += counts[i];
    free(counts);
    if (count_p)
        *count_p = total;
    return rc;
}

int
mu_shard_count_range(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo,
                     const mu_shard_elem_t *hi, uint64_t *count_p)
{
    if (count_p == NULL)
        return fail(MU_EINVAL, "count_p is NULL");
    return range_job(self, job_count_range, elem, lo, hi, count_p);
}

int
mu_shard_prune(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo, const mu_shard_elem_t *hi,
               uint64_t *count_p)
{
    return range_job(self, job_prune, elem, lo, hi, count_p);
}

int
mu_shard_clear(mu_shard_t *self)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    return range_job(self, job_prune, 0, NULL, NULL, NULL);
}

static void
job_check(mu_shard_t *self, size_t i, void *arg)
{
    job_t *job = arg;
    shard_t *s = &self->shards[i];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    const char *first = rc == SQLITE_ROW ? (const char *) sqlite3_column_text(st, 0) : NULL;
    if (rc != SQLITE_ROW)
        job_fail(job, step_fail(s, rc, "integrity_check"));
    else if (first == NULL || strcmp(first, "ok") != 0)
        job_fail(job, fail(MU_ECORRUPT, "%s: shard %zu fails integrity_check: %s", self->dir, i,
                           first ? first : "?"));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
}

int
mu_shard_check(mu_shard_t *self)
{
    if (self == NULL)
        return fail(MU_EINVAL, "store is NULL");
    job_t job = { 0 };
    return run_job(self, job_check, &job);
}

/* ---- walks ------------------------------------------------------------------------------------ */

/*  Decodes the current row of a walk into s->vbuf and calls fn. */
static int
visit_row(mu_shard_t *self, shard_t *s, sqlite3_stmt *st, mu_shard_visit_fn *fn, void *arg)
{
    mu_shard_elem_t key[MU_SHARD_MAX_K];
    size_t k = self->meta.k;
    if (!read_key(self, st, key))
        return fail(MU_ECORRUPT, "%s: shard %zu holds a key whose columns have other types than "
                    "declared", self->dir, s->index);
    int codec;
    size_t vlen, slen;
    const void *src;
    const char *why = row_value(st, (int) k, &codec, &vlen, &src, &slen);
    if (why == NULL && vlen > s->vcap) {
        unsigned char *b = realloc(s->vbuf, vlen);
        if (b == NULL)
            return fail(MU_ENOMEM, "out of memory");
        s->vbuf = b;
        s->vcap = vlen;
    }
    if (why == NULL)
        why = decode_value(&s->dec, codec, src, slen, s->vbuf, vlen);
    if (why != NULL)
        return corrupt_value(self, s->index, key, why);
    return fn(arg, key, s->vbuf, vlen);
}

/*  Walks one shard with the given SQL. */
static int
walk_shard(mu_shard_t *self, size_t i, const char *sql, const mu_shard_elem_t *lo,
           const mu_shard_elem_t *hi, mu_shard_visit_fn *fn, void *arg)
{
    shard_t *s = &self->shards[i];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = prepare_range(s, sql, lo, hi, &st);
    int r = SQLITE_ROW;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = visit_row(self, s, st, fn, arg);
    if (rc == 0 && r != SQLITE_DONE)
        rc = step_fail(s, r, "walking");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
mu_shard_range(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo, const mu_shard_elem_t *hi,
               mu_shard_visit_fn *fn, void *arg)
{
    int rc = check_range(self, elem, lo, hi);
    if (rc == 0 && fn == NULL)
        rc = fail(MU_EINVAL, "fn is NULL");
    if (rc != 0)
        return rc;
    char sql[SQL_MAX];
    sql_range(self, "SELECT k0", elem, lo, hi, sql, sizeof sql);
    size_t o = strlen(sql);
    put_text(sql, sizeof sql, &o, " ORDER BY k%zu, ", elem);
    sql_columns(self, sql, sizeof sql, &o);
    for (size_t i = 0; i < self->meta.shards && rc == 0; i++)
        rc = walk_shard(self, i, sql, lo, hi, fn, arg);
    return rc;
}

int
mu_shard_iterate(mu_shard_t *self, mu_shard_visit_fn *fn, void *arg)
{
    if (self == NULL || fn == NULL)
        return fail(MU_EINVAL, "store or fn is NULL");
    return mu_shard_range(self, 0, NULL, NULL, fn, arg);
}
