/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard_batch.c — batches: sets and deletes committed with one
    transaction per shard touched. */
#include "store/mu_shard_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- batches ---------------------------------------------------------------------------- */

/*  One operation: a block holding this header, the key elements, their
    bytes and the encoded value. */
typedef struct {
    size_t shard;
    bool del;
    int codec;
    size_t vlen, blen;
    mu_shard_elem_t *key;
    unsigned char *blob;
} batch_op_t;

struct mu_shard_batch_t {
    mu_shard_t *store;
    batch_op_t **ops;
    size_t n, cap;
    compressor_t comp;
};

mu_shard_batch_t *
mu_shard_batch_new(mu_shard_t *store)
{
    assert(store);
    mu_shard_batch_t *self = calloc(1, sizeof *self);
    if (self == NULL || mu__shard_comp_init(&self->comp, store) != 0) {
        if (self)
            mu__shard_comp_fini(&self->comp);
        free(self);
        return mu__fail_null(MU_ENOMEM, "mu_shard_batch_new: out of memory");
    }
    self->store = store;
    return self;
}

static void
batch_empty(mu_shard_batch_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        free(self->ops[i]);
    self->n = 0;
}

void
mu_shard_batch_destroy(mu_shard_batch_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    mu_shard_batch_t *self = *self_p;
    batch_empty(self);
    free(self->ops);
    mu__shard_comp_fini(&self->comp);
    free(self);
    *self_p = NULL;
}

size_t
mu_shard_batch_size(const mu_shard_batch_t *self)
{
    return self ? self->n : 0;
}

/*  Copies key and encoded value into a new op block. */
static batch_op_t *
op_new(const mu_shard_t *store, const mu_shard_elem_t *key, const void *blob, size_t blen)
{
    size_t k = store->meta.k, bytes = 0;
    for (size_t j = 0; j < k; j++)
        bytes += key[j].len;
    batch_op_t *op = malloc(sizeof *op + k * sizeof *op->key + bytes + blen);
    if (op == NULL)
        return NULL;
    op->key = (mu_shard_elem_t *) (op + 1);
    unsigned char *p = (unsigned char *) (op->key + k);
    for (size_t j = 0; j < k; j++) {
        op->key[j] = key[j];
        if (key[j].len > 0) {
            memcpy(p, key[j].ptr, key[j].len);
            op->key[j].ptr = p;
            p += key[j].len;
        }
    }
    op->blob = p;
    if (blen > 0)
        memcpy(p, blob, blen);
    op->blen = blen;
    op->shard = mu__shard_of(store, key);
    return op;
}

static int
batch_push(mu_shard_batch_t *self, batch_op_t *op)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        batch_op_t **grown = realloc(self->ops, cap * sizeof *grown);
        if (grown == NULL) {
            free(op);
            return mu__fail(MU_ENOMEM, "out of memory");
        }
        self->ops = grown;
        self->cap = cap;
    }
    self->ops[self->n++] = op;
    return 0;
}

int
mu_shard_batch_set(mu_shard_batch_t *self, const mu_shard_elem_t *key, size_t n, const void *value,
                   size_t size)
{
    assert(self);
    int rc = mu__shard_check_key(self->store, key, n);
    if (rc == 0)
        rc = mu__shard_check_value(value, size);
    int codec = 0;
    const void *blob = NULL;
    size_t blen = 0;
    if (rc == 0
        && mu__shard_compress_value(self->store, &self->comp, value, size, &codec, &blob, &blen)
               != 0)
        rc = mu__fail(MU_ENOMEM, "out of memory");
    if (rc != 0)
        return rc;
    batch_op_t *op = op_new(self->store, key, blob, blen);
    if (op == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    op->del = false;
    op->codec = codec;
    op->vlen = size;
    return batch_push(self, op);
}

int
mu_shard_batch_delete(mu_shard_batch_t *self, const mu_shard_elem_t *key, size_t n)
{
    assert(self);
    int rc = mu__shard_check_key(self->store, key, n);
    if (rc != 0)
        return rc;
    batch_op_t *op = op_new(self->store, key, NULL, 0);
    if (op == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    op->del = true;
    op->codec = 0;
    op->vlen = 0;
    return batch_push(self, op);
}

/*  Runs a control statement (BEGIN, COMMIT, ROLLBACK). */
static int
control(shard_t *s, int which)
{
    int rc = sqlite3_step(s->st[which]);
    sqlite3_reset(s->st[which]);
    return rc == SQLITE_DONE
               ? 0
               : mu__shard_step_fail(s, rc,
                                     which == ST_BEGIN ? "beginning a transaction" : "committing");
}

/*  Applies ops[order[from..to)] to shard s in one transaction. */
static int
commit_shard(mu_shard_batch_t *self, shard_t *s, const size_t *order, size_t from, size_t to)
{
    size_t k = self->store->meta.k;
    pthread_mutex_lock(&s->mu);
    int rc = control(s, ST_BEGIN);
    for (size_t i = from; i < to && rc == 0; i++) {
        const batch_op_t *op = self->ops[order[i]];
        if (op->del) {
            int r = mu__shard_keyed_step(s, ST_DEL, op->key, k);
            rc = r == SQLITE_DONE ? 0 : mu__shard_step_fail(s, r, "deleting");
        } else {
            rc = mu__shard_put_locked(s, op->key, k, op->codec, op->vlen, op->blob, op->blen);
        }
    }
    if (rc == 0)
        rc = control(s, ST_COMMIT);
    if (rc != 0 && !sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->st[ST_ROLLBACK]);
        sqlite3_reset(s->st[ST_ROLLBACK]);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/*  Orders op indices by shard, stable (counting sort); starts[] gets the
    first position of each shard (nshards + 1 entries). */
static void
order_ops(const mu_shard_batch_t *self, size_t *order, size_t *starts)
{
    size_t ns = self->store->meta.shards;
    memset(starts, 0, (ns + 1) * sizeof *starts);
    for (size_t i = 0; i < self->n; i++)
        starts[self->ops[i]->shard + 1]++;
    for (size_t s = 0; s < ns; s++)
        starts[s + 1] += starts[s];
    size_t *fill = starts + ns + 1; /* scratch after starts */
    memcpy(fill, starts, ns * sizeof *fill);
    for (size_t i = 0; i < self->n; i++)
        order[fill[self->ops[i]->shard]++] = i;
}

int
mu_shard_batch_commit(mu_shard_batch_t *self)
{
    assert(self);
    if (self->n == 0)
        return 0;
    size_t ns = self->store->meta.shards;
    size_t *order = malloc((self->n + 2 * ns + 1) * sizeof *order);
    if (order == NULL) {
        batch_empty(self);
        return mu__fail(MU_ENOMEM, "out of memory");
    }
    size_t *starts = order + self->n;
    order_ops(self, order, starts);
    int rc = 0;
    for (size_t s = 0; s < ns && rc == 0; s++)
        if (starts[s + 1] > starts[s])
            rc = commit_shard(self, &self->store->shards[s], order, starts[s], starts[s + 1]);
    free(order);
    batch_empty(self);
    return rc;
}
