/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard.h — a persistent map over N SQLite shards.

    Keys. A key is a tuple of exactly k elements (1 <= k <= MU_SHARD_MAX_K),
    given as an array of mu_shard_elem_t and its length n: a length other
    than the store's k is MU_EINVAL. Each position has a type declared
    when the store is created (MU_SHARD_INT: int64; MU_SHARD_STR: a string of
    bytes, not NUL-terminated, not checked for UTF-8; MU_SHARD_BYTES: a byte
    string), recorded in the store and checked on every call: a key whose
    element has another type than its position declares is MU_EINVAL. Strings
    and byte strings are compared bytewise (memcmp, then the shorter first).

    Placement. The shard of a key is a function of element `shardidx` only:
        shard = mu_shard_hash(&key[shardidx]) % shards
    where mu_shard_hash is FNV-1a 64 over an encoding of the element, then the
    MurmurHash3 64-bit finaliser ("fmix64") (why: doc/shard.md):
        encoding  = one tag byte (1 int, 2 str, 3 bytes), then
                    int:  the value as 8 bytes, two's complement, big-endian;
                    str, bytes: the bytes themselves (no terminator, no length)
        fnv1a64:  h = 0xcbf29ce484222325; for each byte b:
                  h ^= b; h *= 0x100000001b3          (mod 2^64)
        fmix64:   h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33;
                  h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33
    This is fixed by format version 1 and is the same on every platform; the
    tests check it against known vectors. Keys sharing element `shardidx` sit
    in the same shard.

    Values are MessagePack: set checks that the bytes are exactly one valid
    MessagePack value (mu_unpack's checks with its default limits, so at most
    64 MiB) and refuses anything else with MU_EINVAL. They are stored
    compressed with zstd by default (level 3, frame checksum on) or zlib
    (level 6, the zlib format with its Adler-32), chosen per handle with
    mu_shard_opts_t.codec (measurements behind the choice: doc/shard.md).
    Values shorter than min_compress (default 256 bytes) are stored as they
    are, and so is a value that does not shrink. The codec is
    recorded in every row (column codec), so rows written with different
    codecs read back the same.

    Storage and schema (format version 1). DIR holds one SQLite database per
    shard, DIR/shard-0000.db .. DIR/shard-NNNN.db (4 digits, from 0), each
    readable with the sqlite3 shell:
        CREATE TABLE meta(name TEXT PRIMARY KEY, value NOT NULL);
          rows: format (1), k, shards, shardidx, types ("int,str,bytes"),
                codec (the store's default: "zstd", "zlib" or "none"),
                index_mask, hash ("fnv1a64-fmix64"), shard (this file's index)
        CREATE TABLE entries(k0 <T0> NOT NULL, ..., k<k-1> <T> NOT NULL,
                             codec INTEGER NOT NULL,   -- 1 none, 2 zlib, 3 zstd
                             vlen INTEGER NOT NULL,    -- uncompressed bytes
                             value BLOB NOT NULL,      -- stored bytes
                             PRIMARY KEY(k0, ..., k<k-1>)) WITHOUT ROWID;
        CREATE INDEX entries_k<j> ON entries(k<j>);   -- for each j > 0 in index_mask
    with <T> INTEGER for int, TEXT for str and BLOB for bytes elements. A
    store opened with another k, shard count, shardidx or element types than
    it was created with is refused (MU_EINVAL), never re-sharded.

    Durability. Every shard is in WAL mode with synchronous=NORMAL (a
    committed transaction survives the death of the process; a power loss
    may lose the last ones) or FULL (mu_shard_opts_t.sync_full: survives power
    loss too). Single-key writes are one transaction each; a batch is one
    transaction per shard it touches. A busy timeout (default 5 s) lets
    several processes open and write the same store.

    File size limit. A write past RLIMIT_FSIZE (`ulimit -f`) raises SIGXFSZ,
    whose default action kills the process; mu_shard_open therefore sets
    SIGXFSZ to SIG_IGN (process-wide) when its disposition is the default
    (a handler or SIG_IGN set by the application is kept: a handler must
    return for the write to fail). Such a write then fails with MU_EFBIG
    and a message naming the limit: its transaction is rolled back, what
    was committed before stays intact, the handle stays usable, and writes
    work again once the limit is raised.

    Threads. A handle may be used from any number of threads. Each shard has
    one SQLite connection, its prepared statements and its codec contexts,
    guarded by its own mutex, so calls on keys of different shards run in
    parallel. All-shard queries (len, count_range, prune, clear, check) run
    on a small pool of threads owned by the handle, one job per shard; they
    are serialised with each other. Iteration (iterate, range) runs in the
    caller's thread, shard after shard. A handle does not survive fork():
    a child process opens its own (SQLite's rule for connections).

    Errors follow mu_error.h. Every failing call records its code and a
    message for its thread (mu_last_code, mu_last_error; constructors also
    set errno to mu_error_errno(code)): a stored value that fails to
    decompress, whose size does not match, or that is not valid MessagePack
    is MU_ECORRUPT with a message naming the key and the shard. Caller bugs
    (a NULL handle, batch, key array, value, callback or output pointer) are
    assertions, not codes. */
#ifndef MU_SHARD_H_INCLUDED
#define MU_SHARD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MU_SHARD_MAX_K 16        /* elements in a key */
#define MU_SHARD_MAX_SHARDS 4096 /* shards in a store */
#define MU_SHARD_FORMAT 1        /* on-disk format version written */

typedef struct mu_shard_t mu_shard_t;

/*  Type of a key element. */
typedef enum {
    MU_SHARD_INT = 1,  /* int64_t */
    MU_SHARD_STR = 2,  /* string of bytes (SQLite TEXT) */
    MU_SHARD_BYTES = 3 /* byte string (SQLite BLOB) */
} mu_shard_type_t;

/*  One key element: a tagged value. For MU_SHARD_INT, i holds the value; for
    MU_SHARD_STR and MU_SHARD_BYTES, ptr and len give the bytes (ptr may be
    NULL when len is 0). The caller owns the bytes; the store copies what it
    keeps. Build them with the helpers below. */
typedef struct {
    mu_shard_type_t type;
    int64_t i;
    const void *ptr;
    size_t len;
} mu_shard_elem_t;

/*  An int element. */
static inline mu_shard_elem_t
mu_shard_int(int64_t value)
{
    mu_shard_elem_t e = { MU_SHARD_INT, value, NULL, 0 };
    return e;
}

/*  A str element from len bytes at str. */
static inline mu_shard_elem_t
mu_shard_strn(const char *str, size_t len)
{
    mu_shard_elem_t e = { MU_SHARD_STR, 0, str, len };
    return e;
}

/*  A str element from a NUL-terminated string (without the NUL). */
static inline mu_shard_elem_t
mu_shard_str(const char *str)
{
    return mu_shard_strn(str, str ? strlen(str) : 0);
}

/*  A bytes element from len bytes at data. */
static inline mu_shard_elem_t
mu_shard_bytes(const void *data, size_t len)
{
    mu_shard_elem_t e = { MU_SHARD_BYTES, 0, data, len };
    return e;
}

/*  Value codec. The numbers are those of the codec column. */
typedef enum {
    MU_SHARD_CODEC_DEFAULT = 0, /* the store's codec (zstd for a new store) */
    MU_SHARD_CODEC_NONE = 1,    /* stored as given */
    MU_SHARD_CODEC_ZLIB = 2,    /* zlib format (RFC 1950), level 6 */
    MU_SHARD_CODEC_ZSTD = 3     /* zstd frame with checksum, level 3 */
} mu_shard_codec_t;

/*  Options of mu_shard_open. Initialise with designated initialisers so that
    unnamed fields are 0, which means "default" for every field:
        mu_shard_opts_t o = { .k = 3, .shards = 8, .create = true,
                              .types = { MU_SHARD_STR, MU_SHARD_INT, MU_SHARD_INT } };
    Store parameters (fixed at creation, recorded in meta, checked at open):
      k           key arity, 1..MU_SHARD_MAX_K; 0 opens an existing store with
                  its own parameters (shards, shardidx, types are then ignored)
      shards      number of shards, 1..MU_SHARD_MAX_SHARDS (required with k)
      shardidx    the element that chooses the shard, < k (default 0)
      types       the type of each of the k elements (required with k)
      index_mask  bit j set: an index on element j, so range/prune/count_range
                  by element j are index range scans (element 0 leads the
                  primary key and needs none). 0: the default, every element.
                  Used at creation only.
    Handle settings (not recorded, may differ between handles):
      create      create DIR and the store when shard-0000.db does not exist
      codec       codec of new writes; DEFAULT: the one recorded at creation
                  (when creating: zstd)
      level       compression level; 0: the codec's default (zstd 3, zlib 6)
      min_compress values shorter than this many bytes are stored
                  uncompressed; 0: 256
      sync_full   synchronous=FULL instead of NORMAL
      busy_timeout_ms  how long a write waits for another process's write
                  lock; 0: 5000; negative: do not wait
      cache_kib   SQLite page cache per shard in KiB; 0: 32768 (32 MiB).
                  Shards are also memory-mapped (mmap_size 256 MiB each).
      threads     threads for all-shard queries, the caller's included; 0:
                  min(shards, max(2, CPUs)); at most 32; 1: one shard after
                  another in the caller's thread */
typedef struct {
    size_t k;
    size_t shards;
    size_t shardidx;
    mu_shard_type_t types[MU_SHARD_MAX_K];
    unsigned index_mask;
    bool create;
    mu_shard_codec_t codec;
    int level;
    size_t min_compress;
    bool sync_full;
    int busy_timeout_ms;
    size_t cache_kib;
    size_t threads;
} mu_shard_opts_t;

/*  Opens the store in directory dir, creating it when opts->create is set
    and it does not exist yet (two processes may race to create the same
    store: one creates, both open it). An existing store must match opts
    (k, shards, shardidx, types) unless opts->k is 0. A shard file that has
    no table yet (another process is creating the store) is waited for, up
    to the busy timeout, before it counts as damaged.
    dir and opts must not be NULL (asserted).
    Returns the handle, or NULL with errno set (mu_last_error() and
    mu_last_code() say more):
      EINVAL   a parameter out of range, or a store that exists with other
               parameters (the message names them)              MU_EINVAL
      ENOENT   no store in dir and create not set                MU_ENOENT
      ENOTSUP  a store of a newer format version or another hash MU_ENOTSUP
      EBADMSG  a shard file is missing, is not a database, has no meta
               table or a damaged one, disagrees with shard 0, or a shard
               file past the meta's count exists; when creating, a shard
               file already there that is neither empty nor that shard
               of this store                                     MU_ECORRUPT
      ENOMEM, EACCES, EIO and others from the file system or SQLite.
    A refused open writes nothing into a file that is not a shard of the
    store: a shard file is put in WAL mode only once its meta and schema
    were checked (doc/shard.md, "Damaged files"). The message names the
    file.
    Destroy with mu_shard_destroy. */
MU_EXPORT MU_NODISCARD mu_shard_t *mu_shard_open(const char *dir, const mu_shard_opts_t *opts);

/*  Closes every shard, stops the thread pool, frees the handle and sets
    *self_p to NULL; accepts NULL and *self_p NULL. No call may be running on
    the handle. Nothing is lost: every write returned was committed. */
MU_EXPORT void mu_shard_destroy(mu_shard_t **self_p);

/*  Fills *out with the effective parameters and settings of the handle
    (k, shards, shardidx, types, index_mask, codec of new writes and the rest
    with defaults resolved). */
MU_EXPORT void mu_shard_info(const mu_shard_t *self, mu_shard_opts_t *out);

/*  The placement hash of one element (see the top of this file). Returns 0
    for NULL or an element of unknown type. */
MU_EXPORT uint64_t mu_shard_hash(const mu_shard_elem_t *elem);

/*  The shard (0..shards-1) that holds key, or MU_EINVAL for a key that
    does not match the store's element types. */
MU_EXPORT MU_NODISCARD int mu_shard_of(const mu_shard_t *self, const mu_shard_elem_t *key,
                                       size_t n);

/*  Writes key as text into buf (cap bytes, always NUL-terminated when cap >
    0): "(12, \"abc\", x'00ff')" — ints in decimal, strs quoted with C escapes
    for '"', '\\' and bytes outside 0x20..0x7e, bytes as x'hex'. Long keys are
    cut and end with "...". Returns buf. */
MU_EXPORT const char *mu_shard_key_format(const mu_shard_elem_t *key, size_t k, char *buf,
                                          size_t cap);

/*  ---- single keys ---------------------------------------------------------- */

/*  Stores value (size bytes of MessagePack) under key, replacing any value,
    in one transaction. Returns 0, or MU_EINVAL (a key that does not match
    the store, value not exactly one valid MessagePack value), MU_ELIMIT (a value past mu_unpack's default limits),
    MU_ETIMEDOUT (another process held the write lock past the busy timeout),
    MU_ENOMEM, -ENOSPC, MU_EFBIG (a file would pass RLIMIT_FSIZE: nothing
    written), -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_set(mu_shard_t *self, const mu_shard_elem_t *key, size_t n,
                                        const void *value, size_t size);

/*  Reads the value of key into a new buffer: *value_p gets it (free it with
    free()) and *size_p its size. Returns 0, or MU_ENOENT (no such key;
    outputs NULL and 0), MU_ECORRUPT (the stored value is damaged; the message
    names the key), MU_EINVAL, MU_ENOMEM, -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_get(mu_shard_t *self, const mu_shard_elem_t *key, size_t n,
                                        void **value_p, size_t *size_p);

/*  Reads the value of key into the caller's buffer of cap bytes and stores
    its size in *size_p. Returns 0, MU_EMSGSIZE when cap is too small (then
    *size_p is the size needed and buf holds nothing useful), or the errors of
    mu_shard_get. */
MU_EXPORT MU_NODISCARD int mu_shard_get_buf(mu_shard_t *self, const mu_shard_elem_t *key, size_t n,
                                            void *buf, size_t cap, size_t *size_p);

/*  Deletes key. Returns 0, MU_ENOENT when there was no such key, or the
    errors of mu_shard_set. */
MU_EXPORT MU_NODISCARD int mu_shard_delete(mu_shard_t *self, const mu_shard_elem_t *key, size_t n);

/*  Returns 1 when key is stored, 0 when not, or MU_EINVAL / -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_contains(mu_shard_t *self, const mu_shard_elem_t *key,
                                             size_t n);

/*  ---- batches -------------------------------------------------------------- */

/*  A batch collects sets and deletes (key and value copied, values checked
    and compressed when added) and commits them with one transaction per
    shard it touches, in the order they were added. A batch belongs to one
    thread at a time; it must be destroyed before its store. */
typedef struct mu_shard_batch_t mu_shard_batch_t;

/*  Creates an empty batch for store (not NULL). Returns NULL with errno
    ENOMEM. */
MU_EXPORT MU_NODISCARD mu_shard_batch_t *mu_shard_batch_new(mu_shard_t *store);

/*  Frees the batch (uncommitted operations are dropped) and sets *self_p to
    NULL; accepts NULL and *self_p NULL. */
MU_EXPORT void mu_shard_batch_destroy(mu_shard_batch_t **self_p);

/*  Adds a set. Returns 0 or the argument errors of mu_shard_set (the batch
    is unchanged then), MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_shard_batch_set(mu_shard_batch_t *self, const mu_shard_elem_t *key,
                                              size_t n, const void *value, size_t size);

/*  Adds a delete (a missing key is not an error at commit). Returns 0,
    MU_EINVAL or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_shard_batch_delete(mu_shard_batch_t *self, const mu_shard_elem_t *key,
                                                 size_t n);

/*  Number of operations waiting in the batch. */
MU_EXPORT size_t mu_shard_batch_size(const mu_shard_batch_t *self);

/*  Commits the batch: for each shard touched, in shard order, one
    transaction with that shard's operations in the order added. Each shard's
    part is atomic; the batch as a whole is not (shards committed before a
    failure keep their writes, the failing shard's part is rolled back and
    later shards are not written). The batch is empty afterwards, whatever
    the result. Returns 0, or MU_ETIMEDOUT, -ENOSPC, MU_EFBIG,
    -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_batch_commit(mu_shard_batch_t *self);

/*  ---- all-shard queries ---------------------------------------------------- */

/*  Stores the number of keys in *len_p, counting all shards in parallel.
    Returns 0, -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_len(mu_shard_t *self, uint64_t *len_p);

/*  Stores the number of keys of each shard in counts[0..n) (n must equal
    the shard count, else MU_EINVAL), counting in parallel. */
MU_EXPORT MU_NODISCARD int mu_shard_len_each(mu_shard_t *self, uint64_t *counts, size_t n);

/*  Called for each entry by mu_shard_iterate and mu_shard_range: key holds k
    elements (the store's k) and value size bytes of MessagePack; both are valid only during
    the call. Return 0 to go on; anything else stops the walk and is what
    the walk returns (use a positive number to tell it from errors). The
    callback runs in the caller's thread with the shard's lock held: it may
    call single-key functions of the same store (set/get/delete/contains),
    whose writes to the shard being walked may or may not be seen by the
    walk, but not all-shard functions (len, range, prune, clear, ...),
    which would deadlock. */
typedef int mu_shard_visit_fn(void *arg, const mu_shard_elem_t *key, const void *value,
                              size_t size);

/*  Calls fn for every entry: shard 0 first, then shard 1 and so on; within a
    shard in primary-key order (element 0 ascending, then element 1, ...;
    ints numerically, strs and bytes bytewise). Returns 0 after the last
    entry, fn's non-zero result, MU_ECORRUPT (a damaged value: the message
    names the key; entries before it were visited), -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_iterate(mu_shard_t *self, mu_shard_visit_fn *fn, void *arg);

/*  Calls fn for each entry whose element number elem lies in [lo, hi] (both
    inclusive; NULL: unbounded on that side), shard after shard, within a
    shard ascending by that element, then by primary key. lo and hi must
    have the element's type. Returns like mu_shard_iterate; MU_EINVAL for
    elem >= k or a bound of the wrong type. */
MU_EXPORT MU_NODISCARD int mu_shard_range(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo,
                                          const mu_shard_elem_t *hi, mu_shard_visit_fn *fn,
                                          void *arg);

/*  Stores in *count_p the number of entries mu_shard_range would visit,
    counting shards in parallel. Returns 0, MU_EINVAL, -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_count_range(mu_shard_t *self, size_t elem,
                                                const mu_shard_elem_t *lo,
                                                const mu_shard_elem_t *hi, uint64_t *count_p);

/*  Deletes every entry whose element elem lies in [lo, hi] (as in
    mu_shard_range), one transaction per shard, shards in parallel, and
    stores the number deleted in *count_p (may be NULL). On failure the
    shards that succeeded keep their deletions (*count_p counts them).
    Returns 0, MU_EINVAL, MU_ETIMEDOUT, MU_EFBIG, -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_prune(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo,
                                          const mu_shard_elem_t *hi, uint64_t *count_p);

/*  Deletes every entry, one transaction per shard, in parallel. Returns 0,
    MU_ETIMEDOUT, MU_EFBIG, -EIO. */
MU_EXPORT MU_NODISCARD int mu_shard_clear(mu_shard_t *self);

/*  Runs SQLite's PRAGMA integrity_check on every shard in parallel. Returns
    0 when all are "ok", MU_ECORRUPT (the message names the first damaged
    shard and SQLite's first complaint), -EIO. Values are not
    decoded: a damaged value is found when it is read. */
MU_EXPORT MU_NODISCARD int mu_shard_check(mu_shard_t *self);

#ifdef __cplusplus
}
#endif
#endif
