/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_lru.h — helpers shared by the mu_lru tests (test_lru.c: the rules
    on small cases and the documented errors; test_lru_model.c: the
    differential test against a model, table churn, batches, hit ratio;
    test_lru_persist.c: persistence, crashes, the file size limit). Every
    helper is static inline, so a test uses what it needs. */
#ifndef MU_TEST_LRU_H_INCLUDED
#define MU_TEST_LRU_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* ---- helpers --------------------------------------------------------------- */

static char tmp_root[256];

static inline void
make_dir(char *out, size_t cap, const char *what)
{
    static int n;
    snprintf(out, cap, "%s/%s-%d", tmp_root, what, n++);
    mkdir(out, 0777);
}

static uint64_t rng_state = 0x1234567887654321ull;

static inline uint64_t
rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/*  Zipf (exponent 1: p(rank) ~ 1/rank) over n ranks: a cumulative table
    and binary search. */
typedef struct {
    double *cdf;
    uint32_t n;
} zipf_t;

static inline void
zipf_init(zipf_t *z, uint32_t n)
{
    z->n = n;
    z->cdf = malloc(n * sizeof *z->cdf);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        z->cdf[i] = (sum += 1.0 / (i + 1.0));
    for (uint32_t i = 0; i < n; i++)
        z->cdf[i] /= sum;
}

static inline uint32_t
zipf_next(const zipf_t *z)
{
    double u = (double) (rng() >> 11) / 9007199254740992.0;
    uint32_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*  The state as text: "3:|2:|1:b|0:c,a" — levels top first, each head to
    tail (keys are printable here). */
typedef struct {
    char level[MU_LRU_MAX_LEVELS][512];
} dump_t;

static inline int
dump_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    dump_t *d = arg;
    char *s = d->level[level];
    size_t used = strlen(s);
    snprintf(s + used, sizeof d->level[0] - used, "%s%.*s", used ? "," : "", (int) len,
             (const char *) key);
    (void) size;
    return 0;
}

static inline const char *
dump(mu_lru_t *lru)
{
    static char out[4096];
    dump_t d;
    memset(&d, 0, sizeof d);
    mu_lru_foreach(lru, dump_cb, &d);
    out[0] = 0;
    for (int lv = mu_lru_levels(lru) - 1; lv >= 0; lv--) {
        size_t used = strlen(out);
        snprintf(out + used, sizeof out - used, "%s%d:%s", lv == mu_lru_levels(lru) - 1 ? "" : "|",
                 lv, d.level[lv]);
    }
    return out;
}

static inline int
inc(mu_lru_t *lru, const char *key, uint64_t size)
{
    return mu_lru_increment(lru, key, strlen(key), size);
}

/*  Collects evicted keys as "a,b,c". */
typedef struct {
    char text[1024];
    uint64_t size;
    int n;
} evicted_t;

static inline void
evict_cb(void *arg, const void *key, size_t len, uint64_t size)
{
    evicted_t *e = arg;
    size_t used = strlen(e->text);
    snprintf(e->text + used, sizeof e->text - used, "%s%.*s", used ? "," : "", (int) len,
             (const char *) key);
    e->size += size;
    e->n++;
}

/*  One figure of mu_lru_stats: for level 0..levels-1, or the whole LRU with
    level -1 (hits, misses and evictions ignore level). */
typedef enum {
    T_STAT_COUNT,
    T_STAT_SIZE,
    T_STAT_CAPACITY,
    T_STAT_HITS,
    T_STAT_MISSES,
    T_STAT_EVICTIONS
} t_stat_t;

static inline uint64_t
lru_stat(const mu_lru_t *lru, t_stat_t what, int level)
{
    mu_lru_stats_t st = { .size = sizeof st };
    if (mu_lru_stats(lru, &st) != 0)
        return UINT64_MAX;
    switch (what) {
    case T_STAT_COUNT:
        return level < 0 ? st.count : st.level_count[level];
    case T_STAT_SIZE:
        return level < 0 ? st.total : st.level_total[level];
    case T_STAT_CAPACITY:
        return level < 0 ? st.capacity : st.level_capacity[level];
    case T_STAT_HITS:
        return st.hits;
    case T_STAT_MISSES:
        return st.misses;
    case T_STAT_EVICTIONS:
        return st.evictions;
    }
    return 0;
}

#define STAT(lru, what, level) lru_stat((lru), T_STAT_##what, (level))

/*  Key bytes of an id: the id, then filler up to 4 + id % 37 bytes (some
    keys longer than the inline 24 bytes). */
static inline size_t
make_key(uint32_t id, unsigned char *key)
{
    size_t len = 4 + id % 37;
    memcpy(key, &id, 4);
    for (size_t i = 4; i < len; i++)
        key[i] = (unsigned char) (id * 31 + i);
    return len;
}

/*  Removes the scratch directory of the test program. */
static inline void
cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp_root);
}

/*  The start of every lru test program: the TAP plan's time bound and the
    scratch directory under tmp_root. Returns false (after a "Bail out!"
    line) when the directory cannot be made. */
static inline bool
lru_tests_begin(void)
{
    mu_test_start(300);
    if (!mu_test_scratch_dir(tmp_root, sizeof tmp_root, "test-lru")) {
        printf("Bail out! mkdtemp failed\n");
        return false;
    }
    return true;
}

#endif
