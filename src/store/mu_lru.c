/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_lru.c — the segmented LRU (S4LRU) in memory, with caller-given sizes
    (see mu_lru.h for the model). The SQLite persistence is
    mu_lru_persist.c, reached through s->port. The memory layout (32-byte
    entries, one open-addressing index of hash|index slots, intrusive level
    lists) and why: doc/lru.md. */
#include "store/mu_lru_int.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- hashing ------------------------------------------------------------- */

static inline uint64_t
fold_mul(uint64_t a, uint64_t b)
{
    __extension__ unsigned __int128 r = (unsigned __int128) a * b;
    return (uint64_t) r ^ (uint64_t) (r >> 64);
}

/*  A multiply-fold hash over 8-byte words, seeded per LRU. */
static inline uint32_t
hash_key(const void *key, size_t len, uint64_t seed)
{
    const unsigned char *p = key;
    uint64_t h = seed ^ ((uint64_t) len * 0x9E3779B97F4A7C15ull);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = fold_mul(h ^ w, 0xA0761D6478BD642Full);
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = fold_mul(h ^ w, 0xE7037ED1A0B428DBull);
    }
    h = fold_mul(h ^ 0x8EBC6AF09C88C6E3ull, 0x589965CC75374CC3ull);
    return (uint32_t) (h ^ (h >> 32));
}

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

/*  Compares two keys of len bytes, inline by 8-byte words (a libc memcmp
    call costs more than the comparison of a short key). */
static inline bool
key_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
    while (len >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
        a += 8, b += 8, len -= 8;
    }
    while (len > 0) {
        if (*a++ != *b++)
            return false;
        len--;
    }
    return true;
}

/* ---- the index ----------------------------------------------------------- */

/*  Finds key; returns its entry index or NIL, and in *slot_p the slot
    holding it or the empty slot where it would go. */
static inline uint32_t
index_find(const mu_lru_t *s, const void *key, size_t len, uint32_t h, size_t *slot_p)
{
    size_t i = h & s->mask;
    for (;;) {
        uint64_t v = s->slots[i];
        if (v == 0) {
            *slot_p = i;
            return NIL;
        }
        if ((uint32_t) (v >> 32) == h) {
            uint32_t idx = (uint32_t) v - 1;
            const entry_t *e = &s->entries[idx];
            if (e_len(e) == len && key_equal(key_of(e), key, len)) {
                *slot_p = i;
                return idx;
            }
        }
        i = (i + 1) & s->mask;
    }
}

/*  Empties slot i, shifting back the entries of its probe run. */
static void
index_remove(mu_lru_t *s, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        uint64_t v = s->slots[j];
        if (v == 0)
            break;
        size_t home = (uint32_t) (v >> 32) & s->mask;
        if (((j - home) & s->mask) >= ((j - i) & s->mask)) {
            s->slots[i] = v;
            i = j;
        }
    }
    s->slots[i] = 0;
}

/*  Doubles the table. Returns 0 or MU_ENOMEM. */
static int
index_grow(mu_lru_t *s)
{
    size_t n = (s->mask + 1) * 2;
    uint64_t *slots = big_alloc(n * sizeof *slots, 64);
    if (slots == NULL)
        return MU_ENOMEM;
    memset(slots, 0, n * sizeof *slots);
    for (size_t i = 0; i <= s->mask; i++) {
        uint64_t v = s->slots[i];
        if (v == 0)
            continue;
        size_t j = (uint32_t) (v >> 32) & (n - 1);
        while (slots[j] != 0)
            j = (j + 1) & (n - 1);
        slots[j] = v;
    }
    free(s->slots);
    s->slots = slots;
    s->mask = n - 1;
    return 0;
}

/*  Finds the slot holding entry idx (which must be indexed). */
static size_t
index_slot_of(const mu_lru_t *s, uint32_t idx)
{
    const entry_t *e = &s->entries[idx];
    size_t slot;
    uint32_t found = index_find(s, key_of(e), e_len(e), hash_key(key_of(e), e_len(e), s->seed),
                                &slot);
    assert(found == idx);
    (void) found;
    return slot;
}

/* ---- entries and lists ----------------------------------------------------- */

/*  Grows the entry array. Returns 0 or MU_ENOMEM. */
static int
entries_grow(mu_lru_t *s)
{
    if (s->entries_cap >= NIL / 2)
        return MU_ENOMEM;
    uint32_t cap = s->entries_cap ? s->entries_cap * 2 : 64;
    void *mem = big_alloc((size_t) cap * sizeof(entry_t), 64);
    if (mem == NULL)
        return MU_ENOMEM;
    if (s->nentries)
        memcpy(mem, s->entries, (size_t) s->nentries * sizeof(entry_t));
    free(s->entries);
    s->entries = mem;
    s->entries_cap = cap;
    return 0;
}

/*  Takes a free entry. Returns its index, or NIL when out of memory. */
static uint32_t
entry_alloc(mu_lru_t *s)
{
    if (s->free_head != NIL) {
        uint32_t idx = s->free_head;
        s->free_head = s->entries[idx].next;
        return idx;
    }
    if (s->nentries == s->entries_cap && entries_grow(s) != 0)
        return NIL;
    return s->nentries++;
}

static void
entry_free(mu_lru_t *s, uint32_t idx)
{
    entry_t *e = &s->entries[idx];
    if (e_len(e) > INLINE_KEY)
        free(key_ptr(e));
    e->meta = (uint32_t) FREE_LEVEL << LEVEL_SHIFT;
    e->next = s->free_head;
    s->free_head = idx;
}

static inline void
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
static inline void
list_push_head(mu_lru_t *s, uint32_t idx, int lv)
{
    entry_t *e = &s->entries[idx];
    level_t *l = &s->level[lv];
    e->meta = (e->meta & LEN_MASK) | (uint32_t) lv << LEVEL_SHIFT | s->dirty_bit;
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

/*  Demotes the tail of level lv (>= 1) to the head of level lv - 1 while
    lv exceeds its capacity. The level's new tail is in cache (its next was
    just written): its prev, which the next demotion of that level unlinks
    from, is prefetched. */
static inline void
demote(mu_lru_t *s, int lv)
{
    level_t *l = &s->level[lv];
    do {
        uint32_t t = l->tail;
        list_unlink(s, t);
        list_push_head(s, t, lv - 1);
    } while (l->size > l->cap);
    if (l->tail != NIL) {
        uint32_t p = s->entries[l->tail].prev;
        if (p != NIL)
            __builtin_prefetch(&s->entries[p], 1, 3);
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
static inline void
cascade_from(mu_lru_t *s, int top)
{
    for (int lv = top; lv >= 1 && s->level[lv].size > s->level[lv].cap; lv--)
        demote(s, lv);
}

void
mu__lru_divide_capacity(mu_lru_t *s)
{
    uint64_t share = s->capacity / (uint64_t) s->nlevels;
    for (int lv = 0; lv < s->nlevels; lv++)
        s->level[lv].cap = share;
    s->level[0].cap = s->capacity - share * (uint64_t) (s->nlevels - 1);
}

/* ---- byte buffers ----------------------------------------------------------- */

int
mu__lru_buf_reserve(buf_t *b, size_t more)
{
    if (b->cap - b->used >= more)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->used < more)
        cap *= 2;
    unsigned char *p = realloc(b->data, cap);
    if (p == NULL)
        return MU_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void
mu__lru_buf_put(buf_t *b, const void *data, size_t len)
{
    if (len)
        memcpy(b->data + b->used, data, len);
    b->used += len;
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
    if (s == NULL || (s->slots = calloc(MIN_SLOTS, sizeof *s->slots)) == NULL) {
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
    s->free_head = NIL;
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
    for (uint32_t i = 0; i < s->nentries; i++)
        if (e_level(&s->entries[i]) != FREE_LEVEL && e_len(&s->entries[i]) > INLINE_KEY)
            free(key_ptr(&s->entries[i]));
    free(s->entries);
    free(s->slots);
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

/*  A hit on entry idx with the new size. */
static inline void
lru_hit(mu_lru_t *s, uint32_t idx, uint64_t size)
{
    entry_t *e = &s->entries[idx];
    int from = e_level(e);
    int to = from + 1 < s->nlevels ? from + 1 : from;
    list_unlink(s, idx);
    s->total = s->total - e->size + size;
    e->size = size;
    list_push_head(s, idx, to);
    s->hits++;
    cascade_from(s, to);
}

/*  Adds a new key whose empty slot is *slot. */
static int
lru_insert(mu_lru_t *s, const void *key, size_t len, uint32_t h, size_t slot, uint64_t size,
           uint32_t *idx_p)
{
    if (s->count + 1 > (s->mask + 1) / 2) {
        if (index_grow(s) != 0)
            return MU_ENOMEM;
        (void) index_find(s, key, len, h, &slot);
    }
    uint32_t idx = entry_alloc(s);
    if (idx == NIL)
        return MU_ENOMEM;
    entry_t *e = &s->entries[idx];
    e->meta = (uint32_t) len;
    e->size = size;
    if (len > INLINE_KEY) {
        unsigned char *p = malloc(len);
        if (p == NULL) {
            e->meta = 0; /* entry_free must not free a pointer */
            entry_free(s, idx);
            return MU_ENOMEM;
        }
        memcpy(p, key, len);
        memcpy(e->key, &p, sizeof p);
    } else if (len > 0) {
        memcpy(e->key, key, len);
    }
    int lv = s->boost_max > 0 && size <= s->boost_max ? s->boost_level : 0;
    int rc = s->port ? s->port->add(s, key, len, size, lv) : 0;
    if (rc != 0) {
        entry_free(s, idx);
        return rc;
    }
    s->slots[slot] = (uint64_t) h << 32 | (uint64_t) (idx + 1);
    list_push_head(s, idx, lv);
    s->total += size;
    s->count++;
    s->misses++;
    if (lv > 0)
        mu__lru_cascade(s, lv);
    *idx_p = idx;
    return 0;
}

/*  mu_lru_increment after the checks, with the key's hash. */
static inline int
increment_hashed(mu_lru_t *self, const void *key, size_t len, uint32_t h, uint64_t size)
{
    size_t slot;
    uint32_t idx = index_find(self, key, len, h, &slot);
    if (idx != NIL) {
        uint64_t old = self->entries[idx].size;
        if (size > old && size - old > UINT64_MAX - self->total)
            return MU_EINVAL;
        lru_hit(self, idx, size);
        return 1;
    }
    if (size > UINT64_MAX - self->total)
        return MU_EINVAL;
    return lru_insert(self, key, len, h, slot, size, &idx);
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

int
mu_lru_increment(mu_lru_t *self, const void *key, size_t len, uint64_t size)
{
    assert(self && !self->iterating);
    if (!key_ok(key, len))
        return lru_fail(MU_EINVAL, "mu_lru_increment");
    if (self->readonly)
        return lru_fail(MU_EACCES, "mu_lru_increment");
    int rc = increment_hashed(self, key, len, hash_key(key, len, self->seed), size);
    return rc == MU_EINVAL || rc == MU_ENOMEM ? lru_fail(rc, "mu_lru_increment") : rc;
}

/*  How far ahead mu_lru_increment_many works: item i + 2 * AHEAD has its
    hash computed and its home slot prefetched; item i + AHEAD, whose slot
    is in cache by then, has the entry of a matching slot prefetched. */
#define AHEAD 8
#define RING 32 /* > 2 * AHEAD, a power of 2 */

int
mu_lru_increment_many(mu_lru_t *self, const mu_lru_item_t *items, size_t n, int *results)
{
    assert(self && !self->iterating && (items != NULL || n == 0));
    int first_error = 0, hits = 0;
    uint32_t hash[RING];
    for (size_t j = 0; j < n && j < 2 * AHEAD; j++)
        if (key_ok(items[j].key, items[j].len)) {
            hash[j % RING] = hash_key(items[j].key, items[j].len, self->seed);
            __builtin_prefetch(&self->slots[hash[j % RING] & self->mask], 0, 3);
        }
    for (size_t i = 0; i < n; i++) {
        size_t j = i + 2 * AHEAD;
        if (j < n && key_ok(items[j].key, items[j].len)) {
            uint32_t h = hash_key(items[j].key, items[j].len, self->seed);
            hash[j % RING] = h;
            __builtin_prefetch(&self->slots[h & self->mask], 0, 3);
        }
        j = i + AHEAD;
        if (j < n && key_ok(items[j].key, items[j].len)) {
            uint32_t h = hash[j % RING];
            uint64_t v = self->slots[h & self->mask];
            if (v != 0 && (uint32_t) (v >> 32) == h)
                __builtin_prefetch(&self->entries[(uint32_t) v - 1], 1, 3);
        }
        const mu_lru_item_t *it = &items[i];
        int rc;
        if (!key_ok(it->key, it->len))
            rc = MU_EINVAL;
        else if (self->readonly)
            rc = MU_EACCES;
        else
            rc = increment_hashed(self, it->key, it->len, hash[i % RING], it->size);
        if (results)
            results[i] = rc;
        if (rc > 0)
            hits++;
        else if (rc < 0 && first_error == 0)
            first_error = rc;
    }
    return first_error ? lru_fail(first_error, "mu_lru_increment_many") : hits;
}

int
mu_lru_peek(const mu_lru_t *self, const void *key, size_t len, uint64_t *size_p, int *level_p)
{
    assert(self);
    if (!key_ok(key, len))
        return MU_EINVAL;
    size_t slot;
    uint32_t idx = index_find(self, key, len, hash_key(key, len, self->seed), &slot);
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

/*  Removes entry idx in slot `slot` from the lists, the index and memory,
    recording it for deletion at flush. Returns 0 or MU_ENOMEM (nothing
    changed). */
static int
lru_remove(mu_lru_t *s, uint32_t idx, size_t slot)
{
    entry_t *e = &s->entries[idx];
    if (gone_add(s, e) != 0)
        return MU_ENOMEM;
    list_unlink(s, idx);
    s->total -= e->size;
    s->count--;
    index_remove(s, slot);
    entry_free(s, idx);
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
    size_t slot;
    uint32_t idx = index_find(self, key, len, hash_key(key, len, self->seed), &slot);
    if (idx == NIL)
        return mu__fail(MU_ENOENT, "mu_lru_delete: no such key");
    int rc = lru_remove(self, idx, slot);
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
        if (lru_remove(self, idx, index_slot_of(self, idx)) != 0)
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
    if (level < 0 || level >= s->nlevels || len > MU_LRU_MAX_KEY || size > UINT64_MAX - s->total)
        return MU_ECORRUPT;
    uint32_t h = hash_key(key, len, s->seed);
    size_t slot;
    if (index_find(s, key, len, h, &slot) != NIL)
        return MU_ECORRUPT;
    uint32_t idx;
    int rc = lru_insert(s, key, len, h, slot, size, &idx);
    if (rc != 0)
        return rc;
    list_unlink(s, idx);
    list_push_head(s, idx, (int) level);
    return 0;
}
