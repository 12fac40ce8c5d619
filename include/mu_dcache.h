/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_dcache.h — a TTL disk cache: key → bytes with an expiry time, in one
    SQLite file, under a size cap, with an optional HTTP fetch-through.

    Model. Each entry is a key (1..MU_DCACHE_MAX_KEY bytes), a value
    (0..max_value bytes) and an expiry time (ms since the Unix epoch, from
    the cache's clock; "never" for a ttl of MU_DCACHE_FOREVER). An expired
    entry is never returned: mu_dcache_get deletes it and answers
    MU_ENOENT; mu_dcache_purge_expired removes them all. An entry's size is
    its key length plus its value length; the total is kept at or below
    max_bytes: a set that would pass it first removes the expired entries,
    then evicts the least recently used ones (a set and a successful get
    count as a use). Recency is tracked in memory with mu_lru (one level:
    plain LRU order) and stored in the file (a use counter per row), so it
    survives a reopen; the counters of gets are written in batches (every
    256 gets, at the next set, at close), so a crash may lose the last
    recency updates, never a value.

    File. PATH is an SQLite database in WAL mode (synchronous=NORMAL):
        CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)
            WITHOUT ROWID;   -- format = 1, max_bytes
        CREATE TABLE entries(key BLOB PRIMARY KEY, value BLOB NOT NULL,
            expires INTEGER NOT NULL, used INTEGER NOT NULL);
    A new file is created atomically (built beside PATH, renamed). Every
    set, delete and purge is committed before the call returns; a crash loses nothing
    committed and never corrupts the file. One process has the cache open
    at a time: open takes PATH.lock (flock), waiting up to lock_timeout_ms.

    HTTP fetch-through (mu_dcache_fetch, when built with libcurl: configure
    --with-curl, the default when libcurl is found). A URL is fetched once
    per TTL: the body of a 2xx answer is stored under the URL as the key;
    callers in the same process asking for a URL being fetched wait for
    that fetch instead of starting another. Errors (a status other than 2xx,
    connection refused, timeout, unknown host, a body over max_value) are
    returned to the caller and nothing is cached.

    Threads. A mu_dcache_t may be used from any number of threads (one
    mutex; a fetch does not hold it while on the network). Not
    async-signal-safe.

    Errors. Caller bugs (NULL self, NULL out-pointers) are assertions.
    Runtime failures are negative codes of mu_error.h; mu_last_error()
    gives the detail. Design notes: doc/dcache.md. */
#ifndef MU_DCACHE_H_INCLUDED
#define MU_DCACHE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_dcache_t mu_dcache_t;

#define MU_DCACHE_MAX_KEY 8192                     /* longest key (and URL), bytes */
#define MU_DCACHE_FOREVER (-1)                     /* a ttl_ms that never expires */
#define MU_DCACHE_MAX_BYTES_DEFAULT (256ull << 20) /* 256 MiB */
#define MU_DCACHE_MAX_VALUE_DEFAULT (64u << 20)    /* 64 MiB */
#define MU_DCACHE_MAX_VALUE_LIMIT 999000000        /* SQLite: rows up to 10^9 bytes */
#define MU_DCACHE_FETCH_TIMEOUT_DEFAULT 30000      /* ms, whole transfer */

/*  The cache's clock: milliseconds since the Unix epoch. Tests inject one;
    the default is CLOCK_REALTIME (expiry times outlive the process). */
typedef int64_t(mu_dcache_clock_fn)(void *arg);

/*  Options of mu_dcache_open; zeroed fields take the defaults. Set size:
        mu_dcache_options_t o = { .size = sizeof o, .max_bytes = 1 << 20 };
    A NULL options pointer means all defaults. */
typedef struct {
    size_t size;               /* set by the caller: sizeof the struct */
    uint64_t max_bytes;        /* size cap (keys + values); 0: MU_DCACHE_MAX_BYTES_DEFAULT;
                              changes the stored cap (evicting at once if smaller) */
    size_t max_value;          /* largest value; 0: MU_DCACHE_MAX_VALUE_DEFAULT (and at
                              most max_bytes) */
    int lock_timeout_ms;       /* wait for another process's lock: 0 (default) no wait
                              (MU_EAGAIN), -1 forever, > 0 ms (MU_ETIMEDOUT) */
    int fetch_timeout_ms;      /* whole HTTP transfer; 0: MU_DCACHE_FETCH_TIMEOUT_DEFAULT */
    mu_dcache_clock_fn *clock; /* NULL: CLOCK_REALTIME */
    void *clock_arg;
} mu_dcache_options_t;

/*  Statistics (mu_dcache_stats). Set size first, as for the options. */
typedef struct {
    size_t size;           /* set by the caller: sizeof the struct */
    uint64_t count;        /* entries stored (expired ones not yet removed included) */
    uint64_t bytes;        /* their keys + values */
    uint64_t max_bytes;    /* the cap */
    uint64_t hits;         /* gets (and fetches) answered from the cache, this open */
    uint64_t misses;       /* gets answered MU_ENOENT (absent or expired) */
    uint64_t expired;      /* entries removed because expired */
    uint64_t evictions;    /* entries removed for the size cap */
    uint64_t fetches;      /* HTTP transfers made */
    uint64_t fetch_errors; /* of those, failed (nothing cached) */
} mu_dcache_stats_t;

/*  Opens the cache file PATH, creating it (not its directory) when
    missing. Returns NULL with errno set to mu_error_errno(code):
      EINVAL   path NULL or empty, options->size too small, max_value >
               max_bytes or > MU_DCACHE_MAX_VALUE_LIMIT;
      EAGAIN / ETIMEDOUT  another process holds PATH.lock (see lock_timeout_ms);
      EBADMSG (MU_ECORRUPT) PATH is not an SQLite database, or not a cache
               of this format, or holds an entry of the wrong type or out
               of range (doc/dcache.md); a refused file is not written to;
      EACCES   PATH or its directory cannot be read or written;
      EMFILE   the process has no file descriptor left (ulimit -n);
      ENOENT   the directory does not exist; ENOMEM; or another errno.
    mu_last_code() gives the library's code, mu_last_error() the detail
    (naming the file). Destroy with mu_dcache_destroy. */
MU_EXPORT MU_NODISCARD mu_dcache_t *mu_dcache_open(const char *path,
                                                   const mu_dcache_options_t *options);

/*  Closes the file, releases the lock, frees everything and sets *self_p to
    NULL. Accepts NULL and *self_p NULL. No call may be running on it. */
MU_EXPORT void mu_dcache_destroy(mu_dcache_t **self_p);

/*  Stores value (len bytes; may be NULL when len is 0) under key (klen
    bytes), replacing any entry, expiring ttl_ms from now (> 0, or
    MU_DCACHE_FOREVER). Expired entries, then least recently used ones, are
    removed to keep the total within max_bytes. Returns 0, or:
      MU_EINVAL    key NULL or klen 0 or > MU_DCACHE_MAX_KEY, value NULL with
                   len > 0, ttl_ms 0 or < -1;
      MU_EMSGSIZE  len > max_value, or key + value > max_bytes;
      MU_EFBIG / -ENOSPC / MU_EIO / MU_ECORRUPT / MU_ENOMEM: the write
                   failed; the cache is as it was before the call. */
MU_EXPORT MU_NODISCARD int mu_dcache_set(mu_dcache_t *self, const void *key, size_t klen,
                                         const void *value, size_t len, int64_t ttl_ms);

/*  Looks key up. When present and not expired: *value_p receives a copy
    (malloc'd, one NUL byte past the end so text can be printed; free with
    free()) and *len_p its length (len_p may be NULL), the entry becomes
    the most recently used, and 0 is returned. Otherwise MU_ENOENT (an
    expired entry is deleted), MU_EINVAL for a bad key, MU_ENOMEM, or a
    read error (MU_EIO, MU_ECORRUPT). *value_p is NULL on failure. */
MU_EXPORT MU_NODISCARD int mu_dcache_get(mu_dcache_t *self, const void *key, size_t klen,
                                         void **value_p, size_t *len_p);

/*  Removes key. Returns 0, MU_ENOENT when absent, MU_EINVAL, or a write
    error. */
MU_EXPORT MU_NODISCARD int mu_dcache_delete(mu_dcache_t *self, const void *key, size_t klen);

/*  Removes every expired entry. Returns how many (>= 0) or a write error. */
MU_EXPORT MU_NODISCARD int mu_dcache_purge_expired(mu_dcache_t *self);

/*  Fills *stats (size set by the caller). Returns 0, or MU_EINVAL when
    stats->size is smaller than the first version of the struct. */
MU_EXPORT MU_NODISCARD int mu_dcache_stats(mu_dcache_t *self, mu_dcache_stats_t *stats);

/*  The body of url (http:// or https://, at most MU_DCACHE_MAX_KEY bytes):
    from the cache when an unexpired entry has the URL as its key,
    otherwise fetched with an HTTP GET (redirects followed, at most 5) and
    stored for ttl_ms (> 0 or MU_DCACHE_FOREVER). A caller asking for a URL
    that another thread of the process is fetching waits for that fetch
    and then reads the cache (and fetches itself when that fetch failed).
    *body_p and *len_p as for mu_dcache_get. *from_cache_p (may be NULL)
    tells whether no transfer was made for this call. Returns 0, or:
      MU_EINVAL        bad url (empty, too long, not http/https) or ttl_ms;
      MU_EREMOTE       the final answer's status is not 2xx (the detail
                       has the status and the URL);
      MU_ECONNREFUSED  nothing listens there; MU_ENOHOST the host does
                       not resolve; MU_ETIMEDOUT the transfer took longer
                       than fetch_timeout_ms;
      MU_EMSGSIZE      the body is larger than max_value;
      MU_EIO           any other transfer failure (libcurl's text in
                       the detail);
      MU_ENOTSUP       the library was built without libcurl;
      or an error of mu_dcache_set when storing fails (the body is then
      not returned either).
    Nothing is cached on failure. */
MU_EXPORT MU_NODISCARD int mu_dcache_fetch(mu_dcache_t *self, const char *url, int64_t ttl_ms,
                                           void **body_p, size_t *len_p, int *from_cache_p);

/*  1 when mu_dcache_fetch is available (built with libcurl), else 0. */
MU_EXPORT int mu_dcache_can_fetch(void);

#ifdef __cplusplus
}
#endif
#endif
