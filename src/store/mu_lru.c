/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_lru.c — segmented LRU (S4LRU) with caller-given sizes, persisted in
    SQLite (see mu_lru.h for the model, the schema and the policies).

    Memory layout, chosen so that a hit allocates nothing and touches few
    cache lines:
      - entries live in one array of 32-byte records (two per cache line),
        addressed by uint32 index (free records are chained through `next`);
        keys up to 12 bytes are stored inline, longer ones in one malloc
        whose pointer takes the inline bytes; length, level and the dirty
        flag share one 32-bit word. Nothing used only by persistence lives
        in the entry beyond that flag;
      - each level is an intrusive doubly linked list through prev/next
        indices, with its head, tail, count and size;
      - the index is an open-addressing table with linear probing of uint64
        slots (32-bit hash << 32 | entry index + 1; 0 = empty), at most half
        full, with backward-shift deletion (no tombstones). The stored hash
        skips most key comparisons of colliding slots (and most entry loads
        of a probe);
      - the demotion cascade prefetches the next-but-one tail of the level
        it demotes from, so the next demotion of that level finds its lines
        in cache.

    Persistence bookkeeping:
      - dirty: every entry that entered a level's head since the last flush
        carries the dirty flag (set by list_push_head on a persistent LRU,
        branch-free). An entry only ever enters a level at its head and the
        flush clears every flag, so in each level the dirty entries form a
        prefix from the head, and the non-dirty suffix keeps the order (and
        the stored seq) it had at the last flush;
      - seq: the database's order key. It is not kept in memory: the flush
        walks each level's dirty prefix and stamps it with fresh values from
        a counter (next_seq, above every stored seq), decreasing from head to
        tail, so within a level seq decreases from head to tail in the
        database and ORDER BY level, seq rebuilds every list exactly; a new
        key committed before the flush (MU_LRU_IMMEDIATE, MU_LRU_GROUP) takes
        the next counter value, so it lands at the head of its level;
      - gone: keys deleted or evicted since the last flush (their rows are
        deleted at flush before the dirty rows are written, so a key removed
        and added again ends up present);
      - pending: new keys waiting for the group-commit thread (MU_LRU_GROUP),
        guarded by pend_mutex; db_mutex serialises every use of the SQLite
        connection between the owner and that thread. */
#include "base/mu_internal.h"
#include "store/mu_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#define NIL UINT32_MAX
#define INLINE_KEY 12
#define FREE_LEVEL 0x7F          /* level of a free entry */
#define LEN_MASK 0x00FFFFFFu     /* meta: key length */
#define LEVEL_SHIFT 24           /* meta: level, 7 bits */
#define DIRTY 0x80000000u        /* meta: the row must be rewritten at flush */
#define MIN_SLOTS 64
#define FORMAT_VERSION 1
#define MAX_NAME 128

typedef struct {
    uint32_t prev, next;
    uint64_t size;
    unsigned char key[INLINE_KEY]; /* the key, or a pointer to it (len > INLINE_KEY) */
    uint32_t meta;               /* len | level << LEVEL_SHIFT | DIRTY; level FREE_LEVEL when free */
} entry_t;

_Static_assert(sizeof(entry_t) == 32, "entry_t is 32 bytes");
_Static_assert(MU_LRU_MAX_KEY <= LEN_MASK && MU_LRU_MAX_LEVELS < FREE_LEVEL, "meta fields fit");

static inline uint32_t
e_len(const entry_t *e)
{
    return e->meta & LEN_MASK;
}

static inline int
e_level(const entry_t *e)
{
    return (int) ((e->meta >> LEVEL_SHIFT) & 0x7F);
}

typedef struct {
    uint32_t head, tail;
    uint64_t count, size, cap;
} level_t;

/*  A growable byte buffer of records. */
typedef struct {
    unsigned char *data;
    size_t used, cap;
} buf_t;

enum { ST_INSERT, ST_DELETE, ST_META, ST_COUNT };

struct mu_lru_t {
    entry_t *entries;
    uint32_t nentries, entries_cap, free_head;
    uint64_t *slots;
    size_t mask;                 /* slot count - 1 */
    uint64_t seed;
    level_t level[MU_LRU_MAX_LEVELS];
    int nlevels;
    uint64_t capacity, total, count, next_seq;
    uint32_t dirty_bit;          /* DIRTY when persistent, else 0 */
    uint64_t hits, misses, evictions;
    uint64_t boost_max;
    int boost_level;
    int iterating;
    /* persistence */
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

/*  Applies the cascade rule from level top down to level 1. */
static void
cascade(mu_lru_t *s, int top)
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

/*  Sets the per-level capacities from s->capacity. */
static void
divide_capacity(mu_lru_t *s)
{
    uint64_t share = s->capacity / (uint64_t) s->nlevels;
    for (int lv = 0; lv < s->nlevels; lv++)
        s->level[lv].cap = share;
    s->level[0].cap = s->capacity - share * (uint64_t) (s->nlevels - 1);
}

/* ---- byte buffers ----------------------------------------------------------- */

static int
buf_reserve(buf_t *b, size_t more)
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

static void
buf_put(buf_t *b, const void *data, size_t len)
{
    if (len)
        memcpy(b->data + b->used, data, len);
    b->used += len;
}

/*  Record of a key to delete at flush: uint32 length, bytes. */
static int
gone_add(mu_lru_t *s, const entry_t *e)
{
    if (s->db == NULL)
        return 0;
    uint32_t len = e_len(e);
    if (buf_reserve(&s->gone, sizeof len + len) != 0)
        return MU_ENOMEM;
    buf_put(&s->gone, &len, sizeof len);
    buf_put(&s->gone, key_of(e), len);
    return 0;
}

/*  Header of a new key waiting for the group commit, followed by its bytes. */
typedef struct {
    uint64_t size, seq;
    uint32_t len;
    int32_t level;
} pending_t;

/* ---- SQLite ------------------------------------------------------------------- */

/*  Writes one row of entries. Returns 0 or an error. */
static int
sql_put_row(mu_lru_t *s, const void *key, uint32_t len, uint64_t size, int level, uint64_t seq)
{
    sqlite3_stmt *st = s->st[ST_INSERT];
    sqlite3_bind_blob(st, 1, len ? key : "", (int) len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) size);
    sqlite3_bind_int(st, 3, level);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) seq);
    int rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : mu__sqlite_db_error(s->db, rc); /* reads errno: first */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int
sql_delete_key(mu_lru_t *s, const void *key, uint32_t len)
{
    sqlite3_stmt *st = s->st[ST_DELETE];
    sqlite3_bind_blob(st, 1, len ? key : "", (int) len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : mu__sqlite_db_error(s->db, rc); /* reads errno: first */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int
sql_put_meta(mu_lru_t *s, const char *name, uint64_t value)
{
    sqlite3_stmt *st = s->st[ST_META];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64) value);
    int rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : mu__sqlite_db_error(s->db, rc); /* reads errno: first */
    sqlite3_reset(st);
    return rc;
}

/*  Writes the records of a pending buffer. */
static int
sql_put_pending(mu_lru_t *s, const buf_t *b)
{
    size_t off = 0;
    while (off < b->used) {
        pending_t p;
        memcpy(&p, b->data + off, sizeof p);
        off += sizeof p;
        int rc = sql_put_row(s, b->data + off, p.len, p.size, p.level, p.seq);
        if (rc != 0)
            return rc;
        off += p.len;
    }
    return 0;
}

/*  Commits a batch of pending new keys in one transaction (db_mutex held). */
static int
sql_commit_pending(mu_lru_t *s, const buf_t *b)
{
    if (b->used == 0)
        return 0;
    int rc = mu__sqlite_exec(s->db, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = sql_put_pending(s, b);
    if (rc == 0)
        rc = mu__sqlite_exec(s->db, "COMMIT");
    if (rc != 0)
        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*  Moves the pending buffer out (into *out, which must be empty) under
    pend_mutex. */
static void
pending_take(mu_lru_t *s, buf_t *out)
{
    pthread_mutex_lock(&s->pend_mutex);
    buf_t tmp = s->pending;
    s->pending = *out;
    *out = tmp;
    pthread_mutex_unlock(&s->pend_mutex);
}

/*  Puts records that could not be committed back in front of the pending
    buffer. */
static void
pending_restore(mu_lru_t *s, buf_t *b)
{
    pthread_mutex_lock(&s->pend_mutex);
    if (buf_reserve(b, s->pending.used) == 0) {
        buf_put(b, s->pending.data, s->pending.used);
        buf_t tmp = s->pending;
        s->pending = *b;
        *b = tmp;
    }
    pthread_mutex_unlock(&s->pend_mutex);
    b->used = 0;
}

/* ---- group commit thread -------------------------------------------------- */

static void
timespec_add_ms(struct timespec *ts, int ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long) (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/*  Commits the pending new keys, if any. */
static void
group_commit_once(mu_lru_t *s, buf_t *batch)
{
    pthread_mutex_lock(&s->db_mutex);
    pending_take(s, batch);
    if (sql_commit_pending(s, batch) != 0)
        pending_restore(s, batch); /* retried at the next tick or flush */
    batch->used = 0;
    pthread_mutex_unlock(&s->db_mutex);
}

static void *
group_thread(void *arg)
{
    mu_lru_t *s = arg;
    buf_t batch = { 0 };
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->pend_mutex);
    while (!s->stop) {
        timespec_add_ms(&next, s->group_ms);
        while (!s->stop && pthread_cond_timedwait(&s->cond, &s->pend_mutex, &next) != ETIMEDOUT)
            ;
        bool have = s->pending.used > 0;
        pthread_mutex_unlock(&s->pend_mutex);
        if (have)
            group_commit_once(s, &batch);
        pthread_mutex_lock(&s->pend_mutex);
    }
    pthread_mutex_unlock(&s->pend_mutex);
    free(batch.data);
    return NULL;
}

static void
group_stop(mu_lru_t *s)
{
    if (!s->thread_running)
        return;
    pthread_mutex_lock(&s->pend_mutex);
    s->stop = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->pend_mutex);
    pthread_join(s->thread, NULL);
    s->thread_running = false;
    s->stop = false;
}

static int
group_start(mu_lru_t *s)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&s->cond);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&s->thread, NULL, group_thread, s);
    if (rc != 0)
        return -rc;
    s->thread_running = true;
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

/*  Allocates and initialises an empty LRU. Returns NULL (errno set). */
static mu_lru_t *
lru_alloc(uint64_t capacity, int levels)
{
    mu_lru_t *s = calloc(1, sizeof *s);
    if (s == NULL || (s->slots = calloc(MIN_SLOTS, sizeof *s->slots)) == NULL) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    s->mask = MIN_SLOTS - 1;
    s->seed = random_seed();
    s->nlevels = levels;
    s->capacity = capacity;
    for (int lv = 0; lv < MU_LRU_MAX_LEVELS; lv++)
        s->level[lv].head = s->level[lv].tail = NIL;
    divide_capacity(s);
    s->free_head = NIL;
    s->next_seq = 1;
    s->lock_fd = -1;
    s->group_ms = MU_LRU_GROUP_MS_DEFAULT;
    pthread_mutex_init(&s->db_mutex, NULL);
    pthread_mutex_init(&s->pend_mutex, NULL);
    pthread_cond_init(&s->cond, NULL);
    return s;
}

mu_lru_t *
mu_lru_new(uint64_t capacity, int levels)
{
    if (levels == 0)
        levels = MU_LRU_LEVELS_DEFAULT;
    if (capacity == 0 || levels < 1 || levels > MU_LRU_MAX_LEVELS) {
        errno = EINVAL;
        return NULL;
    }
    return lru_alloc(capacity, levels);
}

static void
lru_free(mu_lru_t *s)
{
    for (uint32_t i = 0; i < s->nentries; i++)
        if (e_level(&s->entries[i]) != FREE_LEVEL && e_len(&s->entries[i]) > INLINE_KEY)
            free(key_ptr(&s->entries[i]));
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->db_mutex);
    pthread_mutex_destroy(&s->pend_mutex);
    pthread_cond_destroy(&s->cond);
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
    group_stop(s);
    int rc = mu_lru_flush(s); /* best effort: see the contract */
    (void) rc;
    lru_free(s);
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

/*  Makes the new key durable now or queues it, per the policy. */
static int
persist_new(mu_lru_t *s, const void *key, size_t len, uint64_t size, int level)
{
    if (s->db == NULL || s->policy == MU_LRU_AT_FLUSH)
        return 0;
    if (s->policy == MU_LRU_IMMEDIATE) {
        pthread_mutex_lock(&s->db_mutex);
        int rc = sql_put_row(s, key, (uint32_t) len, size, level, s->next_seq);
        pthread_mutex_unlock(&s->db_mutex);
        if (rc == 0)
            s->next_seq++;
        return rc;
    }
    pending_t p = { size, s->next_seq, (uint32_t) len, level };
    pthread_mutex_lock(&s->pend_mutex);
    int rc = buf_reserve(&s->pending, sizeof p + len);
    if (rc == 0) {
        buf_put(&s->pending, &p, sizeof p);
        buf_put(&s->pending, key, len);
    }
    pthread_mutex_unlock(&s->pend_mutex);
    if (rc == 0)
        s->next_seq++;
    return rc;
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
    int rc = persist_new(s, key, len, size, lv);
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
        cascade(s, lv);
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

int
mu_lru_increment(mu_lru_t *self, const void *key, size_t len, uint64_t size)
{
    assert(self && !self->iterating);
    if (!key_ok(key, len))
        return MU_EINVAL;
    if (self->readonly)
        return MU_EACCES;
    return increment_hashed(self, key, len, hash_key(key, len, self->seed), size);
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
    return first_error ? first_error : hits;
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
        return MU_EINVAL;
    if (self->readonly)
        return MU_EACCES;
    size_t slot;
    uint32_t idx = index_find(self, key, len, hash_key(key, len, self->seed), &slot);
    if (idx == NIL)
        return MU_ENOENT;
    return lru_remove(self, idx, slot);
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
            fn(key_of(e), e_len(e), e->size, arg);
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
        return MU_EINVAL;
    if (flags & MU_LRU_DRY_RUN)
        return evict_dry(self, fn, arg);
    if (self->readonly)
        return MU_EACCES;
    int n = 0;
    while (self->total > self->capacity && self->level[0].tail != NIL && n < INT_MAX) {
        uint32_t idx = self->level[0].tail;
        entry_t *e = &self->entries[idx];
        if (fn)
            fn(key_of(e), e_len(e), e->size, arg);
        if (lru_remove(self, idx, index_slot_of(self, idx)) != 0)
            return n > 0 ? n : MU_ENOMEM;
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
        return MU_EINVAL;
    if (self->readonly)
        return MU_EACCES;
    self->capacity = capacity;
    divide_capacity(self);
    cascade(self, self->nlevels - 1);
    return 0;
}

int
mu_lru_set_boost(mu_lru_t *self, uint64_t max_size, int level)
{
    if (level < 0)
        return MU_EINVAL;
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
            rc = fn(key_of(e), e_len(e), e->size, lv, arg);
        }
    self->iterating--;
    return rc;
}

uint64_t
mu_lru_stat(const mu_lru_t *self, mu_lru_stat_t what, int level)
{
    if (level < -1 || level >= self->nlevels)
        return 0;
    const level_t *l = level >= 0 ? &self->level[level] : NULL;
    switch (what) {
    case MU_LRU_STAT_COUNT:
        return l ? l->count : self->count;
    case MU_LRU_STAT_SIZE:
        return l ? l->size : self->total;
    case MU_LRU_STAT_CAPACITY:
        return l ? l->cap : self->capacity;
    case MU_LRU_STAT_HITS:
        return self->hits;
    case MU_LRU_STAT_MISSES:
        return self->misses;
    case MU_LRU_STAT_EVICTIONS:
        return self->evictions;
    }
    return 0;
}

int
mu_lru_levels(const mu_lru_t *self)
{
    return self->nlevels;
}

/* ---- flush --------------------------------------------------------------------- */

/*  Deletes the rows of removed keys. */
static int
flush_gone(mu_lru_t *s)
{
    size_t off = 0;
    while (off < s->gone.used) {
        uint32_t len;
        memcpy(&len, s->gone.data + off, sizeof len);
        off += sizeof len;
        int rc = sql_delete_key(s, s->gone.data + off, len);
        if (rc != 0)
            return rc;
        off += len;
    }
    return 0;
}

/*  Writes the rows of the dirty entries: the dirty prefix of each level,
    stamped with fresh seq values decreasing from head to tail. */
static int
flush_dirty(mu_lru_t *s)
{
    for (int lv = 0; lv < s->nlevels; lv++) {
        uint64_t k = 0;
        for (uint32_t i = s->level[lv].head; i != NIL && (s->entries[i].meta & DIRTY);
             i = s->entries[i].next)
            k++;
        uint64_t seq = s->next_seq + k;
        s->next_seq = seq;
        for (uint32_t i = s->level[lv].head; k > 0; i = s->entries[i].next, k--) {
            const entry_t *e = &s->entries[i];
            int rc = sql_put_row(s, key_of(e), e_len(e), e->size, lv, --seq);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/*  Clears the dirty flags (they form a prefix of each level). */
static void
clear_dirty(mu_lru_t *s)
{
    for (int lv = 0; lv < s->nlevels; lv++)
        for (uint32_t i = s->level[lv].head; i != NIL && (s->entries[i].meta & DIRTY);
             i = s->entries[i].next)
            s->entries[i].meta &= ~DIRTY;
}

static int
flush_meta(mu_lru_t *s)
{
    int rc = sql_put_meta(s, "capacity", s->capacity);
    if (rc == 0)
        rc = sql_put_meta(s, "hits", s->hits);
    if (rc == 0)
        rc = sql_put_meta(s, "misses", s->misses);
    if (rc == 0)
        rc = sql_put_meta(s, "evictions", s->evictions);
    return rc;
}

/*  The transaction of mu_lru_flush, with db_mutex held. */
static int
flush_locked(mu_lru_t *s, buf_t *batch)
{
    int rc = mu__sqlite_exec(s->db, "BEGIN IMMEDIATE");
    if (rc != 0)
        return rc;
    /* Every new key is also dirty, so its current state is written below:
       the pending records (its state when added) are dropped unwritten. */
    pending_take(s, batch);
    rc = flush_gone(s);
    if (rc == 0)
        rc = flush_dirty(s);
    if (rc == 0)
        rc = flush_meta(s);
    if (rc == 0)
        rc = mu__sqlite_exec(s->db, "COMMIT");
    if (rc != 0) {
        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        pending_restore(s, batch);
    }
    return rc;
}

int
mu_lru_flush(mu_lru_t *self)
{
    assert(self && !self->iterating);
    if (self->db == NULL || self->readonly)
        return 0;
    buf_t batch = { 0 };
    pthread_mutex_lock(&self->db_mutex);
    int rc = flush_locked(self, &batch);
    pthread_mutex_unlock(&self->db_mutex);
    free(batch.data);
    if (rc != 0)
        return rc;
    clear_dirty(self);
    self->gone.used = 0;
    return 0;
}

int
mu_lru_set_durability(mu_lru_t *self, mu_lru_durability_t policy, int group_ms)
{
    assert(self);
    if ((policy != MU_LRU_IMMEDIATE && policy != MU_LRU_GROUP && policy != MU_LRU_AT_FLUSH) ||
        group_ms < 0 || group_ms > 60000)
        return MU_EINVAL;
    if (self->db == NULL || self->readonly)
        return MU_ENOTSUP;
    group_stop(self);
    buf_t batch = { 0 };
    pthread_mutex_lock(&self->db_mutex);
    pending_take(self, &batch);
    int rc = sql_commit_pending(self, &batch);
    if (rc != 0)
        pending_restore(self, &batch);
    pthread_mutex_unlock(&self->db_mutex);
    free(batch.data);
    if (rc != 0)
        return rc;
    self->policy = policy;
    self->group_ms = group_ms ? group_ms : MU_LRU_GROUP_MS_DEFAULT;
    return policy == MU_LRU_GROUP ? group_start(self) : 0;
}

/* ---- opening a persistent LRU ------------------------------------------------ */

static bool
name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME || name[0] == '.')
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS entries(key BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    " level INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;";

/*  Reads a meta value; returns 0, MU_ENOENT (no such row) or an error. */
static int
meta_get(sqlite3 *db, const char *name, uint64_t *value_p)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = ?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mu__sqlite_db_error(db, rc);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int result = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? MU_ENOENT : mu__sqlite_db_error(db, rc);
    if (rc == SQLITE_ROW)
        *value_p = (uint64_t) sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return result;
}

/*  True when the database has a meta table. */
static int
has_schema(sqlite3 *db, bool *yes)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                " AND name = 'meta'", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mu__sqlite_db_error(db, rc);
    rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : mu__sqlite_db_error(db, rc);
}

/*  Writes into sql the statements that create the schema and the meta rows
    of a new LRU, in one transaction. */
static void
creation_sql(const mu_lru_t *s, char *sql, size_t size)
{
    snprintf(sql, size,
             "BEGIN IMMEDIATE; %s INSERT INTO meta VALUES ('format', %d), ('levels', %d),"
             " ('capacity', %llu), ('hits', 0), ('misses', 0), ('evictions', 0); COMMIT;",
             SCHEMA, FORMAT_VERSION, s->nlevels, (unsigned long long) s->capacity);
}

/*  Creates the schema and the meta rows in the open (empty) database. */
static int
create_schema(mu_lru_t *s)
{
    char sql[512];
    creation_sql(s, sql, sizeof sql);
    int rc = mu__sqlite_exec(s->db, sql);
    if (rc != 0)
        (void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*  Checks the stored parameters against the given ones (0 = as stored)
    and adopts them. */
static int
check_meta(mu_lru_t *s, uint64_t capacity, int levels)
{
    uint64_t format, stored_levels, stored_cap;
    int rc = meta_get(s->db, "format", &format);
    if (rc == 0)
        rc = meta_get(s->db, "levels", &stored_levels);
    if (rc == 0)
        rc = meta_get(s->db, "capacity", &stored_cap);
    if (rc == MU_ENOENT)
        return MU_ECORRUPT;
    if (rc != 0)
        return rc;
    if (format != FORMAT_VERSION || stored_levels < 1 || stored_levels > MU_LRU_MAX_LEVELS ||
        stored_cap == 0 || stored_cap > INT64_MAX)
        return MU_ECORRUPT;
    if ((levels != 0 && (uint64_t) levels != stored_levels) ||
        (capacity != 0 && capacity != stored_cap))
        return MU_EEXIST;
    s->nlevels = (int) stored_levels;
    s->capacity = stored_cap;
    divide_capacity(s);
    (void) meta_get(s->db, "hits", &s->hits);
    (void) meta_get(s->db, "misses", &s->misses);
    (void) meta_get(s->db, "evictions", &s->evictions);
    return 0;
}

/*  Adds one loaded row at the head of its level. */
static int
load_row(mu_lru_t *s, const void *key, size_t len, uint64_t size, int64_t level, uint64_t seq)
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
    if (seq >= s->next_seq)
        s->next_seq = seq + 1;
    return 0;
}

/*  Loads every row in level and seq order, then applies the cascade rule
    (a no-op after a clean flush) and forgets the load's bookkeeping. */
static int
load_entries(mu_lru_t *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT key, size, level, seq FROM entries"
                                " ORDER BY level, seq", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mu__sqlite_db_error(s->db, rc);
    mu_lru_durability_t policy = s->policy;
    uint64_t misses = s->misses;
    s->policy = MU_LRU_AT_FLUSH; /* loading writes nothing */
    int result = 0;
    while (result == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        result = load_row(s, sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0),
                          (uint64_t) sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                          (uint64_t) sqlite3_column_int64(st, 3));
    if (result == 0 && rc != SQLITE_DONE)
        result = mu__sqlite_db_error(s->db, rc);
    sqlite3_finalize(st);
    s->policy = policy;
    clear_dirty(s);
    s->misses = misses;
    if (result == 0)
        cascade(s, s->nlevels - 1); /* dirty marks from here are real moves */
    return result;
}

static int
prepare_statements(mu_lru_t *s)
{
    static const char *const sql[ST_COUNT] = {
        [ST_INSERT] = "INSERT INTO entries(key, size, level, seq) VALUES (?, ?, ?, ?)"
                      " ON CONFLICT(key) DO UPDATE SET size = excluded.size,"
                      " level = excluded.level, seq = excluded.seq",
        [ST_DELETE] = "DELETE FROM entries WHERE key = ?",
        [ST_META] = "INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)",
    };
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
        if (rc != SQLITE_OK)
            return mu__sqlite_db_error(s->db, rc);
    }
    return 0;
}

/*  Takes the writer's lock file DIR/NAME.lru.lock. */
static int
take_lock(mu_lru_t *s, const char *path)
{
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (s->lock_fd < 0)
        return -errno;
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? MU_EAGAIN : -errno;
    return 0;
}

/*  Opens the SQLite database with the pragmas of the policy. */
static int
open_db(mu_lru_t *s, const char *path, int flags)
{
    int oflags = s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    int rc = sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return mu__sqlite_error(rc);
    sqlite3_busy_timeout(s->db, 5000);
    if (s->readonly)
        return 0;
    rc = mu__sqlite_exec(s->db, "PRAGMA journal_mode=WAL");
    if (rc == 0)
        rc = mu__sqlite_exec(s->db, flags & MU_LRU_SYNC_FULL ? "PRAGMA synchronous=FULL"
                                                      : "PRAGMA synchronous=NORMAL");
    return rc;
}

/*  The paths of an LRU's files in dir: NAME.lru, NAME.lru.lock and
    .NAME.lru.new (the file being created; no LRU name starts with '.'). */
typedef struct {
    char db[PATH_MAX], lock[PATH_MAX], tmp[PATH_MAX];
} paths_t;

static int
make_paths(paths_t *p, const char *dir, const char *name)
{
    if ((size_t) snprintf(p->db, sizeof p->db, "%s/%s.lru", dir, name) >= sizeof p->db ||
        (size_t) snprintf(p->lock, sizeof p->lock, "%s/%s.lru.lock", dir, name) >= sizeof p->lock ||
        (size_t) snprintf(p->tmp, sizeof p->tmp, "%s/.%s.lru.new", dir, name) >= sizeof p->tmp)
        return MU_EINVAL;
    return 0;
}

/*  Creates DIR/NAME.lru atomically (the writer's lock held): a SIGKILL at
    any point leaves either no LRU or a complete one, never a file that
    opens as MU_ECORRUPT. */
static int
create_file(mu_lru_t *s, const char *dir, const paths_t *p, uint64_t capacity)
{
    if (capacity == 0)
        return MU_EINVAL;
    char sql[512];
    creation_sql(s, sql, sizeof sql);
    return mu__sqlite_create_atomic(dir, p->db, p->tmp, sql);
}

/*  Everything of mu_lru_open after the arguments were checked. */
static int
open_persistent(mu_lru_t *s, const char *dir, const char *name, uint64_t capacity, int levels,
                int flags)
{
    paths_t p;
    int rc = make_paths(&p, dir, name);
    if (rc != 0)
        return rc;
    bool exists = access(p.db, F_OK) == 0;
    if (!exists && !(flags & MU_LRU_CREATE))
        return MU_ENOENT;
    if (!exists && mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -errno;
    if (!s->readonly) {
        rc = take_lock(s, p.lock);
        if (rc == 0 && (flags & MU_LRU_CREATE) && access(p.db, F_OK) != 0)
            rc = create_file(s, dir, &p, capacity);
        if (rc == 0)
            mu__sqlite_remove(p.tmp); /* left by a creator that crashed */
    }
    if (rc == 0)
        rc = open_db(s, p.db, flags);
    bool schema = false;
    if (rc == 0)
        rc = has_schema(s->db, &schema);
    if (rc == 0 && !schema)
        rc = !(flags & MU_LRU_CREATE) ? MU_ECORRUPT : capacity == 0 ? MU_EINVAL : create_schema(s);
    if (rc == 0)
        rc = check_meta(s, capacity, levels);
    if (rc == 0 && !s->readonly)
        rc = prepare_statements(s);
    if (rc == 0) {
        s->dirty_bit = DIRTY;
        rc = load_entries(s);
    }
    return rc;
}

mu_lru_t *
mu_lru_open(const char *dir, const char *name, uint64_t capacity, int levels, int flags)
{
    if (dir == NULL || name == NULL)
        return mu_lru_new(capacity, levels);
    if (!name_ok(name) || levels < 0 || levels > MU_LRU_MAX_LEVELS || capacity > INT64_MAX ||
        (flags & ~(MU_LRU_CREATE | MU_LRU_READONLY | MU_LRU_SYNC_FULL)) ||
        ((flags & MU_LRU_CREATE) && (flags & MU_LRU_READONLY)) || dir[0] == '\0') {
        errno = EINVAL;
        return NULL;
    }
    mu_lru_t *s = lru_alloc(capacity ? capacity : 1, levels ? levels : MU_LRU_LEVELS_DEFAULT);
    if (s == NULL)
        return NULL;
    s->readonly = flags & MU_LRU_READONLY;
    mu__ignore_sigxfsz(); /* a write past RLIMIT_FSIZE fails with MU_EFBIG */
    int rc = open_persistent(s, dir, name, capacity, levels, flags);
    if (rc != 0) {
        lru_free(s);
        errno = -rc;
        return NULL;
    }
    return s;
}
