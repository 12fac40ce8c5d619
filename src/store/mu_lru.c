/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_lru.c — the segmented LRU (S4LRU) in memory, with caller-given sizes
    (see mu_lru.h for the model). The SQLite persistence is
    mu_lru_persist.c, reached through s->port. The memory layout (one
    open-addressing table whose 32-byte slots are the entries, intrusive
    level lists through slot indices) and why: doc/lru.md. */
#include "store/mu_lru_hash.h"
#include "store/mu_lru_int.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/*  Allocates bytes aligned to align; arrays of 4 MiB and more are aligned to
    2 MiB and offered transparent huge pages, which saves a TLB miss on most
    random accesses of a large LRU. Returns NULL when out of memory. */
static void *
big_alloc(size_t bytes, size_t align)
{
    const size_t huge = (size_t) 2 << 20;
    bool big = bytes >= 2 * huge;
    void *mem = NULL;
    if (posix_memalign(&mem, big ? huge : align, bytes) != 0)
        return NULL;
    if (big)
        (void) madvise(mem, bytes, MADV_HUGEPAGE);
    return mem;
}

/* ---- the table ------------------------------------------------------------- */

static inline uint64_t
e_w0(const entry_t *e)
{
    uint64_t w;
    memcpy(&w, e->key, 8);
    return w;
}

static inline uint32_t
e_w1(const entry_t *e)
{
    uint32_t w;
    memcpy(&w, e->key + 8, 4);
    return w;
}

/*  The hash of the key in slot e (recomputed for a short key, stored for a
    long one). */
static inline uint32_t
e_hash(const mu_lru_t *s, const entry_t *e)
{
    uint32_t len = e_len(e);
    return len <= INLINE_KEY ? hash_short(e_w0(e), e_w1(e), len, s->seed) : e_w1(e);
}

/*  Whether slot e (not empty) holds the key of q. */
static inline bool
e_matches(const entry_t *e, const probe_t *q)
{
    if (e_len(e) != q->len || e_w1(e) != q->w1)
        return false;
    if (q->len <= INLINE_KEY)
        return e_w0(e) == q->w0;
    return memcmp(key_ptr(e), q->key, q->len) == 0;
}

_Static_assert(offsetof(entry_t, meta) == offsetof(entry_t, key) + INLINE_KEY,
               "the last key word and the meta word are adjacent");

/*  0 when slot e holds the short key of q (1 to INLINE_KEY bytes), nonzero
    otherwise, an empty slot included (its length, 0, differs): two 8-byte
    loads, arithmetic, no branch. The second load takes the last 4 key
    bytes and the meta word together; the mask keeps the length of the
    meta word and drops its level and dirty bits. */
HOT uint64_t
e_diff_short(const entry_t *e, const probe_t *q)
{
    uint64_t tail;
    memcpy(&tail, (const unsigned char *) e + offsetof(entry_t, key) + 8, 8);
    return ((tail ^ q->tail) & tail_word(UINT32_MAX, LEN_MASK)) | (e_w0(e) ^ q->w0);
}

/*  Finds the key of q; returns its slot or NIL, and in *slot_p the slot
    holding it or the empty slot where it would go. */
HOT uint32_t
table_find(const mu_lru_t *s, const probe_t *q, uint32_t *slot_p)
{
    uint32_t i = q->h & s->mask;
    if (q->len - 1 < INLINE_KEY) {
        /*  A short key present is in its home slot or the next one on most
            lookups: both are compared without a branch between them (the
            empty key, which an empty slot's bytes could match, takes the
            loop below). */
        uint32_t j = (i + 1) & s->mask;
        uint64_t di = e_diff_short(&s->entries[i], q), dj = e_diff_short(&s->entries[j], q);
        if ((di < dj ? di : dj) == 0) {
            *slot_p = (i + (di != 0)) & s->mask; /* i or j, no branch */
            return *slot_p;
        }
    }
    for (;;) {
        const entry_t *e = &s->entries[i];
        if (e->meta == 0) {
            *slot_p = i;
            return NIL;
        }
        if (e_matches(e, q)) {
            *slot_p = i;
            return i;
        }
        i = (i + 1) & s->mask;
    }
}

/*  The entry in slot `from` moves to the empty slot `to`: its neighbours
    (or its level's head and tail) follow it. */
static void
table_move(mu_lru_t *s, uint32_t from, uint32_t to)
{
    entry_t *e = &s->entries[to];
    *e = s->entries[from];
    level_t *l = &s->level[e_level(e)];
    if (e->prev != NIL)
        s->entries[e->prev].next = to;
    else
        l->head = to;
    if (e->next != NIL)
        s->entries[e->next].prev = to;
    else
        l->tail = to;
}

/*  Empties slot i (already out of its list, its key freed), shifting back
    the entries of its probe run (no tombstones). */
static void
table_remove(mu_lru_t *s, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        const entry_t *e = &s->entries[j];
        if (e->meta == 0)
            break;
        uint32_t home = e_hash(s, e) & s->mask;
        if (((j - home) & s->mask) >= ((j - i) & s->mask)) {
            table_move(s, j, i);
            i = j;
        }
    }
    s->entries[i].meta = 0;
}

/*  Doubles the table, walking each level from head to tail so that the
    links are rebuilt in the same pass. Returns 0 or MU_ENOMEM. */
static int
table_grow(mu_lru_t *s)
{
    if (s->mask + 1 >= MAX_SLOTS)
        return MU_ENOMEM;
    uint32_t n = (s->mask + 1) * 2, mask = n - 1;
    entry_t *t = big_alloc((size_t) n * sizeof *t, 64);
    if (t == NULL)
        return MU_ENOMEM;
    memset(t, 0, (size_t) n * sizeof *t);
    for (int lv = 0; lv < s->nlevels; lv++) {
        level_t *l = &s->level[lv];
        uint32_t last = NIL;
        for (uint32_t i = l->head; i != NIL; i = s->entries[i].next) {
            const entry_t *e = &s->entries[i];
            uint32_t j = e_hash(s, e) & mask;
            while (t[j].meta != 0)
                j = (j + 1) & mask;
            t[j] = *e;
            t[j].prev = last;
            if (last != NIL)
                t[last].next = j;
            else
                l->head = j;
            last = j;
        }
        if (last != NIL)
            t[last].next = NIL;
        l->tail = last;
    }
    free(s->entries);
    s->entries = t;
    s->mask = mask;
    return 0;
}

/*  Frees the key bytes of slot e, if it owns any. */
static void
e_free_key(entry_t *e)
{
    if (e_len(e) > INLINE_KEY)
        free(key_ptr(e));
}

/* ---- lists ------------------------------------------------------------------ */

HOT void
list_unlink(mu_lru_t *s, uint32_t idx)
{
    entry_t *e = &s->entries[idx];
    level_t *l = &s->level[e_level(e)];
    if (e->prev != NIL)
        s->entries[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next != NIL)
        s->entries[e->next].prev = e->prev;
    else
        l->tail = e->prev;
    l->count--;
    l->size -= e->size;
}

/*  Puts entry idx at the head of level lv, marked dirty when persistent. */
HOT void
list_push_head(mu_lru_t *s, uint32_t idx, int lv)
{
    entry_t *e = &s->entries[idx];
    level_t *l = &s->level[lv];
    e->meta = (e->meta & LEN_MASK) | (uint32_t) (lv + 1) << LEVEL_SHIFT | s->dirty_bit;
    e->prev = NIL;
    e->next = l->head;
    if (l->head != NIL)
        s->entries[l->head].prev = idx;
    else
        l->tail = idx;
    l->head = idx;
    l->count++;
    l->size += e->size;
}

/*  Demotes the tail of level lv (>= 1) to the head of level lv - 1 while lv
    exceeds its capacity (locals, like lru_hit), then prefetches the prev of
    the new tail (in cache: its next was just written) for the next demotion. */
HOT void
demote(mu_lru_t *s, int lv)
{
    entry_t *E = s->entries;
    level_t *l = &s->level[lv], *d = &s->level[lv - 1];
    const uint32_t meta_level = (uint32_t) lv << LEVEL_SHIFT | s->dirty_bit; /* level lv - 1 */
    uint32_t tail = l->tail, head = d->head;
    uint64_t lsize = l->size, dsize = d->size, moved = 0;
    do {
        entry_t *e = &E[tail];
        uint32_t t = tail;
        uint64_t size = e->size;
        tail = e->prev;
        if (tail != NIL)
            E[tail].next = NIL;
        else
            l->head = NIL;
        lsize -= size;
        dsize += size;
        e->prev = NIL;
        e->next = head;
        e->meta = (e->meta & LEN_MASK) | meta_level;
        if (head != NIL)
            E[head].prev = t;
        else
            d->tail = t;
        head = t;
        moved++;
    } while (lsize > l->cap);
    l->tail = tail;
    d->head = head;
    l->size = lsize;
    d->size = dsize;
    l->count -= moved;
    d->count += moved;
    if (tail != NIL) {
        uint32_t p = E[tail].prev;
        if (p != NIL)
            __builtin_prefetch(&E[p], 1, 3);
    }
}

void
mu__lru_cascade(mu_lru_t *s, int top)
{
    for (int lv = top; lv >= 1; lv--)
        if (s->level[lv].size > s->level[lv].cap)
            demote(s, lv);
}

/*  The cascade after a change that grew level top only, all levels >= 1
    being within their capacity before: a level that does not overflow
    leaves the ones below it unchanged, so the cascade stops there. */
HOT void
cascade_from(mu_lru_t *s, int top, uint64_t top_size)
{
    /*  Two branches the predictor can learn apart: whether level top
        overflows (on a uniform trace, a hit from below does, a hit in the
        top level does not), then whether the cascade goes on (rarely).
        Each condition is one branch (& rather than &&). top_size is level
        top's size, which the caller has in a register. */
    if ((top >= 1) & (top_size > s->level[top].cap)) {
        demote(s, top);
        for (int lv = top - 1; (lv >= 1) & (s->level[lv].size > s->level[lv].cap); lv--)
            demote(s, lv);
    }
}

void
mu__lru_divide_capacity(mu_lru_t *s)
{
    uint64_t share = s->capacity / (uint64_t) s->nlevels;
    for (int lv = 0; lv < s->nlevels; lv++)
        s->level[lv].cap = share;
    s->level[0].cap = s->capacity - share * (uint64_t) (s->nlevels - 1);
}

/*  Record of a key to delete at flush: uint32 length, bytes. */
static int
gone_add(mu_lru_t *s, const entry_t *e)
{
    if (s->port == NULL)
        return 0;
    uint32_t len = e_len(e);
    if (mu__lru_buf_reserve(&s->gone, sizeof len + len) != 0)
        return MU_ENOMEM;
    mu__lru_buf_put(&s->gone, &len, sizeof len);
    mu__lru_buf_put(&s->gone, key_of(e), len);
    return 0;
}

/* ---- construction ---------------------------------------------------------- */

static uint64_t
random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t) sizeof seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t) ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t) getpid();
    }
    return seed;
}

mu_lru_t *
mu__lru_alloc(uint64_t capacity, int levels)
{
    mu_lru_t *s = calloc(1, sizeof *s);
    if (s == NULL || (s->entries = calloc(MIN_SLOTS, sizeof *s->entries)) == NULL) {
        free(s);
        return mu__fail_null(MU_ENOMEM, "mu_lru: out of memory");
    }
    s->mask = MIN_SLOTS - 1;
    s->seed = random_seed();
    s->nlevels = levels;
    s->capacity = capacity;
    for (int lv = 0; lv < MU_LRU_MAX_LEVELS; lv++)
        s->level[lv].head = s->level[lv].tail = NIL;
    mu__lru_divide_capacity(s);
    s->next_seq = 1;
    return s;
}

mu_lru_t *
mu_lru_new(uint64_t capacity, int levels)
{
    if (levels == 0)
        levels = MU_LRU_LEVELS_DEFAULT;
    if (capacity == 0 || levels < 1 || levels > MU_LRU_MAX_LEVELS)
        return mu__fail_null(MU_EINVAL, "mu_lru_new: capacity %llu, levels %d (1..%d)",
                             (unsigned long long) capacity, levels, MU_LRU_MAX_LEVELS);
    return mu__lru_alloc(capacity, levels);
}

void
mu__lru_free(mu_lru_t *s)
{
    for (uint32_t i = 0; i <= s->mask; i++)
        if (s->entries[i].meta != 0)
            e_free_key(&s->entries[i]);
    free(s->entries);
    free(s->gone.data);
    free(s->pending.data);
    free(s);
}

void
mu_lru_destroy(mu_lru_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    mu_lru_t *s = *self_p;
    assert(!s->iterating);
    if (s->port)
        s->port->close(s); /* flushes, best effort: see the contract */
    mu__lru_free(s);
    *self_p = NULL;
}

/* ---- the operations ---------------------------------------------------------- */

static inline bool
key_ok(const void *key, size_t len)
{
    return (key != NULL || len == 0) && len <= MU_LRU_MAX_KEY;
}

/*  A hit on entry idx with the new size: to the head of the next level up
    (the same level at the top), then the cascade from there. dirty_bit and
    nlevels are s's, passed in so that a batch loads them once per chunk;
    the caller counts the hit. Written with locals: stores through
    s->entries could alias the level fields, so the compiler would reload
    them after every store. */
HOT void
lru_hit(mu_lru_t *s, uint32_t idx, uint64_t size, uint32_t dirty_bit, int nlevels)
{
    entry_t *E = s->entries, *e = &E[idx];
    uint32_t meta = e->meta, prev = e->prev, next = e->next;
    uint64_t old = e->size;
    int from = (int) ((meta >> LEVEL_SHIFT) & 0x7F) - 1;
    int to = from + (from + 1 < nlevels);
    level_t *lf = &s->level[from], *lt = &s->level[to];
    if (prev != NIL)
        E[prev].next = next;
    else
        lf->head = next;
    if (next != NIL)
        E[next].prev = prev;
    else
        lf->tail = prev;
    lf->count--;
    lf->size -= old;
    uint32_t head = lt->head; /* after the unlink: lf may be lt */
    e->prev = NIL;
    e->next = head;
    e->size = size;
    e->meta = (meta & LEN_MASK) | (uint32_t) (to + 1) << LEVEL_SHIFT | dirty_bit;
    if (head != NIL)
        E[head].prev = idx;
    else
        lt->tail = idx;
    lt->head = idx;
    lt->count++;
    uint64_t lt_size = lt->size + size;
    lt->size = lt_size;
    s->total += size - old;
    cascade_from(s, to, lt_size);
}

/*  Adds the key of q in the empty slot `slot` (from table_find). Returns
    0 with its slot in *idx_p, or an error (nothing added). */
static __attribute__((noinline)) int
lru_insert(mu_lru_t *s, const probe_t *q, uint32_t slot, uint64_t size, uint32_t *idx_p)
{
    if (s->count + 1 > (s->mask + 1) / 2) {
        if (table_grow(s) != 0)
            return MU_ENOMEM;
        (void) table_find(s, q, &slot);
    }
    entry_t *e = &s->entries[slot];
    if (q->len > INLINE_KEY) {
        unsigned char *p = malloc(q->len);
        if (p == NULL)
            return MU_ENOMEM;
        memcpy(p, q->key, q->len);
        memcpy(e->key, &p, sizeof p);
    } else {
        memcpy(e->key, &q->w0, 8);
    }
    memcpy(e->key + 8, &q->w1, 4);
    e->size = size;
    int lv = s->boost_max > 0 && size <= s->boost_max ? s->boost_level : 0;
    int rc = s->port ? s->port->add(s, q->key, q->len, size, lv) : 0;
    if (rc != 0) {
        e->meta = q->len; /* for e_free_key; the slot stays empty below */
        e_free_key(e);
        e->meta = 0;
        return rc;
    }
    e->meta = q->len;
    list_push_head(s, slot, lv);
    s->total += size;
    s->count++;
    s->misses++;
    if (lv > 0)
        mu__lru_cascade(s, lv);
    *idx_p = slot;
    return 0;
}

/*  mu_lru_increment after the checks, with the key probed (dirty_bit and
    nlevels: self's); the caller counts a hit (1). no_overflow: the caller
    knows that the total cannot overflow (a batch chunk whose sizes sum,
    with the total, to at most UINT64_MAX), so the checks are skipped. */
HOT int
increment_probed(mu_lru_t *self, const probe_t *q, uint64_t size, uint32_t dirty_bit, int nlevels,
                 bool no_overflow)
{
    uint32_t slot;
    uint32_t idx = table_find(self, q, &slot);
    if (idx != NIL) {
        uint64_t old = self->entries[idx].size;
        if (!no_overflow && size > old && size - old > UINT64_MAX - self->total)
            return MU_EINVAL;
        lru_hit(self, idx, size, dirty_bit, nlevels);
        return 1;
    }
    if (!no_overflow && size > UINT64_MAX - self->total)
        return MU_EINVAL;
    return lru_insert(self, q, slot, size, &idx);
}

/*  Records why a call failed (mu_last_error) and returns rc. */
static int
lru_fail(int rc, const char *call)
{
    return mu__fail(rc, "%s: %s", call,
                    rc == MU_EACCES   ? "the LRU is read-only"
                    : rc == MU_EINVAL ? "bad key, size or argument"
                                      : mu_strerror(rc));
}

/*  One increment, for mu_lru_increment and mu_lru_increment_many: returns
    what mu_lru_increment returns, without recording an error detail. */
HOT int
increment_one(mu_lru_t *self, const void *key, size_t len, uint64_t size)
{
    if (len == 8 && key != NULL) {
        /*  The shortcut for 8-byte keys (64-bit ids): a hit in the key's
            home slot or the next one, with no probe record and no general
            comparison. A slot of length 8 is never empty (meta != 0). Any
            other case (a miss, a key further down the run, a size that
            would overflow, a read-only LRU) takes the general path. */
        uint64_t w;
        memcpy(&w, key, 8);
        uint32_t i = hash_short(w, 0, 8, self->seed) & self->mask, j = (i + 1) & self->mask;
        const entry_t *a = &self->entries[i], *b = &self->entries[j];
        uint64_t da = ((a->meta & LEN_MASK) ^ 8) | (e_w0(a) ^ w) | e_w1(a);
        uint64_t db = ((b->meta & LEN_MASK) ^ 8) | (e_w0(b) ^ w) | e_w1(b);
        uint32_t k = (i + (da != 0)) & self->mask; /* i or j, arithmetic: no branch */
        uint64_t old = self->entries[k].size;
        if ((da < db ? da : db) == 0 && !self->readonly
            && (size <= old || size - old <= UINT64_MAX - self->total)) {
            lru_hit(self, k, size, self->dirty_bit, self->nlevels);
            self->hits++;
            return 1;
        }
    }
    if (!key_ok(key, len))
        return MU_EINVAL;
    if (self->readonly)
        return MU_EACCES;
    probe_t q;
    probe_init(&q, key, len, self->seed);
    int rc = increment_probed(self, &q, size, self->dirty_bit, self->nlevels, false);
    self->hits += rc > 0;
    return rc;
}

int
mu_lru_increment(mu_lru_t *self, const void *key, size_t len, uint64_t size)
{
    assert(self && !self->iterating);
    int rc = increment_one(self, key, len, size);
    return rc == MU_EINVAL || rc == MU_ENOMEM || rc == MU_EACCES ? lru_fail(rc, "mu_lru_increment")
                                                                 : rc;
}

/*  mu_lru_increment_many: a pipeline over chunks of MANY_CHUNK items (the
    stages and why: doc/lru.md, "Batches"). Prefetches are hints only. */
#define MANY_CHUNK 64
#define AHEAD_SLOT 16
#define AHEAD_LINKS 8

#define BAD_LEN UINT32_MAX /* probe_t.len of a key that failed the checks */

/*  Prefetches the home slot of h and the next one (the lookup compares
    both; they share a line when the home slot is even). */
HOT void
many_prefetch_slot(const entry_t *E, uint32_t mask, uint32_t h)
{
    __builtin_prefetch(&E[h & mask], 1, 3);
    __builtin_prefetch(&E[(h + 1) & mask], 1, 3);
}

/*  Prefetches the list neighbours of the entry in the home slot of h, not
    checking that it holds the key (it does on most lookups at this load):
    a wrong guess, or an empty slot's stale links, waste one prefetch. */
HOT void
many_prefetch_links(const entry_t *E, uint32_t mask, uint32_t h)
{
    const entry_t *e = &E[h & mask];
    uint32_t prev = e->prev & mask, next = e->next & mask; /* NIL -> a slot */
    __builtin_prefetch(&E[prev], 1, 3);
    __builtin_prefetch(&E[next], 1, 3);
}

/*  What a chunk reads of the LRU once: these fields do not change during a
    batch, but stores through the table could alias them, so the compiler
    would reload them for every item. */
typedef struct {
    uint32_t dirty_bit;
    int nlevels;
    bool readonly;
} many_ctx_t;

/*  Applies one probed item of a batch as mu_lru_increment would, storing
    its result in *result (when not NULL), counting a hit in *hits and
    keeping the first error in *err. fast: every key of the chunk passed the
    checks, the LRU is writable and the total cannot overflow (constant at
    each call: the bulk loop is compiled twice). */
HOT void
many_apply(mu_lru_t *self, const many_ctx_t *c, const probe_t *q, uint64_t size, int *result,
           int *hits, int *err, bool fast)
{
    int rc = !fast && q->len == BAD_LEN ? MU_EINVAL
             : !fast && c->readonly
                 ? MU_EACCES
                 : increment_probed(self, q, size, c->dirty_bit, c->nlevels, fast);
    if (result)
        *result = rc;
    *hits += rc > 0;
    if (rc < 0 && *err == 0)
        *err = rc;
}

/*  The prefetch pipeline over the n probed items q of a chunk. */
HOT void
many_run(mu_lru_t *self, const many_ctx_t *c, const probe_t *q, const mu_lru_item_t *items,
         size_t n, int *results, int *hits, int *err, bool fast)
{
    for (size_t i = 0; i < n && i < AHEAD_SLOT; i++)
        many_prefetch_slot(self->entries, self->mask, q[i].h);
    for (size_t i = 0; i < n && i < AHEAD_LINKS; i++)
        many_prefetch_links(self->entries, self->mask, q[i].h);
    size_t i = 0;
    for (; i + AHEAD_SLOT < n; i++) { /* the bulk: both prefetches, no bound checks */
        many_prefetch_slot(self->entries, self->mask, q[i + AHEAD_SLOT].h);
        many_prefetch_links(self->entries, self->mask, q[i + AHEAD_LINKS].h);
        many_apply(self, c, &q[i], items[i].size, results ? &results[i] : NULL, hits, err, fast);
    }
    for (; i < n; i++) { /* the last AHEAD_SLOT items */
        if (i + AHEAD_LINKS < n)
            many_prefetch_links(self->entries, self->mask, q[i + AHEAD_LINKS].h);
        many_apply(self, c, &q[i], items[i].size, results ? &results[i] : NULL, hits, err, fast);
    }
}

/*  Applies the n (<= MANY_CHUNK) items of a chunk, storing each result in
    results (when not NULL); returns the number of hits (counted in the
    statistics here, once) and records the first error in *first_error. */
static int
many_chunk(mu_lru_t *self, const mu_lru_item_t *items, size_t n, int *results, int *first_error)
{
    const many_ctx_t c = { self->dirty_bit, self->nlevels, self->readonly };
    probe_t q[MANY_CHUNK];
    bool fast = !c.readonly;
    uint64_t bound = 0; /* >= every size of the chunk */
    for (size_t i = 0; i < n; i++) {
        bound |= items[i].size;
        if (key_ok(items[i].key, items[i].len)) {
            probe_init(&q[i], items[i].key, items[i].len, self->seed);
        } else {
            q[i] = (probe_t) { .len = BAD_LEN };
            fast = false;
        }
    }
    fast &= bound <= (UINT64_MAX - self->total) / MANY_CHUNK; /* n * bound fits */
    int hits = 0, err = 0;
    if (fast)
        many_run(self, &c, q, items, n, results, &hits, &err, true);
    else
        many_run(self, &c, q, items, n, results, &hits, &err, false);
    self->hits += (uint64_t) hits;
    if (*first_error == 0)
        *first_error = err;
    return hits;
}

int
mu_lru_increment_many(mu_lru_t *self, const mu_lru_item_t *items, size_t n, int *results)
{
    assert(self && !self->iterating && (items != NULL || n == 0));
    int first_error = 0;
    uint64_t hits = 0; /* n may exceed INT_MAX */
    for (size_t i = 0; i < n; i += MANY_CHUNK)
        hits += (uint64_t) many_chunk(self, items + i, n - i < MANY_CHUNK ? n - i : MANY_CHUNK,
                                      results ? results + i : NULL, &first_error);
    return first_error ? lru_fail(first_error, "mu_lru_increment_many")
                       : (int) (hits < INT_MAX ? hits : INT_MAX);
}

int
mu_lru_peek(const mu_lru_t *self, const void *key, size_t len, uint64_t *size_p, int *level_p)
{
    assert(self);
    if (!key_ok(key, len))
        return MU_EINVAL;
    probe_t q;
    probe_init(&q, key, len, self->seed);
    uint32_t slot;
    uint32_t idx = table_find(self, &q, &slot);
    if (idx == NIL)
        return MU_ENOENT;
    if (size_p)
        *size_p = self->entries[idx].size;
    if (level_p)
        *level_p = e_level(&self->entries[idx]);
    return 0;
}

int
mu_lru_contains(const mu_lru_t *self, const void *key, size_t len)
{
    return mu_lru_peek(self, key, len, NULL, NULL) == 0;
}

/*  Removes the entry in slot idx from its list, the table and memory,
    recording it for deletion at flush. Returns 0 or MU_ENOMEM (nothing
    changed). */
static int
lru_remove(mu_lru_t *s, uint32_t idx)
{
    entry_t *e = &s->entries[idx];
    if (gone_add(s, e) != 0)
        return MU_ENOMEM;
    list_unlink(s, idx);
    s->total -= e->size;
    s->count--;
    e_free_key(e);
    table_remove(s, idx);
    return 0;
}

int
mu_lru_delete(mu_lru_t *self, const void *key, size_t len)
{
    assert(self && !self->iterating);
    if (!key_ok(key, len))
        return lru_fail(MU_EINVAL, "mu_lru_delete");
    if (self->readonly)
        return lru_fail(MU_EACCES, "mu_lru_delete");
    probe_t q;
    probe_init(&q, key, len, self->seed);
    uint32_t slot;
    uint32_t idx = table_find(self, &q, &slot);
    if (idx == NIL)
        return mu__fail(MU_ENOENT, "mu_lru_delete: no such key");
    int rc = lru_remove(self, idx);
    return rc != 0 ? lru_fail(rc, "mu_lru_delete") : 0;
}

uint64_t
mu_lru_over(const mu_lru_t *self)
{
    return self->total > self->capacity ? self->total - self->capacity : 0;
}

/*  Dry run of mu_lru_evict. */
static int
evict_dry(mu_lru_t *s, mu_lru_evict_fn *fn, void *arg)
{
    uint64_t total = s->total;
    int n = 0;
    for (uint32_t i = s->level[0].tail; i != NIL && total > s->capacity && n < INT_MAX;
         i = s->entries[i].prev) {
        const entry_t *e = &s->entries[i];
        if (fn)
            fn(arg, key_of(e), e_len(e), e->size);
        total -= e->size;
        n++;
    }
    return n;
}

int
mu_lru_evict(mu_lru_t *self, int flags, mu_lru_evict_fn *fn, void *arg)
{
    assert(self && !self->iterating);
    if (flags & ~MU_LRU_DRY_RUN)
        return lru_fail(MU_EINVAL, "mu_lru_evict");
    if (flags & MU_LRU_DRY_RUN)
        return evict_dry(self, fn, arg);
    if (self->readonly)
        return lru_fail(MU_EACCES, "mu_lru_evict");
    int n = 0;
    while (self->total > self->capacity && self->level[0].tail != NIL && n < INT_MAX) {
        uint32_t idx = self->level[0].tail;
        entry_t *e = &self->entries[idx];
        if (fn)
            fn(arg, key_of(e), e_len(e), e->size);
        if (lru_remove(self, idx) != 0)
            return n > 0 ? n : lru_fail(MU_ENOMEM, "mu_lru_evict");
        self->evictions++;
        n++;
    }
    return n;
}

int
mu_lru_resize(mu_lru_t *self, uint64_t capacity)
{
    assert(self && !self->iterating);
    if (capacity == 0)
        return lru_fail(MU_EINVAL, "mu_lru_resize");
    if (self->readonly)
        return lru_fail(MU_EACCES, "mu_lru_resize");
    self->capacity = capacity;
    mu__lru_divide_capacity(self);
    mu__lru_cascade(self, self->nlevels - 1);
    return 0;
}

int
mu_lru_set_boost(mu_lru_t *self, uint64_t max_size, int level)
{
    assert(self);
    if (level < 0)
        return lru_fail(MU_EINVAL, "mu_lru_set_boost");
    self->boost_max = max_size;
    self->boost_level = level < self->nlevels ? level : self->nlevels - 1;
    return 0;
}

int
mu_lru_foreach(mu_lru_t *self, mu_lru_foreach_fn *fn, void *arg)
{
    assert(self && fn);
    self->iterating++;
    int rc = 0;
    for (int lv = self->nlevels - 1; lv >= 0 && rc == 0; lv--)
        for (uint32_t i = self->level[lv].head; i != NIL && rc == 0; i = self->entries[i].next) {
            const entry_t *e = &self->entries[i];
            rc = fn(arg, key_of(e), e_len(e), e->size, lv);
        }
    self->iterating--;
    return rc;
}

int
mu_lru_stats(const mu_lru_t *self, mu_lru_stats_t *stats)
{
    assert(self && stats);
    mu_lru_stats_t st = { .size = sizeof st };
    st.count = self->count;
    st.total = self->total;
    st.capacity = self->capacity;
    st.hits = self->hits;
    st.misses = self->misses;
    st.evictions = self->evictions;
    st.levels = self->nlevels;
    for (int lv = 0; lv < self->nlevels; lv++) {
        st.level_count[lv] = self->level[lv].count;
        st.level_total[lv] = self->level[lv].size;
        st.level_capacity[lv] = self->level[lv].cap;
    }
    return mu__stats_fill(stats, &st, sizeof st, sizeof st);
}

int
mu_lru_levels(const mu_lru_t *self)
{
    return self->nlevels;
}

int
mu__lru_load_row(mu_lru_t *s, const void *key, size_t len, uint64_t size, int64_t level)
{
    if (level < 0 || level >= s->nlevels || len > MU_LRU_MAX_KEY || size > UINT64_MAX - s->total
        || !key_ok(key, len))
        return MU_ECORRUPT;
    probe_t q;
    probe_init(&q, key, len, s->seed);
    uint32_t slot;
    if (table_find(s, &q, &slot) != NIL)
        return MU_ECORRUPT;
    uint32_t idx;
    int rc = lru_insert(s, &q, slot, size, &idx);
    if (rc != 0)
        return rc;
    list_unlink(s, idx);
    list_push_head(s, idx, (int) level);
    return 0;
}
