/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/json.c — the JSON library libmutil uses (jansson) against json-c,
    and mu_json's conversion against jansson alone (doc/json.md).

    Cases, each on a 1 KiB and a 64 KiB document:
      parse-1k, parse-64k  parse the text into the library's tree and free
                           it: jansson (json_loadb with the flags mu_json
                           uses: duplicate keys refused) against json-c
                           (json_tokener_parse_ex on a reused tokener, in
                           bench/json_c.c: the two libraries' headers
                           declare the same names);
      rt-1k, rt-64k        parse, then write compact text (jansson
                           json_dumpb into a buffer; json-c
                           json_object_to_json_string_length, PLAIN), then
                           free: the work of a JSON gateway;
      mu-json-1k, -64k     mu_json_to_pack then mu_json_from_pack (JSON ->
                           MessagePack -> JSON) against jansson's parse and
                           dump of the same text (the rt case's jansson
                           side): what converting to MessagePack costs.
    Values are documents per second of the thread's CPU time (MB/s in the
    table), so that other load on the machine does not count; for the first two
    groups "ours" is jansson and the baseline json-c, so a ratio above 1
    means jansson is faster. Without json-c (configure's json-c(bench)=no)
    those cases are skipped.

    The 1 KiB document is an object of a sensor: numbers (integers and
    reals), strings with escapes and non-ASCII text, nested arrays of
    objects; the 64 KiB one is an array of such objects. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#ifdef HAVE_JSONC
#include "json_c.h"
#endif

#include "mutil.h"
#include "bench.h"

/* ---- documents -------------------------------------------------------------------- */

/*  Appends one sensor object (about 1 KiB) numbered i to buf at *len. */
static void
append_object(char *buf, size_t cap, size_t *len, int i)
{
    size_t o = *len;
    o += (size_t) snprintf(
        buf + o, cap - o,
        "{\"id\":%d,\"name\":\"sensor-%04d\",\"site\":\"Z\\u00fcrich \\\"Nord\\\"\","
        "\"active\":%s,\"owner\":null,\"tags\":[\"temp\",\"hvac\",\"floor-%d\"],"
        "\"readings\":[",
        100000 + i, i, i % 2 ? "true" : "false", i % 9);
    for (int r = 0; r < 15; r++)
        o += (size_t) snprintf(buf + o, cap - o,
                               "%s{\"t\":%d,\"v\":%.3f,\"q\":%d,\"flags\":[%d,%d]}", r ? "," : "",
                               1700000000 + 60 * r + i, 20.0 + 0.125 * r + 0.001 * i, r % 3, r, -r);
    o += (size_t) snprintf(buf + o, cap - o,
                           "],\"meta\":{\"unit\":\"\\u00b0C\",\"loc\":[47.3769,8.5417],"
                           "\"calibrated\":\"2026-11-%02d\",\"note\":\"line one\\nline two\\ttab\","
                           "\"firmware\":{\"major\":3,\"minor\":%d,\"build\":\"a1b2c3d4\"}}}",
                           1 + i % 28, i % 11);
    *len = o;
}

/*  A document of about target bytes: one object, or an array of them. */
static char *
make_document(size_t target, size_t *len_p)
{
    size_t cap = target * 2 + 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    if (target <= 1024) {
        append_object(buf, cap, &len, 0);
    } else {
        buf[len++] = '[';
        for (int i = 0; len < target - 1100; i++) {
            if (i)
                buf[len++] = ',';
            append_object(buf, cap, &len, i);
        }
        buf[len++] = ']';
    }
    buf[len] = '\0';
    *len_p = len;
    return buf;
}

/* ---- the measured operations ---------------------------------------------------------- */

typedef struct {
    const char *doc;
    size_t len;
    char *out; /* room for the written text */
    size_t out_cap;
    mu_pack_t *pack;
    void *tok; /* json-c's tokener */
} ctx_t;


static void
jansson_rt(void *arg)
{
    ctx_t *c = arg;
    json_error_t error;
    json_t *root = json_loadb(c->doc, c->len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
    if (!root || json_dumpb(root, c->out, c->out_cap, JSON_COMPACT) == 0)
        abort();
    json_decref(root);
}

static void
mu_json_rt(void *arg)
{
    ctx_t *c = arg;
    mu_pack_reset(c->pack);
    size_t size = 0, json_size = 0;
    if (mu_json_to_pack(c->doc, c->len, NULL, c->pack) != 0)
        abort();
    const void *bytes = mu_pack_data(c->pack, &size);
    char *json = NULL;
    if (!bytes || mu_json_from_pack(bytes, size, NULL, 0, &json, &json_size) != 0)
        abort();
    free(json);
}

#ifdef HAVE_JSONC
static void
jansson_parse(void *arg)
{
    ctx_t *c = arg;
    json_error_t error;
    json_t *root = json_loadb(c->doc, c->len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
    if (!root)
        abort();
    json_decref(root);
}

static void
jsonc_parse(void *arg)
{
    ctx_t *c = arg;
    bench_jsonc_parse(c->tok, c->doc, c->len);
}

static void
jsonc_rt(void *arg)
{
    ctx_t *c = arg;
    bench_jsonc_rt(c->tok, c->doc, c->len);
}
#endif

/* ---- timing -------------------------------------------------------------------------- */

/*  Measures ours against base on the document, back to back each
    repetition, and reports the pair. */
static void
compare(const bench_opts_t *opts, const char *name, ctx_t *c, bench_op_fn ours, bench_op_fn base,
        const char *base_name)
{
    if (!bench_selected(opts, name))
        return;
    double v_ours[BENCH_MAX_REPS], v_base[BENCH_MAX_REPS];
    long n_ours = bench_cpu_calibrate(ours, c, opts->target_s),
         n_base = bench_cpu_calibrate(base, c, opts->target_s);
    for (int r = 0; r < opts->reps; r++) {
        v_ours[r] = bench_cpu_rate(ours, c, n_ours);
        v_base[r] = bench_cpu_rate(base, c, n_base);
        if (opts->verbose)
            fprintf(stderr, "%s rep %d: %.0f vs %.0f doc/s\n", name, r, v_ours[r], v_base[r]);
    }
    bench_report("json", name, "doc/s", bench_median(v_ours, opts->reps), base_name,
                 bench_median(v_base, opts->reps), bench_paired_ratio(v_ours, v_base, opts->reps),
                 (double) c->len, BENCH_BAR_NONE, 0);
}

int
main(int argc, char **argv)
{
    bench_opts_t opts;
    bench_parse_args(argc, argv, &opts);
    static const struct {
        size_t size;
        const char *parse, *rt, *mu;
    } docs[] = { { 1024, "parse-1k", "rt-1k", "mu-json-1k" },
                 { 64 * 1024, "parse-64k", "rt-64k", "mu-json-64k" } };
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
        ctx_t c = { 0 };
        c.doc = make_document(docs[d].size, &c.len);
        c.out_cap = c.len * 2;
        c.out = malloc(c.out_cap);
        c.pack = mu_pack_new();
        if (!c.out || !c.pack)
            abort();
        fprintf(stderr, "document of %zu bytes\n", c.len);
#ifdef HAVE_JSONC
        c.tok = bench_jsonc_new();
        compare(&opts, docs[d].parse, &c, jansson_parse, jsonc_parse, "json-c");
        compare(&opts, docs[d].rt, &c, jansson_rt, jsonc_rt, "json-c");
        bench_jsonc_free(c.tok);
#else
        fprintf(stderr, "json-c not found by configure: %s and %s skipped\n", docs[d].parse,
                docs[d].rt);
#endif
        compare(&opts, docs[d].mu, &c, mu_json_rt, jansson_rt, "jansson-load-dump");
        mu_pack_destroy(&c.pack);
        free(c.out);
        free((char *) c.doc);
    }
    bench_print_table();
    return 0;
}
