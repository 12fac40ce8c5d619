/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_allow.c — allow-lists: the client public keys a CURVE server
    accepts, kept sorted for binary search. The contract is in
    include/mu_keys.h. */
#include "net/mu_keys_int.h"
#include <dirent.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct mu_allow_t {
    bool any;                      /* made by mu_allow_new_any */
    uint8_t (*keys)[MU_KEY_BYTES]; /* sorted by memcmp, no duplicates */
    size_t size, capacity;
};

static mu_allow_t *
allow_alloc(bool any)
{
    mu_allow_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return mu__fail_null(MU_ENOMEM, "allow-list");
    self->any = any;
    return self;
}

mu_allow_t *
mu_allow_new(void)
{
    return allow_alloc(false);
}

mu_allow_t *
mu_allow_new_any(void)
{
    return allow_alloc(true);
}

/*  Index of the first key >= key in the sorted array. */
static size_t
allow_lower_bound(const mu_allow_t *self, const uint8_t *key)
{
    size_t lo = 0, hi = self->size;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(self->keys[mid], key, MU_KEY_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
mu_allow_add(mu_allow_t *self, const uint8_t *public_key)
{
    assert(self && public_key);
    size_t at = allow_lower_bound(self, public_key);
    if (at < self->size && memcmp(self->keys[at], public_key, MU_KEY_BYTES) == 0)
        return 0;
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        void *keys = realloc(self->keys, capacity * MU_KEY_BYTES);
        if (keys == NULL)
            return mu__fail(MU_ENOMEM, "allow-list of %zu keys", capacity);
        self->keys = keys;
        self->capacity = capacity;
    }
    memmove(self->keys[at + 1], self->keys[at], (self->size - at) * MU_KEY_BYTES);
    memcpy(self->keys[at], public_key, MU_KEY_BYTES);
    self->size++;
    return 0;
}

int
mu_allow_load_dir(mu_allow_t *self, const char *dir, int *skipped_p)
{
    assert(self && dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return mu__fail(-errno, "allow-list directory '%s'", dir);
    int added = 0, skipped = 0, rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (name[0] == '.' || mu__cert_is_secret_name(name))
            continue; /* hidden (our temporaries) or secret */
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        if (n < 0 || (size_t) n >= sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue; /* gone, dangling link, directory... */
        mu__cert_t cert;
        int lrc = mu__cert_load(path, false, &cert);
        if (lrc == MU_ENOMEM)
            rc = MU_ENOMEM;
        else if (lrc != 0)
            skipped++;
        else if ((rc = mu_allow_add(self, cert.public_key)) == 0)
            added++;
        sodium_memzero(&cert, sizeof cert);
    }
    closedir(d);
    if (skipped_p)
        *skipped_p = skipped;
    return rc != 0 ? mu__fail(rc, "loading the certs of '%s'", dir) : added;
}

int
mu_allow_contains(const mu_allow_t *self, const uint8_t *public_key)
{
    assert(self && public_key);
    if (self->any)
        return 1;
    size_t at = allow_lower_bound(self, public_key);
    return at < self->size && memcmp(self->keys[at], public_key, MU_KEY_BYTES) == 0;
}

int
mu_allow_is_any(const mu_allow_t *self)
{
    assert(self);
    return self->any;
}

size_t
mu_allow_size(const mu_allow_t *self)
{
    assert(self);
    return self->size;
}

mu_allow_t *
mu_allow_dup(const mu_allow_t *self)
{
    assert(self);
    mu_allow_t *copy = allow_alloc(self->any);
    if (copy && self->size > 0) {
        copy->keys = malloc(self->size * MU_KEY_BYTES);
        if (copy->keys == NULL) {
            free(copy);
            return mu__fail_null(MU_ENOMEM, "allow-list of %zu keys", self->size);
        }
        memcpy(copy->keys, self->keys, self->size * MU_KEY_BYTES);
        copy->size = copy->capacity = self->size;
    }
    return copy;
}

void
mu_allow_destroy(mu_allow_t **self_p)
{
    if (self_p && *self_p) {
        free((*self_p)->keys);
        free(*self_p);
        *self_p = NULL;
    }
}
