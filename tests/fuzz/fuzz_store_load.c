/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_store_load.c — libFuzzer target for the loading of a persistent
    LRU (mu_lru_open, src/store/mu_lru_persist.c; the schema: include/mu_lru.h,
    the checks: doc/lru.md "Damaged files").

    The input describes a database: its first five bytes the schema (the
    library's, or one without NOT NULL and types, or one without the key's
    primary keys) and the meta rows (format, levels, capacity, hits, each
    sometimes missing or of another type), then up to 64 entry rows, each a
    key (blob, text, or now and then an integer, a NULL or one longer than
    MU_LRU_MAX_KEY), a size, a level and a seq (small values or any 64
    bits, now and then text, a real or NULL). The target writes it with
    SQLite as f.lru in a private temporary directory, then opens it as a
    reader and as a writer. Checked:
      - a refusal has the code MU_ECORRUPT (or MU_ENOMEM), a message naming
        the file, and leaves the file's bytes as they were;
      - the writer refuses whatever the reader refuses;
      - an LRU holds every row's key with its size, at its level or below
        (the cascade only demotes), no other key; mu_lru_foreach visits
        the levels top first, each level's keys and sizes adding up to
        mu_lru_stats' figures, upper levels within their capacity;
      - reader and writer see the same LRU; after the writer's destroy
        (its flush writes what the cascade moved) a new reader sees it
        again;
      - nothing leaks: no descriptor, no file but the ones removed.
    The directory ($TMPDIR/fuzz_store_load.*, or under /tmp) is removed at
    a normal exit, not after a crash (libFuzzer leaves with _Exit).
    An input starting with 0xff or 0xfe is a shard's stored value instead
    (see shard_values).
    FUZZ_STORE_LOAD_TRACE=1 prints each open's result. */
#define _GNU_SOURCE /* mkdtemp, scandir */
#include "mu_lru.h"
#include "base/mu_internal.h"
#include "codec/mu_unpack_int.h"
#include "store/mu_shard_int.h"

#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROWS 64

static char dir[512]; /* $TMPDIR (or /tmp)/fuzz_store_load.XXXXXX */
static char path[540];
static bool trace;

static void
cleanup(void)
{
    static const char *const names[] = { "f.lru",      "f.lru-wal",  "f.lru-shm", "f.lru-journal",
                                         "f.lru.lock", ".f.lru.new", NULL };
    char name[600];
    for (int i = 0; names[i]; i++) {
        snprintf(name, sizeof name, "%s/%s", dir, names[i]);
        unlink(name);
    }
}

static void
fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_store_load: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    cleanup();
    rmdir(dir);
    abort();
}

static void shard_teardown(void);

static void
at_exit(void)
{
    cleanup();
    rmdir(dir);
    shard_teardown();
}

/* ---- reading the input ---------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t n;
} input_t;

static uint8_t
get8(input_t *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t
get64(input_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | get8(in);
    return v;
}

/*  A value: small (the byte) below 200, otherwise any 64 bits. */
static int64_t
get_value(input_t *in)
{
    uint8_t b = get8(in);
    return b < 200 ? (int64_t) b : (int64_t) get64(in);
}

/*  How a column is written: its value or, now and then, another type. */
typedef enum { AS_INT, AS_TEXT, AS_REAL, AS_NULL, AS_BLOB } as_t;

typedef struct {
    as_t key_as;   /* AS_BLOB, AS_TEXT, AS_INT, AS_NULL */
    size_t keylen; /* bytes of key, or of a zeroblob when long */
    bool long_key; /* a zeroblob of keylen bytes */
    uint8_t key[32];
    as_t size_as, level_as, seq_as;
    int64_t size, level, seq;
} row_t;

typedef struct {
    int schema;     /* 0 the library's, 1 no types nor NOT NULL, 2 no primary keys either */
    as_t format_as; /* AS_NULL: the row is missing */
    int64_t format, levels, capacity, hits;
    as_t levels_as, capacity_as, hits_as;
    int nrows;
    row_t rows[MAX_ROWS];
} db_t;

static as_t
odd_type(uint8_t b)
{
    static const as_t kinds[] = { AS_TEXT, AS_REAL, AS_NULL, AS_BLOB };
    return kinds[b & 3];
}

static void
read_meta(input_t *in, db_t *d)
{
    uint8_t b0 = get8(in), b1 = get8(in), b2 = get8(in), b3 = get8(in), b4 = get8(in);
    d->schema = (b0 >> 3 & 3) % 3;
    int f = b0 & 7;
    d->format_as = f == 5 ? AS_NULL : f == 7 ? AS_TEXT : AS_INT;
    d->format = f == 6 ? 2 : 1;
    d->levels = b1 & 0x80 ? (b1 & 1 ? 65 : 0) : 1 + (b1 & 0x7f) % 8;
    d->levels_as = (b1 & 0xc0) == 0xc0 ? odd_type(b1 >> 1) : AS_INT;
    int c = b0 >> 5;
    d->capacity = c == 5 ? 0 : c == 6 ? -1 : c == 7 ? INT64_MAX : 1 + (b2 << 8 | b3);
    d->capacity_as = AS_INT;
    d->hits = b4 >> 2;
    d->hits_as = (b4 & 3) == 3 ? odd_type(b4 >> 2) : (b4 & 3) == 2 ? AS_NULL : AS_INT;
}

static void
read_row(input_t *in, row_t *r)
{
    uint8_t t = get8(in), len = get8(in);
    r->key_as = AS_BLOB;
    r->size_as = r->level_as = r->seq_as = AS_INT;
    if (t & 0x80) { /* odd types */
        r->key_as = (t & 3) == 0   ? AS_TEXT
                    : (t & 3) == 1 ? AS_INT
                    : (t & 3) == 2 ? AS_NULL
                                   : AS_BLOB;
        if (t & 4)
            r->size_as = odd_type(t >> 3);
        if (t & 8)
            r->level_as = odd_type(t >> 4);
        if (t & 16)
            r->seq_as = odd_type(t >> 5);
    }
    r->long_key = (t & 0xe0) == 0x60;
    r->keylen = r->long_key ? 65535 + (len & 3) : (size_t) (len & 31);
    memset(r->key, 0, sizeof r->key);
    for (size_t i = 0; !r->long_key && i < r->keylen; i++)
        r->key[i] = get8(in);
    r->size = get_value(in);
    r->level = (int8_t) get8(in);
    r->seq = get_value(in);
}

/* ---- writing the database --------------------------------------------------------- */

static void
bind_as(sqlite3_stmt *st, int col, as_t as, int64_t v)
{
    char text[32];
    switch (as) {
    case AS_INT:
        sqlite3_bind_int64(st, col, v);
        break;
    case AS_TEXT:
        snprintf(text, sizeof text, "%lld", (long long) v);
        sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT);
        break;
    case AS_REAL: /* never integral: an INTEGER column would store an integral one as an integer */
        sqlite3_bind_double(
            st, col, v > -((int64_t) 1 << 52) && v < (int64_t) 1 << 52 ? (double) v + 0.5 : 0.5);
        break;
    case AS_NULL:
        sqlite3_bind_null(st, col);
        break;
    case AS_BLOB:
        sqlite3_bind_blob(st, col, &v, sizeof v, SQLITE_TRANSIENT);
        break;
    }
}

static const char *const SCHEMAS[] = {
    ("CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE entries(key BLOB PRIMARY KEY, size INTEGER NOT NULL,"
     " level INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;"),
    ("CREATE TABLE meta(name TEXT PRIMARY KEY, value);"
     " CREATE TABLE entries(key PRIMARY KEY, size, level, seq);"),
    "CREATE TABLE meta(name TEXT, value); CREATE TABLE entries(key, size, level, seq);",
};

static bool
put_meta(sqlite3 *db, const char *name, as_t as, int64_t v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO meta VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bind_as(st, 2, as, v);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/*  Inserts a row; false when SQLite refuses it (a constraint), the row
    then does not count. */
static bool
put_row(sqlite3 *db, const row_t *r)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO entries VALUES (?, ?, ?, ?)", -1, &st, NULL)
        != SQLITE_OK)
        fail("prepare", sqlite3_errmsg(db));
    if (r->long_key)
        sqlite3_bind_zeroblob(st, 1, (int) r->keylen);
    else if (r->key_as == AS_TEXT)
        sqlite3_bind_text(st, 1, (const char *) r->key, (int) r->keylen, SQLITE_STATIC);
    else if (r->key_as == AS_INT)
        sqlite3_bind_int64(st, 1, r->key[0]);
    else if (r->key_as == AS_NULL)
        sqlite3_bind_null(st, 1);
    else
        sqlite3_bind_blob(st, 1, r->keylen ? (const void *) r->key : "", (int) r->keylen,
                          SQLITE_STATIC);
    bind_as(st, 2, r->size_as, r->size);
    bind_as(st, 3, r->level_as, r->level);
    bind_as(st, 4, r->seq_as, r->seq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

/*  Writes d as f.lru; keeps in d only the rows SQLite took. */
static void
write_db(db_t *d)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        fail("sqlite3_open", sqlite3_errmsg(db));
    if (sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_exec(db, SCHEMAS[d->schema], NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        fail("schema", sqlite3_errmsg(db));
    if (d->format_as != AS_NULL)
        put_meta(db, "format", d->format_as, d->format);
    put_meta(db, "levels", d->levels_as, d->levels);
    put_meta(db, "capacity", d->capacity_as, d->capacity);
    put_meta(db, "hits", d->hits_as, d->hits);
    int kept = 0;
    for (int i = 0; i < d->nrows; i++)
        if (put_row(db, &d->rows[i]))
            d->rows[kept++] = d->rows[i];
    d->nrows = kept;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        fail("commit", sqlite3_errmsg(db));
    if (sqlite3_close(db) != SQLITE_OK)
        fail("sqlite3_close", NULL);
}

/* ---- checking an LRU ------------------------------------------------------------- */

typedef struct {
    uint64_t hash; /* FNV-1a of every (level, key, size) in foreach order */
    int last_level;
    uint64_t count[MU_LRU_MAX_LEVELS], total[MU_LRU_MAX_LEVELS];
    uint64_t n;
} walk_t;

static void
mix(walk_t *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        w->hash = (w->hash ^ b[i]) * 0x100000001b3ull;
}

static int
visit(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    walk_t *w = arg;
    if (level < 0 || level >= MU_LRU_MAX_LEVELS || level > w->last_level)
        fail("foreach: a level out of order", NULL);
    w->last_level = level;
    w->count[level]++;
    w->total[level] += size;
    w->n++;
    mix(w, &level, sizeof level);
    mix(w, &len, sizeof len);
    mix(w, key, len);
    mix(w, &size, sizeof size);
    return 0;
}

/*  Checks the invariants of lru against the rows; returns its walk hash. */
static uint64_t
check_lru(mu_lru_t *lru, const db_t *d)
{
    mu_lru_stats_t st = { .size = sizeof st };
    if (mu_lru_stats(lru, &st) != 0)
        fail("mu_lru_stats", mu_last_error());
    walk_t w = { .hash = 0xcbf29ce484222325ull, .last_level = MU_LRU_MAX_LEVELS - 1 };
    if (mu_lru_foreach(lru, visit, &w) != 0)
        fail("mu_lru_foreach stopped", NULL);
    if (st.levels != mu_lru_levels(lru) || st.levels < 1 || st.levels > MU_LRU_MAX_LEVELS
        || st.levels != d->levels)
        fail("levels", NULL);
    if (st.capacity != (uint64_t) d->capacity)
        fail("capacity is not the stored one", NULL);
    uint64_t count = 0, total = 0;
    for (int lv = 0; lv < st.levels; lv++) {
        if (w.count[lv] != st.level_count[lv] || w.total[lv] != st.level_total[lv])
            fail("foreach does not add up to the stats of a level", NULL);
        if (lv > 0 && st.level_total[lv] > st.level_capacity[lv])
            fail("an upper level over its capacity after loading", NULL);
        if (st.level_total[lv] > UINT64_MAX - total)
            fail("the level totals overflow", NULL);
        count += st.level_count[lv];
        total += st.level_total[lv];
    }
    for (int lv = st.levels; lv < MU_LRU_MAX_LEVELS; lv++)
        if (w.count[lv] != 0)
            fail("a key in a level past the top", NULL);
    if (count != st.count || total != st.total || w.n != st.count)
        fail("the levels do not add up to the whole", NULL);
    if (st.count != (uint64_t) d->nrows)
        fail("the LRU does not hold every row", NULL);
    static uint8_t zeros[65538];
    for (int i = 0; i < d->nrows; i++) {
        const row_t *r = &d->rows[i];
        uint64_t size;
        int level;
        if (mu_lru_peek(lru, r->long_key ? zeros : r->key, r->keylen, &size, &level) != 0)
            fail("a row's key is not found", NULL);
        if (size != (uint64_t) r->size || level > r->level) {
            char what[160];
            snprintf(what, sizeof what,
                     "row %d (key of %zu bytes): size %llu level %lld, loaded %llu %d", i,
                     r->keylen, (unsigned long long) r->size, (long long) r->level,
                     (unsigned long long) size, level);
            fail("a row's key has another size, or a level above its own", what);
        }
    }
    return w.hash;
}

/* ---- opening ----------------------------------------------------------------------- */

static int
open_fds(void)
{
    struct dirent **names;
    int n = scandir("/proc/self/fd", &names, NULL, NULL);
    if (n < 0)
        fail("cannot list /proc/self/fd", strerror(errno));
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return n;
}

static uint8_t *
slurp(size_t *len_p)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail("cannot read the file back", strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            if (buf == NULL)
                fail("out of memory", NULL);
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    *len_p = len;
    return buf;
}

/*  Opens f.lru with flags; on a refusal checks it and that the file did
    not change. */
static mu_lru_t *
open_lru(int flags)
{
    size_t len0, len1;
    uint8_t *before = slurp(&len0);
    mu__fail(MU_EIO, "fuzz_store_load: before the open");
    mu_lru_t *lru = mu_lru_open(dir, "f", 0, 0, flags);
    if (trace)
        fprintf(stderr, "%s: %s\n", flags ? "reader" : "writer", lru ? "opened" : mu_last_error());
    if (lru == NULL) {
        int code = mu_last_code();
        if (code != MU_ECORRUPT && code != MU_ENOMEM)
            fail("a refusal with an unexpected code", mu_last_error());
        if (strstr(mu_last_error(), path) == NULL)
            fail("a refusal that does not name the file", mu_last_error());
        uint8_t *after = slurp(&len1);
        if (len0 != len1 || memcmp(before, after, len0) != 0)
            fail("a refused open changed the file", NULL);
        free(after);
    }
    free(before);
    return lru;
}

static void
load(db_t *d)
{
    int fds = open_fds();
    mu_lru_t *reader = open_lru(MU_LRU_READONLY);
    mu_lru_t *writer = open_lru(0);
    if (writer && !reader)
        fail("the writer opened what the reader refused", NULL);
    if (writer && d->schema == 2)
        fail("a writer opened a table without the key's primary key", NULL);
    uint64_t h = 0;
    if (reader)
        h = check_lru(reader, d);
    if (writer && check_lru(writer, d) != h)
        fail("reader and writer see different LRUs", NULL);
    mu_lru_destroy(&reader);
    if (writer) {
        int rc = mu_lru_flush(writer);
        if (rc != 0)
            fail("flush after loading", mu_last_error());
        mu_lru_destroy(&writer);
        reader = open_lru(MU_LRU_READONLY);
        if (reader == NULL)
            fail("the writer's file does not open again", mu_last_error());
        if (check_lru(reader, d) != h)
            fail("the LRU changed over the writer's flush", NULL);
        mu_lru_destroy(&reader);
    }
    if (open_fds() != fds)
        fail("file descriptors leaked", NULL);
}

/* ---- a shard's stored values ----------------------------------------------------- */

/*  The row reader and decoder of a shard (mu__shard_row_value,
    mu__shard_decode_value), on a row of an in-memory database. Input
    0xff: a codec byte, a 4-byte recorded size, the stored bytes: a
    refusal, or a value of the recorded size that is one MessagePack value
    (the stored bytes themselves for codec none), the buffer allocated
    only once the recorded size was checked against the stored bytes.
    Input 0xfe: a codec byte, a position and a mask, a value: a value that
    is one MessagePack value is compressed as the store does, the byte at
    the position xored with the mask, then read back: with no change it
    must come back whole; changed, refused or one MessagePack value. */
static sqlite3 *mem_db;
static sqlite3_stmt *mem_row;
static decompressor_t dec;
static compressor_t comp[4];
static mu_shard_t stub[4];

static void
shard_setup(void)
{
    if (sqlite3_open(":memory:", &mem_db) != SQLITE_OK
        || sqlite3_prepare_v2(mem_db, "SELECT ?1, ?2, ?3", -1, &mem_row, NULL) != SQLITE_OK
        || mu__shard_dec_init(&dec) != 0)
        fail("cannot set up the shard values", NULL);
    for (int c = MU_SHARD_CODEC_NONE; c <= MU_SHARD_CODEC_ZSTD; c++) {
        stub[c].codec = (mu_shard_codec_t) c;
        stub[c].min_compress = 1;
        if (mu__shard_comp_init(&comp[c], &stub[c]) != 0)
            fail("mu__shard_comp_init", NULL);
    }
}

static void
shard_teardown(void)
{
    sqlite3_finalize(mem_row);
    sqlite3_close(mem_db);
    mu__shard_dec_fini(&dec);
    for (int c = MU_SHARD_CODEC_NONE; c <= MU_SHARD_CODEC_ZSTD; c++)
        mu__shard_comp_fini(&comp[c]);
}

/*  Reads the stored row (codec, vlen, the stored bytes) back as the store
    does. Returns NULL or what was wrong; *out_p (malloc'ed) the value. */
static const char *
read_value(int codec, int64_t vlen, const void *stored, size_t slen, void **out_p, size_t *len_p)
{
    *out_p = NULL;
    sqlite3_bind_int(mem_row, 1, codec);
    sqlite3_bind_int64(mem_row, 2, vlen);
    sqlite3_bind_blob(mem_row, 3, slen ? stored : "", (int) slen, SQLITE_STATIC);
    if (sqlite3_step(mem_row) != SQLITE_ROW)
        fail("the in-memory row", sqlite3_errmsg(mem_db));
    int c;
    size_t n, srclen;
    const void *src;
    const char *why = mu__shard_row_value(mem_row, 0, &c, &n, &src, &srclen);
    if (why == NULL) {
        if (n > MAX_VALUE || (c == MU_SHARD_CODEC_NONE && n != srclen)
            || (c == MU_SHARD_CODEC_ZLIB && n / 1032 > srclen)
            || (c == MU_SHARD_CODEC_ZSTD && n / 32768 > srclen))
            fail("a recorded size accepted that the stored bytes cannot have", NULL);
        *out_p = malloc(n);
        if (*out_p == NULL)
            fail("out of memory", NULL);
        why = mu__shard_decode_value(&dec, c, src, srclen, *out_p, n);
        if (why == NULL && mu__unpack_check(*out_p, n, NULL) != 0)
            fail("a decoded value that is not one MessagePack value", NULL);
        if (why == NULL && c == MU_SHARD_CODEC_NONE && memcmp(*out_p, src, n) != 0)
            fail("a value stored as it is came back changed", NULL);
        *len_p = n;
    }
    sqlite3_reset(mem_row);
    sqlite3_clear_bindings(mem_row);
    if (why != NULL) {
        free(*out_p);
        *out_p = NULL;
    }
    return why;
}

static void
shard_values(const uint8_t *data, size_t size)
{
    input_t in = { data + 1, size - 1 };
    int codec = get8(&in) & 3;
    void *out;
    size_t len;
    if (data[0] == 0xff) {
        uint32_t vlen = 0;
        for (int i = 0; i < 4; i++)
            vlen = vlen << 8 | get8(&in);
        (void) read_value(codec, (int64_t) vlen, in.p, in.n, &out, &len);
        free(out);
        return;
    }
    uint8_t pos = get8(&in), mask = get8(&in);
    if (codec == 0 || in.n == 0 || mu__unpack_check(in.p, in.n, NULL) != 0)
        return;
    int stored_codec;
    const void *stored;
    size_t slen;
    if (mu__shard_compress_value(&stub[codec], &comp[codec], in.p, in.n, &stored_codec, &stored,
                                 &slen)
        != 0)
        fail("mu__shard_compress_value", NULL);
    uint8_t *copy = malloc(slen ? slen : 1);
    if (copy == NULL)
        fail("out of memory", NULL);
    memcpy(copy, stored, slen);
    if (slen)
        copy[pos % slen] ^= mask;
    const char *why = read_value(stored_codec, (int64_t) in.n, copy, slen, &out, &len);
    if (mask == 0 && (why != NULL || len != in.n || memcmp(out, in.p, len) != 0))
        fail("a value did not come back whole", why);
    free(out);
    free(copy);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    trace = getenv("FUZZ_STORE_LOAD_TRACE") != NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fuzz_store_load.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fail("mkdtemp", strerror(errno));
    snprintf(path, sizeof path, "%s/f.lru", dir);
    atexit(at_exit);
    shard_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && (data[0] == 0xff || data[0] == 0xfe)) {
        shard_values(data, size);
        return 0;
    }
    static db_t d;
    input_t in = { data, size };
    memset(&d, 0, sizeof d);
    read_meta(&in, &d);
    while (in.n > 0 && d.nrows < MAX_ROWS)
        read_row(&in, &d.rows[d.nrows++]);
    cleanup();
    write_db(&d);
    load(&d);
    cleanup();
    return 0;
}
