/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files_digest.c — the digest cache of the servers' file services
    (src/conn/mu_files_priv.h). */
#include "conn/mu_files_priv.h"
#include <pthread.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Server: the digest cache                                            */

/*  Digests of files served whole, so that downloading an unchanged file
    again skips hashing it (BLAKE2b runs at about 1 GB/s per core, the
    largest cost of a download from the page cache; XXH3-128 is faster but
    not free). One entry per file and digest algorithm. Shared by the servers
    of the process (a mutex guards it), DIGEST_CACHE_SLOTS entries, the
    least recently used replaced.

    A file is identified by its stat key: device, inode, size, mtime and
    ctime (nanoseconds). Any write, truncate, chmod or rename of the file
    changes its ctime, a replacement changes the inode. Timestamps come
    from a coarse clock, so a change within the same tick as the hashing
    could keep the key: a digest is cached only when the file's mtime and
    ctime were at least SETTLED_SECS old when the file was opened (as git
    does for its index), and only when the key read after the last byte
    was hashed equals the key read at the open. A download served from the
    cache checks the key again after the last byte was read: if it changed
    the entry is dropped and the download fails with MU_EIO, as the cached
    digest may not describe the bytes sent. */

#define DIGEST_CACHE_SLOTS 64
#define SETTLED_SECS 2

typedef struct {
    mu__stat_key_t key;
    int alg;
    uint8_t digest[MU__DIGEST_MAX];
    uint64_t used; /* 0: empty; else a use stamp */
} digest_slot_t;

static pthread_mutex_t digest_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static digest_slot_t digest_cache[DIGEST_CACHE_SLOTS];
static uint64_t digest_cache_clock;

void
mu__stat_key_make(const struct stat *st, mu__stat_key_t *key)
{
    memset(key, 0, sizeof *key); /* compared with memcmp */
    key->dev = (uint64_t) st->st_dev;
    key->ino = (uint64_t) st->st_ino;
    key->size = (uint64_t) st->st_size;
    key->mtime_s = st->st_mtim.tv_sec;
    key->mtime_ns = st->st_mtim.tv_nsec;
    key->ctime_s = st->st_ctim.tv_sec;
    key->ctime_ns = st->st_ctim.tv_nsec;
}

/* True when the file's timestamps are SETTLED_SECS in the past. File
   timestamps are wall-clock times, so this compares with CLOCK_REALTIME
   (a comparison, never a wait). */
bool
mu__stat_key_settled(const struct stat *st)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return false;
    return st->st_mtim.tv_sec + SETTLED_SECS < now.tv_sec
           && st->st_ctim.tv_sec + SETTLED_SECS < now.tv_sec;
}

/* The slot holding key's alg digest (alg 0: any), or NULL; the lock is
   held. */
static digest_slot_t *
digest_cache_find(const mu__stat_key_t *key, int alg)
{
    for (size_t i = 0; i < DIGEST_CACHE_SLOTS; i++)
        if (digest_cache[i].used && (alg == 0 || digest_cache[i].alg == alg)
            && memcmp(&digest_cache[i].key, key, sizeof *key) == 0)
            return &digest_cache[i];
    return NULL;
}

/* Copies the cached digest of key into digest: true, or false (none). */
bool
mu__digest_cache_get(const mu__stat_key_t *key, int alg, uint8_t digest[MU__DIGEST_MAX])
{
    pthread_mutex_lock(&digest_cache_lock);
    digest_slot_t *slot = digest_cache_find(key, alg);
    if (slot) {
        memcpy(digest, slot->digest, MU__DIGEST_MAX);
        slot->used = ++digest_cache_clock;
    }
    pthread_mutex_unlock(&digest_cache_lock);
    return slot != NULL;
}

void
mu__digest_cache_put(const mu__stat_key_t *key, int alg, const uint8_t digest[MU__DIGEST_MAX])
{
    pthread_mutex_lock(&digest_cache_lock);
    digest_slot_t *slot = digest_cache_find(key, alg);
    if (!slot) { /* the least recently used (empty slots have used 0) */
        slot = &digest_cache[0];
        for (size_t i = 1; i < DIGEST_CACHE_SLOTS; i++)
            if (digest_cache[i].used < slot->used)
                slot = &digest_cache[i];
    }
    slot->key = *key;
    slot->alg = alg;
    memcpy(slot->digest, digest, MU__DIGEST_MAX);
    slot->used = ++digest_cache_clock;
    pthread_mutex_unlock(&digest_cache_lock);
}

void
mu__digest_cache_drop(const mu__stat_key_t *key)
{
    pthread_mutex_lock(&digest_cache_lock);
    for (digest_slot_t *slot; (slot = digest_cache_find(key, 0)) != NULL;)
        slot->used = 0;
    pthread_mutex_unlock(&digest_cache_lock);
}
