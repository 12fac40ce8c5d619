/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/lru.c — mu_lru increments (insert-or-hit) on one thread.

    Cases (SPEC.md, "Performance bars"):
      hot-10k-mem      10,000 keys drawn uniformly, capacity = their total
                       size (each level holds a quarter, so promotions keep
                       demoting: the cascade runs on most hits), in memory;
      hot-10k-sqlite   the same on a persistent LRU (warmed under
                       MU_LRU_AT_FLUSH and flushed, then timed under
                       MU_LRU_GROUP, 100 ms): hits stay in memory until
                       flush, as documented;
      rand-1M-mem      1,000,000 keys drawn uniformly (every access a cache
                       miss of the CPU's caches), capacity = their total;
      rand-1M-sqlite   the same, persistent;
      *-many           extra cases (no SPEC bar): the same runs through
                       mu_lru_increment_many, 64 keys per call, on the same
                       trace (the plain baseline still goes one key at a
                       time);
      *-sqlite-vs-mem  persistent against in-memory, hits only (every trace
                       key warmed first; bar: within 10 %, a ratio >= 0.9):
                       mu_lru_increment on both LRUs of the hot-10k or
                       rand-1M case, built and warmed alike, alternating in
                       ABBA order within each repetition (see
                       run_persist_vs_mem); null if the setup fails;
      flush-1M         mu_lru_flush of 1,000,000 dirty keys in one
                       transaction, in rows/s (flush-100k with --quick).

    Keys are 8 bytes (a mixed 64-bit id), sizes 1. Every LRU is warmed with
    one access per key before timing, so the timed part is the steady state:
    mostly hits, each a promotion (and demotions). The trace is a
    precomputed array of 4 M ids read cyclically.

    Baseline, in the same run and on the same trace: a plain LRU written
    here (one doubly linked list, move-to-front on a hit, an open-addressing
    table of 64-bit integer keys with a multiplicative hash, no key bytes,
    no sizes, no levels) — the floor of "hash lookup + list move" that any
    LRU pays. A second baseline for the in-memory cases, "plain-s4lru"
    (extra lines "<case>-vs-s4", bar 0.9): a minimal S4LRU written here on
    the plain LRU's table, with mu_lru's levels and cascade rule but integer
    keys and no sizes, dirty flag or statistics — the floor of "hash lookup
    + S4LRU moves", the limit for the cases where a segmented LRU cannot
    reach 0.9 of a single-list one; the setup checks on a small trace that
    it keeps the same lists as mu_lru (the bench exits 1 if not). Also for
    rand-1M-mem: there it ran at 0.35-0.6 of ours with 260 MiB of L3, at
    1.0-1.2 with 32 MiB (doc/lru.md, "Tenth pass"). For
    rand-1M-mem-many a third one, "plain-s4lru-many" (lru_s4b.h): the same
    minimal S4LRU built and batched the way mu_lru_increment_many is (the
    table is the node array, 16-byte nodes, the same prefetch pipeline),
    checked in the setup against the second. It runs faster than the plain
    LRU, so it shows the bar is not out of reach for an S4LRU; its lines
    are a reference and carry no bar. For
    flush-1M the baseline is raw SQLite: INSERT OR REPLACE of
    the same number of rows into the same schema, in one transaction, with
    the same pragmas (WAL, synchronous=NORMAL).

    ours/baseline runs alternate --reps times; values are medians, the
    ratio the median of per-repetition ratios. On stderr, each case also
    gets the same figures in operations per second of thread CPU time
    (CLOCK_THREAD_CPUTIME_ID), which a loaded machine disturbs far less
    than wall time; the JSON lines keep wall time. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "mu_lru.h"
#include "bench.h"
#include "lru_s4b.h"

#define TRACE_LEN (1u << 22)

static char tmp_dir[256];
static uint32_t *trace;

static uint64_t
mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void
make_trace(uint32_t nkeys, uint64_t seed)
{
    for (uint32_t i = 0; i < TRACE_LEN; i++)
        trace[i] = (uint32_t) (mix64(seed + i * 0x9E3779B97F4A7C15ull) % nkeys);
}

static inline uint64_t
key_of(uint32_t id)
{
    return mix64(id + 0x1234567ull);
}

/* ---- the baseline: a plain LRU -------------------------------------------- */

typedef struct {
    uint64_t key;
    uint32_t prev, next;
} pnode_t;

typedef struct {
    pnode_t *nodes;
    uint32_t *slots; /* node index + 1; 0 empty */
    uint32_t mask, n, cap, head, tail;
} plain_t;

#define PNIL UINT32_MAX

static void
plain_init(plain_t *p, uint32_t cap)
{
    uint32_t slots = 1;
    while (slots < cap * 2)
        slots *= 2;
    p->nodes = malloc((size_t) cap * sizeof *p->nodes);
    p->slots = calloc(slots, sizeof *p->slots);
    p->mask = slots - 1;
    p->n = 0;
    p->cap = cap;
    p->head = p->tail = PNIL;
}

static void
plain_free(plain_t *p)
{
    free(p->nodes);
    free(p->slots);
}

static inline void
plain_unlink(plain_t *p, uint32_t i)
{
    pnode_t *n = &p->nodes[i];
    if (n->prev != PNIL)
        p->nodes[n->prev].next = n->next;
    else
        p->head = n->next;
    if (n->next != PNIL)
        p->nodes[n->next].prev = n->prev;
    else
        p->tail = n->prev;
}

static inline void
plain_front(plain_t *p, uint32_t i)
{
    pnode_t *n = &p->nodes[i];
    n->prev = PNIL;
    n->next = p->head;
    if (p->head != PNIL)
        p->nodes[p->head].prev = i;
    else
        p->tail = i;
    p->head = i;
}

/*  Insert-or-hit; returns 1 on a hit. Never evicts (capacity = key count). */
static inline int
plain_access(plain_t *p, uint64_t key)
{
    uint32_t s = (uint32_t) ((key * 0x9E3779B97F4A7C15ull) >> 32) & p->mask;
    for (;;) {
        uint32_t v = p->slots[s];
        if (v == 0)
            break;
        if (p->nodes[v - 1].key == key) {
            plain_unlink(p, v - 1);
            plain_front(p, v - 1);
            return 1;
        }
        s = (s + 1) & p->mask;
    }
    if (p->n == p->cap)
        return -1;
    uint32_t i = p->n++;
    p->nodes[i].key = key;
    p->slots[s] = i + 1;
    plain_front(p, i);
    return 0;
}

/* ---- the second baseline: a minimal S4LRU ------------------------------------ */

/*  The floor of "hash lookup + S4LRU moves": the plain LRU's table (same
    hash, same slots) with mu_lru's levels and cascade rule (4 levels, level
    capacities capacity / 4 with the remainder in level 0; a hit moves the
    key to the head of the next level up, the same level at the top; a new
    key enters level 0's head; then, from the level that grew down to level
    1, each level over its capacity demotes its tail to the head of the
    level below, stopping at the first level within its capacity). Integer
    keys, sizes 1 (a level's size is its count), no byte keys, no dirty
    flag, no statistics, no eviction (the bench never evicts). s4_check
    verifies in the setup that it keeps the same lists as mu_lru. */
#define S4_LEVELS 4

typedef struct {
    uint64_t key;
    uint32_t prev, next, level;
} snode_t;

typedef struct {
    uint32_t head, tail, count, cap;
} slevel_t;

typedef struct {
    snode_t *nodes;
    uint32_t *slots; /* node index + 1; 0 empty */
    uint32_t mask, n, max;
    slevel_t level[S4_LEVELS];
} s4_t;

static void
s4_init(s4_t *p, uint32_t max_keys, uint32_t capacity)
{
    uint32_t slots = 1;
    while (slots < max_keys * 2)
        slots *= 2;
    p->nodes = malloc((size_t) max_keys * sizeof *p->nodes);
    p->slots = calloc(slots, sizeof *p->slots);
    p->mask = slots - 1;
    p->n = 0;
    p->max = max_keys;
    uint32_t share = capacity / S4_LEVELS;
    for (int lv = 0; lv < S4_LEVELS; lv++)
        p->level[lv] = (slevel_t) { PNIL, PNIL, 0, share };
    p->level[0].cap = capacity - share * (S4_LEVELS - 1);
}

static void
s4_free(s4_t *p)
{
    free(p->nodes);
    free(p->slots);
}

static inline void
s4_unlink(s4_t *p, uint32_t i)
{
    snode_t *n = &p->nodes[i];
    slevel_t *l = &p->level[n->level];
    if (n->prev != PNIL)
        p->nodes[n->prev].next = n->next;
    else
        l->head = n->next;
    if (n->next != PNIL)
        p->nodes[n->next].prev = n->prev;
    else
        l->tail = n->prev;
    l->count--;
}

static inline void
s4_front(s4_t *p, uint32_t i, uint32_t lv)
{
    snode_t *n = &p->nodes[i];
    slevel_t *l = &p->level[lv];
    n->level = lv;
    n->prev = PNIL;
    n->next = l->head;
    if (l->head != PNIL)
        p->nodes[l->head].prev = i;
    else
        l->tail = i;
    l->head = i;
    l->count++;
}

/*  Insert-or-hit; returns 1 on a hit, 0 on an insert, -1 when full. */
static inline int
s4_access(s4_t *p, uint64_t key)
{
    uint32_t s = (uint32_t) ((key * 0x9E3779B97F4A7C15ull) >> 32) & p->mask;
    for (;;) {
        uint32_t v = p->slots[s];
        if (v == 0)
            break;
        if (p->nodes[v - 1].key == key) {
            uint32_t i = v - 1, from = p->nodes[i].level;
            uint32_t to = from + (from + 1 < S4_LEVELS);
            s4_unlink(p, i);
            s4_front(p, i, to);
            for (uint32_t lv = to; lv >= 1 && p->level[lv].count > p->level[lv].cap; lv--)
                while (p->level[lv].count > p->level[lv].cap) {
                    uint32_t t = p->level[lv].tail;
                    s4_unlink(p, t);
                    s4_front(p, t, lv - 1);
                }
            return 1;
        }
        s = (s + 1) & p->mask;
    }
    if (p->n == p->max)
        return -1;
    uint32_t i = p->n++;
    p->nodes[i].key = key;
    p->slots[s] = i + 1;
    s4_front(p, i, 0);
    return 0;
}

/*  The lists of an LRU as mu_lru_foreach gives them (top level first, head
    to tail), compared with a minimal S4LRU's. */
typedef struct {
    const s4_t *p;
    int lv;
    uint32_t at;
    int bad;
} s4_cmp_t;

static int
s4_cmp_one(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    s4_cmp_t *c = arg;
    while (c->at == PNIL && c->lv > 0)
        c->at = c->p->level[--c->lv].head;
    uint64_t k;
    if (len != sizeof k || size != 1 || c->at == PNIL || level != c->lv) {
        c->bad = 1;
        return 1;
    }
    memcpy(&k, key, sizeof k);
    if (k != c->p->nodes[c->at].key) {
        c->bad = 1;
        return 1;
    }
    c->at = c->p->nodes[c->at].next;
    return 0;
}

static int
s4_same_lists(mu_lru_t *lru, const s4_t *p)
{
    s4_cmp_t c = { p, S4_LEVELS - 1, p->level[S4_LEVELS - 1].head, 0 };
    if (mu_lru_foreach(lru, s4_cmp_one, &c) != 0 || c.bad)
        return 0;
    while (c.at == PNIL && c.lv > 0)
        c.at = p->level[--c.lv].head;
    return c.at == PNIL; /* nothing left over in the minimal S4LRU */
}

/*  Whether the minimal S4LRU keeps the same lists (hence the same demotion
    and eviction order) as mu_lru on a small skewed trace whose keys exceed
    the capacity: checked every 1,000 accesses, with each hit or miss. */
static int
s4_check(void)
{
    const uint32_t nkeys = 3000, capacity = 1000;
    mu_lru_t *lru = mu_lru_new(capacity, S4_LEVELS);
    s4_t p;
    s4_init(&p, nkeys, capacity);
    int ok = lru != NULL;
    for (uint32_t i = 0; i < 200000 && ok; i++) {
        uint64_t r = mix64(i * 0x9E3779B97F4A7C15ull + 77);
        uint32_t id = (uint32_t) ((r & 0xFFFF) * (r >> 16 & 0xFFFF) % nkeys); /* skewed */
        uint64_t key = key_of(id);
        ok = mu_lru_increment(lru, &key, sizeof key, 1) == s4_access(&p, key)
             && (i % 1000 != 999 || s4_same_lists(lru, &p));
    }
    ok = ok && s4_same_lists(lru, &p);
    mu_lru_destroy(&lru);
    s4_free(&p);
    return ok;
}

/*  Whether the batched minimal S4LRU holds the same lists as s4_t: every
    level, head to tail through next and tail to head through prev (each
    walk at most count + 1 steps, so a cycle fails instead of hanging), with
    the keys, the level of each node and the counts. */
static int
s4b_same_lists(const s4_t *a, const s4b_t *b)
{
    for (int lv = 0; lv < S4_LEVELS; lv++) {
        const uint32_t count = b->level[lv].count;
        uint32_t x = a->level[lv].head, y = b->level[lv].head, n = 0;
        for (; x != PNIL && y != B_NIL && n <= count;
             x = a->nodes[x].next, y = b->t[y].nl & B_NIL, n++)
            if (a->nodes[x].key != b->t[y].key || b->t[y].nl >> B_LV_SHIFT != (uint32_t) lv + 1)
                return 0;
        if (x != PNIL || y != B_NIL || n != count || n != a->level[lv].count)
            return 0;
        x = a->level[lv].tail, y = b->level[lv].tail, n = 0;
        for (; x != PNIL && y != B_NIL && n <= count; x = a->nodes[x].prev, y = b->t[y].prev, n++)
            if (a->nodes[x].key != b->t[y].key)
                return 0;
        if (x != PNIL || y != B_NIL || n != count)
            return 0;
    }
    return 1;
}

/*  Whether the batched minimal S4LRU gives the same results and lists as
    s4_t (checked against mu_lru by s4_check) on s4_check's trace, fed in
    batches of 40 (so chunks end at other places than batches). */
static int
s4b_check(void)
{
    const uint32_t nkeys = 3000, capacity = 1000;
    s4_t a;
    s4b_t b;
    if (s4b_init(&b, nkeys, capacity) != 0)
        return 0;
    s4_init(&a, nkeys, capacity);
    uint64_t keys[40];
    int res[40], ok = 1;
    for (uint32_t i = 0; i < 200000 && ok; i += 40) {
        for (uint32_t j = 0; j < 40; j++) {
            uint64_t r = mix64((i + j) * 0x9E3779B97F4A7C15ull + 77);
            keys[j] = key_of((uint32_t) ((r & 0xFFFF) * (r >> 16 & 0xFFFF) % nkeys));
        }
        (void) s4b_many(&b, keys, 40, res);
        for (uint32_t j = 0; j < 40; j++)
            ok = ok && res[j] == s4_access(&a, keys[j]);
        ok = ok && ((i + 40) % 1000 != 0 || s4b_same_lists(&a, &b));
    }
    ok = ok && s4b_same_lists(&a, &b);
    s4_free(&a);
    s4b_free(&b);
    return ok;
}

/* ---- runs -------------------------------------------------------------------- */

static volatile uint64_t sink;

/*  Thread CPU time in seconds: on a loaded machine, wall time also counts
    the slices other processes ran in; the CPU-time figures (stderr only,
    the JSON lines keep wall time) show the code's own speed. */
static double last_cpu_s;

static double
cpu_now_s(void)
{
    return (double) bench_cpu_now_ns() / 1e9;
}

static double
run_ours(mu_lru_t *lru, uint64_t n, uint32_t *pos)
{
    uint64_t hits = 0;
    uint32_t at = *pos;
    double c0 = cpu_now_s();
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t key = key_of(trace[at]);
        at = (at + 1) & (TRACE_LEN - 1);
        hits += (uint64_t) mu_lru_increment(lru, &key, sizeof key, 1);
    }
    int64_t t1 = bench_now_ns();
    last_cpu_s = cpu_now_s() - c0;
    sink += hits;
    *pos = at;
    return (double) (t1 - t0) / 1e9;
}

#define BATCH 64

/*  Fills keys with the m keys of the trace from position at; returns the
    position after them. */
static uint32_t
next_keys(uint64_t *keys, size_t m, uint32_t at)
{
    for (size_t j = 0; j < m; j++) {
        keys[j] = key_of(trace[at]);
        at = (at + 1) & (TRACE_LEN - 1);
    }
    return at;
}

static double
run_ours_many(mu_lru_t *lru, uint64_t n, uint32_t *pos)
{
    uint64_t hits = 0;
    uint32_t at = *pos;
    uint64_t keys[BATCH];
    mu_lru_item_t items[BATCH];
    double c0 = cpu_now_s();
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? (size_t) (n - i) : BATCH;
        at = next_keys(keys, m, at);
        for (size_t j = 0; j < m; j++)
            items[j] = (mu_lru_item_t) { &keys[j], sizeof keys[j], 1 };
        hits += (uint64_t) mu_lru_increment_many(lru, items, m, NULL);
    }
    int64_t t1 = bench_now_ns();
    last_cpu_s = cpu_now_s() - c0;
    sink += hits;
    *pos = at;
    return (double) (t1 - t0) / 1e9;
}

static double
run_s4b_many(s4b_t *p, uint64_t n, uint32_t *pos)
{
    uint64_t hits = 0;
    uint32_t at = *pos;
    uint64_t keys[BATCH];
    double c0 = cpu_now_s();
    int64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? (size_t) (n - i) : BATCH;
        at = next_keys(keys, m, at);
        hits += (uint64_t) s4b_many(p, keys, m, NULL);
    }
    int64_t t1 = bench_now_ns();
    last_cpu_s = cpu_now_s() - c0;
    sink += hits;
    *pos = at;
    return (double) (t1 - t0) / 1e9;
}

/*  Defines NAME(p, n, pos): n accesses of baseline p (type TYPE, one call
    of ACCESS each, inlined) along the trace from *pos; returns the wall
    seconds, the CPU seconds in last_cpu_s. */
#define DEFINE_BASELINE_RUN(NAME, TYPE, ACCESS)            \
    static double NAME(TYPE *p, uint64_t n, uint32_t *pos) \
    {                                                      \
        uint64_t hits = 0;                                 \
        uint32_t at = *pos;                                \
        double c0 = cpu_now_s();                           \
        int64_t t0 = bench_now_ns();                       \
        for (uint64_t i = 0; i < n; i++) {                 \
            uint64_t key = key_of(trace[at]);              \
            at = (at + 1) & (TRACE_LEN - 1);               \
            hits += (uint64_t) ACCESS(p, key);             \
        }                                                  \
        int64_t t1 = bench_now_ns();                       \
        last_cpu_s = cpu_now_s() - c0;                     \
        sink += hits;                                      \
        *pos = at;                                         \
        return (double) (t1 - t0) / 1e9;                   \
    }

DEFINE_BASELINE_RUN(run_plain, plain_t, plain_access)
DEFINE_BASELINE_RUN(run_s4, s4_t, s4_access)

/*  A new LRU for a case: in memory, or persistent with group commit. */
static mu_lru_t *
make_lru(uint32_t nkeys, int persistent, const char *name)
{
    if (!persistent)
        return mu_lru_new(nkeys, 4);
    mu_lru_t *lru = mu_lru_open(tmp_dir, name, nkeys, 4, MU_LRU_CREATE);
    if (lru && mu_lru_set_durability(lru, MU_LRU_AT_FLUSH, 0) != 0)
        mu_lru_destroy(&lru); /* the warm-up's keys go in at the first flush */
    return lru;
}

static uint64_t
scale_n(uint64_t n, double t, const bench_opts_t *opts)
{
    double want = (double) n * opts->target_s / (t > 1e-6 ? t : 1e-6);
    return want < 1000 ? 1000 : want > 4e9 ? (uint64_t) 4e9 : (uint64_t) want;
}

typedef struct {
    const char *name;
    uint32_t nkeys;
    int persistent;
    double bar;
    int many;  /* through mu_lru_increment_many */
    int vs_s4; /* also against a minimal S4LRU (extra "-vs-s4" lines): 1 s4_t, 2 s4b_t */
} case_t;

/*  The extra lines of a case against the minimal S4LRU, "<case>-vs-s4"
    (wall time) and "<case>-vs-s4-cpu" (CPU time), measured after the
    plain-LRU lines (whose runs it leaves as they were): the S4LRU is
    warmed with every key once, then ours and it alternate opts->reps
    times on the same trace, ours going on from where the case left it.
    Their bar is the rule for a bar out of reach: within 10 % of
    the limit (plain-s4lru); against the batched one (plain-s4lru-many), a
    reference only, they carry no bar. */
static void
run_vs_s4(const case_t *c, mu_lru_t *lru, double (*ours)(mu_lru_t *, uint64_t, uint32_t *),
          uint64_t n_o, uint32_t *pos_o, const bench_opts_t *opts)
{
    int batched = c->vs_s4 == 2;
    s4_t s4;
    s4b_t s4b;
    if (batched ? s4b_init(&s4b, c->nkeys, c->nkeys) != 0 : (s4_init(&s4, c->nkeys, c->nkeys), 0)) {
        fprintf(stderr, "# %s: cannot create the minimal S4LRU\n", c->name);
        return;
    }
    for (uint32_t id = 0; id < c->nkeys; id++) {
        uint64_t key = key_of(id);
        (void) (batched ? s4b_access(&s4b, key, s4b_hash(key)) : s4_access(&s4, key));
    }
    uint32_t pos_s = 0;
    double t = batched ? run_s4b_many(&s4b, 1000000, &pos_s) : run_s4(&s4, 1000000, &pos_s);
    uint64_t n_s = scale_n(1000000, t, opts);
    double rate_o[BENCH_MAX_REPS], rate_s[BENCH_MAX_REPS];
    double cpu_o[BENCH_MAX_REPS], cpu_s[BENCH_MAX_REPS];
    int reps = opts->reps;
    for (int rep = 0; rep < reps; rep++) {
        rate_o[rep] = (double) n_o / ours(lru, n_o, pos_o);
        cpu_o[rep] = (double) n_o / last_cpu_s;
        t = batched ? run_s4b_many(&s4b, n_s, &pos_s) : run_s4(&s4, n_s, &pos_s);
        rate_s[rep] = (double) n_s / t;
        cpu_s[rep] = (double) n_s / last_cpu_s;
    }
    if (batched)
        s4b_free(&s4b);
    else
        s4_free(&s4);
    const char *base = batched ? "plain-s4lru-many" : "plain-s4lru";
    char name[64], base_cpu[64];
    fprintf(stderr, "# %-16s vs %s: median %.4g vs %.4g op/s per CPU second, ratio %.3g\n", c->name,
            base, bench_median(cpu_o, reps), bench_median(cpu_s, reps),
            bench_paired_ratio(cpu_o, cpu_s, reps));
    /* The batched S4LRU is a reference, not the limit: no bar. */
    const bench_bar_t bar = batched ? BENCH_BAR_NONE : BENCH_BAR_MIN_RATIO;
    const double bar_value = batched ? 0 : 0.9;
    snprintf(name, sizeof name, "%s-vs-s4", c->name);
    bench_report("lru", name, "op/s", bench_median(rate_o, reps), base, bench_median(rate_s, reps),
                 bench_paired_ratio(rate_o, rate_s, reps), 0, bar, bar_value);
    snprintf(name, sizeof name, "%s-vs-s4-cpu", c->name);
    snprintf(base_cpu, sizeof base_cpu, "%s-cpu", base);
    bench_report("lru", name, "op/cpu-s", bench_median(cpu_o, reps), base_cpu,
                 bench_median(cpu_s, reps), bench_paired_ratio(cpu_o, cpu_s, reps), 0, bar,
                 bar_value);
}

static void
run_case(const case_t *c, const bench_opts_t *opts)
{
    make_trace(c->nkeys, 0xC0FFEE + c->nkeys);
    mu_lru_t *lru = make_lru(c->nkeys, c->persistent, c->name);
    if (lru == NULL) {
        fprintf(stderr, "# %s: cannot create the LRU\n", c->name);
        bench_report("lru", c->name, "op/s", NAN, "plain-lru", NAN, NAN, 0, BENCH_BAR_MIN_VALUE,
                     c->bar);
        return;
    }
    plain_t plain;
    plain_init(&plain, c->nkeys);
    for (uint32_t id = 0; id < c->nkeys; id++) { /* warm-up: every key once */
        uint64_t key = key_of(id);
        int rc = mu_lru_increment(lru, &key, sizeof key, 1);
        (void) rc;
        (void) plain_access(&plain, key);
    }
    if (c->persistent
        && (mu_lru_flush(lru) != 0 || mu_lru_set_durability(lru, MU_LRU_GROUP, 100) != 0))
        fprintf(stderr, "# %s: flush or set_durability failed\n", c->name);
    uint32_t pos_o = 0, pos_b = 0;
    uint64_t n_o = 1000000, n_b = 1000000;
    double (*ours)(mu_lru_t *, uint64_t, uint32_t *) = c->many ? run_ours_many : run_ours;
    n_o = scale_n(n_o, ours(lru, n_o, &pos_o), opts);
    n_b = scale_n(n_b, run_plain(&plain, n_b, &pos_b), opts);
    double rate_o[BENCH_MAX_REPS], rate_b[BENCH_MAX_REPS];
    double cpu_o[BENCH_MAX_REPS], cpu_b[BENCH_MAX_REPS];
    for (int rep = 0; rep < opts->reps; rep++) {
        double to = ours(lru, n_o, &pos_o);
        cpu_o[rep] = (double) n_o / last_cpu_s;
        double tb = run_plain(&plain, n_b, &pos_b);
        cpu_b[rep] = (double) n_b / last_cpu_s;
        rate_o[rep] = (double) n_o / to;
        rate_b[rep] = (double) n_b / tb;
        if (opts->verbose)
            fprintf(stderr, "#   %-16s rep %d: ours %.4g op/s, plain %.4g op/s\n", c->name, rep,
                    rate_o[rep], rate_b[rep]);
    }
    double mo = bench_median(rate_o, opts->reps), mb = bench_median(rate_b, opts->reps);
    mu_lru_stats_t st = { .size = sizeof st };
    if (mu_lru_stats(lru, &st) != 0)
        st.hits = st.count = 0;
    fprintf(stderr, "# %-16s N=%llu/%llu  hits %llu of %llu keys  median %.4g vs %.4g op/s\n",
            c->name, (unsigned long long) n_o, (unsigned long long) n_b,
            (unsigned long long) st.hits, (unsigned long long) st.count, mo, mb);
    fprintf(stderr, "# %-16s cpu time: median %.4g vs %.4g op/s per CPU second, ratio %.3g\n",
            c->name, bench_median(cpu_o, opts->reps), bench_median(cpu_b, opts->reps),
            bench_paired_ratio(cpu_o, cpu_b, opts->reps));
    bench_report("lru", c->name, "op/s", mo, "plain-lru", mb,
                 bench_paired_ratio(rate_o, rate_b, opts->reps), 0,
                 c->many ? BENCH_BAR_MIN_RATIO : BENCH_BAR_MIN_VALUE, c->many ? 0.9 : c->bar);
    char cpu_name[64]; /* the same per second of the thread's CPU time (load disturbs it less) */
    snprintf(cpu_name, sizeof cpu_name, "%s-cpu", c->name);
    bench_report("lru", cpu_name, "op/cpu-s", bench_median(cpu_o, opts->reps), "plain-lru-cpu",
                 bench_median(cpu_b, opts->reps), bench_paired_ratio(cpu_o, cpu_b, opts->reps), 0,
                 c->many ? BENCH_BAR_MIN_RATIO : BENCH_BAR_MIN_VALUE, c->many ? 0.9 : c->bar);
    plain_free(&plain);
    if (c->vs_s4)
        run_vs_s4(c, lru, ours, n_o, &pos_o, opts);
    mu_lru_destroy(&lru);
}

/* ---- persistent against in-memory, interleaved ------------------------------ */

#define PM_ROUNDS 4                   /* alternating runs per side and repetition */
#define PM_BASE "in-memory-hits-only" /* every trace key warmed: the calls are hits */

/*  The lines of a persistent-against-in-memory case whose setup failed. */
static void
pm_report_nan(const char *name)
{
    char cpu_name[64];
    snprintf(cpu_name, sizeof cpu_name, "%s-cpu", name);
    bench_report("lru", name, "op/s", NAN, PM_BASE, NAN, NAN, 0, BENCH_BAR_MIN_RATIO, 0.9);
    bench_report("lru", cpu_name, "op/cpu-s", NAN, PM_BASE "-cpu", NAN, NAN, 0, BENCH_BAR_MIN_RATIO,
                 0.9);
}

/*  "<name>" and "<name>-cpu": mu_lru_increment on a persistent LRU (group
    commit, as in the -sqlite cases) against the same calls on an in-memory
    one, the two built, warmed and fed the same trace in the same way. The
    -sqlite and -mem cases run minutes apart, so their ratio was the
    machine's drift as much as the code's; here each repetition is
    PM_ROUNDS runs of each side alternating in ABBA order (the in-memory
    side first in odd repetitions), a side's rate is its calls over its
    summed times, and the ratio persistent / in-memory is the median of the
    per-repetition ratios. Every trace key is warmed first, so every timed
    call is a hit: the bar (within 10 %, >= 0.9) is for hits only, as the
    baseline's name says. NAN when the setup (flush, durability) fails. */
static void
run_persist_vs_mem(const char *name, uint32_t nkeys, const bench_opts_t *opts)
{
    make_trace(nkeys, 0xC0FFEE + nkeys); /* the trace of the -mem and -sqlite cases */
    mu_lru_t *lru[2] = { make_lru(nkeys, 1, name), make_lru(nkeys, 0, name) };
    for (int side = 0; side < 2 && lru[0] && lru[1]; side++)
        for (uint32_t id = 0; id < nkeys; id++) { /* warm-up: every key once */
            uint64_t key = key_of(id);
            int rc = mu_lru_increment(lru[side], &key, sizeof key, 1);
            (void) rc;
        }
    if (lru[0] == NULL || lru[1] == NULL || mu_lru_flush(lru[0]) != 0
        || mu_lru_set_durability(lru[0], MU_LRU_GROUP, 100) != 0) {
        fprintf(stderr, "# %s: setup (create, flush, set_durability) failed: %s\n", name,
                mu_last_error());
        pm_report_nan(name);
        for (int side = 0; side < 2; side++)
            mu_lru_destroy(&lru[side]);
        return;
    }
    uint32_t pos[2] = { 0, 0 };
    (void) run_ours(lru[0], 1000000, &pos[0]); /* warm-up runs, not counted */
    uint64_t n = scale_n(1000000, run_ours(lru[1], 1000000, &pos[1]), opts) / PM_ROUNDS;
    double rate[2][BENCH_MAX_REPS], cpu[2][BENCH_MAX_REPS];
    for (int rep = 0; rep < opts->reps; rep++) {
        double t[2] = { 0, 0 }, c[2] = { 0, 0 };
        for (int k = 0; k < 2 * PM_ROUNDS; k++) {
            int side = (k % 2) ^ ((k / 2) % 2) ^ (rep % 2); /* 0 persistent, 1 in memory */
            t[side] += run_ours(lru[side], n, &pos[side]);
            c[side] += last_cpu_s;
        }
        for (int side = 0; side < 2; side++) {
            rate[side][rep] = (double) (n * PM_ROUNDS) / t[side];
            cpu[side][rep] = (double) (n * PM_ROUNDS) / c[side];
        }
        if (opts->verbose)
            fprintf(stderr, "#   %-16s rep %d: persistent %.4g op/s, in memory %.4g op/s\n", name,
                    rep, rate[0][rep], rate[1][rep]);
    }
    for (int side = 0; side < 2; side++)
        mu_lru_destroy(&lru[side]);
    int reps = opts->reps;
    fprintf(stderr, "# %-16s cpu time: median %.4g vs %.4g op/s per CPU second, ratio %.3g\n", name,
            bench_median(cpu[0], reps), bench_median(cpu[1], reps),
            bench_paired_ratio(cpu[0], cpu[1], reps));
    bench_report("lru", name, "op/s", bench_median(rate[0], reps), PM_BASE,
                 bench_median(rate[1], reps), bench_paired_ratio(rate[0], rate[1], reps), 0,
                 BENCH_BAR_MIN_RATIO, 0.9);
    char cpu_name[64];
    snprintf(cpu_name, sizeof cpu_name, "%s-cpu", name);
    bench_report("lru", cpu_name, "op/cpu-s", bench_median(cpu[0], reps), PM_BASE "-cpu",
                 bench_median(cpu[1], reps), bench_paired_ratio(cpu[0], cpu[1], reps), 0,
                 BENCH_BAR_MIN_RATIO, 0.9);
}

/* ---- flush against raw SQLite ----------------------------------------------- */

/*  Raw SQLite: n rows into the entries schema in one transaction. */
static double
raw_sqlite_rows(const char *path, uint32_t n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return NAN;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE IF NOT EXISTS entries(key BLOB PRIMARY KEY, size INTEGER NOT NULL,"
                 " level INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", -1, &st, NULL);
    static uint64_t round;
    round++;
    int64_t t0 = bench_now_ns();
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (uint32_t id = 0; id < n; id++) {
        uint64_t key = key_of(id);
        sqlite3_bind_blob(st, 1, &key, sizeof key, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, 1);
        sqlite3_bind_int(st, 3, (int) (id % 4));
        sqlite3_bind_int64(st, 4, (sqlite3_int64) (round * n + id));
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    int ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    int64_t t1 = bench_now_ns();
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok ? (double) (t1 - t0) / 1e9 : NAN;
}

/*  mu_lru_flush after touching every key of an n-key LRU once more. */
static double
flush_rows(mu_lru_t *lru, uint32_t n)
{
    for (uint32_t id = 0; id < n; id++) {
        uint64_t key = key_of(id);
        int rc = mu_lru_increment(lru, &key, sizeof key, 1);
        (void) rc;
    }
    int64_t t0 = bench_now_ns();
    int rc = mu_lru_flush(lru);
    int64_t t1 = bench_now_ns();
    return rc == 0 ? (double) (t1 - t0) / 1e9 : NAN;
}

static void
run_flush_case(const bench_opts_t *opts)
{
    const uint32_t n = opts->quick ? 100000 : 1000000;
    const char *name = opts->quick ? "flush-100k" : "flush-1M";
    mu_lru_t *lru = make_lru(n, 1, "flush");
    char raw[400];
    snprintf(raw, sizeof raw, "%s/raw.sqlite", tmp_dir);
    double rate_o[BENCH_MAX_REPS], rate_b[BENCH_MAX_REPS];
    int reps = opts->quick ? 2 : 3;
    (void) flush_rows(lru, n); /* warm-up: the keys exist */
    (void) raw_sqlite_rows(raw, n);
    for (int rep = 0; rep < reps; rep++) {
        rate_o[rep] = (double) n / flush_rows(lru, n);
        rate_b[rep] = (double) n / raw_sqlite_rows(raw, n);
    }
    mu_lru_destroy(&lru);
    bench_report("lru", name, "row/s", bench_median(rate_o, reps), "raw-sqlite-insert",
                 bench_median(rate_b, reps), bench_paired_ratio(rate_o, rate_b, reps), 0,
                 BENCH_BAR_NONE, 0);
}

int
main(int argc, char **argv)
{
    bench_opts_t opts;
    bench_parse_args(argc, argv, &opts);
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/mu-bench-lru-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        perror("bench/lru: mkdtemp");
        return 1;
    }
    trace = malloc(TRACE_LEN * sizeof *trace);
    fprintf(stderr,
            "# bench/lru: %s mode, %d repetitions of ~%.2f s per path, medians; "
            "baseline plain-lru = single-list LRU with integer keys written in this bench\n",
            opts.quick ? "quick" : "full", opts.reps, opts.target_s);
    if (!s4_check() || !s4b_check()) { /* the S4LRU baselines must be the same S4LRU */
        fprintf(stderr, "bench/lru: the minimal S4LRU does not match mu_lru\n");
        return 1;
    }
    static const case_t cases[] = {
        { "hot-10k-mem", 10000, 0, 30e6, 0, 1 },
        { "hot-10k-sqlite", 10000, 1, 30e6, 0, 0 },
        { "rand-1M-mem", 1000000, 0, 10e6, 0, 1 },
        { "rand-1M-sqlite", 1000000, 1, 10e6, 0, 0 },
        { "hot-10k-mem-many", 10000, 0, 30e6, 1, 1 },
        { "rand-1M-mem-many", 1000000, 0, 10e6, 1, 2 },
        { "rand-1M-sqlite-many", 1000000, 1, 10e6, 1, 0 },
    };
    const int64_t t0 = bench_now_ns();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (bench_selected(&opts, cases[i].name))
            run_case(&cases[i], &opts);
    static const struct {
        const char *name;
        uint32_t nkeys;
    } pm_cases[] = { { "hot-10k-sqlite-vs-mem", 10000 }, { "rand-1M-sqlite-vs-mem", 1000000 } };
    for (size_t i = 0; i < sizeof pm_cases / sizeof pm_cases[0]; i++)
        if (bench_selected(&opts, pm_cases[i].name))
            run_persist_vs_mem(pm_cases[i].name, pm_cases[i].nkeys, &opts);
    if (bench_selected(&opts, "flush"))
        run_flush_case(&opts);
    bench_remove_tree(tmp_dir);
    free(trace);
    int missed = bench_print_table();
    printf("\n%d bar(s) missed; op/s = mu_lru_increment calls per second (one thread), "
           "row/s = rows written per second; %.1f s in all\n",
           missed, (double) (bench_now_ns() - t0) / 1e9);
    return 0;
}
