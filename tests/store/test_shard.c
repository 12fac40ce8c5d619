/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_shard.c — tests of mu_shard: round trips of every key element type,
    single-key calls, batches, walks, range and prune, placement (fixed hash
    vectors, evenness over 1,000,000 keys, real writes land where
    mu_shard_of says), reopening with other parameters, corrupt values,
    every documented error, two writing processes, and 50 SIGKILLs in the
    middle of write loops. */
#include "mu_test.h"
#include "mutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

static char tmp_root[128];
static int dir_seq;

/*  A fresh directory path (not created) under the test's temp root. */
static const char *
new_dir(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/s%d", tmp_root, dir_seq++);
    return buf;
}

static void
rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char sub[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/*  Options of the (str, int, bytes) store most tests use. */
static mu_shard_opts_t
opts3(size_t shards)
{
    mu_shard_opts_t o = { .k = 3,
                          .shards = shards,
                          .shardidx = 0,
                          .create = true,
                          .types = { MU_SHARD_STR, MU_SHARD_INT, MU_SHARD_BYTES } };
    return o;
}

/*  Opens a new store of opts3(shards) in a fresh directory whose path goes
    into dir (cap bytes). Returns the store or NULL. */
static mu_shard_t *
open_new3(char *dir, size_t cap, size_t shards)
{
    mu_shard_opts_t o = opts3(shards);
    return mu_shard_open(new_dir(dir, cap), &o);
}

/*  Packs a map {"n": n, "s": text} into a new buffer. */
static void *
pack_value(int64_t n, const char *text, size_t *size_p)
{
    mu_pack_t *p = mu_pack_new();
    if (!p)
        return NULL;
    void *copy = NULL;
    if (mu_pack_map(p, 2) == 0 && mu_pack_cstr(p, "n") == 0 && mu_pack_int(p, n) == 0
        && mu_pack_cstr(p, "s") == 0 && mu_pack_cstr(p, text) == 0) {
        size_t size = 0;
        const void *data = mu_pack_data(p, &size);
        copy = data ? malloc(size) : NULL;
        if (copy) {
            memcpy(copy, data, size);
            *size_p = size;
        }
    }
    mu_pack_destroy(&p);
    return copy;
}

/*  Reads back {"n": n, ...} and returns n, or INT64_MIN on any failure. */
static int64_t
value_n(const void *data, size_t size)
{
    mu_unpacked_t *root = NULL;
    const mu_unpacked_t *v = NULL;
    int64_t n = INT64_MIN;
    if (mu_unpack(data, size, NULL, &root, NULL) == 0 && mu_unpacked_get(root, "n", &v) == 0
        && mu_unpacked_int(v, &n) != 0)
        n = INT64_MIN;
    mu_unpacked_destroy(&root);
    return n;
}

/*  A long text that compresses well. */
static const char *
long_text(void)
{
    static char text[2048];
    if (!text[0])
        for (size_t i = 0; i + 1 < sizeof text; i++)
            text[i] = "market data tick "[i % 17];
    return text;
}

/* ---- placement ----------------------------------------------------------- */

static void
test_hash_vectors(void)
{
    /* Computed from the specification in mu_shard.h by an independent
       implementation; these must never change (format version 1). */
    static const unsigned char b2[] = { 0x00, 0xff };
    mu_shard_elem_t e;
    e = mu_shard_int(0);
    MU_CHECK(mu_shard_hash(&e) == 0xbfcb1a2fdd1fff6fULL);
    e = mu_shard_int(1);
    MU_CHECK(mu_shard_hash(&e) == 0xd501b28892c3e128ULL);
    e = mu_shard_int(-1);
    MU_CHECK(mu_shard_hash(&e) == 0x9ff811618b11c6f3ULL);
    e = mu_shard_int(1700000000123);
    MU_CHECK(mu_shard_hash(&e) == 0x61d5aee6baedf245ULL);
    e = mu_shard_str("");
    MU_CHECK(mu_shard_hash(&e) == 0x5aec852590056221ULL);
    e = mu_shard_str("AAPL");
    MU_CHECK(mu_shard_hash(&e) == 0xa9bc9a87b4b7fa3eULL);
    e = mu_shard_bytes(NULL, 0);
    MU_CHECK(mu_shard_hash(&e) == 0x9e1997e507d81f0dULL);
    e = mu_shard_bytes(b2, 2);
    MU_CHECK(mu_shard_hash(&e) == 0x782a838393a9e9e5ULL);
    /* str and bytes with the same content differ (the tag byte). */
    mu_shard_elem_t s = mu_shard_strn("\x00\xff", 2);
    MU_CHECK(mu_shard_hash(&s) != mu_shard_hash(&e));
    MU_CHECK_EQ(mu_shard_hash(NULL), 0);

    /* mu_shard_of is hash % shards on element shardidx. */
    char dir[256];
    mu_shard_opts_t o = opts3(8);
    o.shardidx = 1;
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    mu_shard_elem_t key[3] = { mu_shard_str("x"), mu_shard_int(1700000000123),
                               mu_shard_bytes("", 0) };
    MU_CHECK_EQ(mu_shard_of(st, key, 3), 0x61d5aee6baedf245ULL % 8);
    key[1] = mu_shard_int(1);
    MU_CHECK_EQ(mu_shard_of(st, key, 3), 0);
    MU_CHECK_EQ(mu_shard_of(st, key, 2), MU_EINVAL);
    mu_shard_destroy(&st);
}

static uint64_t
xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/*  Checks that every count is within tolerance (0.05: 5 %) of total / n. */
static int
even_within(const uint64_t *counts, size_t n, uint64_t total, double tolerance)
{
    double mean = (double) total / (double) n;
    for (size_t i = 0; i < n; i++)
        if (counts[i] < mean * (1 - tolerance) || counts[i] > mean * (1 + tolerance)) {
            printf("# bucket %zu has %" PRIu64 ", mean %.0f\n", i, counts[i], mean);
            return 0;
        }
    return 1;
}

static void
test_distribution_1m(void)
{
    enum { N = 1000000 };
    static const size_t shard_counts[] = { 2, 8, 16, 61 };
    for (size_t c = 0; c < sizeof shard_counts / sizeof shard_counts[0]; c++) {
        size_t ns = shard_counts[c];
        uint64_t rnd[64] = { 0 }, seq[64] = { 0 }, str[64] = { 0 }, seed = 0x9e3779b97f4a7c15ULL;
        char text[32];
        for (int i = 0; i < N; i++) {
            mu_shard_elem_t e = mu_shard_int((int64_t) xorshift(&seed));
            rnd[mu_shard_hash(&e) % ns]++;
            e = mu_shard_int(i); /* sequential ints, e.g. timestamps or ids */
            seq[mu_shard_hash(&e) % ns]++;
            snprintf(text, sizeof text, "key-%d", i);
            e = mu_shard_str(text);
            str[mu_shard_hash(&e) % ns]++;
        }
        MU_CHECK(even_within(rnd, ns, N, 0.05));
        MU_CHECK(even_within(seq, ns, N, 0.05));
        MU_CHECK(even_within(str, ns, N, 0.05));
    }
}

/*  Counts the rows of one shard file with plain SQLite. */
static int64_t
file_rows(const char *dir, size_t shard, const char *where)
{
    char path[512], sql[256];
    snprintf(path, sizeof path, "%s/shard-%04zu.db", dir, shard);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM entries %s", where ? where : "");
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
        && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void
test_placement_real_writes(void)
{
    enum { N = 4000, NS = 8 };
    char dir[256];
    mu_shard_t *st = open_new3(dir, sizeof dir, NS);
    MU_CHECK(st != NULL);
    mu_shard_batch_t *b = mu_shard_batch_new(st);
    MU_CHECK(b != NULL);
    uint64_t expect[NS] = { 0 };
    unsigned char v[1] = { 0xc0 }; /* nil */
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "sym%d", i);
        mu_shard_elem_t key[3] = { mu_shard_str(name), mu_shard_int(i), mu_shard_bytes("", 0) };
        int s = mu_shard_of(st, key, 3);
        MU_CHECK(s >= 0 && s < NS);
        expect[s]++;
        MU_CHECK_EQ(mu_shard_batch_set(b, key, 3, v, 1), 0);
    }
    MU_CHECK_EQ(mu_shard_batch_commit(b), 0);
    mu_shard_batch_destroy(&b);
    uint64_t counts[NS];
    MU_CHECK_EQ(mu_shard_len_each(st, counts, NS), 0);
    for (int i = 0; i < NS; i++) {
        MU_CHECK_EQ(counts[i], expect[i]);
        MU_CHECK_EQ(file_rows(dir, (size_t) i, NULL), (int64_t) expect[i]);
    }
    MU_CHECK(even_within(counts, NS, N, 0.15)); /* 500 a shard: sd 22, so 15 % is 3.4 sd */
    /* One key, found in the file mu_shard_of names and in no other. */
    mu_shard_elem_t key[3] = { mu_shard_str("sym77"), mu_shard_int(77), mu_shard_bytes("", 0) };
    int s = mu_shard_of(st, key, 3);
    for (int i = 0; i < NS; i++)
        MU_CHECK_EQ(file_rows(dir, (size_t) i, "WHERE k0 = 'sym77' AND k1 = 77"), i == s ? 1 : 0);
    mu_shard_destroy(&st);
}

/* ---- round trips -------------------------------------------------------- */

static void
test_round_trip_types(void)
{
    char dir[256];
    mu_shard_t *st = open_new3(dir, sizeof dir, 4);
    MU_CHECK(st != NULL);
    static const unsigned char raw[] = { 0, 1, 2, 0xff, 0 };
    const char *strs[] = { "", "a", "AAPL", "with\0nul", "héllo" };
    const size_t slen[] = { 0, 1, 4, 8, 6 };
    const int64_t ints[] = { 0, -1, INT64_MIN, INT64_MAX, 1700000000123 };
    for (int i = 0; i < 5; i++) {
        mu_shard_elem_t key[3] = { mu_shard_strn(strs[i], slen[i]), mu_shard_int(ints[i]),
                                   mu_shard_bytes(raw, (size_t) i) };
        size_t size;
        void *v = pack_value(ints[i], i % 2 ? long_text() : "short", &size);
        MU_CHECK(v != NULL);
        MU_CHECK_EQ(mu_shard_set(st, key, 3, v, size), 0);
        void *got = NULL;
        size_t got_size = 0;
        MU_CHECK_EQ(mu_shard_get(st, key, 3, &got, &got_size), 0);
        MU_CHECK_EQ(got_size, size);
        MU_CHECK(memcmp(got, v, size) == 0);
        MU_CHECK(value_n(got, got_size) == ints[i]);
        free(got);
        char buf[4096];
        MU_CHECK_EQ(mu_shard_get_buf(st, key, 3, buf, sizeof buf, &got_size), 0);
        MU_CHECK_EQ(got_size, size);
        MU_CHECK(memcmp(buf, v, size) == 0);
        free(v);
    }
    uint64_t len = 0;
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 5);
    /* Keys that differ only in one element are distinct. */
    mu_shard_elem_t a[3] = { mu_shard_str("AAPL"), mu_shard_int(INT64_MIN),
                             mu_shard_bytes(raw, 2) };
    MU_CHECK_EQ(mu_shard_contains(st, a, 3), 1);
    a[2] = mu_shard_bytes(raw, 1);
    MU_CHECK_EQ(mu_shard_contains(st, a, 3), 0);
    a[0] = mu_shard_str("with");
    a[2] = mu_shard_bytes(raw, 3);
    a[1] = mu_shard_int(INT64_MAX);
    MU_CHECK_EQ(mu_shard_contains(st, a, 3), 0); /* "with" is not "with\0nul" */
    mu_shard_destroy(&st);
}

/*  Every kind of value, and each codec, reads back byte for byte. */
static void
test_round_trip_values_codecs(void)
{
    static const mu_shard_codec_t codecs[] = { MU_SHARD_CODEC_ZSTD, MU_SHARD_CODEC_ZLIB,
                                               MU_SHARD_CODEC_NONE };
    char dir[256];
    new_dir(dir, sizeof dir);
    for (int c = 0; c < 3; c++) {
        mu_shard_opts_t o = { .k = 1,
                              .shards = 2,
                              .create = true,
                              .types = { MU_SHARD_INT },
                              .codec = codecs[c] };
        mu_shard_t *st = mu_shard_open(dir, &o);
        MU_CHECK(st != NULL);
        mu_pack_t *p = mu_pack_new();
        MU_CHECK(p != NULL);
        for (int i = 0; i < 8; i++) {
            mu_pack_reset(p);
            int rc = 0;
            switch (i) {
            case 0:
                rc = mu_pack_nil(p);
                break;
            case 1:
                rc = mu_pack_bool(p, true);
                break;
            case 2:
                rc = mu_pack_int(p, -123456789);
                break;
            case 3:
                rc = mu_pack_double(p, 3.25);
                break;
            case 4:
                rc = mu_pack_cstr(p, long_text());
                break;
            case 5:
                rc = mu_pack_bin(p, long_text(), 1000);
                break;
            case 6:
                rc = mu_pack_array(p, 3);
                for (int j = 0; j < 3 && rc == 0; j++)
                    rc = mu_pack_cstr(p, long_text() + j);
                break;
            default:
                rc = mu_pack_ext(p, 5, "abc", 3);
                break;
            }
            MU_CHECK_EQ(rc, 0);
            size_t size;
            const void *data = mu_pack_data(p, &size);
            MU_CHECK(data != NULL);
            mu_shard_elem_t key[1] = { mu_shard_int(c * 100 + i) };
            MU_CHECK_EQ(mu_shard_set(st, key, 1, data, size), 0);
            void *got = NULL;
            size_t got_size = 0;
            MU_CHECK_EQ(mu_shard_get(st, key, 1, &got, &got_size), 0);
            MU_CHECK_EQ(got_size, size);
            MU_CHECK(memcmp(got, data, size) == 0);
            free(got);
        }
        mu_pack_destroy(&p);
        mu_shard_destroy(&st);
    }
    /* The codec column says how each row was stored: the long text rows
       are compressed with the handle's codec, the tiny ones stored as is. */
    char path[512];
    snprintf(path, sizeof path, "%s/shard-0000.db", dir);
    int64_t z = file_rows(dir, 0, "WHERE codec = 3") + file_rows(dir, 1, "WHERE codec = 3");
    int64_t g = file_rows(dir, 0, "WHERE codec = 2") + file_rows(dir, 1, "WHERE codec = 2");
    int64_t n = file_rows(dir, 0, "WHERE codec = 1") + file_rows(dir, 1, "WHERE codec = 1");
    MU_CHECK_EQ(z, 3); /* cases 4, 5, 6 under zstd */
    MU_CHECK_EQ(g, 3);
    MU_CHECK_EQ(n, 24 - 6);
    MU_CHECK(file_rows(dir, 0, "WHERE codec = 3 AND length(value) * 4 < vlen")
                 + file_rows(dir, 1, "WHERE codec = 3 AND length(value) * 4 < vlen")
             == 3);
}

static void
test_delete_contains_len_clear(void)
{
    char dir[256];
    mu_shard_opts_t o = { .k = 2,
                          .shards = 4,
                          .create = true,
                          .types = { MU_SHARD_INT, MU_SHARD_STR } };
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    unsigned char nil = 0xc0;
    for (int i = 0; i < 100; i++) {
        mu_shard_elem_t key[2] = { mu_shard_int(i), mu_shard_str("x") };
        MU_CHECK_EQ(mu_shard_set(st, key, 2, &nil, 1), 0);
    }
    uint64_t len = 0;
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 100);
    mu_shard_elem_t key[2] = { mu_shard_int(42), mu_shard_str("x") };
    MU_CHECK_EQ(mu_shard_set(st, key, 2, &nil, 1), 0); /* replace, not add */
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 100);
    MU_CHECK_EQ(mu_shard_contains(st, key, 2), 1);
    MU_CHECK_EQ(mu_shard_delete(st, key, 2), 0);
    MU_CHECK_EQ(mu_shard_contains(st, key, 2), 0);
    MU_CHECK_EQ(mu_shard_delete(st, key, 2), MU_ENOENT);
    void *v = (void *) 1;
    size_t size = 9;
    MU_CHECK_EQ(mu_shard_get(st, key, 2, &v, &size), MU_ENOENT);
    MU_CHECK(v == NULL && size == 0);
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 99);
    MU_CHECK_EQ(mu_shard_clear(st), 0);
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 0);
    key[0] = mu_shard_int(1);
    MU_CHECK_EQ(mu_shard_contains(st, key, 2), 0);
    mu_shard_destroy(&st);
    /* Reopen: still empty, and writable. */
    st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 0);
    mu_shard_destroy(&st);
    mu_shard_destroy(&st); /* NULL is accepted */
    mu_shard_destroy(NULL);
}

static void
test_batch(void)
{
    char dir[256];
    mu_shard_t *st = open_new3(dir, sizeof dir, 4);
    MU_CHECK(st != NULL);
    mu_shard_batch_t *b = mu_shard_batch_new(st);
    MU_CHECK(b != NULL);
    for (int i = 0; i < 1000; i++) {
        mu_shard_elem_t key[3] = { mu_shard_str(i % 2 ? "odd" : "even"), mu_shard_int(i),
                                   mu_shard_bytes(&i, sizeof i) };
        size_t size;
        void *v = pack_value(i, i % 3 ? "x" : long_text(), &size);
        MU_CHECK(v != NULL);
        MU_CHECK_EQ(mu_shard_batch_set(b, key, 3, v, size), 0);
        free(v);
    }
    MU_CHECK_EQ(mu_shard_batch_size(b), 1000);
    uint64_t len = 1;
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 0); /* nothing before commit */
    MU_CHECK_EQ(mu_shard_batch_commit(b), 0);
    MU_CHECK_EQ(mu_shard_batch_size(b), 0);
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 1000);
    /* Order within a batch: set then delete then set again of one key. */
    int i = 5, i6 = 6;
    mu_shard_elem_t key[3] = { mu_shard_str("odd"), mu_shard_int(5), mu_shard_bytes(&i, sizeof i) };
    size_t size;
    void *v = pack_value(555, "again", &size);
    MU_CHECK_EQ(mu_shard_batch_delete(b, key, 3), 0);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 3, v, size), 0);
    mu_shard_elem_t key6[3] = { mu_shard_str("even"), mu_shard_int(6),
                                mu_shard_bytes(&i6, sizeof i6) };
    MU_CHECK_EQ(mu_shard_batch_delete(b, key6, 3), 0);
    mu_shard_elem_t gone[3] = { mu_shard_str("none"), mu_shard_int(6), mu_shard_bytes("", 0) };
    MU_CHECK_EQ(mu_shard_batch_delete(b, gone, 3), 0); /* missing key: not an error */
    MU_CHECK_EQ(mu_shard_batch_commit(b), 0);
    free(v);
    void *got = NULL;
    MU_CHECK_EQ(mu_shard_get(st, key, 3, &got, &size), 0);
    MU_CHECK_EQ(value_n(got, size), 555);
    free(got);
    MU_CHECK_EQ(mu_shard_contains(st, key6, 3), 0);
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 999);
    MU_CHECK_EQ(mu_shard_batch_commit(b), 0); /* empty commit */
    mu_shard_batch_destroy(&b);
    mu_shard_batch_destroy(&b);
    mu_shard_destroy(&st);
}

/* ---- walks -------------------------------------------------------------- */

typedef struct {
    int count;
    int last_shard;
    int order_ok;
    int by_ts; /* range by element 1: ts order; else (symbol, ts) order */
    char last_sym[16];
    int64_t last_ts;
    int64_t sum;
    const mu_shard_t *st;
    int stop_after;
} walk_t;

static int
visit(void *arg, const mu_shard_elem_t *key, const void *value, size_t size)
{
    walk_t *w = arg;
    int s = mu_shard_of(w->st, key, 2);
    char sym[16];
    snprintf(sym, sizeof sym, "%.*s", (int) key[0].len, (const char *) key[0].ptr);
    if (s < w->last_shard)
        w->order_ok = 0;
    if (s != w->last_shard) {
        w->last_ts = INT64_MIN;
        w->last_sym[0] = '\0';
    }
    int sym_cmp = strcmp(sym, w->last_sym);
    if (w->by_ts ? key[1].i < w->last_ts || (key[1].i == w->last_ts && sym_cmp <= 0)
                 : sym_cmp < 0 || (sym_cmp == 0 && key[1].i <= w->last_ts))
        w->order_ok = 0;
    w->last_shard = s;
    w->last_ts = key[1].i;
    memcpy(w->last_sym, sym, sizeof sym);
    w->sum += value_n(value, size);
    w->count++;
    return w->stop_after && w->count == w->stop_after ? 7 : 0;
}

/*  (symbol str, timestamp int) keys, sharded on the symbol. */
static mu_shard_t *
ts_store(char *dir, size_t cap, int n_sym, int n_ts)
{
    mu_shard_opts_t o = { .k = 2,
                          .shards = 4,
                          .create = true,
                          .types = { MU_SHARD_STR, MU_SHARD_INT } };
    mu_shard_t *st = mu_shard_open(new_dir(dir, cap), &o);
    mu_shard_batch_t *b = st ? mu_shard_batch_new(st) : NULL;
    char sym[16];
    for (int s = 0; b && s < n_sym; s++)
        for (int t = 0; t < n_ts; t++) {
            snprintf(sym, sizeof sym, "S%02d", s);
            mu_shard_elem_t key[2] = { mu_shard_str(sym), mu_shard_int(1000 + t) };
            size_t size;
            void *v = pack_value(t, "tick", &size);
            if (!v || mu_shard_batch_set(b, key, 2, v, size) != 0) {
                free(v);
                mu_shard_batch_destroy(&b);
                mu_shard_destroy(&st);
                return NULL;
            }
            free(v);
        }
    if (b && mu_shard_batch_commit(b) != 0)
        mu_shard_destroy(&st);
    mu_shard_batch_destroy(&b);
    return st;
}

static void
test_iterate(void)
{
    char dir[256];
    mu_shard_t *st = ts_store(dir, sizeof dir, 10, 50);
    MU_CHECK(st != NULL);
    walk_t w = { .last_shard = -1, .order_ok = 1, .st = st, .last_ts = INT64_MIN };
    MU_CHECK_EQ(mu_shard_iterate(st, visit, &w), 0);
    MU_CHECK_EQ(w.count, 500);
    MU_CHECK_EQ(w.sum, 10 * (49 * 50 / 2));
    MU_CHECK(w.order_ok);
    /* A non-zero callback result stops the walk and comes back. */
    walk_t w2 = { .last_shard = -1, .order_ok = 1, .st = st, .stop_after = 17 };
    MU_CHECK_EQ(mu_shard_iterate(st, visit, &w2), 7);
    MU_CHECK_EQ(w2.count, 17);
    mu_shard_destroy(&st);
}

static void
test_range_prune_timestamp(void)
{
    char dir[256];
    mu_shard_t *st = ts_store(dir, sizeof dir, 10, 50); /* ts 1000..1049 */
    MU_CHECK(st != NULL);
    mu_shard_elem_t lo = mu_shard_int(1010), hi = mu_shard_int(1019);
    walk_t w = { .last_shard = -1, .order_ok = 1, .st = st, .last_ts = INT64_MIN, .by_ts = 1 };
    MU_CHECK_EQ(mu_shard_range(st, 1, &lo, &hi, visit, &w), 0);
    MU_CHECK_EQ(w.count, 100);
    MU_CHECK_EQ(w.sum, 10 * (10 + 19) * 10 / 2);
    MU_CHECK(w.order_ok);
    uint64_t n = 0;
    MU_CHECK_EQ(mu_shard_count_range(st, 1, &lo, &hi, &n), 0);
    MU_CHECK_EQ(n, 100);
    MU_CHECK_EQ(mu_shard_count_range(st, 1, NULL, &hi, &n), 0);
    MU_CHECK_EQ(n, 200);
    MU_CHECK_EQ(mu_shard_count_range(st, 1, &lo, NULL, &n), 0);
    MU_CHECK_EQ(n, 400);
    /* By the str element too. */
    mu_shard_elem_t slo = mu_shard_str("S03"), shi = mu_shard_str("S05");
    MU_CHECK_EQ(mu_shard_count_range(st, 0, &slo, &shi, &n), 0);
    MU_CHECK_EQ(n, 150);
    /* The range query uses the index on k1. */
    char path[512];
    snprintf(path, sizeof path, "%s/shard-0000.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    MU_CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_prepare_v2(db,
                                   "EXPLAIN QUERY PLAN SELECT count(*) FROM entries WHERE "
                                   "k1 >= 1 AND k1 <= 2",
                                   -1, &q, NULL),
                SQLITE_OK);
    MU_CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    MU_CHECK(strstr((const char *) sqlite3_column_text(q, 3), "entries_k1") != NULL);
    sqlite3_finalize(q);
    sqlite3_close(db);
    /* Prune everything before 1020: 20 timestamps x 10 symbols. */
    hi = mu_shard_int(1019);
    MU_CHECK_EQ(mu_shard_prune(st, 1, NULL, &hi, &n), 0);
    MU_CHECK_EQ(n, 200);
    MU_CHECK_EQ(mu_shard_prune(st, 1, NULL, &hi, &n), 0);
    MU_CHECK_EQ(n, 0);
    uint64_t len = 0;
    MU_CHECK_EQ(mu_shard_len(st, &len), 0);
    MU_CHECK_EQ(len, 300);
    mu_shard_elem_t key[2] = { mu_shard_str("S01"), mu_shard_int(1019) };
    MU_CHECK_EQ(mu_shard_contains(st, key, 2), 0);
    key[1] = mu_shard_int(1020);
    MU_CHECK_EQ(mu_shard_contains(st, key, 2), 1);
    mu_shard_destroy(&st);
}

/* ---- reopening and parameters ----------------------------------------------- */

static void
test_reopen_other_params(void)
{
    char dir[256];
    mu_shard_t *st = open_new3(dir, sizeof dir, 8);
    MU_CHECK(st != NULL);
    mu_shard_elem_t key[3] = { mu_shard_str("a"), mu_shard_int(1), mu_shard_bytes("b", 1) };
    unsigned char v = 0x2a;
    MU_CHECK_EQ(mu_shard_set(st, key, 3, &v, 1), 0);
    mu_shard_destroy(&st);

    mu_shard_opts_t bad = opts3(16);
    errno = 0;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK(strstr(mu_last_error(), "shard count differs") != NULL);
    MU_CHECK(strstr(mu_last_error(), "shards=8") != NULL);
    bad = opts3(8);
    bad.shardidx = 1;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK(strstr(mu_last_error(), "shardidx differs") != NULL);
    bad = opts3(8);
    bad.k = 2;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK(strstr(mu_last_error(), "k differs") != NULL);
    bad = opts3(8);
    bad.types[2] = MU_SHARD_STR;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK(strstr(mu_last_error(), "types differs") != NULL);
    /* Nothing was re-sharded: still 8 files, the key still there. */
    char path[512];
    snprintf(path, sizeof path, "%s/shard-0008.db", dir);
    MU_CHECK(access(path, F_OK) != 0);
    /* k = 0 adopts the stored parameters. */
    mu_shard_opts_t adopt = { 0 };
    st = mu_shard_open(dir, &adopt);
    MU_CHECK(st != NULL);
    mu_shard_opts_t info;
    mu_shard_info(st, &info);
    MU_CHECK_EQ(info.k, 3);
    MU_CHECK_EQ(info.shards, 8);
    MU_CHECK_EQ(info.types[2], MU_SHARD_BYTES);
    MU_CHECK_EQ(info.codec, MU_SHARD_CODEC_ZSTD);
    MU_CHECK_EQ(mu_shard_contains(st, key, 3), 1);
    mu_shard_destroy(&st);
}

/*  Runs one SQL statement on a shard file. */
static int
sql_on(const char *dir, size_t shard, const char *sql)
{
    char path[512];
    snprintf(path, sizeof path, "%s/shard-%04zu.db", dir, shard);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void
test_open_errors(void)
{
    char dir[256];
    mu_shard_opts_t o = opts3(4);
    new_dir(dir, sizeof dir);
    errno = 0;
    mu_shard_opts_t bad = o;
    bad.k = MU_SHARD_MAX_K + 1;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    bad = o;
    bad.shards = 0;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    bad = o;
    bad.shards = MU_SHARD_MAX_SHARDS + 1;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    bad = o;
    bad.shardidx = 3;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    bad = o;
    bad.types[1] = 0;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    bad = o;
    bad.codec = 9;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    bad = o;
    bad.threads = 33;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    bad = o;
    bad.create = false;
    MU_CHECK(mu_shard_open(dir, &bad) == NULL);
    MU_CHECK_EQ(errno, ENOENT);
    mu_shard_opts_t zero = { .create = true };
    MU_CHECK(mu_shard_open(dir, &zero) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK(access(dir, F_OK) != 0); /* nothing was created by the failures */

    mu_shard_t *st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    /* A newer format version. */
    MU_CHECK_EQ(sql_on(dir, 0, "UPDATE meta SET value = 2 WHERE name = 'format'"), SQLITE_OK);
    MU_CHECK(mu_shard_open(dir, &o) == NULL);
    MU_CHECK_EQ(errno, ENOTSUP);
    MU_CHECK(strstr(mu_last_error(), "format version 2") != NULL);
    MU_CHECK_EQ(sql_on(dir, 0, "UPDATE meta SET value = 1 WHERE name = 'format'"), SQLITE_OK);
    /* A shard whose meta disagrees. */
    MU_CHECK_EQ(sql_on(dir, 2, "UPDATE meta SET value = 3 WHERE name = 'shard'"), SQLITE_OK);
    MU_CHECK(mu_shard_open(dir, &o) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
    MU_CHECK(strstr(mu_last_error(), "shard-0002.db") != NULL);
    MU_CHECK_EQ(sql_on(dir, 2, "UPDATE meta SET value = 2 WHERE name = 'shard'"), SQLITE_OK);
    st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    /* A missing shard file. */
    char path[512], moved[512];
    snprintf(path, sizeof path, "%s/shard-0003.db", dir);
    snprintf(moved, sizeof moved, "%s/moved.db", dir);
    MU_CHECK_EQ(rename(path, moved), 0);
    MU_CHECK(mu_shard_open(dir, &o) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
    MU_CHECK(strstr(mu_last_error(), "shard file missing") != NULL);
    MU_CHECK(access(path, F_OK) != 0); /* not silently re-created */
    MU_CHECK_EQ(rename(moved, path), 0);
    /* Not a store at all. */
    char other[256];
    new_dir(other, sizeof other);
    MU_CHECK_EQ(mkdir(other, 0777), 0);
    snprintf(path, sizeof path, "%s/shard-0000.db", other);
    FILE *f = fopen(path, "w");
    MU_CHECK(f != NULL);
    fputs("this is not a database, just some text that is long enough to be a header...", f);
    fclose(f);
    MU_CHECK(mu_shard_open(other, &o) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
}

static void
test_key_and_value_errors(void)
{
    char dir[256];
    mu_shard_t *st = open_new3(dir, sizeof dir, 2);
    MU_CHECK(st != NULL);
    unsigned char nil = 0xc0;
    mu_shard_elem_t key[3] = { mu_shard_str("a"), mu_shard_int(1), mu_shard_bytes("b", 1) };
    /* Wrong arity. */
    MU_CHECK_EQ(mu_shard_set(st, key, 2, &nil, 1), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "2 elements") != NULL);
    MU_CHECK_EQ(mu_shard_set(st, key, 4, &nil, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_contains(st, key, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_delete(st, key, 0), MU_EINVAL);
    /* Wrong element types: str where int is declared, bytes vs str. */
    mu_shard_elem_t wrong[3] = { mu_shard_str("a"), mu_shard_str("1"), mu_shard_bytes("b", 1) };
    MU_CHECK_EQ(mu_shard_set(st, wrong, 3, &nil, 1), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "element 1 is str") != NULL);
    wrong[1] = mu_shard_int(1);
    wrong[0] = mu_shard_bytes("a", 1);
    void *v;
    size_t size;
    MU_CHECK_EQ(mu_shard_get(st, wrong, 3, &v, &size), MU_EINVAL);
    wrong[0] = (mu_shard_elem_t) { .type = MU_SHARD_STR, .ptr = NULL, .len = 3 };
    MU_CHECK_EQ(mu_shard_contains(st, wrong, 3), MU_EINVAL);
    /* Values that are not exactly one MessagePack value. */
    static const unsigned char c1[] = { 0xc1 }, two[] = { 0x01, 0x02 }, trunc[] = { 0x92, 0x01 };
    MU_CHECK_EQ(mu_shard_set(st, key, 3, c1, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, two, 2), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, trunc, 2), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "MessagePack") != NULL);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, &nil, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_contains(st, key, 3), 0); /* nothing stored by the failures */
    /* get_buf too small: the size needed comes back. */
    size_t vs;
    void *val = pack_value(1, long_text(), &vs);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, val, vs), 0);
    char small[16];
    MU_CHECK_EQ(mu_shard_get_buf(st, key, 3, small, sizeof small, &size), MU_EMSGSIZE);
    MU_CHECK_EQ(size, vs);
    free(val);
    /* Batches check the same way. */
    mu_shard_batch_t *b = mu_shard_batch_new(st);
    MU_CHECK(b != NULL);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 2, &nil, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 3, c1, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_batch_delete(b, wrong, 3), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_batch_size(b), 0);
    mu_shard_batch_destroy(&b);
    /* All-shard and walk argument errors. */
    uint64_t counts[3], n;
    MU_CHECK_EQ(mu_shard_len_each(st, counts, 3), MU_EINVAL);
    mu_shard_elem_t lo = mu_shard_str("x");
    MU_CHECK_EQ(mu_shard_count_range(st, 3, NULL, NULL, &n), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_count_range(st, 1, &lo, NULL, &n),
                MU_EINVAL); /* str bound on an int element */
    MU_CHECK_EQ(mu_shard_prune(st, 1, NULL, &lo, &n), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_check(st), 0);
    mu_shard_destroy(&st);
}

static void
test_key_format(void)
{
    static const unsigned char b[] = { 0x00, 0xff };
    mu_shard_elem_t key[3] = { mu_shard_int(-12), mu_shard_str("a\"b\n"), mu_shard_bytes(b, 2) };
    char buf[64];
    MU_CHECK(strcmp(mu_shard_key_format(key, 3, buf, sizeof buf), "(-12, \"a\\\"b\\x0a\", x'00ff')")
             == 0);
    char tiny[10];
    mu_shard_key_format(key, 3, tiny, sizeof tiny);
    MU_CHECK(strcmp(tiny, "(-12, ...") == 0);
}

/* ---- faults --------------------------------------------------------------- */

static int
corrupt_visit(void *arg, const mu_shard_elem_t *key, const void *value, size_t size)
{
    (void) key, (void) value, (void) size;
    (*(int *) arg)++;
    return 0;
}

static void
test_corrupt_value(void)
{
    char dir[256];
    mu_shard_opts_t o = { .k = 2,
                          .shards = 1,
                          .create = true,
                          .types = { MU_SHARD_STR, MU_SHARD_INT } };
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    size_t size;
    void *big = pack_value(1, long_text(), &size);
    mu_shard_elem_t k1[2] = { mu_shard_str("IBM"), mu_shard_int(77) };
    mu_shard_elem_t k2[2] = { mu_shard_str("MSFT"), mu_shard_int(78) };
    mu_shard_elem_t k3[2] = { mu_shard_str("ORCL"), mu_shard_int(79) };
    unsigned char small[] = { 0x93, 1, 2, 3 };
    MU_CHECK_EQ(mu_shard_set(st, k1, 2, big, size), 0); /* zstd */
    MU_CHECK_EQ(mu_shard_set(st, k2, 2, small, 4), 0);  /* stored as is */
    MU_CHECK_EQ(mu_shard_set(st, k3, 2, big, size), 0);
    free(big);
    /* Overwrite blobs behind the store's back, as a disk fault would. */
    MU_CHECK_EQ(sql_on(dir, 0,
                       "UPDATE entries SET value = randomblob(length(value)) WHERE k0 = 'IBM';"
                       "UPDATE entries SET value = x'930102c1' WHERE k0 = 'MSFT';"
                       "UPDATE entries SET vlen = vlen + 1 WHERE k0 = 'ORCL';"),
                SQLITE_OK);
    void *v = NULL;
    MU_CHECK_EQ(mu_shard_get(st, k1, 2, &v, &size), MU_ECORRUPT);
    MU_CHECK(v == NULL);
    MU_CHECK(strstr(mu_last_error(), "(\"IBM\", 77)") != NULL);
    MU_CHECK(strstr(mu_last_error(), "corrupt") != NULL);
    MU_CHECK_EQ(mu_shard_get(st, k2, 2, &v, &size), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "(\"MSFT\", 78)") != NULL);
    MU_CHECK(strstr(mu_last_error(), "MessagePack") != NULL);
    char buf[4096];
    MU_CHECK_EQ(mu_shard_get_buf(st, k3, 2, buf, sizeof buf, &size), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "(\"ORCL\", 79)") != NULL);
    /* A walk stops at the first damaged value and names it. */
    int seen = 0;
    MU_CHECK_EQ(mu_shard_iterate(st, corrupt_visit, &seen), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "(\"IBM\", 77)") != NULL);
    MU_CHECK_EQ(seen, 0);
    /* The store keeps working: overwrite and delete the damaged keys. */
    MU_CHECK_EQ(mu_shard_set(st, k1, 2, small, 4), 0);
    MU_CHECK_EQ(mu_shard_get_buf(st, k1, 2, buf, sizeof buf, &size), 0);
    MU_CHECK_EQ(size, 4);
    MU_CHECK_EQ(mu_shard_delete(st, k2, 2), 0);
    MU_CHECK_EQ(mu_shard_check(st), 0); /* SQLite's own structure is fine */
    /* A key column of another type than declared (written by hand). */
    MU_CHECK_EQ(sql_on(dir, 0, "UPDATE entries SET k1 = 'seventy-nine' WHERE k0 = 'ORCL'"),
                SQLITE_OK);
    seen = 0;
    MU_CHECK_EQ(mu_shard_iterate(st, corrupt_visit, &seen), MU_ECORRUPT);
    MU_CHECK_EQ(seen, 1);
    mu_shard_destroy(&st);
}

static void
test_busy_timeout(void)
{
    char dir[256];
    mu_shard_opts_t o = { .k = 1,
                          .shards = 1,
                          .create = true,
                          .types = { MU_SHARD_INT },
                          .busy_timeout_ms = 50 };
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/shard-0000.db", dir);
    sqlite3 *other = NULL;
    MU_CHECK_EQ(sqlite3_open(path, &other), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    unsigned char nil = 0xc0;
    mu_shard_elem_t key[1] = { mu_shard_int(1) };
    MU_CHECK_EQ(mu_shard_set(st, key, 1, &nil, 1), MU_ETIMEDOUT);
    MU_CHECK_EQ(mu_shard_contains(st, key, 1), 0); /* readers are not blocked (WAL) */
    mu_shard_batch_t *b = mu_shard_batch_new(st);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 1, &nil, 1), 0);
    MU_CHECK_EQ(mu_shard_batch_commit(b), MU_ETIMEDOUT);
    MU_CHECK_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    MU_CHECK_EQ(mu_shard_set(st, key, 1, &nil, 1), 0);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 1, &nil, 1), 0);
    MU_CHECK_EQ(mu_shard_batch_commit(b), 0);
    mu_shard_batch_destroy(&b);
    mu_shard_destroy(&st);
}

/*  Checks the schema a user sees with plain SQLite. */
static void
test_schema(void)
{
    char dir[256];
    mu_shard_opts_t o = opts3(3);
    o.shardidx = 2;
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    char path[512];
    snprintf(path, sizeof path, "%s/shard-0002.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    MU_CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_prepare_v2(db,
                                   "SELECT group_concat(name || '=' || value, ' ') FROM "
                                   "(SELECT * FROM meta ORDER BY name)",
                                   -1, &q, NULL),
                SQLITE_OK);
    MU_CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    MU_CHECK(strcmp((const char *) sqlite3_column_text(q, 0),
                    "codec=zstd format=1 hash=fnv1a64-fmix64 index_mask=7 k=3 shard=2 shardidx=2 "
                    "shards=3 types=str,int,bytes")
             == 0);
    sqlite3_finalize(q);
    MU_CHECK_EQ(sqlite3_prepare_v2(db,
                                   "SELECT group_concat(name || ':' || type, ' ') FROM "
                                   "pragma_table_info('entries')",
                                   -1, &q, NULL),
                SQLITE_OK);
    MU_CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    MU_CHECK(strcmp((const char *) sqlite3_column_text(q, 0),
                    "k0:TEXT k1:INTEGER k2:BLOB codec:INTEGER vlen:INTEGER value:BLOB")
             == 0);
    sqlite3_finalize(q);
    MU_CHECK_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    MU_CHECK(strcmp((const char *) sqlite3_column_text(q, 0), "wal") == 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

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

/*  A caller bug (a NULL store) aborts: asserted. */
static void
s_child_null_store(const char *arg, int fd)
{
    (void) arg;
    (void) fd;
    uint64_t n;
    (void) !mu_shard_len(NULL, &n);
}

static void
test_caller_bug_asserts(void)
{
    MU_CHECK(mu_test_child_aborts(s_child_null_store, NULL));
}

int
main(void)
{
    mu_test_start(300);
    if (!mu_test_scratch_dir(tmp_root, sizeof tmp_root, "mu-test-shard")) {
        perror("mkdtemp");
        return 1;
    }
    MU_RUN(test_hash_vectors);
    MU_RUN(test_distribution_1m);
    MU_RUN(test_placement_real_writes);
    MU_RUN(test_round_trip_types);
    MU_RUN(test_round_trip_values_codecs);
    MU_RUN(test_delete_contains_len_clear);
    MU_RUN(test_batch);
    MU_RUN(test_iterate);
    MU_RUN(test_range_prune_timestamp);
    MU_RUN(test_reopen_other_params);
    MU_RUN(test_open_errors);
    MU_RUN(test_key_and_value_errors);
    MU_RUN(test_key_format);
    MU_RUN(test_corrupt_value);
    MU_RUN(test_busy_timeout);
    MU_RUN(test_schema);
    MU_RUN(test_threads_share_one_handle);
    MU_RUN(test_open_while_being_created);
    MU_RUN(test_two_processes);
    MU_RUN(test_crash_loop);
    MU_RUN(test_file_size_limit);
    MU_RUN(test_caller_bug_asserts);
    rm_tree(tmp_root);
    printf("# %d passed, %d failed\n", mu_test_count - mu_test_failed, mu_test_failed);
    MU_DONE();
}
