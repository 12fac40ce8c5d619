/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_lru_hash.h — the LRU's key hashing and probe records, inline for the
    core (mu_lru.c). Never installed. */
#ifndef MU_LRU_HASH_H_INCLUDED
#define MU_LRU_HASH_H_INCLUDED

#include "store/mu_lru_int.h"

/*  The hit path (mu_lru_increment of a present key) is one function: its
    helpers are forced inline, so no call saves and restores registers. */
#define HOT static inline __attribute__((always_inline))

/* ---- hashing ------------------------------------------------------------- */

static inline uint64_t
fold_mul(uint64_t a, uint64_t b)
{
    __extension__ unsigned __int128 r = (unsigned __int128) a * b;
    return (uint64_t) r ^ (uint64_t) (r >> 64);
}

/*  The hash of a key of at most INLINE_KEY bytes given as its zero-padded
    words (w0: bytes 0..7, w1: bytes 8..11): two multiply-folds. */
HOT uint32_t
hash_short(uint64_t w0, uint32_t w1, uint32_t len, uint64_t seed)
{
    uint64_t h = fold_mul(w0 ^ seed, ((uint64_t) w1 << 32 | len) ^ 0xA0761D6478BD642Full);
    h = fold_mul(h ^ 0x8EBC6AF09C88C6E3ull, 0x589965CC75374CC3ull);
    return (uint32_t) (h ^ (h >> 32));
}

/*  The hash of a longer key: a multiply-fold over 8-byte words. */
static inline uint32_t
hash_long(const void *key, size_t len, uint64_t seed)
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

/*  The 8 bytes a slot holds from its 9th key byte on, as one word: the 4
    bytes of w1 (the key's bytes 8..11) then the meta word meta, in memory
    order (so the comparison is the same on either byte order). */
static inline uint64_t
tail_word(uint32_t w1, uint32_t meta)
{
    unsigned char b[8];
    memcpy(b, &w1, 4);
    memcpy(b + 4, &meta, 4);
    uint64_t t;
    memcpy(&t, b, 8);
    return t;
}

/*  A key as the probe compares it: its zero-padded inline words (short
    key) or its hash in w1 (long key), its length and hash; tail is w1 and
    the length as one word, as a slot holds them (its last 4 key bytes,
    then the meta word whose low 24 bits are the length). */
typedef struct {
    const unsigned char *key;
    uint64_t w0, tail;
    uint32_t w1, len, h;
} probe_t;

HOT void
probe_init(probe_t *q, const void *key, size_t len, uint64_t seed)
{
    q->key = key;
    q->len = (uint32_t) len;
    q->w0 = 0;
    q->w1 = 0;
    if (len == 8) {
        memcpy(&q->w0, key, 8);
    } else if (len <= INLINE_KEY) {
        unsigned char b[INLINE_KEY] = { 0 };
        if (len > 0)
            memcpy(b, key, len);
        memcpy(&q->w0, b, 8);
        memcpy(&q->w1, b + 8, 4);
    } else {
        q->h = q->w1 = hash_long(key, len, seed);
        q->tail = tail_word(q->w1, q->len);
        return;
    }
    q->h = hash_short(q->w0, q->w1, q->len, seed);
    q->tail = tail_word(q->w1, q->len);
}

#endif
