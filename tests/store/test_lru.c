/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_lru.c — mu_lru: the S4LRU rules on hand-checked cases, a
    differential test against an independent array model on a 1,000,000-
    request Zipf trace, a 60,000-key table under growth and deletion (order
    and eviction order), S4LRU against plain LRU on a scan-polluted trace,
    persistence round trips for every durability policy, every documented
    error, and SIGKILL during write loops (50 kills across the policies). */
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

static void
make_dir(char *out, size_t cap, const char *what)
{
    static int n;
    snprintf(out, cap, "%s/%s-%d", tmp_root, what, n++);
    mkdir(out, 0777);
}

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t
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

static void
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

static uint32_t
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

static int
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

static const char *
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

static int
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

static void
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

static uint64_t
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

/* ---- the rules on small cases -------------------------------------------- */

static void
test_insert_and_promote(void)
{
    mu_lru_t *lru = mu_lru_new(8, 4); /* 2 units per level */
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 1), 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 0);
    MU_CHECK_EQ(inc(lru, "c", 1), 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:|0:c,b,a") == 0);
    MU_CHECK_EQ(inc(lru, "a", 1), 1); /* hit: level 0 -> head of level 1 */
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:a|0:c,b") == 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:b,a|0:c") == 0);
    MU_CHECK_EQ(inc(lru, "a", 1), 1); /* level 1 -> level 2 */
    MU_CHECK(strcmp(dump(lru), "3:|2:a|1:b|0:c") == 0);
    MU_CHECK_EQ(STAT(lru, HITS, -1), 3);
    MU_CHECK_EQ(STAT(lru, MISSES, -1), 3);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 3);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 3);
    MU_CHECK_EQ(STAT(lru, COUNT, 2), 1);
    MU_CHECK_EQ(STAT(lru, CAPACITY, 2), 2);
    MU_CHECK_EQ(STAT(lru, CAPACITY, 0), 2);
    MU_CHECK_EQ(STAT(lru, CAPACITY, -1), 8);
    mu_lru_destroy(&lru);
    MU_CHECK(lru == NULL);
    mu_lru_destroy(&lru); /* NULL is accepted */
    mu_lru_destroy(NULL);
}

static void
test_top_stays_top(void)
{
    mu_lru_t *lru = mu_lru_new(100, 3);
    MU_CHECK(lru != NULL);
    for (int i = 0; i < 3; i++)
        MU_CHECK(inc(lru, "x", 1) >= 0);
    for (int i = 0; i < 3; i++)
        MU_CHECK(inc(lru, "y", 1) >= 0);
    MU_CHECK(strcmp(dump(lru), "2:y,x|1:|0:") == 0);
    MU_CHECK_EQ(inc(lru, "x", 1), 1); /* top: moves to the top's head */
    MU_CHECK(strcmp(dump(lru), "2:x,y|1:|0:") == 0);
    MU_CHECK_EQ(inc(lru, "x", 1), 1);
    MU_CHECK(strcmp(dump(lru), "2:x,y|1:|0:") == 0);
    int level = -1;
    MU_CHECK_EQ(mu_lru_peek(lru, "x", 1, NULL, &level), 0);
    MU_CHECK_EQ(level, 2);
    mu_lru_destroy(&lru);
}

static void
test_demotion_cascade(void)
{
    mu_lru_t *lru = mu_lru_new(8, 4); /* 2 units per level */
    MU_CHECK(lru != NULL);
    /* Build 2:p,q  1:r,s  0:t */
    const char *seq[] = { "q", "p", "s", "r", "t", "q", "p", "q", "p", "s", "r" };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        MU_CHECK(inc(lru, seq[i], 1) >= 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:p,q|1:r,s|0:t") == 0);
    /* Overflow of level 1 by a promotion: u enters 1, s (tail) goes to 0. */
    MU_CHECK_EQ(inc(lru, "u", 1), 0);
    MU_CHECK_EQ(inc(lru, "u", 1), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:p,q|1:u,r|0:s,t") == 0);
    /* A hit that grows r to 2 units: r enters 2 (size 4 > 2), q demoted to 1
       (1: q,u), 2 still 3 > 2, p demoted (1: p,q,u = 3 > 2), u demoted to
       0. A cascade over two levels. */
    MU_CHECK_EQ(inc(lru, "r", 2), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:r|1:p,q|0:u,s,t") == 0);
    MU_CHECK_EQ(STAT(lru, SIZE, 2), 2);
    MU_CHECK_EQ(STAT(lru, SIZE, 1), 2);
    MU_CHECK_EQ(STAT(lru, SIZE, 0), 3);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 7);
    mu_lru_destroy(&lru);
}

static void
test_eviction_order(void)
{
    mu_lru_t *lru = mu_lru_new(4, 2); /* level 0: 2, level 1: 2 */
    MU_CHECK(lru != NULL);
    const char *keys[] = { "a", "b", "c", "d", "e" };
    for (int i = 0; i < 5; i++)
        MU_CHECK_EQ(inc(lru, keys[i], 1), 0);
    MU_CHECK_EQ(mu_lru_over(lru), 1);
    evicted_t ev = { .text = "" };
    MU_CHECK_EQ(mu_lru_evict(lru, MU_LRU_DRY_RUN, evict_cb, &ev), 1);
    MU_CHECK(strcmp(ev.text, "a") == 0);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 5); /* dry run changes nothing */
    memset(&ev, 0, sizeof ev);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 1);
    MU_CHECK(strcmp(ev.text, "a") == 0);
    MU_CHECK_EQ(mu_lru_contains(lru, "a", 1), 0); /* forgotten */
    MU_CHECK_EQ(mu_lru_over(lru), 0);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 1); /* b protected in level 1 */
    MU_CHECK_EQ(inc(lru, "f", 3), 0);
    MU_CHECK_EQ(inc(lru, "g", 1), 0);
    MU_CHECK(strcmp(dump(lru), "1:b|0:g,f,e,d,c") == 0);
    memset(&ev, 0, sizeof ev);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 4); /* total 8 -> 3 */
    MU_CHECK(strcmp(ev.text, "c,d,e,f") == 0);
    MU_CHECK_EQ(ev.size, 6);
    MU_CHECK(strcmp(dump(lru), "1:b|0:g") == 0);
    MU_CHECK_EQ(STAT(lru, EVICTIONS, -1), 5);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 2);
    MU_CHECK_EQ(mu_lru_evict(lru, 0, NULL, NULL), 0); /* fn may be NULL */
    mu_lru_destroy(&lru);
}

static void
test_size_changes(void)
{
    mu_lru_t *lru = mu_lru_new(100, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 10), 0);
    MU_CHECK_EQ(inc(lru, "b", 5), 0);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 15);
    MU_CHECK_EQ(inc(lru, "a", 3), 1); /* shrinks 10 -> 3, moves to 1 */
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 8);
    MU_CHECK_EQ(STAT(lru, SIZE, 1), 3);
    MU_CHECK_EQ(STAT(lru, SIZE, 0), 5);
    /* b grows to 200 in level 1 (25 units): a (the tail), then b, go down. */
    MU_CHECK_EQ(inc(lru, "b", 200), 1);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 203);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:|0:b,a") == 0);
    MU_CHECK_EQ(mu_lru_over(lru), 103);
    uint64_t size = 0;
    MU_CHECK_EQ(mu_lru_peek(lru, "b", 1, &size, NULL), 0);
    MU_CHECK_EQ(size, 200);
    MU_CHECK_EQ(inc(lru, "z", 0), 0); /* size 0 is allowed */
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 203);
    MU_CHECK_EQ(inc(lru, "", 1), 0); /* the empty key is a key */
    MU_CHECK_EQ(mu_lru_increment(lru, NULL, 0, 1), 1);
    mu_lru_destroy(&lru);
}

static void
test_delete_contains(void)
{
    mu_lru_t *lru = mu_lru_new(100, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 1), 0);
    MU_CHECK_EQ(inc(lru, "b", 2), 0);
    MU_CHECK_EQ(inc(lru, "c", 3), 0);
    char longkey[100];
    memset(longkey, 'L', sizeof longkey);
    MU_CHECK_EQ(mu_lru_increment(lru, longkey, sizeof longkey, 4), 0);
    MU_CHECK_EQ(mu_lru_contains(lru, "b", 1), 1);
    MU_CHECK_EQ(mu_lru_contains(lru, longkey, sizeof longkey), 1);
    MU_CHECK_EQ(mu_lru_contains(lru, longkey, sizeof longkey - 1), 0);
    MU_CHECK_EQ(STAT(lru, HITS, -1), 0); /* contains does not count or promote */
    MU_CHECK_EQ(mu_lru_delete(lru, "b", 1), 0);
    MU_CHECK_EQ(mu_lru_delete(lru, "b", 1), MU_ENOENT);
    MU_CHECK_EQ(mu_lru_delete(lru, longkey, sizeof longkey), 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:|1:|0:c,a") == 0);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 4);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 2);
    MU_CHECK_EQ(STAT(lru, EVICTIONS, -1), 0);
    MU_CHECK_EQ(mu_lru_peek(lru, "b", 1, NULL, NULL), MU_ENOENT);
    MU_CHECK_EQ(inc(lru, "b", 7), 0); /* back as a new key */
    MU_CHECK_EQ(STAT(lru, SIZE, -1), 11);
    mu_lru_destroy(&lru);
}

static void
test_resize(void)
{
    mu_lru_t *lru = mu_lru_new(8, 4); /* 2 per level */
    MU_CHECK(lru != NULL);
    const char *seq[] = { "a", "b", "a", "b", "a", "b", "c", "d", "c", "d", "e" };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        MU_CHECK(inc(lru, seq[i], 1) >= 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:b,a|1:d,c|0:e") == 0);
    MU_CHECK_EQ(mu_lru_resize(lru, 4), 0); /* 1 per level: a to 1, then c, d to 0 */
    MU_CHECK_EQ(STAT(lru, CAPACITY, 1), 1);
    MU_CHECK(strcmp(dump(lru), "3:|2:b|1:a|0:d,c,e") == 0);
    MU_CHECK_EQ(mu_lru_over(lru), 1);
    evicted_t ev = { .text = "" };
    MU_CHECK_EQ(mu_lru_evict(lru, 0, evict_cb, &ev), 1);
    MU_CHECK(strcmp(ev.text, "e") == 0);
    MU_CHECK_EQ(mu_lru_resize(lru, 103), 0); /* growing moves nothing */
    MU_CHECK(strcmp(dump(lru), "3:|2:b|1:a|0:d,c") == 0);
    MU_CHECK_EQ(STAT(lru, CAPACITY, 0), 28); /* 25 + the remainder 3 */
    MU_CHECK_EQ(STAT(lru, CAPACITY, 3), 25);
    mu_lru_destroy(&lru);
}

static void
test_boost(void)
{
    mu_lru_t *lru = mu_lru_new(400, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 10, 2), 0);
    MU_CHECK_EQ(inc(lru, "small", 10), 0);
    MU_CHECK_EQ(inc(lru, "big", 11), 0);
    MU_CHECK(strcmp(dump(lru), "3:|2:small|1:|0:big") == 0);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 10, 99), 0); /* clamped to the top */
    MU_CHECK_EQ(inc(lru, "tiny", 1), 0);
    MU_CHECK(strcmp(dump(lru), "3:tiny|2:small|1:|0:big") == 0);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 0, 0), 0); /* off */
    MU_CHECK_EQ(inc(lru, "t2", 1), 0);
    MU_CHECK(strcmp(dump(lru), "3:tiny|2:small|1:|0:t2,big") == 0);
    MU_CHECK_EQ(mu_lru_set_boost(lru, 5, -1), MU_EINVAL);
    mu_lru_destroy(&lru);
}

static int
stop_at_two(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    int *n = arg;
    (void) key, (void) len, (void) size, (void) level;
    return ++*n == 2 ? 42 : 0;
}

static void
test_foreach_stop(void)
{
    mu_lru_t *lru = mu_lru_new(100, 4);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 1), 0);
    MU_CHECK_EQ(inc(lru, "b", 1), 0);
    MU_CHECK_EQ(inc(lru, "c", 1), 0);
    int n = 0;
    MU_CHECK_EQ(mu_lru_foreach(lru, stop_at_two, &n), 42);
    MU_CHECK_EQ(n, 2);
    mu_lru_destroy(&lru);
}

static void
test_bad_arguments(void)
{
    errno = 0;
    MU_CHECK(mu_lru_new(0, 4) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_new(10, -1) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_new(10, MU_LRU_MAX_LEVELS + 1) == NULL && errno == EINVAL);
    mu_lru_t *lru = mu_lru_new(10, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_levels(lru), MU_LRU_LEVELS_DEFAULT);
    MU_CHECK_EQ(mu_lru_increment(lru, NULL, 3, 1), MU_EINVAL);
    static char big[MU_LRU_MAX_KEY + 1];
    MU_CHECK_EQ(mu_lru_increment(lru, big, sizeof big, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_increment(lru, big, MU_LRU_MAX_KEY, 1), 0);     /* the maximum is fine */
    MU_CHECK_EQ(mu_lru_increment(lru, "a", 1, UINT64_MAX), MU_EINVAL); /* total overflows */
    MU_CHECK_EQ(mu_lru_increment(lru, "b", 1, UINT64_MAX - 1), 0);
    MU_CHECK_EQ(mu_lru_increment(lru, big, MU_LRU_MAX_KEY, 2), MU_EINVAL); /* hit overflows */
    MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, -1), UINT64_MAX);
    MU_CHECK_EQ(mu_lru_delete(lru, NULL, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_peek(lru, NULL, 1, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_contains(lru, NULL, 1), 0);
    MU_CHECK_EQ(mu_lru_evict(lru, 2, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_resize(lru, 0), MU_EINVAL);
    mu_lru_stats_t small = { .size = sizeof small - 1 };
    MU_CHECK_EQ(mu_lru_stats(lru, &small), MU_EINVAL); /* older than the first version */
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_GROUP, 10), MU_ENOTSUP); /* in memory */
    MU_CHECK_EQ(mu_lru_flush(lru), 0); /* nothing to do in memory */
    mu_lru_destroy(&lru);
}

/* ---- differential test against an array model ---------------------------- */

typedef struct {
    uint32_t id;
    uint64_t size;
} mitem_t;

typedef struct {
    mitem_t *v; /* v[0] is the head */
    int n;
    uint64_t size, cap;
} mlevel_t;

typedef struct {
    mlevel_t lv[8];
    int levels;
    uint64_t capacity, total;
} model_t;

static void
model_init(model_t *m, int levels, uint64_t capacity, int max_items)
{
    memset(m, 0, sizeof *m);
    m->levels = levels;
    m->capacity = capacity;
    for (int i = 0; i < levels; i++) {
        m->lv[i].v = malloc((size_t) max_items * sizeof(mitem_t));
        m->lv[i].cap = capacity / (uint64_t) levels;
    }
    m->lv[0].cap = capacity - (capacity / (uint64_t) levels) * (uint64_t) (levels - 1);
}

static void
model_free(model_t *m)
{
    for (int i = 0; i < m->levels; i++)
        free(m->lv[i].v);
}

static mitem_t
model_take(model_t *m, int l, int pos)
{
    mlevel_t *L = &m->lv[l];
    mitem_t it = L->v[pos];
    memmove(&L->v[pos], &L->v[pos + 1], (size_t) (L->n - pos - 1) * sizeof(mitem_t));
    L->n--;
    L->size -= it.size;
    return it;
}

static void
model_push(model_t *m, int l, mitem_t it)
{
    mlevel_t *L = &m->lv[l];
    memmove(&L->v[1], &L->v[0], (size_t) L->n * sizeof(mitem_t));
    L->v[0] = it;
    L->n++;
    L->size += it.size;
}

/*  Returns 1 for a hit, 0 for a miss. */
static int
model_access(model_t *m, uint32_t id, uint64_t size)
{
    int hit = 0, to = 0;
    for (int l = 0; l < m->levels && !hit; l++)
        for (int p = 0; p < m->lv[l].n; p++)
            if (m->lv[l].v[p].id == id) {
                mitem_t it = model_take(m, l, p);
                m->total -= it.size;
                it.size = size;
                to = l + 1 < m->levels ? l + 1 : l;
                model_push(m, to, it);
                hit = 1;
                break;
            }
    if (!hit)
        model_push(m, 0, (mitem_t) { id, size });
    m->total += size;
    for (int l = to; l >= 1; l--)
        while (m->lv[l].size > m->lv[l].cap)
            model_push(m, l - 1, model_take(m, l, m->lv[l].n - 1));
    return hit;
}

/*  Key bytes of an id: the id, then filler up to 4 + id % 37 bytes (some
    keys longer than the inline 24 bytes). */
static size_t
make_key(uint32_t id, unsigned char *key)
{
    size_t len = 4 + id % 37;
    memcpy(key, &id, 4);
    for (size_t i = 4; i < len; i++)
        key[i] = (unsigned char) (id * 31 + i);
    return len;
}

typedef struct {
    uint32_t ids[64];
    int n;
} ids_t;

static void
collect_id(void *arg, const void *key, size_t len, uint64_t size)
{
    ids_t *ids = arg;
    uint32_t id;
    (void) len, (void) size;
    memcpy(&id, key, 4);
    if (ids->n < 64)
        ids->ids[ids->n++] = id;
}

typedef struct {
    model_t *m;
    int level, pos, mismatch;
} walk_t;

static int
compare_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    walk_t *w = arg;
    uint32_t id;
    memcpy(&id, key, 4);
    (void) len;
    if (level != w->level) {
        if (w->pos != w->m->lv[w->level].n)
            w->mismatch = 1;
        w->level = level;
        w->pos = 0;
    }
    const mlevel_t *L = &w->m->lv[level];
    if (w->pos >= L->n || L->v[w->pos].id != id || L->v[w->pos].size != size)
        w->mismatch = 1;
    w->pos++;
    return w->mismatch;
}

static void
test_differential_zipf(void)
{
    const int levels = 4, requests = 1000000;
    const uint64_t capacity = 240;
    zipf_t z;
    zipf_init(&z, 20000);
    rng_state = 42;
    model_t m;
    model_init(&m, levels, capacity, 400);
    mu_lru_t *lru = mu_lru_new(capacity, levels);
    MU_CHECK(lru != NULL);
    uint64_t hits_lru = 0, hits_model = 0, evicted = 0;
    int mismatch_at = -1;
    for (int r = 0; r < requests && mismatch_at < 0; r++) {
        uint32_t id = zipf_next(&z);
        uint64_t size = 1 + (id + (r % 11 == 0)) % 4; /* sizes change now and then */
        unsigned char key[64];
        size_t len = make_key(id, key);
        int rc = mu_lru_increment(lru, key, len, size);
        int mh = model_access(&m, id, size);
        hits_lru += rc == 1;
        hits_model += (uint64_t) mh;
        ids_t ev = { .n = 0 };
        int n = mu_lru_evict(lru, 0, collect_id, &ev);
        int same = rc == mh && n == ev.n;
        for (int i = 0; i < ev.n && same; i++) {
            const mlevel_t *L0 = &m.lv[0];
            mitem_t it = model_take(&m, 0, L0->n - 1);
            m.total -= it.size;
            same = it.id == ev.ids[i];
        }
        same = same && m.total <= m.capacity && m.total == lru_stat(lru, T_STAT_SIZE, -1);
        evicted += (uint64_t) ev.n;
        if (!same)
            mismatch_at = r;
    }
    printf("# differential: %llu hits (model %llu), %llu evictions, first mismatch %d\n",
           (unsigned long long) hits_lru, (unsigned long long) hits_model,
           (unsigned long long) evicted, mismatch_at);
    MU_CHECK_EQ(mismatch_at, -1);
    MU_CHECK_EQ(hits_lru, hits_model);
    MU_CHECK(hits_lru > 100000 && evicted > 100000); /* the trace exercised both */
    for (int l = 0; l < levels; l++) {
        MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, l), m.lv[l].n);
        MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, l), m.lv[l].size);
    }
    walk_t w = { &m, levels - 1, 0, 0 };
    mu_lru_foreach(lru, compare_cb, &w);
    MU_CHECK_EQ(w.mismatch, 0);
    mu_lru_destroy(&lru);
    model_free(&m);
    free(z.cdf);
}

/*  A large table under churn: 60,000 keys of 4 to 40 bytes (the table
    doubles many times, relinking every list), half of them hit once (to
    level 1), a third deleted at random (entries shift back in the table and
    their neighbours follow), then everything evicted. The order seen by
    mu_lru_foreach and by mu_lru_evict must be the one the rules give. */
typedef struct {
    const uint32_t *want;
    const int *want_level;
    int n, pos, mismatch;
} order_t;

static int
order_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    order_t *o = arg;
    uint32_t id;
    memcpy(&id, key, 4);
    unsigned char k[64];
    if (o->pos >= o->n || o->want[o->pos] != id || o->want_level[o->pos] != level
        || make_key(id, k) != len || memcmp(k, key, len) != 0 || size != 1 + id % 5)
        o->mismatch = 1;
    o->pos++;
    return 0;
}

static void
churn_evict_order_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    (void) order_cb(arg, key, len, size, level);
}

static void
churn_evict_cb(void *arg, const void *key, size_t len, uint64_t size)
{
    churn_evict_order_cb(arg, key, len, size, 0);
}

static void
test_table_churn(void)
{
    enum { N = 60000 };
    mu_lru_t *lru = mu_lru_new(UINT64_C(1) << 40, 4);
    MU_CHECK(lru != NULL);
    unsigned char key[64];
    static bool gone[N];
    uint64_t total = 0;
    for (uint32_t id = 0; id < N; id++) {
        size_t len = make_key(id, key);
        MU_CHECK_EQ(mu_lru_increment(lru, key, len, 1 + id % 5), 0);
        total += 1 + id % 5;
    }
    for (uint32_t id = 0; id < N; id += 2) {
        size_t len = make_key(id, key);
        MU_CHECK_EQ(mu_lru_increment(lru, key, len, 1 + id % 5), 1);
    }
    rng_state = 7;
    int deleted = 0;
    for (uint32_t id = 0; id < N; id++)
        if (rng() % 3 == 0) {
            size_t len = make_key(id, key);
            MU_CHECK_EQ(mu_lru_delete(lru, key, len), 0);
            gone[id] = true;
            total -= 1 + id % 5;
            deleted++;
        }
    /* level 1: even ids, last hit first; level 0: odd ids, last added first */
    static uint32_t want[N];
    static int want_level[N];
    int n = 0;
    for (int64_t id = N - 2; id >= 0; id -= 2)
        if (!gone[id])
            want[n] = (uint32_t) id, want_level[n++] = 1;
    for (int64_t id = N - 1; id >= 1; id -= 2)
        if (!gone[id])
            want[n] = (uint32_t) id, want_level[n++] = 0;
    MU_CHECK_EQ(n, N - deleted);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, -1), (uint64_t) n);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, -1), total);
    order_t o = { want, want_level, n, 0, 0 };
    MU_CHECK_EQ(mu_lru_foreach(lru, order_cb, &o), 0);
    MU_CHECK_EQ(o.mismatch, 0);
    MU_CHECK_EQ(o.pos, n);
    for (uint32_t id = 0; id < N; id++) {
        size_t len = make_key(id, key);
        int level = -1;
        MU_CHECK_EQ(mu_lru_peek(lru, key, len, NULL, &level), gone[id] ? MU_ENOENT : 0);
        if (!gone[id])
            MU_CHECK_EQ(level, id % 2 == 0 ? 1 : 0);
    }
    /* capacity 1 and level 1 demotes everything to level 0 below the
       odd ids; eviction takes level 0 from the tail, the last key stays */
    MU_CHECK_EQ(mu_lru_resize(lru, 1), 0);
    for (int i = 0; i < n / 2; i++) { /* reverse: eviction goes tail first */
        uint32_t t = want[i];
        want[i] = want[n - 1 - i];
        want[n - 1 - i] = t;
    }
    for (int i = 0; i < n; i++)
        want_level[i] = 0;
    o = (order_t) { want, want_level, n, 0, 0 };
    int ev = mu_lru_evict(lru, 0, churn_evict_cb, &o);
    MU_CHECK(ev >= n - 1 && ev <= n);
    MU_CHECK_EQ(o.mismatch, 0);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, -1), (uint64_t) (n - ev));
    mu_lru_destroy(&lru);
}

/*  mu_lru_increment_many against single calls: the same results per item
    (hits, new keys, errors), the same order and statistics, on keys of 0 to
    40 bytes (inline and out of line), sizes that change, and bad items. */
typedef struct {
    unsigned char *data;
    size_t used, cap;
} bin_dump_t;

static int
bin_dump_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    bin_dump_t *d = arg;
    size_t need = len + sizeof len + sizeof size + sizeof level;
    if (d->used + need > d->cap) {
        d->cap = (d->used + need) * 2;
        d->data = realloc(d->data, d->cap);
    }
    memcpy(d->data + d->used, &len, sizeof len);
    d->used += sizeof len;
    if (len)
        memcpy(d->data + d->used, key, len);
    d->used += len;
    memcpy(d->data + d->used, &size, sizeof size);
    d->used += sizeof size;
    memcpy(d->data + d->used, &level, sizeof level);
    d->used += sizeof level;
    return 0;
}

static void
test_increment_many(void)
{
    mu_lru_t *a = mu_lru_new(3000, 4), *b = mu_lru_new(3000, 4);
    MU_CHECK(a != NULL && b != NULL);
    MU_CHECK_EQ(mu_lru_set_boost(a, 1, 2), 0);
    MU_CHECK_EQ(mu_lru_set_boost(b, 1, 2), 0);
    rng_state = 99;
    enum { N = 200 };
    static unsigned char keys[N][40];
    mu_lru_item_t items[N];
    int res[N];
    uint64_t hits = 0;
    int mismatches = 0;
    MU_CHECK_EQ(mu_lru_increment_many(a, NULL, 0, NULL), 0);
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t) (rng() % N) + 1;
        int expect_rc = 0, expect_hits = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t id = rng() % 5000;
            size_t len = (size_t) (id % 41);
            for (size_t j = 0; j < len; j++)
                keys[i][j] = (unsigned char) (id >> (8 * (j % 4)) ^ j);
            items[i].key = len || id % 3 ? keys[i] : NULL;
            items[i].len = len;
            items[i].size = 1 + (id + (uint64_t) round) % 3;
            if (rng() % 97 == 0)
                items[i].key = NULL, items[i].len = 5; /* bad item */
        }
        int rc = mu_lru_increment_many(a, items, n, res);
        for (size_t i = 0; i < n; i++) {
            int one = mu_lru_increment(b, items[i].key, items[i].len, items[i].size);
            mismatches += one != res[i];
            if (one < 0 && expect_rc == 0)
                expect_rc = one;
            expect_hits += one == 1;
        }
        MU_CHECK_EQ(rc, expect_rc ? expect_rc : expect_hits);
        hits += (uint64_t) expect_hits;
        MU_CHECK(mu_lru_evict(a, 0, NULL, NULL) >= 0);
        MU_CHECK(mu_lru_evict(b, 0, NULL, NULL) >= 0);
    }
    MU_CHECK_EQ(mismatches, 0);
    MU_CHECK(hits > 10000);
    for (int what = T_STAT_COUNT; what <= T_STAT_EVICTIONS; what++)
        for (int lv = -1; lv < 4; lv++)
            MU_CHECK_EQ(lru_stat(a, (t_stat_t) what, lv), lru_stat(b, (t_stat_t) what, lv));
    bin_dump_t da = { 0 }, db = { 0 };
    MU_CHECK_EQ(mu_lru_foreach(a, bin_dump_cb, &da), 0);
    MU_CHECK_EQ(mu_lru_foreach(b, bin_dump_cb, &db), 0);
    MU_CHECK(da.used > 0 && da.used == db.used && memcmp(da.data, db.data, da.used) == 0);
    free(da.data);
    free(db.data);
    mu_lru_destroy(&a);
    mu_lru_destroy(&b);
}

/*  Hit ratio of an LRU of the given levels over a Zipf trace with a scan
    of one-time keys every `every` requests. */
static double
hit_ratio(int levels, uint64_t seed)
{
    zipf_t z;
    zipf_init(&z, 50000);
    rng_state = seed;
    mu_lru_t *lru = mu_lru_new(2000, levels);
    uint64_t hits = 0, total = 0;
    uint32_t scan_id = 1u << 30;
    for (int r = 0; r < 400000; r++) {
        if (r % 2000 == 1999) {
            for (int i = 0; i < 1500; i++, scan_id++) {
                if (mu_lru_increment(lru, &scan_id, sizeof scan_id, 1) < 0
                    || mu_lru_evict(lru, 0, NULL, NULL) < 0)
                    return -1;
            }
        }
        uint32_t id = zipf_next(&z);
        int rc = mu_lru_increment(lru, &id, sizeof id, 1);
        hits += rc == 1;
        total++;
        if (mu_lru_evict(lru, 0, NULL, NULL) < 0)
            return -1;
    }
    mu_lru_destroy(&lru);
    free(z.cdf);
    return (double) hits / (double) total;
}

static void
test_s4lru_beats_lru(void)
{
    double s4 = hit_ratio(4, 7), lru = hit_ratio(1, 7);
    printf("# s4lru hit ratio %.4f, lru %.4f\n", s4, lru);
    MU_CHECK(s4 > lru);
    MU_CHECK(lru > 0.1);
}

/* ---- persistence ---------------------------------------------------------- */

static void
fill_some(mu_lru_t *lru, int n)
{
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i % (n / 2 + 1));
        int rc = inc(lru, key, 1 + (uint64_t) i % 3);
        (void) rc;
    }
}

static void
round_trip(mu_lru_durability_t policy, int explicit_flush)
{
    char dir[300];
    make_dir(dir, sizeof dir, "rt");
    mu_lru_t *lru = mu_lru_open(dir, "cache", 40, 4, MU_LRU_CREATE);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_set_durability(lru, policy, 5), 0);
    fill_some(lru, 60);
    MU_CHECK_EQ(mu_lru_delete(lru, "k3", 2), 0);
    MU_CHECK(mu_lru_evict(lru, 0, NULL, NULL) > 0);
    MU_CHECK_EQ(mu_lru_resize(lru, 30), 0);
    MU_CHECK(mu_lru_evict(lru, 0, NULL, NULL) > 0);
    MU_CHECK_EQ(inc(lru, "k3", 2), 0); /* deleted, then back */
    char before[4096];
    snprintf(before, sizeof before, "%s", dump(lru));
    uint64_t hits = STAT(lru, HITS, -1), misses = STAT(lru, MISSES, -1);
    uint64_t evictions = STAT(lru, EVICTIONS, -1), size = STAT(lru, SIZE, -1);
    if (explicit_flush)
        MU_CHECK_EQ(mu_lru_flush(lru), 0);
    mu_lru_destroy(&lru);
    lru = mu_lru_open(dir, "cache", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK(strcmp(dump(lru), before) == 0);
    MU_CHECK_EQ(STAT(lru, CAPACITY, -1), 30);
    MU_CHECK_EQ(STAT(lru, HITS, -1), hits);
    MU_CHECK_EQ(STAT(lru, MISSES, -1), misses);
    MU_CHECK_EQ(STAT(lru, EVICTIONS, -1), evictions);
    MU_CHECK_EQ(STAT(lru, SIZE, -1), size);
    /* Keep going after the reopen: the order stays exact. */
    MU_CHECK_EQ(inc(lru, "k3", 1), 1); /* k3 was added last: present */
    MU_CHECK_EQ(inc(lru, "new", 1), 0);
    snprintf(before, sizeof before, "%s", dump(lru));
    mu_lru_destroy(&lru);
    lru = mu_lru_open(dir, "cache", 30, 4, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK(strcmp(dump(lru), before) == 0);
    mu_lru_destroy(&lru);
}

static void
test_round_trip_immediate(void)
{
    round_trip(MU_LRU_IMMEDIATE, 1);
}

static void
test_round_trip_group(void)
{
    round_trip(MU_LRU_GROUP, 0);
}

static void
test_round_trip_at_flush(void)
{
    round_trip(MU_LRU_AT_FLUSH, 1);
}

/*  A larger state (long keys, every level) survives a reopen exactly. */
static int
hash_cb(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    uint64_t *h = arg;
    const unsigned char *p = key;
    for (size_t i = 0; i < len; i++)
        *h = (*h ^ p[i]) * 0x100000001B3ull;
    *h = (*h ^ size ^ ((uint64_t) level << 40)) * 0x100000001B3ull;
    return 0;
}

static void
test_round_trip_large(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "large");
    mu_lru_t *lru = mu_lru_open(dir, "big", 5000, 6, MU_LRU_CREATE);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_AT_FLUSH, 0), 0);
    zipf_t z;
    zipf_init(&z, 20000);
    rng_state = 99;
    for (int r = 0; r < 60000; r++) {
        uint32_t id = zipf_next(&z);
        unsigned char key[64];
        size_t len = make_key(id, key);
        MU_CHECK(mu_lru_increment(lru, key, len, 1 + id % 5) >= 0);
        if (r % 100 == 0)
            MU_CHECK(mu_lru_evict(lru, 0, NULL, NULL) >= 0);
        if (r % 20000 == 0)
            MU_CHECK_EQ(mu_lru_flush(lru), 0);
    }
    free(z.cdf);
    uint64_t h1 = 14695981039346656037ull, h2 = h1;
    mu_lru_foreach(lru, hash_cb, &h1);
    uint64_t count = STAT(lru, COUNT, -1);
    MU_CHECK_EQ(mu_lru_flush(lru), 0);
    mu_lru_destroy(&lru);
    lru = mu_lru_open(dir, "big", 0, 0, 0);
    MU_CHECK(lru != NULL);
    mu_lru_foreach(lru, hash_cb, &h2);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), count);
    MU_CHECK(h1 == h2);
    mu_lru_destroy(&lru);
}

static void
test_open_errors(void)
{
    char dir[300], path[400];
    make_dir(dir, sizeof dir, "err");
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "absent", 10, 4, 0) == NULL && errno == ENOENT);
    MU_CHECK_EQ(mu_last_code(), MU_ENOENT); /* the detail of a constructor's failure */
    const char *bad_names[] = { "", ".hidden", "a/b", "sp ace", "x\n" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        errno = 0;
        MU_CHECK(mu_lru_open(dir, bad_names[i], 10, 4, MU_LRU_CREATE) == NULL && errno == EINVAL);
    }
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 0, 4, MU_LRU_CREATE) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 10, 4, MU_LRU_CREATE | MU_LRU_READONLY) == NULL
             && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 10, 4, 64) == NULL && errno == EINVAL);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c0", 10, 65, MU_LRU_CREATE) == NULL && errno == EINVAL);

    mu_lru_t *lru = mu_lru_open(dir, "c1", 100, 4, MU_LRU_CREATE | MU_LRU_SYNC_FULL);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 5), 0);
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_GROUP, 60001), MU_EINVAL);
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_GROUP, -1), MU_EINVAL);
    errno = 0; /* a second writer, even in the same process */
    MU_CHECK(mu_lru_open(dir, "c1", 0, 0, 0) == NULL && errno == EAGAIN);
    MU_CHECK_EQ(mu_lru_flush(lru), 0);
    mu_lru_t *ro = mu_lru_open(dir, "c1", 0, 0, MU_LRU_READONLY); /* readers are fine */
    MU_CHECK(ro != NULL);
    MU_CHECK_EQ(mu_lru_contains(ro, "a", 1), 1);
    MU_CHECK_EQ(inc(ro, "a", 1), MU_EACCES);
    MU_CHECK_EQ(mu_lru_delete(ro, "a", 1), MU_EACCES);
    MU_CHECK_EQ(mu_lru_resize(ro, 5), MU_EACCES);
    MU_CHECK_EQ(mu_lru_evict(ro, 0, NULL, NULL), MU_EACCES);
    MU_CHECK_EQ(mu_lru_evict(ro, MU_LRU_DRY_RUN, NULL, NULL), 0);
    MU_CHECK_EQ(mu_lru_set_durability(ro, MU_LRU_GROUP, 10), MU_ENOTSUP);
    MU_CHECK_EQ(mu_lru_flush(ro), 0);
    mu_lru_destroy(&ro);
    mu_lru_destroy(&lru);

    errno = 0; /* conflicting parameters */
    MU_CHECK(mu_lru_open(dir, "c1", 0, 3, 0) == NULL && errno == EEXIST);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c1", 99, 4, MU_LRU_CREATE) == NULL && errno == EEXIST);
    lru = mu_lru_open(dir, "c1", 100, 4, 0); /* the same ones are fine */
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_contains(lru, "a", 1), 1);
    mu_lru_destroy(&lru);

    /* Not an LRU: garbage bytes, then an SQLite file with other tables. */
    snprintf(path, sizeof path, "%s/junk.lru", dir);
    FILE *f = fopen(path, "w");
    MU_CHECK(f != NULL);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database ", f);
    fclose(f);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "junk", 0, 0, 0) == NULL && errno == EBADMSG);
    snprintf(path, sizeof path, "%s/other.lru", dir);
    sqlite3 *db;
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "other", 0, 0, 0) == NULL && errno == EBADMSG);

    /* Impossible stored values. */
    snprintf(path, sizeof path, "%s/c1.lru", dir);
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db, "UPDATE entries SET level = 9", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c1", 0, 0, 0) == NULL && errno == EBADMSG);
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db,
                             "UPDATE entries SET level = 0;"
                             "UPDATE meta SET value = 2 WHERE name = 'format'",
                             NULL, NULL, NULL),
                SQLITE_OK);
    sqlite3_close(db);
    errno = 0;
    MU_CHECK(mu_lru_open(dir, "c1", 0, 0, 0) == NULL && errno == EBADMSG);

    /* A directory that cannot be created. */
    errno = 0;
    MU_CHECK(mu_lru_open("/proc/no/such/dir", "x", 10, 4, MU_LRU_CREATE) == NULL && errno != 0);
    errno = 0;
    MU_CHECK(mu_lru_open("/nonexistent-mutil", "x", 10, 4, 0) == NULL && errno == ENOENT);
}

/* ---- waiting on file events ------------------------------------------------ */

/*  An inotify descriptor watching dir for the events in mask, or -1. */
static int
watch_dir(const char *dir, uint32_t mask)
{
    int in = inotify_init1(IN_CLOEXEC);
    if (in >= 0 && inotify_add_watch(in, dir, mask) < 0) {
        close(in);
        return -1;
    }
    return in;
}

/*  Reads the next events of inotify descriptor in into buf, waiting until
    deadline (ms, mu_test_now_ms clock). Returns the bytes read, 0 on
    timeout. */
static ssize_t
read_events(int in, int64_t deadline, char *buf, size_t size)
{
    int left = (int) (deadline - mu_test_now_ms());
    struct pollfd p = { in, POLLIN, 0 };
    if (left <= 0 || poll(&p, 1, left) <= 0)
        return 0;
    ssize_t n = read(in, buf, size);
    return n > 0 ? n : 0;
}

/*  Waits up to timeout_ms (scaled) until in reports a file created other
    than a lock file. Returns 1 when one was, 0 on timeout. */
static int
wait_file_created(int in, int timeout_ms)
{
    union {
        struct inotify_event ev;
        char bytes[4096];
    } buf;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    ssize_t n;
    while ((n = read_events(in, deadline, buf.bytes, sizeof buf.bytes)) > 0)
        for (ssize_t off = 0; off < n;) {
            const struct inotify_event *ev = (const void *) (buf.bytes + off);
            if (ev->len > 0 && strstr(ev->name, ".lock") == NULL)
                return 1;
            off += (ssize_t) (sizeof *ev + ev->len);
        }
    return 0;
}

/*  Keys in DIR/NAME.lru as another process committed them (0 when it
    cannot be opened). */
static uint64_t
stored_keys(const char *dir, const char *name)
{
    mu_lru_t *lru = mu_lru_open(dir, name, 0, 0, MU_LRU_READONLY);
    uint64_t n = lru ? lru_stat(lru, T_STAT_COUNT, -1) : 0;
    mu_lru_destroy(&lru);
    return n;
}

/*  Waits up to timeout_ms (scaled) until DIR/NAME.lru holds n keys for a
    reader. The condition is polled: a commit becomes visible when SQLite
    updates its shared-memory index, a store to a mapping that raises no
    file event to wait on. Returns 1 when it holds, 0 on timeout. */
static int
wait_stored_keys(const char *dir, const char *name, uint64_t n, int timeout_ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    while (stored_keys(dir, name) != n) {
        if (mu_test_now_ms() > deadline)
            return 0;
        usleep(10 * 1000);
    }
    return 1;
}

/* ---- SIGKILL during write loops -------------------------------------------- */

/*  What the child reports on the side channel after a call returned. */
typedef struct {
    int32_t kind; /* 1: new key added, 2: flush done */
    uint32_t id;  /* key id (for a flush: the last id added before it) */
    int64_t t_ms; /* when the call returned */
} report_t;

static void
child_loop(const char *dir, mu_lru_durability_t policy, int group_ms, uint32_t first, int fd,
           int idle_after)
{
    mu_lru_t *lru = mu_lru_open(dir, "crash", 1000000, 4, MU_LRU_CREATE);
    if (lru == NULL || mu_lru_set_durability(lru, policy, group_ms) != 0)
        _exit(3);
    mu_test_signal_byte(fd, 'R'); /* opened: the reports follow */
    char key[32];
    for (uint32_t id = first;; id++) {
        snprintf(key, sizeof key, "c%u", id);
        if (inc(lru, key, 1 + id % 7) != 0)
            _exit(4);
        report_t r = { 1, id, mu_test_now_ms() };
        if (write(fd, &r, sizeof r) != (ssize_t) sizeof r)
            _exit(5);
        if (idle_after && id + 1 - first == (uint32_t) idle_after)
            for (;;)
                pause(); /* an idle process: only the background thread can commit */
        snprintf(key, sizeof key, "c%u", first + (uint32_t) (rng() % (id - first + 1)));
        if (inc(lru, key, 1 + id % 5) != 1) /* a hit: memory only until flush */
            _exit(6);
        if (id % 97 == 0) {
            if (mu_lru_flush(lru) != 0)
                _exit(7);
            report_t f = { 2, id, mu_test_now_ms() };
            if (write(fd, &f, sizeof f) != (ssize_t) sizeof f)
                _exit(5);
        }
    }
}

typedef struct {
    uint32_t *ids;
    int64_t *t;
    size_t n, cap;
    uint32_t last_flush_id;
    int flushed;
} log_t;

static void
log_add(log_t *log, const report_t *r)
{
    if (r->kind == 2) {
        log->last_flush_id = r->id;
        log->flushed = 1;
        return;
    }
    if (log->n == log->cap) {
        log->cap = log->cap ? log->cap * 2 : 1024;
        log->ids = realloc(log->ids, log->cap * sizeof *log->ids);
        log->t = realloc(log->t, log->cap * sizeof *log->t);
    }
    log->ids[log->n] = r->id;
    log->t[log->n++] = r->t_ms;
}

/*  Reads reports until the deadline (-1: until EOF) or until the log holds
    `until` keys. */
static void
read_reports(int fd, log_t *log, int64_t deadline, size_t until)
{
    report_t r;
    size_t have = 0;
    while (log->n < until) {
        int wait = deadline < 0 ? -1 : (int) (deadline - mu_test_now_ms());
        if (deadline >= 0 && wait <= 0)
            return;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, wait) <= 0)
            continue;
        ssize_t n = read(fd, (char *) &r + have, sizeof r - have);
        if (n <= 0)
            return;
        have += (size_t) n;
        if (have == sizeof r) {
            log_add(log, &r);
            have = 0;
        }
    }
}

static int
integrity_ok(const char *dir)
{
    char path[400];
    snprintf(path, sizeof path, "%s/crash.lru", dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK
        && sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
        ok = sqlite3_step(st) == SQLITE_ROW
             && strcmp((const char *) sqlite3_column_text(st, 0), "ok") == 0;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return ok;
}

/*  Runs `kills` child lifetimes under one policy, each SIGKILLed after a
    random delay, and checks what survived. Returns the number of keys that
    the policy required and that were missing (0 expected), or -1 when a
    child or the reopen failed. */
static int
crash_policy(mu_lru_durability_t policy, int group_ms, int kills, int min_ms, int max_ms,
             int *checked_p)
{
    char dir[300];
    make_dir(dir, sizeof dir, "crash");
    int missing = 0;
    for (int k = 0; k < kills; k++) {
        int fds[2];
        if (pipe(fds) != 0)
            return -1;
        uint32_t first = (uint32_t) (k + 1) * 10000000u;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            rng_state = (uint64_t) k * 7919;
            child_loop(dir, policy, group_ms, first, fds[1], 0);
        }
        close(fds[1]);
        log_t log = { 0 };
        int delay = min_ms + (int) (rng() % (uint64_t) (max_ms - min_ms + 1));
        int ready = mu_test_wait_byte(fds[0], 10000);
        if (ready == 'R') /* the child has opened the LRU: kill it while it writes */
            read_reports(fds[0], &log, mu_test_now_ms() + delay, SIZE_MAX);
        int64_t kill_ms = mu_test_now_ms();
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        read_reports(fds[0], &log, -1, SIZE_MAX);
        close(fds[0]);
        if (ready != 'R' || !WIFSIGNALED(status)) {
            printf("# child not ready (%d) or exited with status %d\n", ready,
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            return -1;
        }
        if (!integrity_ok(dir)) {
            printf("# integrity_check failed after kill %d\n", k);
            return -1;
        }
        mu_lru_t *lru = mu_lru_open(dir, "crash", 0, 0, 0);
        if (lru == NULL) {
            printf("# reopen failed: %s\n", mu_strerror(-errno));
            return -1;
        }
        for (size_t i = 0; i < log.n; i++) {
            int must = 0;
            if (policy == MU_LRU_IMMEDIATE)
                must = 1;
            else if (policy == MU_LRU_GROUP)
                must = log.t[i] < kill_ms - group_ms - mu_test_ms(500); /* slack: one commit */
            if (log.flushed && log.ids[i] <= log.last_flush_id)
                must = 1;
            if (!must)
                continue;
            (*checked_p)++;
            char key[32];
            snprintf(key, sizeof key, "c%u", log.ids[i]);
            if (!mu_lru_contains(lru, key, strlen(key)))
                missing++;
        }
        /* Sizes and levels add up after the reopen. */
        uint64_t sum = 0, count = 0;
        for (int l = 0; l < 4; l++) {
            sum += lru_stat(lru, T_STAT_SIZE, l);
            count += lru_stat(lru, T_STAT_COUNT, l);
        }
        if (sum != lru_stat(lru, T_STAT_SIZE, -1) || count != lru_stat(lru, T_STAT_COUNT, -1))
            missing++;
        mu_lru_destroy(&lru);
        free(log.ids);
        free(log.t);
    }
    return missing;
}

static void
test_crash_immediate(void)
{
    int checked = 0;
    MU_CHECK_EQ(crash_policy(MU_LRU_IMMEDIATE, 0, 17, 5, 60, &checked), 0);
    printf("# immediate: %d keys checked after 17 kills\n", checked);
    MU_CHECK(checked > 0);
}

static void
test_crash_group(void)
{
    int checked = 0;
    MU_CHECK_EQ(crash_policy(MU_LRU_GROUP, 20, 17, 50, 400, &checked), 0);
    printf("# group (20 ms): %d keys checked after 17 kills\n", checked);
    MU_CHECK(checked > 0);
}

static void
test_crash_at_flush(void)
{
    int checked = 0;
    MU_CHECK_EQ(crash_policy(MU_LRU_AT_FLUSH, 0, 16, 5, 80, &checked), 0);
    printf("# at-flush: %d keys checked after 16 kills\n", checked);
    MU_CHECK(checked > 0);
}

/*  GROUP with an idle process: the keys reach the disk although no call
    follows them. */
static void
test_group_idle(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "idle");
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_loop(dir, MU_LRU_GROUP, 30, 1, fds[1], 10);
    }
    close(fds[1]);
    log_t log = { 0 };
    if (mu_test_wait_byte(fds[0], 10000) == 'R')
        read_reports(fds[0], &log, mu_test_now_ms() + mu_test_ms(10000), 10);
    /* The child now idles; its background thread alone commits the keys. */
    size_t reported = log.n;
    free(log.ids);
    free(log.t);
    int committed = reported == 10 && wait_stored_keys(dir, "crash", 10, 10000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    MU_CHECK_EQ(reported, 10);
    MU_CHECK(committed);
    mu_lru_t *lru = mu_lru_open(dir, "crash", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, -1), 10);
    mu_lru_destroy(&lru);
}

/* ---- SIGKILL while creating ----------------------------------------------- */

/*  Forks a child that creates DIR/made.lru and SIGKILLs it as soon as it
    has created its first file in DIR (seen by inotify, not guessed by a
    delay). Returns 1 when the kill landed before the creation returned,
    0 when after, -1 on a failure of the test itself. */
static int
kill_while_creating(const char *dir)
{
    int in = watch_dir(dir, IN_CREATE);
    int fds[2];
    if (in < 0 || pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        mu_lru_t *lru = mu_lru_open(dir, "made", 1000, 4, MU_LRU_CREATE);
        mu_test_signal_byte(fds[1], lru != NULL ? 'D' : 'F');
        for (;;)
            pause();
    }
    close(fds[1]);
    int seen = wait_file_created(in, 10000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(in);
    int done = mu_test_wait_byte(fds[0], 0);
    close(fds[0]);
    return !seen || done == 'F' ? -1 : done != 'D';
}

/*  A SIGKILL while an LRU is being created leaves no LRU or a complete one:
    opening it is ENOENT or succeeds, never MU_ECORRUPT; creating it again
    succeeds and leaves no temporary file. */
static void
test_crash_while_creating(void)
{
    int mid = 0;
    for (int round = 0; round < 20; round++) {
        char dir[300], tmp[400];
        make_dir(dir, sizeof dir, "creating");
        int killed = kill_while_creating(dir);
        MU_CHECK(killed >= 0);
        mid += killed;
        errno = 0;
        mu_lru_t *lru = mu_lru_open(dir, "made", 0, 0, 0);
        if (lru == NULL && errno != ENOENT)
            printf("# round %d: open after the kill: %s\n", round, mu_strerror(-errno));
        MU_CHECK(lru != NULL || errno == ENOENT);
        mu_lru_destroy(&lru);
        lru = mu_lru_open(dir, "made", 0, 0, MU_LRU_READONLY);
        MU_CHECK(lru != NULL || errno == ENOENT);
        mu_lru_destroy(&lru);
        lru = mu_lru_open(dir, "made", 1000, 4, MU_LRU_CREATE);
        MU_CHECK(lru != NULL);
        MU_CHECK_EQ(lru_stat(lru, T_STAT_CAPACITY, -1), 1000);
        MU_CHECK_EQ(inc(lru, "k", 1), 0);
        mu_lru_destroy(&lru);
        snprintf(tmp, sizeof tmp, "%s/.made.lru.new", dir);
        MU_CHECK(access(tmp, F_OK) != 0);
        lru = mu_lru_open(dir, "made", 0, 0, 0);
        MU_CHECK(lru != NULL && mu_lru_contains(lru, "k", 1));
        mu_lru_destroy(&lru);
    }
    printf("# %d of 20 kills landed while the LRU was being created\n", mid);
    MU_CHECK(mid > 0);
}

/* ---- the file size limit (RLIMIT_FSIZE) -------------------------------------- */

enum { FSIZE_LIMIT = 256 * 1024, FSIZE_KEY = 1000 };

/*  Key number i of the file-size test: FSIZE_KEY bytes. */
static void
fsize_key(char *key, int i)
{
    memset(key, 'a' + i % 26, FSIZE_KEY);
    snprintf(key, FSIZE_KEY, "key-%d-", i);
}

/*  The child of test_file_size_limit, SIGXFSZ at its default action (death)
    and files limited to FSIZE_LIMIT bytes: adds keys (committed at once)
    until one fails, then hits every key and flushes (fails too), then
    raises the limit, adds one key more and flushes. Writes the number of
    keys added before the failure to fd; exits 0 when every step went as
    documented, another status naming the step otherwise. */
static void
fsize_child(const char *dir, int fd)
{
    signal(SIGXFSZ, SIG_DFL);
    struct rlimit rl = { FSIZE_LIMIT, RLIM_INFINITY };
    mu_lru_t *lru = setrlimit(RLIMIT_FSIZE, &rl) == 0
                        ? mu_lru_open(dir, "big", 1ull << 40, 4, MU_LRU_CREATE)
                        : NULL;
    if (lru == NULL)
        _exit(10);
    char key[FSIZE_KEY];
    int n = 0, rc = 0;
    for (; n < 10000; n++) {
        fsize_key(key, n);
        if ((rc = mu_lru_increment(lru, key, sizeof key, 1)) != 0)
            break;
    }
    if (rc != MU_EFBIG)
        _exit(11);
    if (mu_lru_contains(lru, key, sizeof key) || lru_stat(lru, T_STAT_COUNT, -1) != (uint64_t) n)
        _exit(12); /* the failed key is not kept */
    for (int i = 0; i < n; i++) {
        fsize_key(key, i);
        if (mu_lru_increment(lru, key, sizeof key, 2) != 1)
            _exit(13);
    }
    if (mu_lru_flush(lru) != MU_EFBIG)
        _exit(14); /* the hits stay pending */
    rl.rlim_cur = RLIM_INFINITY;
    fsize_key(key, n);
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || mu_lru_increment(lru, key, sizeof key, 1) != 0)
        _exit(15);
    if (mu_lru_flush(lru) != 0)
        _exit(16);
    mu_lru_destroy(&lru);
    _exit(write(fd, &n, sizeof n) == (ssize_t) sizeof n ? 0 : 17);
}

/*  A write past RLIMIT_FSIZE fails with MU_EFBIG instead of killing the
    process (SIGXFSZ), loses nothing, and writing works again once the limit
    is raised: on reopen the keys added before the failure are there, with
    the hits of the flush that succeeded after the raise. */
static void
test_file_size_limit(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "fsize");
    int fd = -1, n = -1;
    pid_t pid = mu_test_fork_piped(fsize_child, dir, &fd);
    MU_CHECK(pid > 0);
    MU_CHECK_EQ(mu_test_child_status(pid), 0); /* not killed by SIGXFSZ */
    MU_CHECK_EQ(read(fd, &n, sizeof n), (ssize_t) sizeof n);
    close(fd);
    printf("# %d keys of %d bytes fitted under a %d-byte file size limit\n", n, FSIZE_KEY,
           FSIZE_LIMIT);
    MU_CHECK(n > 10);
    mu_lru_t *lru = mu_lru_open(dir, "big", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, -1), (uint64_t) n + 1);
    MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, 1), (uint64_t) n);
    char key[FSIZE_KEY];
    int intact = 0;
    for (int i = 0; i <= n; i++) {
        fsize_key(key, i);
        uint64_t size = 0;
        intact += mu_lru_peek(lru, key, sizeof key, &size, NULL) == 0 && size == (i < n ? 2u : 1u);
    }
    MU_CHECK_EQ(intact, n + 1);
    mu_lru_destroy(&lru);
}

static void
cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp_root);
}

/*  A caller bug (a NULL stats pointer) aborts: asserted. */
static void
s_child_stats_null(const char *arg, int fd)
{
    (void) arg;
    (void) fd;
    mu_lru_t *lru = mu_lru_new(10, 0);
    (void) !mu_lru_stats(lru, NULL);
}

/*  A failing call leaves its detail for mu_last_error(); caller bugs abort. */
static void
test_details_and_asserts(void)
{
    mu_lru_t *lru = mu_lru_new(10, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_delete(lru, "x", 1), MU_ENOENT);
    MU_CHECK_EQ(mu_last_code(), MU_ENOENT);
    MU_CHECK(strstr(mu_last_error(), "no such key") != NULL);
    MU_CHECK_EQ(mu_lru_resize(lru, 0), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "mu_lru_resize") != NULL);
    mu_lru_destroy(&lru);
    MU_CHECK(mu_test_child_aborts(s_child_stats_null, NULL));
}

int
main(void)
{
    mu_test_start(300);
    if (!mu_test_scratch_dir(tmp_root, sizeof tmp_root, "test-lru")) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    MU_RUN(test_insert_and_promote);
    MU_RUN(test_top_stays_top);
    MU_RUN(test_demotion_cascade);
    MU_RUN(test_eviction_order);
    MU_RUN(test_size_changes);
    MU_RUN(test_delete_contains);
    MU_RUN(test_resize);
    MU_RUN(test_boost);
    MU_RUN(test_foreach_stop);
    MU_RUN(test_bad_arguments);
    MU_RUN(test_differential_zipf);
    MU_RUN(test_table_churn);
    MU_RUN(test_increment_many);
    MU_RUN(test_s4lru_beats_lru);
    MU_RUN(test_round_trip_immediate);
    MU_RUN(test_round_trip_group);
    MU_RUN(test_round_trip_at_flush);
    MU_RUN(test_round_trip_large);
    MU_RUN(test_open_errors);
    MU_RUN(test_crash_immediate);
    MU_RUN(test_crash_group);
    MU_RUN(test_crash_at_flush);
    MU_RUN(test_group_idle);
    MU_RUN(test_crash_while_creating);
    MU_RUN(test_file_size_limit);
    MU_RUN(test_details_and_asserts);
    cleanup();
    MU_DONE();
}
