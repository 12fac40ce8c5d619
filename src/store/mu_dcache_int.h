/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_dcache_int.h — private state of the TTL disk cache, shared by the
    store (mu_dcache.c) and the HTTP fetch-through (mu_dcache_fetch.c).
    Never installed. */
#ifndef MU_DCACHE_INT_H_INCLUDED
#define MU_DCACHE_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "store/mu_sqlite.h"
#include <pthread.h>

enum { DC_GET, DC_PUT, DC_DEL, DC_TOUCH, DC_EXPIRED, DC_PURGE, DC_NSTMT };

/*  A URL being fetched by some thread (single flight). */
typedef struct mu__dcache_flight {
    struct mu__dcache_flight *next;
    char *url;
} mu__dcache_flight_t;

/*  Recency stamps of gets not yet written (see touch_flush). */
#define MU__DCACHE_TOUCH_MAX 256

typedef struct {
    void *key;
    size_t len;
    int64_t used;
} mu__dcache_touch_t;

struct mu_dcache_t {
    pthread_mutex_t mutex; /* guards everything below */
    pthread_cond_t cv;     /* a fetch finished */
    sqlite3 *db;
    sqlite3_stmt *st[DC_NSTMT];
    mu_lru_t *lru; /* recency and sizes, one level */
    int lock_fd;
    char *path;
    uint64_t max_bytes;
    uint64_t stored_max_bytes; /* the file's, when it was opened */
    size_t max_value;
    int fetch_timeout_ms;
    mu_dcache_clock_fn *clock;
    void *clock_arg;
    int64_t next_used;
    mu__dcache_touch_t touch[MU__DCACHE_TOUCH_MAX];
    size_t ntouch;
    mu_dcache_stats_t counts; /* hits, misses, expired, evictions, fetches, fetch_errors */
    mu__dcache_flight_t *flights;
};

/*  The cache's clock, ms. */
int64_t mu__dcache_now(mu_dcache_t *self);

/*  mu_dcache_get and mu_dcache_set with the mutex held. */
int mu__dcache_get_locked(mu_dcache_t *self, const void *key, size_t klen, void **value_p,
                          size_t *len_p);
int mu__dcache_set_locked(mu_dcache_t *self, const void *key, size_t klen, const void *value,
                          size_t len, int64_t ttl_ms);

/*  Checks ttl_ms (> 0 or MU_DCACHE_FOREVER); 0 or MU_EINVAL (recorded). */
int mu__dcache_check_ttl(int64_t ttl_ms);

#endif
