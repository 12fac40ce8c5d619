/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_lru_model.c — mu_lru against an independent array model on a
    1,000,000-request Zipf trace (eviction for eviction), the same with
    deletions and the whole order compared as it goes, a 60,000-key
    table under growth and deletion (order and eviction order),
    mu_lru_increment_many against single calls, and S4LRU against plain
    LRU on a scan-polluted trace. */
#include "test_lru.h"

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

/*  A differential run: a Zipf trace, the array model and an LRU of the
    same levels and capacity. */
typedef struct {
    zipf_t z;
    model_t m;
    mu_lru_t *lru;
} diff_t;

static void
diff_begin(diff_t *d, int levels, uint64_t capacity, uint32_t keys, uint64_t seed, int max_items)
{
    zipf_init(&d->z, keys);
    rng_state = seed;
    model_init(&d->m, levels, capacity, max_items);
    d->lru = mu_lru_new(capacity, levels);
}

static void
diff_end(diff_t *d)
{
    mu_lru_destroy(&d->lru);
    model_free(&d->m);
    free(d->z.cdf);
}

/*  Evicts what the LRU holds over its capacity and takes the same from the
    model's level 0 tail: the number evicted, or -1 when the LRU evicted
    other keys than the model. */
static int
evict_like_model(mu_lru_t *lru, model_t *m)
{
    ids_t ev = { .n = 0 };
    int n = mu_lru_evict(lru, 0, collect_id, &ev);
    if (n != ev.n)
        return -1;
    for (int i = 0; i < ev.n; i++) {
        mitem_t it = model_take(m, 0, m->lv[0].n - 1);
        m->total -= it.size;
        if (it.id != ev.ids[i])
            return -1;
    }
    return n;
}

static void
test_differential_zipf(void)
{
    const int levels = 4, requests = 1000000;
    diff_t d;
    diff_begin(&d, levels, 240, 20000, 42, 400);
    mu_lru_t *lru = d.lru;
    model_t *m = &d.m;
    MU_CHECK(lru != NULL);
    uint64_t hits_lru = 0, hits_model = 0, evicted = 0;
    int mismatch_at = -1;
    for (int r = 0; r < requests && mismatch_at < 0; r++) {
        uint32_t id = zipf_next(&d.z);
        uint64_t size = 1 + (id + (r % 11 == 0)) % 4; /* sizes change now and then */
        unsigned char key[64];
        size_t len = make_key(id, key);
        int rc = mu_lru_increment(lru, key, len, size);
        int mh = model_access(m, id, size);
        hits_lru += rc == 1;
        hits_model += (uint64_t) mh;
        int n = rc == mh ? evict_like_model(lru, m) : -1;
        bool same = n >= 0 && m->total <= m->capacity && m->total == lru_stat(lru, T_STAT_SIZE, -1);
        evicted += n > 0 ? (uint64_t) n : 0;
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
        MU_CHECK_EQ(lru_stat(lru, T_STAT_COUNT, l), m->lv[l].n);
        MU_CHECK_EQ(lru_stat(lru, T_STAT_SIZE, l), m->lv[l].size);
    }
    walk_t w = { m, levels - 1, 0, 0 };
    mu_lru_foreach(lru, compare_cb, &w);
    MU_CHECK_EQ(w.mismatch, 0);
    diff_end(&d);
}

/*  Removes id from the model; returns whether it was there. */
static bool
model_delete(model_t *m, uint32_t id)
{
    for (int l = 0; l < m->levels; l++)
        for (int p = 0; p < m->lv[l].n; p++)
            if (m->lv[l].v[p].id == id) {
                m->total -= model_take(m, l, p).size;
                return true;
            }
    return false;
}

/*  Whether every level of lru holds the model's entries in the model's
    order (mu_lru_foreach goes from the top level down, head to tail). */
static bool
same_as_model(mu_lru_t *lru, model_t *m)
{
    walk_t w = { m, m->levels - 1, 0, 0 };
    mu_lru_foreach(lru, compare_cb, &w);
    if (w.pos != m->lv[w.level].n) /* the last level walked, to its end */
        w.mismatch = 1;
    for (int l = 0; l < m->levels && !w.mismatch; l++) /* and none left out */
        w.mismatch = lru_stat(lru, T_STAT_COUNT, l) != (uint64_t) m->lv[l].n;
    return !w.mismatch;
}

/*  Deletions among the increments and evictions, on a skewed trace: hot
    keys go round the top levels many times while deletions shift entries
    back in the table, and every 500 requests the whole order is compared
    with the model's. */
static void
test_differential_deletes(void)
{
    const int requests = 300000;
    diff_t d;
    diff_begin(&d, 3, 300, 3000, 99, 700);
    mu_lru_t *lru = d.lru;
    model_t *m = &d.m;
    MU_CHECK(lru != NULL);
    int mismatch_at = -1, deletes = 0;
    for (int r = 0; r < requests && mismatch_at < 0; r++) {
        uint32_t id = zipf_next(&d.z);
        unsigned char key[64];
        size_t len = make_key(id, key);
        bool same;
        if (rng() % 16 == 0) {
            int rc = mu_lru_delete(lru, key, len);
            bool there = model_delete(m, id);
            same = rc == (there ? 0 : MU_ENOENT);
            deletes += there;
        } else {
            uint64_t size = 1 + id % 3;
            same = mu_lru_increment(lru, key, len, size) == model_access(m, id, size)
                   && evict_like_model(lru, m) >= 0;
        }
        same = same && m->total == lru_stat(lru, T_STAT_SIZE, -1);
        if (!same || (r % 500 == 0 && !same_as_model(lru, m)))
            mismatch_at = r;
    }
    printf("# differential with deletes: %d deletes, first mismatch %d\n", deletes, mismatch_at);
    MU_CHECK_EQ(mismatch_at, -1);
    MU_CHECK(deletes > 5000);
    MU_CHECK(same_as_model(lru, m));
    diff_end(&d);
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

int
main(void)
{
    if (!lru_tests_begin())
        return 1;
    MU_RUN(test_differential_zipf);
    MU_RUN(test_differential_deletes);
    MU_RUN(test_table_churn);
    MU_RUN(test_increment_many);
    MU_RUN(test_s4lru_beats_lru);
    cleanup();
    MU_DONE();
}
