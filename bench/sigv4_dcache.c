/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  sigv4_dcache.c — mu_sigv4_sign against its cryptography alone, and a
    warm mu_dcache_get against a raw SQLite SELECT of the same row.

      sign-get       mu_sigv4_sign of a GET with 3 query parameters and 3
                     headers; baseline: SHA-256 of an equal canonical
                     request plus the 5 HMAC-SHA-256 of the signing key and
                     signature (libsodium), i.e. what any signer must do.
      dcache-get-1k  mu_dcache_get of a 1 KiB value among 1,000 keys (copy,
                     recency in memory and the recency stamp written);
                     baseline: a prepared SELECT of that value from an
                     SQLite file of the same schema and pragmas (WAL,
                     synchronous=NORMAL), value copied.
    Rates are per CPU second of the calling thread (the work is
    single-threaded; the 2-core machine is shared). */
#include "config.h"
#include "bench.h"
#include "mutil.h"

#include <sodium.h>
#include <sqlite3.h>

static void
compare(const bench_opts_t *opts, const char *name, const char *unit, bench_op_fn ours,
        void *c_ours, bench_op_fn base, void *c_base, const char *base_name)
{
    if (!bench_selected(opts, name))
        return;
    double v_ours[BENCH_MAX_REPS], v_base[BENCH_MAX_REPS];
    long n_ours = bench_cpu_calibrate(ours, c_ours, opts->target_s);
    long n_base = bench_cpu_calibrate(base, c_base, opts->target_s);
    for (int r = 0; r < opts->reps; r++) {
        v_ours[r] = bench_cpu_rate(ours, c_ours, n_ours);
        v_base[r] = bench_cpu_rate(base, c_base, n_base);
        if (opts->verbose)
            fprintf(stderr, "%s rep %d: %.0f vs %.0f %s\n", name, r, v_ours[r], v_base[r], unit);
    }
    bench_report("sigv4_dcache", name, unit, bench_median(v_ours, opts->reps), base_name,
                 bench_median(v_base, opts->reps), bench_paired_ratio(v_ours, v_base, opts->reps),
                 0, BENCH_BAR_NONE, 0);
}

/* ---- signing ---- */

static const mu_sigv4_header_t headers[] = { { "Host", "example.amazonaws.com" },
                                             { "Content-Type", "application/json" },
                                             { "X-Amz-Date", "20150830T123600Z" } };
static const mu_sigv4_request_t request = {
    .method = "GET",
    .path = "/some/object/key.json",
    .query = "list-type=2&prefix=photos%2F&max-keys=100",
    .headers = headers,
    .n_headers = 3,
    .region = "us-east-1",
    .service = "s3",
    .access_key = "AKIDEXAMPLE",
    .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
};

static volatile unsigned char sink;

static void
sign_ours(void *c)
{
    (void) c;
    mu_sigv4_t out = { 0 };
    if (mu_sigv4_sign(&request, &out) != 0)
        abort();
    sink ^= (unsigned char) out.signature[0];
    mu_sigv4_clear(&out);
}

typedef struct {
    char creq[1024];
    size_t creq_len;
    char sts[256];
} crypto_ctx_t;

static void
hmac(unsigned char out[32], const void *key, size_t klen, const void *msg, size_t mlen)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, msg, mlen);
    crypto_auth_hmacsha256_final(&st, out);
}

static void
sign_crypto_only(void *arg)
{
    crypto_ctx_t *c = arg;
    unsigned char h[32], k[32];
    crypto_hash_sha256(h, (const unsigned char *) c->creq, c->creq_len);
    static const char secret[] = "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    hmac(k, secret, sizeof secret - 1, "20150830", 8);
    hmac(k, k, 32, "us-east-1", 9);
    hmac(k, k, 32, "s3", 2);
    hmac(k, k, 32, "aws4_request", 12);
    memcpy(c->sts + 100, h, 32); /* the hash goes into the string to sign */
    hmac(k, k, 32, c->sts, 164);
    sink ^= k[0];
}

/* ---- cache get ---- */

typedef struct {
    mu_dcache_t *cache;
    sqlite3 *db;
    sqlite3_stmt *st;
    unsigned i;
} cache_ctx_t;

#define NKEYS 1000
#define VALUE 1024

static void
key_of(unsigned i, char *k)
{
    snprintf(k, 16, "key-%06u", i % NKEYS);
}

static void
get_ours(void *arg)
{
    cache_ctx_t *c = arg;
    char k[16];
    key_of(c->i++ * 7919, k);
    void *v;
    size_t n;
    if (mu_dcache_get(c->cache, k, 10, &v, &n) != 0)
        abort();
    sink ^= ((unsigned char *) v)[n / 2];
    free(v);
}

static void
get_raw(void *arg)
{
    cache_ctx_t *c = arg;
    char k[16];
    key_of(c->i++ * 7919, k);
    sqlite3_bind_blob(c->st, 1, k, 10, SQLITE_STATIC);
    if (sqlite3_step(c->st) != SQLITE_ROW)
        abort();
    int n = sqlite3_column_bytes(c->st, 0);
    char *copy = malloc((size_t) n + 1);
    memcpy(copy, sqlite3_column_blob(c->st, 0), (size_t) n);
    sqlite3_reset(c->st);
    sink ^= (unsigned char) copy[n / 2];
    free(copy);
}

static bool
setup_cache(const char *dir, cache_ctx_t *ours, cache_ctx_t *raw)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cache.db", dir);
    ours->cache = mu_dcache_open(path, NULL);
    snprintf(path, sizeof path, "%s/raw.db", dir);
    if (!ours->cache || sqlite3_open(path, &raw->db) != SQLITE_OK)
        return false;
    sqlite3_exec(raw->db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE entries(key BLOB PRIMARY KEY, value BLOB NOT NULL,"
                 " expires INTEGER NOT NULL, used INTEGER NOT NULL); BEGIN",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(raw->db, "INSERT INTO entries VALUES(?1, ?2, 0, 0)", -1, &ins, NULL);
    static char value[VALUE];
    memset(value, 'v', sizeof value);
    for (unsigned i = 0; i < NKEYS; i++) {
        char k[16];
        key_of(i, k);
        if (mu_dcache_set(ours->cache, k, 10, value, VALUE, MU_DCACHE_FOREVER) != 0)
            return false;
        sqlite3_bind_blob(ins, 1, k, 10, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, value, VALUE, SQLITE_STATIC);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(raw->db, "COMMIT", NULL, NULL, NULL);
    return sqlite3_prepare_v2(raw->db, "SELECT value FROM entries WHERE key = ?1", -1, &raw->st,
                              NULL)
           == SQLITE_OK;
}

int
main(int argc, char **argv)
{
    bench_opts_t opts;
    bench_parse_args(argc, argv, &opts);
    if (sodium_init() < 0)
        return 1;
    /* The baseline signs a canonical request of the same length. */
    crypto_ctx_t cc = { 0 };
    mu_sigv4_t out = { 0 };
    if (mu_sigv4_sign(&request, &out) != 0)
        return 1;
    cc.creq_len = strlen(out.canonical_request);
    memcpy(cc.creq, out.canonical_request, cc.creq_len);
    memset(cc.sts, 'S', sizeof cc.sts);
    mu_sigv4_clear(&out);
    compare(&opts, "sign-get", "sig/s", sign_ours, NULL, sign_crypto_only, &cc,
            "sha256+5hmac-only");

    char dir[] = "/tmp/bench-dcache.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    cache_ctx_t ours = { 0 }, raw = { 0 };
    if (setup_cache(dir, &ours, &raw))
        compare(&opts, "dcache-get-1k", "get/s", get_ours, &ours, get_raw, &raw,
                "raw-sqlite-select");
    else
        fprintf(stderr, "dcache set-up failed: %s\n", mu_last_error());
    mu_dcache_destroy(&ours.cache);
    sqlite3_finalize(raw.st);
    sqlite3_close(raw.db);
    bench_remove_tree(dir);
    bench_print_table();
    return 0;
}
