/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_shard.c — tests of mu_shard: placement (fixed hash vectors,
    evenness over 1,000,000 keys, real writes land where mu_shard_of says),
    round trips of every key element type and of values and codecs,
    single-key calls, batches, walks, range and prune, reopening with other
    parameters. Errors are in test_shard_errors.c, processes, threads and
    limits in test_shard_procs.c. */
#include "shard_cases.h"

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

int
main(void)
{
    if (!shard_suite_begin())
        return 1;
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
    shard_suite_end();
    MU_DONE();
}
