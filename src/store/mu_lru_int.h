/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_lru_int.h — the LRU's private structures, shared by the core
    (mu_lru.c: the segmented LRU in memory) and the persistence
    (mu_lru_persist.c: SQLite, flush, group commit, open). The persistence
    calls the core; the core reaches the persistence only through the port
    below. Design notes: doc/lru.md. Never installed. */
#ifndef MU_LRU_INT_H_INCLUDED
#define MU_LRU_INT_H_INCLUDED

#include "base/mu_internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#define NIL UINT32_MAX
#define INLINE_KEY 12
#define LEN_MASK 0x00FFFFFFu /* meta: key length */
#define LEVEL_SHIFT 24       /* meta: level + 1, 7 bits (0: the slot is empty) */
#define DIRTY 0x80000000u    /* meta: the row must be rewritten at flush */
#define MIN_SLOTS 64
#define MAX_SLOTS ((uint32_t) 1 << 31) /* slot indices stay below NIL */
#define FORMAT_VERSION 1
#define MAX_NAME 128

/*  One slot of the open-addressing table, which is also the entry: the
    probe that finds a key reaches its size, links and level at once. A key
    of up to INLINE_KEY bytes is stored inline, zero-padded; a longer one
    lives in a malloc whose pointer takes the first 8 inline bytes, and its
    32-bit hash the last 4 (so a probe compares the hash before the bytes,
    and moving the slot needs no rehash of the bytes). prev/next are slot
    indices of the level's list. */
typedef struct {
    uint32_t prev, next;
    uint64_t size;
    unsigned char key[INLINE_KEY];
    uint32_t meta; /* len | (level + 1) << LEVEL_SHIFT | DIRTY; 0 when the slot is empty */
} entry_t;

_Static_assert(sizeof(entry_t) == 32, "entry_t is 32 bytes");
_Static_assert(MU_LRU_MAX_KEY <= LEN_MASK && MU_LRU_MAX_LEVELS < 0x7F, "meta fields fit");

static inline uint32_t
e_len(const entry_t *e)
{
    return e->meta & LEN_MASK;
}

static inline int
e_level(const entry_t *e)
{
    return (int) ((e->meta >> LEVEL_SHIFT) & 0x7F) - 1;
}

/*  One level's list. count and size are not adjacent: the compiler would
    otherwise update them as one 16-byte vector, whose load cannot take its
    value from two pending 8-byte stores (see doc/lru.md, "Batches"). */
typedef struct {
    uint32_t head, tail;
    uint64_t count, cap, size;
} level_t;

/*  A growable byte buffer of records. */
typedef struct {
    unsigned char *data;
    size_t used, cap;
} buf_t;

enum { ST_INSERT, ST_DELETE, ST_META, ST_COUNT };

/*  How the core reaches the persistence (mu_lru_persist.c) without calling
    it: set by mu_lru_open, NULL for an in-memory LRU. */
typedef struct {
    /*  Makes a new key durable now or queues it, per the policy. Returns 0
        or an error (the key is then not added). */
    int (*add)(mu_lru_t *s, const void *key, size_t len, uint64_t size, int level);
    /*  Stops the group-commit thread, flushes (errors ignored) and closes
        the database and the lock; mu__lru_free follows. */
    void (*close)(mu_lru_t *s);
} mu__lru_port_t;

/*  Header of a new key waiting for the group commit, followed by its bytes. */
typedef struct {
    uint64_t size, seq;
    uint32_t len;
    int32_t level;
} pending_t;

struct mu_lru_t {
    entry_t *entries; /* the table: mask + 1 slots */
    uint32_t mask;    /* slot count - 1 */
    uint64_t seed;
    level_t level[MU_LRU_MAX_LEVELS];
    int nlevels;
    uint64_t capacity, total, count, next_seq;
    uint32_t dirty_bit; /* DIRTY when persistent, else 0 */
    uint64_t hits, misses, evictions;
    uint64_t boost_max;
    int boost_level;
    int iterating;
    /* persistence (mu_lru_persist.c) */
    const mu__lru_port_t *port;
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool readonly;
    int lock_fd;
    mu_lru_durability_t policy;
    int group_ms;
    buf_t gone;
    buf_t pending;
    pthread_mutex_t db_mutex, pend_mutex;
    pthread_cond_t cond;
    pthread_t thread;
    bool thread_running, stop;
};

static inline unsigned char *
key_ptr(const entry_t *e)
{
    unsigned char *p;
    memcpy(&p, e->key, sizeof p);
    return p;
}

static inline const unsigned char *
key_of(const entry_t *e)
{
    return e_len(e) <= INLINE_KEY ? e->key : key_ptr(e);
}

/* ---- mu_lru.c ------------------------------------------------------------- */

/*  Allocates and initialises an empty in-memory LRU. Returns NULL (errno
    and mu_last_error set). */
mu_lru_t *mu__lru_alloc(uint64_t capacity, int levels);

/*  Frees what the core owns (after port->close, if any). */
void mu__lru_free(mu_lru_t *s);

/*  Adds one loaded key at the head of its level (rows come in level, seq
    order). Returns 0, MU_ECORRUPT (a bad row or a duplicate) or MU_ENOMEM. */
int mu__lru_load_row(mu_lru_t *s, const void *key, size_t len, uint64_t size, int64_t level);

/*  Applies the cascade rule from level top down to level 1. */
void mu__lru_cascade(mu_lru_t *s, int top);

/*  Sets the per-level capacities from s->capacity. */
void mu__lru_divide_capacity(mu_lru_t *s);

/* ---- byte buffers (the delete log and the pending new keys) ---------------- */

/*  Makes room for more bytes in b. Returns 0 or MU_ENOMEM. */
static inline int
mu__lru_buf_reserve(buf_t *b, size_t more)
{
    if (b->cap - b->used >= more)
        return 0;
    unsigned char *p = more < SIZE_MAX - b->used ? mu__grow(b->data, &b->cap, 256, b->used + more)
                                                 : NULL;
    if (p == NULL)
        return MU_ENOMEM;
    b->data = p;
    return 0;
}

/*  Appends len bytes (room reserved). */
static inline void
mu__lru_buf_put(buf_t *b, const void *data, size_t len)
{
    if (len)
        memcpy(b->data + b->used, data, len);
    b->used += len;
}

#endif
