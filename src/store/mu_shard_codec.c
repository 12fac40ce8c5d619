/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard_codec.c — the store's encodings: SQLite result codes, the
    placement hash, key checks and text, value compression and checks (with
    the codec's bounded reader), the SQL text of statements, key binding. */
#include "store/mu_shard_int.h"
#include "codec/mu_unpack_int.h"
#include "store/mu_sqlite.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
mu__shard_map_sqlite(sqlite3 *db, int rc)
{
    if (mu__sqlite_is_efbig(db, rc))
        return MU_EFBIG;
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_NOMEM:
        return MU_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return MU_ETIMEDOUT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return MU_ECORRUPT;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return MU_EACCES;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
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

/* ---- names and text ------------------------------------------------------------ */

const char *
mu__shard_type_name(mu_shard_type_t t)
{
    return t == MU_SHARD_INT     ? "int"
           : t == MU_SHARD_STR   ? "str"
           : t == MU_SHARD_BYTES ? "bytes"
                                 : "?";
}

const char *
mu__shard_type_sql(mu_shard_type_t t)
{
    return t == MU_SHARD_INT ? "INTEGER" : t == MU_SHARD_STR ? "TEXT" : "BLOB";
}

const char *
mu__shard_codec_name(mu_shard_codec_t c)
{
    return c == MU_SHARD_CODEC_NONE   ? "none"
           : c == MU_SHARD_CODEC_ZLIB ? "zlib"
           : c == MU_SHARD_CODEC_ZSTD ? "zstd"
                                      : "?";
}

mu_shard_codec_t
mu__shard_codec_parse(const char *s)
{
    return strcmp(s, "none") == 0   ? MU_SHARD_CODEC_NONE
           : strcmp(s, "zlib") == 0 ? MU_SHARD_CODEC_ZLIB
           : strcmp(s, "zstd") == 0 ? MU_SHARD_CODEC_ZSTD
                                    : MU_SHARD_CODEC_DEFAULT;
}

void
mu__shard_put_text(char *buf, size_t cap, size_t *o, const char *fmt, ...)
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
        mu__shard_put_text(buf, cap, o, "%lld", (long long) e->i);
    } else if (e->type == MU_SHARD_STR) {
        mu__shard_put_text(buf, cap, o, "\"");
        for (size_t i = 0; i < e->len && *o < cap; i++) {
            if (p[i] == '"' || p[i] == '\\')
                mu__shard_put_text(buf, cap, o, "\\%c", p[i]);
            else if (p[i] < 0x20 || p[i] > 0x7e)
                mu__shard_put_text(buf, cap, o, "\\x%02x", p[i]);
            else
                mu__shard_put_text(buf, cap, o, "%c", p[i]);
        }
        mu__shard_put_text(buf, cap, o, "\"");
    } else {
        mu__shard_put_text(buf, cap, o, "x'");
        for (size_t i = 0; i < e->len && *o < cap; i++)
            mu__shard_put_text(buf, cap, o, "%02x", p[i]);
        mu__shard_put_text(buf, cap, o, "'");
    }
}

const char *
mu_shard_key_format(const mu_shard_elem_t *key, size_t k, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return buf;
    size_t o = 0;
    buf[0] = '\0';
    mu__shard_put_text(buf, cap, &o, "(");
    for (size_t j = 0; key && j < k && o < cap; j++) {
        if (j > 0)
            mu__shard_put_text(buf, cap, &o, ", ");
        put_elem(buf, cap, &o, &key[j]);
    }
    mu__shard_put_text(buf, cap, &o, ")");
    if (o >= cap && cap > 4)
        memcpy(buf + cap - 4, "...", 4);
    return buf;
}

/* ---- key checks ------------------------------------------------------------------ */

/*  Checks one element against the declared type. Returns 0 or MU_EINVAL. */
int
mu__shard_check_elem(const mu_shard_elem_t *e, mu_shard_type_t want, size_t j)
{
    if (e->type != want)
        return mu__fail(MU_EINVAL, "key element %zu is %s, the store declares %s", j,
                        mu__shard_type_name(e->type), mu__shard_type_name(want));
    if (want != MU_SHARD_INT && e->ptr == NULL && e->len > 0)
        return mu__fail(MU_EINVAL, "key element %zu has %zu bytes at NULL", j, e->len);
    if (e->len > (size_t) INT_MAX / 2)
        return mu__fail(MU_EINVAL, "key element %zu is too long (%zu bytes)", j, e->len);
    return 0;
}

int
mu__shard_check_key(const mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    assert(key);
    if (n != self->meta.k)
        return mu__fail(MU_EINVAL, "key has %zu elements, the store's keys have %zu", n,
                        self->meta.k);
    for (size_t j = 0; j < n; j++) {
        int rc = mu__shard_check_elem(&key[j], self->meta.types[j], j);
        if (rc != 0)
            return rc;
    }
    return 0;
}

size_t
mu__shard_of(const mu_shard_t *self, const mu_shard_elem_t *key)
{
    return (size_t) (mu_shard_hash(&key[self->meta.shardidx]) % self->meta.shards);
}

int
mu_shard_of(const mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    assert(self);
    int rc = mu__shard_check_key(self, key, n);
    return rc != 0 ? rc : (int) mu__shard_of(self, key);
}

/*  Formats "key (..) in shard i" into buf for messages. */
static const char *
key_where(const mu_shard_elem_t *key, size_t k, char *buf, size_t cap)
{
    return mu_shard_key_format(key, k, buf, cap);
}

/* ---- codecs -------------------------------------------------------------------- */

int
mu__shard_comp_init(compressor_t *c, const mu_shard_t *self)
{
    memset(c, 0, sizeof *c);
    c->zc = ZSTD_createCCtx();
    if (c->zc == NULL)
        return MU_ENOMEM;
    int zl = self->codec == MU_SHARD_CODEC_ZSTD && self->level ? self->level : ZSTD_LEVEL_DEFAULT;
    c->zlib_level = self->codec == MU_SHARD_CODEC_ZLIB && self->level ? self->level
                                                                      : ZLIB_LEVEL_DEFAULT;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, zl))
        || ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1)))
        return MU_EINVAL;
    return 0;
}

void
mu__shard_comp_fini(compressor_t *c)
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
int
mu__shard_compress_value(const mu_shard_t *self, compressor_t *c, const void *value, size_t size,
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

int
mu__shard_dec_init(decompressor_t *d)
{
    memset(d, 0, sizeof *d);
    d->zd = ZSTD_createDCtx();
    return d->zd ? 0 : MU_ENOMEM;
}

void
mu__shard_dec_fini(decompressor_t *d)
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
    return inflate(&d->zs, Z_FINISH) == Z_STREAM_END && d->zs.total_out == vlen
           && d->zs.avail_in == 0;
}

/*  Restores a stored value of vlen bytes into dst and checks it is one
    MessagePack value. Returns NULL on success or what is wrong. */
const char *
mu__shard_decode_value(decompressor_t *d, int codec, const void *src, size_t slen, void *dst,
                       size_t vlen)
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
    return mu__unpack_check(dst, vlen, NULL) == 0 ? NULL : "not a valid MessagePack value";
}

/*  Deflate's largest ratio is 1032:1 (a stream of one repeated byte);
    zstd's 32768:1 (a block restores at most 128 KiB and takes at least
    4 bytes: a 3-byte header and the byte of an RLE block). */
#define ZLIB_MAX_RATIO 1032
#define ZSTD_MAX_RATIO 32768

/*  Whether the recorded size vlen can be what the stored bytes (slen of
    them, src) restore to, checked before a buffer of vlen bytes is
    allocated for them: the same size for a value stored as it is, the
    size a zstd frame records (the store's frames always record it; one
    that does not is checked when it is decompressed), at most 1032 times
    the stored bytes for zlib (32768 times for zstd, which also bounds
    what the frame records). Returns NULL or what is wrong. */
static const char *
size_fault(int codec, const void *src, size_t slen, size_t vlen)
{
    if (codec == MU_SHARD_CODEC_NONE)
        return slen != vlen ? "stored size differs from the recorded size" : NULL;
    if (codec == MU_SHARD_CODEC_ZSTD) {
        unsigned long long n = ZSTD_getFrameContentSize(src, slen);
        if (n == ZSTD_CONTENTSIZE_ERROR)
            return "zstd: not a zstd frame";
        if (vlen / ZSTD_MAX_RATIO > slen)
            return "zstd: recorded size too large for the data";
        return n != ZSTD_CONTENTSIZE_UNKNOWN && n != vlen
                   ? "zstd: the frame's size differs from the recorded size"
                   : NULL;
    }
    if (codec == MU_SHARD_CODEC_ZLIB)
        return vlen / ZLIB_MAX_RATIO > slen ? "zlib: recorded size too large for the data" : NULL;
    return "unknown codec number";
}

/*  Reads codec, vlen and value of a row (columns c, c+1, c+2) and checks
    the size against the stored bytes. Returns NULL or what is wrong. */
const char *
mu__shard_row_value(sqlite3_stmt *st, int c, int *codec_p, size_t *vlen_p, const void **src_p,
                    size_t *slen_p)
{
    sqlite3_int64 vlen = sqlite3_column_int64(st, c + 1);
    *codec_p = sqlite3_column_int(st, c);
    if (sqlite3_column_type(st, c + 2) != SQLITE_BLOB
        && sqlite3_column_type(st, c + 2) != SQLITE_TEXT)
        return "value column is not a blob";
    if (vlen < 1 || vlen > (sqlite3_int64) MAX_VALUE)
        return "recorded size out of range";
    *vlen_p = (size_t) vlen;
    *src_p = sqlite3_column_blob(st, c + 2);
    *slen_p = (size_t) sqlite3_column_bytes(st, c + 2);
    if (*src_p == NULL)
        *src_p = "";
    return size_fault(*codec_p, *src_p, *slen_p, *vlen_p);
}

/* ---- SQL text --------------------------------------------------------------------- */

/*  "k0, k1, k2" */
void
mu__shard_sql_columns(const mu_shard_t *self, char *buf, size_t cap, size_t *o)
{
    for (size_t j = 0; j < self->meta.k; j++)
        mu__shard_put_text(buf, cap, o, "%sk%zu", j ? ", " : "", j);
}

/*  "k0 = ?1 AND k1 = ?2 ..." */
static void
sql_key_where(const mu_shard_t *self, char *buf, size_t cap, size_t *o)
{
    for (size_t j = 0; j < self->meta.k; j++)
        mu__shard_put_text(buf, cap, o, "%sk%zu = ?%zu", j ? " AND " : "", j, j + 1);
}

void
mu__shard_sql_statement(const mu_shard_t *self, int which, char *buf, size_t cap)
{
    size_t o = 0;
    switch (which) {
    case ST_GET:
    case ST_HAS:
    case ST_DEL:
        mu__shard_put_text(buf, cap, &o, "%s FROM entries WHERE ",
                           which == ST_GET   ? "SELECT codec, vlen, value"
                           : which == ST_HAS ? "SELECT 1"
                                             : "DELETE");
        sql_key_where(self, buf, cap, &o);
        break;
    case ST_PUT:
        mu__shard_put_text(buf, cap, &o, "INSERT OR REPLACE INTO entries(");
        mu__shard_sql_columns(self, buf, cap, &o);
        mu__shard_put_text(buf, cap, &o, ", codec, vlen, value) VALUES(");
        for (size_t j = 0; j < self->meta.k + 3; j++)
            mu__shard_put_text(buf, cap, &o, "%s?%zu", j ? ", " : "", j + 1);
        mu__shard_put_text(buf, cap, &o, ")");
        break;
    case ST_BEGIN:
        mu__shard_put_text(buf, cap, &o, "BEGIN IMMEDIATE");
        break;
    case ST_COMMIT:
        mu__shard_put_text(buf, cap, &o, "COMMIT");
        break;
    case ST_ROLLBACK:
        mu__shard_put_text(buf, cap, &o, "ROLLBACK");
        break;
    default:
        mu__shard_put_text(buf, cap, &o, "SELECT count(*) FROM entries");
        break;
    }
}

/*  Binds key elements to parameters first, first+1, ... */
int
mu__shard_bind_key(sqlite3_stmt *st, const mu_shard_elem_t *key, size_t k, int first)
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
bool
mu__shard_read_key(const mu_shard_t *self, sqlite3_stmt *st, mu_shard_elem_t *key)
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

/* ---- checks and failures ------------------------------------------------------- */

int
mu__shard_step_fail(shard_t *s, int rc, const char *what)
{
    int code = mu__shard_map_sqlite(s->db, rc);
    return mu__fail(code, "shard %zu: %s: %s", s->index, what, mu__sqlite_errmsg(s->db, code));
}

int
mu__shard_check_value(const void *value, size_t size)
{
    assert(value);
    int rc = mu__unpack_check(value, size, NULL);
    if (rc == MU_EPROTO)
        return mu__fail(MU_EINVAL, "value is not exactly one valid MessagePack value");
    return rc != 0 ? mu__fail(rc, "value: %s", mu_strerror(rc)) : 0;
}

int
mu__shard_corrupt_value(const mu_shard_t *self, size_t shard, const mu_shard_elem_t *key,
                        const char *why)
{
    char k[KEY_TEXT_MAX];
    return mu__fail(MU_ECORRUPT, "%s: key %s in shard %zu: stored value is corrupt: %s", self->dir,
                    key_where(key, self->meta.k, k, sizeof k), shard, why);
}
