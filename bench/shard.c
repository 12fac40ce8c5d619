/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/shard.c — mu_shard against raw SQLite with the same schema and
    settings, in the same run.

    Cases (SPEC.md, "Performance bars"):
      get-warm-p50     p50 latency of mu_shard_get_buf on a warm store of one
                       shard (every key read once before timing), random
                       keys; baseline: a prepared SELECT of the value blob on
                       a plain SQLite file with the same table, index and
                       pragmas (WAL, synchronous=NORMAL, 32 MiB cache, mmap),
                       copying the blob out. Ours also hashes the key,
                       decompresses and checks the MessagePack.
      get-warm-p50-bars  the same with 1.7 KB values (30 bars), which are
                       stored zstd-compressed (ticks, under 256 B, are not).
      set-single-p50   p50 latency of mu_shard_set of a new key (one
                       transaction each); baseline: an autocommit INSERT OR
                       REPLACE of the uncompressed bytes.
      batch-set        rows/s into one shard, batches of 1000 (adding with
                       checks and compression, then commit); baseline:
                       BEGIN IMMEDIATE, 1000 prepared INSERTs, COMMIT. Keys
                       in key order (a batch = 1000 ticks of one symbol).
      batch-set-scatter  the same with 5000 symbols interleaved: every
                       insert dirties another page, so each commit writes
                       ~1000 pages to the WAL, for raw SQLite as for us.
      len-16sh-*       mu_shard_len over 16 shards on the thread pool against
                       the same store opened with threads = 1 (serial).
      count-range-16sh-*  mu_shard_count_range over half the timestamps
                       (an index scan), parallel against serial.
      zstd-X, zlib-X   compressed size against the original, and the cost of
                       compress + decompress per value (zstd against zlib),
                       for three realistic MessagePack values: a quote tick
                       (~170 B), 30 one-minute bars (~1.3 KB), a list of 25
                       order records with text (~4.6 KB). Levels as the store
                       uses them: zstd 3 (with checksum), zlib 6.
    Latencies are p50 over many calls of one repetition, then the median of
    the repetitions; the ratio is the median of per-repetition ratios. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "mutil.h"
#include "bench.h"

static char tmp_dir[128];
static int dir_seq;

/* ---- helpers ------------------------------------------------------------------- */

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "bench/shard: %s: %s\n", what, detail);
    exit(3);
}

static void
new_path(char *buf, size_t cap, const char *what)
{
    snprintf(buf, cap, "%s/%s-%d", tmp_dir, what, dir_seq++);
}

/*  p50 in µs of the latencies (ns) in hist, which it then empties. */
static double
p50(mu_hist_t *hist)
{
    double v = bench_hist_us(hist, 0.5);
    mu_hist_reset(hist);
    return v;
}

static uint64_t
rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* ---- realistic values ------------------------------------------------------------- */

typedef struct {
    unsigned char *data;
    size_t size;
} value_t;

static value_t
take(mu_pack_t *p)
{
    size_t size = 0;
    const void *d = mu_pack_data(p, &size);
    if (!d)
        die("mu_pack_data", "failed");
    value_t v = { malloc(size), size };
    memcpy(v.data, d, size);
    mu_pack_reset(p);
    return v;
}

/*  A quote tick as a market-data service would keep it. */
static value_t
make_tick(mu_pack_t *p, int i)
{
    char sym[16];
    snprintf(sym, sizeof sym, "SYM%05d", i % 5000);
    double mid = 100 + (i % 977) * 0.37;
    mu_pack_map(p, 11);
    mu_pack_cstr(p, "sym");
    mu_pack_cstr(p, sym);
    mu_pack_cstr(p, "ts");
    mu_pack_int(p, 1700000000000 + i * 37);
    mu_pack_cstr(p, "bid");
    mu_pack_double(p, mid - 0.01);
    mu_pack_cstr(p, "ask");
    mu_pack_double(p, mid + 0.02);
    mu_pack_cstr(p, "bid_size");
    mu_pack_int(p, 100 * (i % 13 + 1));
    mu_pack_cstr(p, "ask_size");
    mu_pack_int(p, 100 * (i % 7 + 1));
    mu_pack_cstr(p, "exchange");
    mu_pack_cstr(p, i % 3 ? "NASDAQ" : "NYSE");
    mu_pack_cstr(p, "conditions");
    mu_pack_array(p, 2);
    mu_pack_cstr(p, "regular");
    mu_pack_cstr(p, i % 5 ? "round_lot" : "odd_lot");
    mu_pack_cstr(p, "seq");
    mu_pack_int(p, 1000000 + i);
    mu_pack_cstr(p, "venue_ts");
    mu_pack_int(p, 1700000000000 + i * 37 - 3);
    mu_pack_cstr(p, "tape");
    mu_pack_cstr(p, "C");
    return take(p);
}

/*  30 one-minute bars. */
static value_t
make_bars(mu_pack_t *p, int i)
{
    mu_pack_map(p, 3);
    mu_pack_cstr(p, "sym");
    mu_pack_cstr(p, "SYM00042");
    mu_pack_cstr(p, "interval");
    mu_pack_cstr(p, "1m");
    mu_pack_cstr(p, "bars");
    mu_pack_array(p, 30);
    for (int b = 0; b < 30; b++) {
        double o = 100 + ((i + b) * 7919 % 1000) / 100.0;
        mu_pack_map(p, 6);
        mu_pack_cstr(p, "t");
        mu_pack_int(p, 1700000000 + (i * 30 + b) * 60);
        mu_pack_cstr(p, "o");
        mu_pack_double(p, o);
        mu_pack_cstr(p, "h");
        mu_pack_double(p, o + 0.25);
        mu_pack_cstr(p, "l");
        mu_pack_double(p, o - 0.31);
        mu_pack_cstr(p, "c");
        mu_pack_double(p, o + 0.05);
        mu_pack_cstr(p, "v");
        mu_pack_int(p, 1000 + (b * 7717 + i) % 50000);
    }
    return take(p);
}

/*  25 order records with free text. */
static value_t
make_orders(mu_pack_t *p, int i)
{
    static const char *notes[] = { "customer asked for partial fills only",
                                   "routed to dark pool after timeout", "manual review required",
                                   "auto-cancel at end of day" };
    char id[32];
    mu_pack_array(p, 25);
    for (int r = 0; r < 25; r++) {
        snprintf(id, sizeof id, "ord-%08d-%04d", i, r);
        mu_pack_map(p, 7);
        mu_pack_cstr(p, "id");
        mu_pack_cstr(p, id);
        mu_pack_cstr(p, "account");
        mu_pack_cstr(p, r % 2 ? "ACC-7781-EU" : "ACC-1204-US");
        mu_pack_cstr(p, "side");
        mu_pack_cstr(p, r % 3 ? "buy" : "sell");
        mu_pack_cstr(p, "qty");
        mu_pack_int(p, 100 * (r % 9 + 1));
        mu_pack_cstr(p, "limit");
        mu_pack_double(p, 99.5 + r * 0.125);
        mu_pack_cstr(p, "status");
        mu_pack_cstr(p, r % 4 ? "open" : "filled");
        mu_pack_cstr(p, "note");
        mu_pack_cstr(p, notes[(i + r) % 4]);
    }
    return take(p);
}

/* ---- raw SQLite baseline ------------------------------------------------------------ */

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *get, *put, *begin, *commit;
} raw_t;

static void
raw_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die(sql, err ? err : "?");
}

/*  One file with exactly the table, index and pragmas of a (str, int) store. */
static void
raw_open(raw_t *r, const char *path)
{
    if (sqlite3_open_v2(path, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK)
        die("sqlite3_open", path);
    sqlite3_busy_timeout(r->db, 5000);
    raw_exec(r->db,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;"
             " PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY;"
             "CREATE TABLE entries(k0 TEXT NOT NULL, k1 INTEGER NOT NULL, codec INTEGER NOT NULL,"
             " vlen INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY(k0, k1)) WITHOUT ROWID;"
             "CREATE INDEX entries_k1 ON entries(k1);");
    const char *sql[4] = {
        "SELECT value FROM entries WHERE k0 = ?1 AND k1 = ?2",
        "INSERT OR REPLACE INTO entries(k0, k1, codec, vlen, value) VALUES(?1, ?2, 1, ?3, ?4)",
        "BEGIN IMMEDIATE", "COMMIT"
    };
    sqlite3_stmt **st[4] = { &r->get, &r->put, &r->begin, &r->commit };
    for (int i = 0; i < 4; i++)
        if (sqlite3_prepare_v3(r->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL)
            != SQLITE_OK)
            die("prepare", sqlite3_errmsg(r->db));
}

static void
raw_close(raw_t *r)
{
    sqlite3_finalize(r->get);
    sqlite3_finalize(r->put);
    sqlite3_finalize(r->begin);
    sqlite3_finalize(r->commit);
    sqlite3_close(r->db);
}

static void
raw_step_done(raw_t *r, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die("raw step", sqlite3_errmsg(r->db));
    sqlite3_reset(st);
}

static void
raw_put(raw_t *r, const char *sym, int64_t ts, const value_t *v)
{
    sqlite3_bind_text(r->put, 1, sym, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->put, 2, ts);
    sqlite3_bind_int64(r->put, 3, (sqlite3_int64) v->size);
    sqlite3_bind_blob(r->put, 4, v->data, (int) v->size, SQLITE_STATIC);
    raw_step_done(r, r->put);
}

static size_t
raw_get(raw_t *r, const char *sym, int64_t ts, unsigned char *buf, size_t cap)
{
    sqlite3_bind_text(r->get, 1, sym, -1, SQLITE_STATIC);
    sqlite3_bind_int64(r->get, 2, ts);
    size_t n = 0;
    if (sqlite3_step(r->get) == SQLITE_ROW) {
        n = (size_t) sqlite3_column_bytes(r->get, 0);
        if (n <= cap)
            memcpy(buf, sqlite3_column_blob(r->get, 0), n);
    } else {
        die("raw get", "missing key");
    }
    sqlite3_reset(r->get);
    return n;
}

/* ---- ours ---------------------------------------------------------------------------- */

static mu_shard_t *
ours_open(const char *dir, size_t shards, size_t threads)
{
    mu_shard_opts_t o = { .k = 2,
                          .shards = shards,
                          .create = true,
                          .threads = threads,
                          .types = { MU_SHARD_STR, MU_SHARD_INT } };
    mu_shard_t *s = mu_shard_open(dir, &o);
    if (!s)
        die("mu_shard_open", mu_last_error());
    return s;
}

static void
key_of(int i, char *sym, size_t cap, int64_t *ts)
{
    snprintf(sym, cap, "SYM%05d", i % 5000);
    *ts = 1700000000000 + i;
}

/*  Loads n ticks into both stores (batches), so that gets find them. */
static void
load_both(mu_shard_t *s, raw_t *r, const value_t *vals, int nvals, int n)
{
    mu_shard_batch_t *b = mu_shard_batch_new(s);
    raw_step_done(r, r->begin);
    char sym[16];
    int64_t ts;
    for (int i = 0; i < n; i++) {
        key_of(i, sym, sizeof sym, &ts);
        mu_shard_elem_t key[2] = { mu_shard_str(sym), mu_shard_int(ts) };
        const value_t *v = &vals[i % nvals];
        if (mu_shard_batch_set(b, key, 2, v->data, v->size) != 0)
            die("batch_set", mu_last_error());
        raw_put(r, sym, ts, v);
        if (i % 1000 == 999 || i == n - 1) {
            if (mu_shard_batch_commit(b) != 0)
                die("commit", mu_last_error());
            raw_step_done(r, r->commit);
            if (i != n - 1)
                raw_step_done(r, r->begin);
        }
    }
    mu_shard_batch_destroy(&b);
}

/* ---- cases --------------------------------------------------------------------------------- */

static value_t ticks[64], bars[64];

static void
case_get(const bench_opts_t *opts, const char *name, const value_t *vals, bench_bar_t bar_kind)
{
    int n = opts->quick ? 20000 : 200000, calls = opts->quick ? 20000 : 200000;
    char dir[256], path[256];
    new_path(dir, sizeof dir, "get");
    new_path(path, sizeof path, "get-raw.db");
    mu_shard_t *s = ours_open(dir, 1, 0);
    raw_t r = { 0 };
    raw_open(&r, path);
    load_both(s, &r, vals, 64, n);
    mu_hist_t *lat = mu_hist_new();
    if (!lat)
        die("histogram", mu_last_error());
    double ours[BENCH_MAX_REPS], base[BENCH_MAX_REPS];
    int *order = malloc((size_t) calls * sizeof *order);
    uint64_t seed = 88172645463325252ULL;
    for (int i = 0; i < calls; i++)
        order[i] = (int) (rnd(&seed) % (uint64_t) n);
    unsigned char buf[8192];
    char sym[16];
    int64_t ts;
    size_t size;
    for (int i = 0; i < n; i++) { /* warm both */
        key_of(i, sym, sizeof sym, &ts);
        mu_shard_elem_t key[2] = { mu_shard_str(sym), mu_shard_int(ts) };
        if (mu_shard_get_buf(s, key, 2, buf, sizeof buf, &size) != 0)
            die("get", mu_last_error());
        raw_get(&r, sym, ts, buf, sizeof buf);
    }
    for (int rep = 0; rep < opts->reps; rep++) {
        for (int i = 0; i < calls; i++) {
            key_of(order[i], sym, sizeof sym, &ts);
            int64_t t0 = bench_now_ns();
            mu_shard_elem_t key[2] = { mu_shard_str(sym), mu_shard_int(ts) };
            int rc = mu_shard_get_buf(s, key, 2, buf, sizeof buf, &size);
            mu_hist_record(lat, (uint64_t) (bench_now_ns() - t0));
            if (rc != 0)
                die("get", mu_last_error());
        }
        ours[rep] = p50(lat);
        for (int i = 0; i < calls; i++) {
            key_of(order[i], sym, sizeof sym, &ts);
            int64_t t0 = bench_now_ns();
            raw_get(&r, sym, ts, buf, sizeof buf);
            mu_hist_record(lat, (uint64_t) (bench_now_ns() - t0));
        }
        base[rep] = p50(lat);
        if (opts->verbose)
            fprintf(stderr, "get rep %d: ours %.2f us, raw %.2f us\n", rep, ours[rep], base[rep]);
    }
    bench_report("shard", name, "us", bench_median(ours, opts->reps), "raw-sqlite-select",
                 bench_median(base, opts->reps), bench_paired_ratio(ours, base, opts->reps), 0,
                 bar_kind, 5.0);
    mu_hist_destroy(&lat);
    free(order);
    mu_shard_destroy(&s);
    raw_close(&r);
}

static void
case_set(const bench_opts_t *opts)
{
    int calls = opts->quick ? 3000 : 20000;
    char dir[256], path[256];
    new_path(dir, sizeof dir, "set");
    new_path(path, sizeof path, "set-raw.db");
    mu_shard_t *s = ours_open(dir, 1, 0);
    raw_t r = { 0 };
    raw_open(&r, path);
    load_both(s, &r, ticks, 64, 10000); /* a table that is not empty */
    mu_hist_t *lat = mu_hist_new();
    if (!lat)
        die("histogram", mu_last_error());
    double ours[BENCH_MAX_REPS], base[BENCH_MAX_REPS];
    char sym[16];
    int64_t ts;
    int next = 10000;
    for (int rep = 0; rep < opts->reps; rep++) {
        for (int i = 0; i < calls; i++) {
            key_of(next + i, sym, sizeof sym, &ts);
            const value_t *v = &ticks[i % 64];
            int64_t t0 = bench_now_ns();
            mu_shard_elem_t key[2] = { mu_shard_str(sym), mu_shard_int(ts) };
            int rc = mu_shard_set(s, key, 2, v->data, v->size);
            mu_hist_record(lat, (uint64_t) (bench_now_ns() - t0));
            if (rc != 0)
                die("set", mu_last_error());
        }
        ours[rep] = p50(lat);
        for (int i = 0; i < calls; i++) {
            key_of(next + i, sym, sizeof sym, &ts);
            int64_t t0 = bench_now_ns();
            raw_put(&r, sym, ts, &ticks[i % 64]);
            mu_hist_record(lat, (uint64_t) (bench_now_ns() - t0));
        }
        base[rep] = p50(lat);
        next += calls;
    }
    bench_report("shard", "set-single-p50", "us", bench_median(ours, opts->reps),
                 "raw-sqlite-insert", bench_median(base, opts->reps),
                 bench_paired_ratio(ours, base, opts->reps), 0, BENCH_BAR_MAX_VALUE, 30.0);
    mu_hist_destroy(&lat);
    mu_shard_destroy(&s);
    raw_close(&r);
}

/*  Keys of the batch cases: in order (one symbol per batch of 1000, ts
    rising: appending each symbol's ticks) or scattered (5000 symbols
    interleaved, so every insert lands on another B-tree page). */
static void
batch_key(bool in_order, int i, char *sym, size_t cap, int64_t *ts)
{
    if (in_order) {
        snprintf(sym, cap, "SYM%07d", i / 1000);
        *ts = 1700000000000 + i;
    } else {
        key_of(i, sym, cap, ts);
    }
}

static void
case_batch(const bench_opts_t *opts, bool in_order)
{
    int rows = opts->quick ? 20000 : in_order ? 200000 : 50000;
    char dir[256], path[256];
    new_path(dir, sizeof dir, "batch");
    new_path(path, sizeof path, "batch-raw.db");
    mu_shard_t *s = ours_open(dir, 1, 0);
    mu_shard_batch_t *b = mu_shard_batch_new(s);
    raw_t r = { 0 };
    raw_open(&r, path);
    double ours[BENCH_MAX_REPS], base[BENCH_MAX_REPS];
    char sym[16];
    int64_t ts;
    int next = 0;
    for (int rep = 0; rep < opts->reps; rep++) {
        int64_t t0 = bench_now_ns();
        for (int i = 0; i < rows; i++) {
            batch_key(in_order, next + i, sym, sizeof sym, &ts);
            mu_shard_elem_t key[2] = { mu_shard_str(sym), mu_shard_int(ts) };
            const value_t *v = &ticks[i % 64];
            if (mu_shard_batch_set(b, key, 2, v->data, v->size) != 0)
                die("batch_set", mu_last_error());
            if (i % 1000 == 999 && mu_shard_batch_commit(b) != 0)
                die("commit", mu_last_error());
        }
        if (mu_shard_batch_commit(b) != 0)
            die("commit", mu_last_error());
        ours[rep] = rows / ((double) (bench_now_ns() - t0) / 1e9);
        t0 = bench_now_ns();
        for (int i = 0; i < rows; i++) {
            batch_key(in_order, next + i, sym, sizeof sym, &ts);
            if (i % 1000 == 0)
                raw_step_done(&r, r.begin);
            raw_put(&r, sym, ts, &ticks[i % 64]);
            if (i % 1000 == 999 || i == rows - 1)
                raw_step_done(&r, r.commit);
        }
        base[rep] = rows / ((double) (bench_now_ns() - t0) / 1e9);
        next += rows;
    }
    bench_report("shard", in_order ? "batch-set" : "batch-set-scatter", "rows/s",
                 bench_median(ours, opts->reps), "raw-sqlite-txn-1000",
                 bench_median(base, opts->reps), bench_paired_ratio(ours, base, opts->reps), 0,
                 in_order ? BENCH_BAR_MIN_VALUE : BENCH_BAR_NONE, 200e3);
    mu_shard_batch_destroy(&b);
    mu_shard_destroy(&s);
    raw_close(&r);
}

static void
case_len(const bench_opts_t *opts)
{
    int rows = opts->quick ? 160000 : 800000, calls = opts->quick ? 5 : 20;
    char dir[256];
    new_path(dir, sizeof dir, "len");
    mu_shard_t *par = ours_open(dir, 16, 0);
    mu_shard_batch_t *b = mu_shard_batch_new(par);
    char sym[16];
    int64_t ts;
    for (int i = 0; i < rows; i++) {
        key_of(i, sym, sizeof sym, &ts);
        mu_shard_elem_t key[2] = { mu_shard_str(sym), mu_shard_int(ts) };
        if (mu_shard_batch_set(b, key, 2, ticks[i % 64].data, ticks[i % 64].size) != 0
            || (i % 10000 == 9999 && mu_shard_batch_commit(b) != 0))
            die("load", mu_last_error());
    }
    if (mu_shard_batch_commit(b) != 0)
        die("load", mu_last_error());
    mu_shard_batch_destroy(&b);
    mu_shard_t *ser = ours_open(dir, 16, 1);
    double ours[BENCH_MAX_REPS], base[BENCH_MAX_REPS];
    uint64_t len = 0;
    for (int rep = 0; rep < opts->reps; rep++) {
        int64_t t0 = bench_now_ns();
        for (int c = 0; c < calls; c++)
            if (mu_shard_len(par, &len) != 0 || len != (uint64_t) rows)
                die("len", "wrong");
        ours[rep] = calls / ((double) (bench_now_ns() - t0) / 1e9);
        t0 = bench_now_ns();
        for (int c = 0; c < calls; c++)
            if (mu_shard_len(ser, &len) != 0 || len != (uint64_t) rows)
                die("len", "wrong");
        base[rep] = calls / ((double) (bench_now_ns() - t0) / 1e9);
    }
    mu_shard_opts_t info;
    mu_shard_info(par, &info);
    char name[48];
    snprintf(name, sizeof name, "len-16sh-%zuthr", info.threads);
    bench_report("shard", name, "len/s", bench_median(ours, opts->reps), "serial-1-thread",
                 bench_median(base, opts->reps), bench_paired_ratio(ours, base, opts->reps), 0,
                 BENCH_BAR_NONE, 0);
    /* A heavier all-shard query: count the second half of the timestamps
       (an index range scan proportional to the rows). */
    mu_shard_elem_t lo = mu_shard_int(1700000000000 + rows / 2);
    for (int rep = 0; rep < opts->reps; rep++) {
        int64_t t0 = bench_now_ns();
        for (int c = 0; c < calls; c++)
            if (mu_shard_count_range(par, 1, &lo, NULL, &len) != 0 || len != (uint64_t) rows / 2)
                die("count_range", "wrong");
        ours[rep] = calls / ((double) (bench_now_ns() - t0) / 1e9);
        t0 = bench_now_ns();
        for (int c = 0; c < calls; c++)
            if (mu_shard_count_range(ser, 1, &lo, NULL, &len) != 0 || len != (uint64_t) rows / 2)
                die("count_range", "wrong");
        base[rep] = calls / ((double) (bench_now_ns() - t0) / 1e9);
    }
    snprintf(name, sizeof name, "count-range-16sh-%zuthr", info.threads);
    bench_report("shard", name, "query/s", bench_median(ours, opts->reps), "serial-1-thread",
                 bench_median(base, opts->reps), bench_paired_ratio(ours, base, opts->reps), 0,
                 BENCH_BAR_NONE, 0);
    mu_shard_destroy(&par);
    mu_shard_destroy(&ser);
}

/* ---- codecs ------------------------------------------------------------------------------------ */

typedef struct {
    size_t bytes; /* total compressed */
    double ns;    /* compress + decompress per value */
} codec_result_t;

static codec_result_t
run_codec(bool zstd, const value_t *vals, int n, int loops)
{
    ZSTD_CCtx *zc = ZSTD_createCCtx();
    ZSTD_DCtx *zd = ZSTD_createDCtx();
    ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 1);
    z_stream de = { 0 }, in = { 0 };
    deflateInit(&de, 6);
    inflateInit(&in);
    static unsigned char out[65536], back[65536];
    codec_result_t res = { 0, 0 };
    int64_t t0 = bench_now_ns();
    for (int l = 0; l < loops; l++)
        for (int i = 0; i < n; i++) {
            size_t c;
            if (zstd) {
                c = ZSTD_compress2(zc, out, sizeof out, vals[i].data, vals[i].size);
                if (ZSTD_decompressDCtx(zd, back, sizeof back, out, c) != vals[i].size)
                    die("zstd", "round trip");
            } else {
                deflateReset(&de);
                de.next_in = vals[i].data;
                de.avail_in = (uInt) vals[i].size;
                de.next_out = out;
                de.avail_out = sizeof out;
                deflate(&de, Z_FINISH);
                c = de.total_out;
                inflateReset(&in);
                in.next_in = out;
                in.avail_in = (uInt) c;
                in.next_out = back;
                in.avail_out = sizeof back;
                if (inflate(&in, Z_FINISH) != Z_STREAM_END || in.total_out != vals[i].size)
                    die("zlib", "round trip");
            }
            if (l == 0)
                res.bytes += c;
        }
    res.ns = (double) (bench_now_ns() - t0) / ((double) loops * n);
    ZSTD_freeCCtx(zc);
    ZSTD_freeDCtx(zd);
    deflateEnd(&de);
    inflateEnd(&in);
    return res;
}

static void
case_codec(const bench_opts_t *opts, const char *label, value_t (*make)(mu_pack_t *, int),
           int loops)
{
    enum { N = 64 };
    value_t vals[N];
    mu_pack_t *p = mu_pack_new();
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        vals[i] = make(p, i * 131);
        total += vals[i].size;
    }
    mu_pack_destroy(&p);
    loops = opts->quick ? loops / 4 + 1 : loops;
    double zs[BENCH_MAX_REPS], gs[BENCH_MAX_REPS];
    size_t zbytes = 0, gbytes = 0;
    for (int rep = 0; rep < opts->reps; rep++) {
        codec_result_t z = run_codec(true, vals, N, loops), g = run_codec(false, vals, N, loops);
        zs[rep] = z.ns;
        gs[rep] = g.ns;
        zbytes = z.bytes;
        gbytes = g.bytes;
    }
    char name[48];
    double orig = (double) total / N;
    snprintf(name, sizeof name, "zstd-%s-bytes", label);
    bench_report("shard", name, "B", (double) zbytes / N, "uncompressed", orig, NAN, 0,
                 BENCH_BAR_NONE, 0);
    snprintf(name, sizeof name, "zlib-%s-bytes", label);
    bench_report("shard", name, "B", (double) gbytes / N, "uncompressed", orig, NAN, 0,
                 BENCH_BAR_NONE, 0);
    snprintf(name, sizeof name, "zstd-%s-ns", label);
    bench_report("shard", name, "ns", bench_median(zs, opts->reps), "zlib-6",
                 bench_median(gs, opts->reps), bench_paired_ratio(zs, gs, opts->reps), 0,
                 BENCH_BAR_NONE, 0);
    for (int i = 0; i < N; i++)
        free(vals[i].data);
}

int
main(int argc, char **argv)
{
    bench_opts_t opts;
    bench_parse_args(argc, argv, &opts);
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/mu-bench-shard-XXXXXX",
             tmp && *tmp && strlen(tmp) < 64 ? tmp : "/tmp");
    if (!mkdtemp(tmp_dir))
        die("mkdtemp", strerror(errno));
    fprintf(stderr, "# bench/shard: %s mode, %d repetitions, medians; files under %s\n",
            opts.quick ? "quick" : "full", opts.reps, tmp_dir);
    mu_pack_t *p = mu_pack_new();
    for (int i = 0; i < 64; i++) {
        ticks[i] = make_tick(p, i * 7);
        bars[i] = make_bars(p, i * 7);
    }
    mu_pack_destroy(&p);
    const int64_t t0 = bench_now_ns();
    if (bench_selected(&opts, "get-warm-p50"))
        case_get(&opts, "get-warm-p50", ticks, BENCH_BAR_MAX_VALUE);
    if (bench_selected(&opts, "get-warm-p50-bars"))
        case_get(&opts, "get-warm-p50-bars", bars, BENCH_BAR_NONE);
    if (bench_selected(&opts, "set-single-p50"))
        case_set(&opts);
    if (bench_selected(&opts, "batch-set"))
        case_batch(&opts, true);
    if (bench_selected(&opts, "batch-set-scatter"))
        case_batch(&opts, false);
    if (bench_selected(&opts, "16sh"))
        case_len(&opts);
    if (bench_selected(&opts, "tick"))
        case_codec(&opts, "tick", make_tick, 400);
    if (bench_selected(&opts, "bars"))
        case_codec(&opts, "bars", make_bars, 100);
    if (bench_selected(&opts, "orders"))
        case_codec(&opts, "orders", make_orders, 40);
    bench_remove_tree(tmp_dir);
    int missed = bench_print_table();
    printf("\n%d bar(s) missed; us = microseconds (p50 of single calls), B = bytes per value, "
           "ns = compress + decompress per value; %.1f s in all\n",
           missed, (double) (bench_now_ns() - t0) / 1e9);
    for (int i = 0; i < 64; i++) {
        free(ticks[i].data);
        free(bars[i].data);
    }
    return 0;
}
