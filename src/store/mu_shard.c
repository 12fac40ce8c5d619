/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard.c — single-key calls of the store: set, get, delete, contains. */
#include "store/mu_shard_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/*  Binds and runs a PUT of an encoded value; the shard is locked. */
int
mu__shard_put_locked(shard_t *s, const mu_shard_elem_t *key, size_t k, int codec, size_t vlen,
                     const void *blob, size_t blen)
{
    sqlite3_stmt *st = s->st[ST_PUT];
    int rc = mu__shard_bind_key(st, key, k, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, (int) k + 1, codec);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, (int) k + 2, (sqlite3_int64) vlen);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, (int) k + 3, blen ? blob : "", (int) blen, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : mu__shard_step_fail(s, rc, "writing");
}

/*  Runs a keyed statement (DEL or HAS) and returns SQLite's result. */
int
mu__shard_keyed_step(shard_t *s, int which, const mu_shard_elem_t *key, size_t k)
{
    sqlite3_stmt *st = s->st[which];
    int rc = mu__shard_bind_key(st, key, k, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

/*  Checks key and locks the shard that holds it into *s_p. Returns 0 or
    MU_EINVAL (nothing locked). */
static int
lock_key_shard(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, shard_t **s_p)
{
    assert(self);
    int rc = mu__shard_check_key(self, key, n);
    if (rc != 0)
        return rc;
    *s_p = &self->shards[mu__shard_of(self, key)];
    pthread_mutex_lock(&(*s_p)->mu);
    return 0;
}

int
mu_shard_set(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, const void *value, size_t size)
{
    int rc = mu__shard_check_value(value, size);
    shard_t *s;
    if (rc == 0)
        rc = lock_key_shard(self, key, n, &s);
    if (rc != 0)
        return rc;
    int codec;
    const void *blob;
    size_t blen;
    rc = mu__shard_compress_value(self, &s->comp, value, size, &codec, &blob, &blen);
    if (rc == 0)
        rc = mu__shard_put_locked(s, key, n, codec, size, blob, blen);
    else
        mu__fail(rc, "compressing: out of memory");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/*  Where a get puts the value: the caller's buffer, or a new one. */
typedef struct {
    void *buf;
    size_t cap;
    bool alloc;
    void *out;
    size_t size;
} get_dest_t;

/*  Decodes the current GET row into d; the shard is locked. */
static int
get_row(const mu_shard_t *self, shard_t *s, const mu_shard_elem_t *key, get_dest_t *d)
{
    int codec;
    size_t vlen, slen;
    const void *src;
    const char *why = mu__shard_row_value(s->st[ST_GET], 0, &codec, &vlen, &src, &slen);
    if (why != NULL)
        return mu__shard_corrupt_value(self, s->index, key, why);
    d->size = vlen;
    if (!d->alloc && vlen > d->cap)
        return mu__fail(MU_EMSGSIZE, "value of %zu bytes does not fit a buffer of %zu", vlen,
                        d->cap);
    d->out = d->alloc ? malloc(vlen) : d->buf;
    if (d->out == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    why = mu__shard_decode_value(&s->dec, codec, src, slen, d->out, vlen);
    if (why == NULL)
        return 0;
    if (d->alloc)
        free(d->out);
    d->out = NULL;
    return mu__shard_corrupt_value(self, s->index, key, why);
}

static int
get_common(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, get_dest_t *d)
{
    shard_t *s;
    int rc = lock_key_shard(self, key, n, &s);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = s->st[ST_GET];
    rc = mu__shard_bind_key(st, key, n, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = get_row(self, s, key, d);
    else if (rc == SQLITE_DONE)
        rc = mu__fail(MU_ENOENT, "no such key");
    else
        rc = mu__shard_step_fail(s, rc, "reading");
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
mu_shard_get(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, void **value_p, size_t *size_p)
{
    assert(value_p && size_p);
    get_dest_t d = { .alloc = true };
    int rc = get_common(self, key, n, &d);
    *value_p = rc == 0 ? d.out : NULL;
    *size_p = rc == 0 ? d.size : 0;
    return rc;
}

int
mu_shard_get_buf(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, void *buf, size_t cap,
                 size_t *size_p)
{
    assert(size_p && (buf || cap == 0));
    get_dest_t d = { .buf = buf, .cap = cap };
    int rc = get_common(self, key, n, &d);
    *size_p = rc == 0 || rc == MU_EMSGSIZE ? d.size : 0;
    return rc;
}

/*  Runs the keyed statement ST_DEL or ST_HAS on the shard of key. Returns
    delete: 0 or MU_ENOENT; has: 1 or 0; or an error. */
static int
keyed_call(mu_shard_t *self, const mu_shard_elem_t *key, size_t n, int which)
{
    shard_t *s;
    int rc = lock_key_shard(self, key, n, &s);
    if (rc != 0)
        return rc;
    rc = mu__shard_keyed_step(s, which, key, n);
    if (which == ST_DEL && rc == SQLITE_DONE)
        rc = sqlite3_changes(s->db) > 0 ? 0 : mu__fail(MU_ENOENT, "no such key");
    else if (which == ST_HAS && (rc == SQLITE_ROW || rc == SQLITE_DONE))
        rc = rc == SQLITE_ROW;
    else
        rc = mu__shard_step_fail(s, rc, which == ST_DEL ? "deleting" : "reading");
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
mu_shard_delete(mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    return keyed_call(self, key, n, ST_DEL);
}

int
mu_shard_contains(mu_shard_t *self, const mu_shard_elem_t *key, size_t n)
{
    return keyed_call(self, key, n, ST_HAS);
}
