/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_lru.h — segmented LRU (S4LRU) over caller-given keys and sizes,
    optionally persisted in SQLite.

    Model. The LRU tracks keys (byte strings, 0..MU_LRU_MAX_KEY bytes) and a
    size per key in the caller's units (bytes, blocks, anything), under a
    capacity in the same units. It has N levels (default 4, at most
    MU_LRU_MAX_LEVELS), each an ordered list from head (most recent) to tail.
    Level i (i >= 1) may hold capacity / N units; level 0 holds the rest of
    the capacity (capacity / N plus the remainder) and absorbs what the
    upper levels cannot hold. The rules:
      - a new key enters the head of level 0 (or of the boost level, see
        mu_lru_set_boost);
      - a hit on a key in level i moves it to the head of level i + 1; a hit
        in the top level moves it to the head of the top level;
      - a hit may carry a new size: the key's size, its level's size and the
        total are updated exactly;
      - after a change, every level i >= 1 whose size exceeds its capacity
        moves its tail to the head of level i - 1, repeatedly, from the top
        level down (a cascade): upper levels never exceed their capacity;
      - eviction is explicit: mu_lru_evict removes keys from the tail of level
        0 while the total size exceeds the capacity, hands each one to the
        caller and forgets it. Until then the total may exceed the capacity
        (mu_lru_over tells by how much). Level 0 alone always suffices: the
        upper levels hold at most capacity - capacity of level 0.

    Persistence. mu_lru_open keeps the LRU in DIR/NAME.lru, an SQLite database
    in WAL mode (synchronous=NORMAL, or FULL with MU_LRU_SYNC_FULL), with the
    schema (readable with the sqlite3 shell):

        CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)
            WITHOUT ROWID;
        -- rows: format = 1, levels, capacity, hits, misses, evictions
        CREATE TABLE entries(key BLOB PRIMARY KEY, size INTEGER NOT NULL,
            level INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;

    level is 0..levels-1; seq is a counter stamped on a key each time it
    enters the head of a level, so a level's order from head to tail is
    seq descending (`SELECT * FROM entries ORDER BY level DESC, seq DESC`
    lists the keys in mu_lru_foreach order). Sizes above INT64_MAX are
    stored as their two's-complement int64.

    What reaches the disk when:
      - new keys, per the durability policy (mu_lru_set_durability):
        MU_LRU_IMMEDIATE (the default) commits the key before
        mu_lru_increment returns; MU_LRU_GROUP commits new keys from a
        background thread at most every group_ms milliseconds, so a SIGKILL
        loses at most the keys added in the last group_ms (plus the time of
        one commit), even when the process is idle; MU_LRU_AT_FLUSH writes them
        at the next flush;
      - everything else (hits, promotions, demotions, size changes,
        deletions, evictions, resize, the hit/miss/eviction counters) is kept
        in memory and written by mu_lru_flush (and mu_lru_destroy) in one
        transaction. Hits cost no I/O.
    Reopening restores every key's size, level and order as of the last
    flush, plus the new keys committed since. After a crash, a level that
    then holds more than its capacity is rebalanced by the cascade rule on
    open. A SIGKILL never corrupts the database. Creation is atomic too: a
    new LRU is built in DIR/.NAME.lru.new, synced and renamed to DIR/NAME.lru,
    so a crash while creating leaves no LRU (the next open is ENOENT, or
    creates it afresh with MU_LRU_CREATE), never a half-made file.

    File size limit. A write past RLIMIT_FSIZE (`ulimit -f`) raises SIGXFSZ,
    whose default action kills the process; mu_lru_open of a persistent LRU
    therefore sets SIGXFSZ to SIG_IGN (process-wide) when its disposition is
    the default (a handler or SIG_IGN set by the application is kept: a
    handler must return for the write to fail). Such a write then fails with
    MU_EFBIG, losing nothing: its transaction is rolled back, the file keeps
    what was committed before, a key that mu_lru_increment could not commit
    is not added, changes that mu_lru_flush could not write stay pending, and
    writing works again once the limit is raised.

    One process opens an LRU for writing at a time (a lock on DIR/NAME.lru.lock,
    released on destroy); MU_LRU_READONLY opens without the lock to inspect
    it while another process owns it (it sees the last flushed state).

    Threads. An mu_lru_t belongs to one thread at a time; the group-commit
    thread is internal and synchronises with it. Not async-signal-safe.

    Errors. Caller bugs (a NULL LRU, a NULL callback for mu_lru_foreach or
    stats pointer, a call from inside a callback) are assertions. Runtime
    failures are negative codes of mu_error.h; constructors return NULL with
    errno set to mu_error_errno(code), and mu_last_error()/mu_last_code()
    give the detail. Memory layout and design notes: doc/lru.md. */
#ifndef MU_LRU_H_INCLUDED
#define MU_LRU_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_lru_t mu_lru_t;

#define MU_LRU_LEVELS_DEFAULT 4
#define MU_LRU_MAX_LEVELS 64
#define MU_LRU_MAX_KEY 65536        /* longest key, bytes */
#define MU_LRU_GROUP_MS_DEFAULT 100 /* group commit interval */

/*  Flags for mu_lru_open. */
#define MU_LRU_CREATE 1    /* create the LRU when DIR/NAME.lru does not exist */
#define MU_LRU_READONLY 2  /* inspect only: no lock, every change is refused */
#define MU_LRU_SYNC_FULL 4 /* synchronous=FULL: commits survive power loss */

/*  Flag for mu_lru_evict. */
#define MU_LRU_DRY_RUN 1 /* report what would be evicted, change nothing */

/*  Durability of new keys (see the header comment). */
typedef enum {
    MU_LRU_IMMEDIATE = 0, /* committed before mu_lru_increment returns */
    MU_LRU_GROUP = 1,     /* committed by a background thread every group_ms */
    MU_LRU_AT_FLUSH = 2   /* written at mu_lru_flush */
} mu_lru_durability_t;

/*  Statistics of an LRU (mu_lru_stats). Set size before the call:
        mu_lru_stats_t st = { .size = sizeof st };
    so that the struct can grow in later versions. Sizes are in the
    caller's units. */
typedef struct {
    size_t size;    /* set by the caller: sizeof the struct */
    uint64_t count; /* keys */
    uint64_t total; /* size units of all keys */
    uint64_t capacity;
    uint64_t hits;      /* increments of a present key */
    uint64_t misses;    /* increments that added a key */
    uint64_t evictions; /* keys removed by mu_lru_evict */
    int levels;         /* entries [0, levels) of the arrays below are set */
    uint64_t level_count[MU_LRU_MAX_LEVELS];
    uint64_t level_total[MU_LRU_MAX_LEVELS];
    uint64_t level_capacity[MU_LRU_MAX_LEVELS];
} mu_lru_stats_t;

/*  Called by mu_lru_evict for each evicted key, from level 0's tail onwards,
    with the arg given to mu_lru_evict. key (len bytes) is valid only during
    the call. The callback must not call mu_lru_* on the same LRU. */
typedef void(mu_lru_evict_fn)(void *arg, const void *key, size_t len, uint64_t size);

/*  Called by mu_lru_foreach for each key, with the arg given to
    mu_lru_foreach; return 0 to go on, anything else to stop (mu_lru_foreach
    then returns that value). key is valid only during the call; the
    callback must not change the LRU (asserted). */
typedef int(mu_lru_foreach_fn)(void *arg, const void *key, size_t len, uint64_t size, int level);

/*  Creates an in-memory LRU (no persistence) of the given capacity (> 0)
    with levels levels (1..MU_LRU_MAX_LEVELS; 0 means 4). Returns NULL with
    errno EINVAL for a bad argument or ENOMEM. Destroy with mu_lru_destroy. */
MU_EXPORT MU_NODISCARD mu_lru_t *mu_lru_new(uint64_t capacity, int levels);

/*  Opens the persistent LRU NAME in directory DIR (the file DIR/NAME.lru),
    loading every key. name is 1..128 characters from [A-Za-z0-9._-], not
    starting with '.'. With MU_LRU_CREATE a missing LRU is created (and DIR,
    one level, if missing) with capacity (> 0) and levels (0 means 4);
    without it a missing LRU is ENOENT. For an existing LRU, capacity 0 and
    levels 0 mean "as stored"; other values must equal the stored ones
    (change the capacity with mu_lru_resize). flags: MU_LRU_CREATE,
    MU_LRU_READONLY, MU_LRU_SYNC_FULL. dir and name must not be NULL
    (asserted): an in-memory LRU is mu_lru_new. Returns NULL with errno:
      EINVAL  bad name, levels or flags, capacity 0 when creating;
      ENOENT  the LRU (or DIR) does not exist and MU_LRU_CREATE is not given;
      EEXIST  the stored levels or capacity differ from the ones given;
      EAGAIN  another process has the LRU open for writing;
      EACCES  DIR or the file cannot be written or read (a read-only file
              opened without MU_LRU_READONLY);
      EFBIG   creating the file would pass RLIMIT_FSIZE;
      EBADMSG (MU_ECORRUPT) the file is not an LRU of this format (another
              program's database is not given the LRU's tables, even with
              MU_LRU_CREATE) or holds impossible values: a meta value or an
              entry of the wrong type (a key stored as text, not as a
              blob, included), a level out of range, a duplicate or
              over-long key, sizes adding up past 2^64-1, a seq past
              2^63-1-2^48; for a writer also tables without the primary
              keys of the schema (doc/lru.md, "Damaged files");
      EMFILE  the process has no file descriptor left (ulimit -n);
      ENOMEM, or another errno from the file system.
    A refused open writes nothing into the file (it is read and checked
    before a writer sets WAL mode), and mu_last_error() names the file and
    what is wrong with it.
    mu_last_code() gives the library's code, mu_last_error() the detail. */
MU_EXPORT MU_NODISCARD mu_lru_t *mu_lru_open(const char *dir, const char *name, uint64_t capacity,
                                             int levels, int flags);

/*  Flushes (persistent LRU, errors ignored: call mu_lru_flush first to see
    them), stops the group-commit thread, frees everything and sets *self_p to
    NULL. Accepts NULL and *self_p NULL. */
MU_EXPORT void mu_lru_destroy(mu_lru_t **self_p);

/*  Sets the durability of new keys and, for MU_LRU_GROUP, the interval in ms
    (1..60000; 0 means MU_LRU_GROUP_MS_DEFAULT; ignored otherwise). Keys
    already waiting are committed first. policy must be one of the enum
    (asserted). Returns 0; MU_EINVAL for a bad interval; MU_ENOTSUP on an in-memory or read-only LRU; an
    SQLite failure as MU_EACCES/MU_ENOMEM/MU_EFBIG/-EIO; -errno when the thread
    cannot start. */
MU_EXPORT MU_NODISCARD int mu_lru_set_durability(mu_lru_t *self, mu_lru_durability_t policy,
                                                 int group_ms);

/*  Size-based insertion boost: a NEW key whose size is at most max_size
    enters the head of level `level` (clamped to the top level) instead of
    level 0 — small objects are cheap to keep, so they skip probation. The
    usual cascade follows. max_size 0 (the default) turns the boost off.
    Returns 0, or MU_EINVAL for level < 0. */
MU_EXPORT MU_NODISCARD int mu_lru_set_boost(mu_lru_t *self, uint64_t max_size, int level);

/*  Records an access to key (len bytes; key may be NULL when len is 0) whose
    size is now size. A present key is a hit: it is promoted and its size
    updated; otherwise it is added (a miss). Never evicts (see mu_lru_evict).
    Returns 1 for a hit, 0 for a new key, or MU_EINVAL (key NULL with len >
    0, len > MU_LRU_MAX_KEY, the total size would overflow 64 bits),
    MU_EACCES (read-only), MU_ENOMEM, or under MU_LRU_IMMEDIATE an SQLite
    failure (-EIO, MU_EACCES, MU_EFBIG past RLIMIT_FSIZE, ...), in which case
    the key is NOT added. */
MU_EXPORT MU_NODISCARD int mu_lru_increment(mu_lru_t *self, const void *key, size_t len,
                                            uint64_t size);

/*  One access for mu_lru_increment_many. */
typedef struct {
    const void *key; /* len bytes; may be NULL when len is 0 */
    size_t len;
    uint64_t size;
} mu_lru_item_t;

/*  Records n accesses, exactly as n calls of mu_lru_increment(self,
    items[i].key, items[i].len, items[i].size) in order, but faster for
    large LRUs: the index slots and entries of later items are prefetched
    while earlier ones are processed. A failing item (any error of
    mu_lru_increment) does not stop the others. When results is not NULL,
    results[i] receives what mu_lru_increment would have returned for item
    i (1 hit, 0 new key, or an error). Returns the number of hits (>= 0,
    INT_MAX when more) when no item failed, otherwise the first item's
    error. items may be NULL when n is 0. */
MU_EXPORT MU_NODISCARD int mu_lru_increment_many(mu_lru_t *self, const mu_lru_item_t *items,
                                                 size_t n, int *results);

/*  Returns 1 when key is present, 0 when not (or for bad arguments).
    Changes nothing: no promotion, no hit counted. */
MU_EXPORT int mu_lru_contains(const mu_lru_t *self, const void *key, size_t len);

/*  Like mu_lru_contains, also giving the key's size and level (either
    pointer may be NULL). Returns 0, MU_ENOENT, or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_lru_peek(const mu_lru_t *self, const void *key, size_t len,
                                       uint64_t *size_p, int *level_p);

/*  Forgets key (written at flush). Returns 0, MU_ENOENT when absent,
    MU_EINVAL, or MU_EACCES (read-only). Not counted as an eviction. */
MU_EXPORT MU_NODISCARD int mu_lru_delete(mu_lru_t *self, const void *key, size_t len);

/*  Removes keys from the tail of level 0 while the total size exceeds the
    capacity, calling fn (may be NULL) for each in eviction order, and
    forgets them. With MU_LRU_DRY_RUN, fn sees the same keys but nothing
    changes. Returns the number of keys (that would be) evicted, MU_EINVAL
    for unknown flags, or MU_EACCES (read-only, without MU_LRU_DRY_RUN). */
MU_EXPORT MU_NODISCARD int mu_lru_evict(mu_lru_t *self, int flags, mu_lru_evict_fn *fn, void *arg);

/*  Size units above the capacity: what mu_lru_evict would free, at least.
    0 when the LRU fits. */
MU_EXPORT uint64_t mu_lru_over(const mu_lru_t *self);

/*  Changes the capacity (> 0); levels are re-divided and upper levels
    demote by the cascade rule at once; evict afterwards if mu_lru_over() >
    0. Written at flush. Returns 0, MU_EINVAL, or MU_EACCES (read-only). */
MU_EXPORT MU_NODISCARD int mu_lru_resize(mu_lru_t *self, uint64_t capacity);

/*  Calls fn(arg, ...) for every key: the top level first, each level from
    head to tail, so the last key visited is the next one mu_lru_evict
    removes. Returns 0, or the first nonzero value fn returned. */
MU_EXPORT int mu_lru_foreach(mu_lru_t *self, mu_lru_foreach_fn *fn, void *arg);

/*  Fills *stats (whose size field the caller set to sizeof *stats) with the
    counts, sizes and capacities of the LRU and of each level, and the hit,
    miss and eviction counters (persisted at flush). Returns 0, or MU_EINVAL
    when stats->size is smaller than the first version of the struct. */
MU_EXPORT MU_NODISCARD int mu_lru_stats(const mu_lru_t *self, mu_lru_stats_t *stats);

/*  Number of levels. */
MU_EXPORT int mu_lru_levels(const mu_lru_t *self);

/*  Writes every change since the last flush (and new keys still waiting)
    in one transaction. Returns 0 (also for an in-memory or read-only LRU),
    or the SQLite failure as a negative code (MU_EACCES, MU_ENOMEM, -EIO,
    MU_ECORRUPT, MU_EFBIG past RLIMIT_FSIZE); the changes then stay pending
    for the next flush. */
MU_EXPORT MU_NODISCARD int mu_lru_flush(mu_lru_t *self);

#ifdef __cplusplus
}
#endif
#endif
