/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/lru_s4b.h — bench/lru's third baseline, "plain-s4lru-many": a
    minimal S4LRU built and batched the way mu_lru_increment_many is, the
    floor of "S4LRU moves over a batch" for the 1 M-key -many cases (the
    first minimal S4LRU, s4_t in lru.c, has an index slot beside its node
    array and goes one key at a time, so on 1 M keys it is slower than
    mu_lru and shows no floor there).

    The same S4LRU as s4_t and mu_lru (4 levels, capacities capacity / 4
    with the remainder in level 0, a hit to the head of the next level up,
    a new key to level 0's head, then from the level that grew down to
    level 1 each level over its capacity demotes its tail to the head of the
    level below), with what makes mu_lru fast at 1 M keys and nothing it
    must do besides: the open-addressing table is the node array (one probe
    reaches the key and its links), 16-byte nodes (a 64-bit integer key,
    prev, and a 24-bit next with level + 1 in the top byte; 0 marks an
    empty slot), linear probing at most half full, the table 2 MiB-aligned and
    offered transparent huge pages, the home slot and the next one compared
    without a branch, and mu_lru_increment_many's pipeline over chunks of
    64 keys (all hashed first; slot pair prefetched 16 keys ahead, the home
    slot's list neighbours 8 ahead; the next-but-one tail prefetched after
    each demotion). No sizes (sizes are 1: a level's size is its count), no
    byte keys, no dirty flag, no statistics, no growth, no eviction.
    s4b_check (lru.c) verifies it keeps the same lists as s4_t, which
    s4_check verifies against mu_lru. */
#ifndef MU_BENCH_LRU_S4B_H_INCLUDED
#define MU_BENCH_LRU_S4B_H_INCLUDED

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define B_NIL 0xFFFFFFu /* also the next-field mask of nl */
#define B_LV_SHIFT 24
#define B_CHUNK 64
#define B_AHEAD_SLOT 16
#define B_AHEAD_LINKS 8
#define B_LEVELS 4

typedef struct {
    uint64_t key;
    uint32_t prev;
    uint32_t nl; /* next | (level + 1) << B_LV_SHIFT; 0: empty slot */
} bnode_t;

/*  Sets node n's next without touching its level byte: on a little-endian
    machine a store of the low 3 bytes, no load of the line. */
static inline __attribute__((always_inline)) void
s4b_set_next(bnode_t *n, uint32_t next)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&n->nl, &next, 3);
#else
    n->nl = (n->nl & ~B_NIL) | next;
#endif
}

typedef struct {
    uint32_t head, tail, count, cap;
} blevel_t;

typedef struct {
    bnode_t *t; /* mask + 1 slots */
    uint32_t mask, n, max;
    blevel_t level[B_LEVELS];
} s4b_t;

static int
s4b_init(s4b_t *p, uint32_t max_keys, uint32_t capacity)
{
    uint32_t slots = 64;
    while (slots < max_keys * 2)
        slots *= 2;
    if (slots > B_NIL)
        return -1;
    size_t bytes = (size_t) slots * sizeof *p->t;
    void *mem = NULL;
    if (posix_memalign(&mem, (size_t) 2 << 20, bytes) != 0)
        return -1;
    (void) madvise(mem, bytes, MADV_HUGEPAGE);
    memset(mem, 0, bytes);
    p->t = mem;
    p->mask = slots - 1;
    p->n = 0;
    p->max = max_keys;
    uint32_t share = capacity / B_LEVELS;
    for (int lv = 0; lv < B_LEVELS; lv++)
        p->level[lv] = (blevel_t) { B_NIL, B_NIL, 0, share };
    p->level[0].cap = capacity - share * (B_LEVELS - 1);
    return 0;
}

static void
s4b_free(s4b_t *p)
{
    free(p->t);
}

static inline uint32_t
s4b_hash(uint64_t key)
{
    return (uint32_t) ((key * 0x9E3779B97F4A7C15ull) >> 32);
}

/*  Node i to the head of level lv (i is in no list). */
static inline __attribute__((always_inline)) void
s4b_push(s4b_t *p, uint32_t i, uint32_t lv)
{
    bnode_t *T = p->t;
    blevel_t *l = &p->level[lv];
    uint32_t head = l->head;
    T[i].prev = B_NIL;
    T[i].nl = head | (lv + 1) << B_LV_SHIFT;
    if (head != B_NIL)
        T[head].prev = i;
    else
        l->tail = i;
    l->head = i;
    l->count++;
}

/*  Demotes level lv's tail to level lv - 1's head while lv is over its
    capacity, with locals, then prefetches the next-but-one tail. */
static inline __attribute__((always_inline)) void
s4b_demote(s4b_t *p, uint32_t lv)
{
    bnode_t *T = p->t;
    blevel_t *l = &p->level[lv], *d = &p->level[lv - 1];
    uint32_t tail = l->tail, head = d->head, count = l->count, moved = 0;
    const uint32_t lvbits = lv << B_LV_SHIFT; /* level lv - 1, plus one */
    do {
        uint32_t t = tail;
        tail = T[t].prev;
        if (tail != B_NIL)
            s4b_set_next(&T[tail], B_NIL);
        else
            l->head = B_NIL;
        T[t].prev = B_NIL;
        T[t].nl = head | lvbits;
        if (head != B_NIL)
            T[head].prev = t;
        else
            d->tail = t;
        head = t;
        moved++;
    } while (count - moved > l->cap);
    l->tail = tail;
    d->head = head;
    l->count = count - moved;
    d->count += moved;
    if (tail != B_NIL) {
        uint32_t pp = T[tail].prev;
        if (pp != B_NIL)
            __builtin_prefetch(&T[pp], 1, 3);
    }
}

static inline __attribute__((always_inline)) void
s4b_cascade(s4b_t *p, uint32_t top)
{
    if ((top >= 1) & (p->level[top].count > p->level[top].cap)) {
        s4b_demote(p, top);
        for (uint32_t lv = top - 1; (lv >= 1) & (p->level[lv].count > p->level[lv].cap); lv--)
            s4b_demote(p, lv);
    }
}

/*  Insert-or-hit of key (hash h); returns 1 on a hit, 0 on an insert, -1
    when full. */
static inline __attribute__((always_inline)) int
s4b_access(s4b_t *p, uint64_t key, uint32_t h)
{
    bnode_t *T = p->t;
    uint32_t mask = p->mask, i = h & mask, j = (i + 1) & mask;
    uint64_t di = (T[i].key ^ key) | (T[i].nl == 0), dj = (T[j].key ^ key) | (T[j].nl == 0);
    if ((di < dj ? di : dj) != 0) {
        for (;; i = (i + 1) & mask) {
            if (T[i].nl == 0) { /* a new key */
                if (p->n == p->max)
                    return -1;
                p->n++;
                T[i].key = key;
                s4b_push(p, i, 0);
                return 0;
            }
            if (T[i].key == key)
                break;
        }
    } else {
        i = (i + (di != 0)) & mask;
    }
    bnode_t *e = &T[i];
    uint32_t nl = e->nl, prev = e->prev, next = nl & B_NIL;
    uint32_t from = (nl >> B_LV_SHIFT) - 1, to = from + (from + 1 < B_LEVELS);
    blevel_t *lf = &p->level[from], *lt = &p->level[to];
    if (prev != B_NIL)
        s4b_set_next(&T[prev], next);
    else
        lf->head = next;
    if (next != B_NIL)
        T[next].prev = prev;
    else
        lf->tail = prev;
    lf->count--;
    uint32_t head = lt->head; /* after the unlink: lf may be lt */
    e->prev = B_NIL;
    e->nl = head | (to + 1) << B_LV_SHIFT;
    if (head != B_NIL)
        T[head].prev = i;
    else
        lt->tail = i;
    lt->head = i;
    lt->count++;
    s4b_cascade(p, to);
    return 1;
}

static inline __attribute__((always_inline)) void
s4b_prefetch_slot(const bnode_t *T, uint32_t mask, uint32_t h)
{
    __builtin_prefetch(&T[h & mask], 1, 3);
    __builtin_prefetch(&T[(h + 1) & mask], 1, 3);
}

static inline __attribute__((always_inline)) void
s4b_prefetch_links(const bnode_t *T, uint32_t mask, uint32_t h)
{
    const bnode_t *e = &T[h & mask];
    __builtin_prefetch(&T[e->prev & mask], 1, 3);
    __builtin_prefetch(&T[e->nl & mask], 1, 3);
}

/*  The n keys in order, as n s4b_access calls; results[i] gets each one's
    result when results is not NULL. Returns the number of hits. */
static int
s4b_many(s4b_t *p, const uint64_t *keys, size_t n, int *results)
{
    int hits = 0;
    for (size_t c = 0; c < n; c += B_CHUNK) {
        size_t m = n - c < B_CHUNK ? n - c : B_CHUNK;
        const uint64_t *k = keys + c;
        uint32_t h[B_CHUNK];
        for (size_t i = 0; i < m; i++)
            h[i] = s4b_hash(k[i]);
        for (size_t i = 0; i < m && i < B_AHEAD_SLOT; i++)
            s4b_prefetch_slot(p->t, p->mask, h[i]);
        for (size_t i = 0; i < m && i < B_AHEAD_LINKS; i++)
            s4b_prefetch_links(p->t, p->mask, h[i]);
        for (size_t i = 0; i < m; i++) {
            if (i + B_AHEAD_SLOT < m)
                s4b_prefetch_slot(p->t, p->mask, h[i + B_AHEAD_SLOT]);
            if (i + B_AHEAD_LINKS < m)
                s4b_prefetch_links(p->t, p->mask, h[i + B_AHEAD_LINKS]);
            int rc = s4b_access(p, k[i], h[i]);
            if (results)
                results[c + i] = rc;
            hits += rc > 0;
        }
    }
    return hits;
}

#endif
