/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_shard_query.c — all-shard queries (len, count_range, prune, clear,
    check) on the fan-out pool, and walks (iterate, range). */
#include "store/mu_shard_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- all-shard queries ----------------------------------------------------------------- */

static void
job_count(mu_shard_t *self, size_t i, void *arg)
{
    job_t *job = arg;
    shard_t *s = &self->shards[i];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->st[ST_COUNT];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        job->counts[i] = (uint64_t) sqlite3_column_int64(st, 0);
    else
        mu__shard_job_fail(job, mu__shard_step_fail(s, rc, "counting"));
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
}

int
mu_shard_len_each(mu_shard_t *self, uint64_t *counts, size_t n)
{
    assert(self && counts);
    if (n != self->meta.shards)
        return mu__fail(MU_EINVAL, "counts has %zu entries, the store %zu shards", n,
                        self->meta.shards);
    job_t job = { .counts = counts };
    return mu__shard_run_job(self, job_count, &job);
}

int
mu_shard_len(mu_shard_t *self, uint64_t *len_p)
{
    assert(self && len_p);
    uint64_t *counts = calloc(self->meta.shards, sizeof *counts);
    if (counts == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    int rc = mu_shard_len_each(self, counts, self->meta.shards);
    uint64_t total = 0;
    for (size_t i = 0; i < self->meta.shards; i++)
        total += counts[i];
    free(counts);
    *len_p = rc == 0 ? total : 0;
    return rc;
}

/*  Checks range arguments. */
static int
check_range(const mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo,
            const mu_shard_elem_t *hi)
{
    assert(self);
    if (elem >= self->meta.k)
        return mu__fail(MU_EINVAL, "element %zu does not exist: keys have %zu", elem, self->meta.k);
    int rc = lo ? mu__shard_check_elem(lo, self->meta.types[elem], elem) : 0;
    return rc == 0 && hi ? mu__shard_check_elem(hi, self->meta.types[elem], elem) : rc;
}

/*  "<head> FROM entries WHERE kE >= ?1 AND kE <= ?2" (present bounds only). */
static void
sql_range(const mu_shard_t *self, const char *head, size_t elem, const mu_shard_elem_t *lo,
          const mu_shard_elem_t *hi, char *buf, size_t cap)
{
    size_t o = 0;
    mu__shard_put_text(buf, cap, &o, "%s", head);
    if (strncmp(head, "SELECT k0", 9) == 0) {
        o = 0;
        mu__shard_put_text(buf, cap, &o, "SELECT ");
        mu__shard_sql_columns(self, buf, cap, &o);
        mu__shard_put_text(buf, cap, &o, ", codec, vlen, value");
    }
    mu__shard_put_text(buf, cap, &o, " FROM entries");
    if (lo)
        mu__shard_put_text(buf, cap, &o, " WHERE k%zu >= ?1", elem);
    if (hi)
        mu__shard_put_text(buf, cap, &o, " %s k%zu <= ?2", lo ? "AND" : "WHERE", elem);
}

/*  Prepares a range statement on shard s and binds the bounds. */
static int
prepare_range(shard_t *s, const char *sql, const mu_shard_elem_t *lo, const mu_shard_elem_t *hi,
              sqlite3_stmt **st_p)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st_p, NULL);
    if (rc == SQLITE_OK && lo)
        rc = mu__shard_bind_key(*st_p, lo, 1, 1);
    if (rc == SQLITE_OK && hi)
        rc = mu__shard_bind_key(*st_p, hi, 1, 2);
    return rc == SQLITE_OK ? 0 : mu__shard_step_fail(s, rc, "preparing a range query");
}

/*  Rows changed by the last statement. */
static uint64_t
changes(sqlite3 *db)
{
#if SQLITE_VERSION_NUMBER >= 3037000
    return (uint64_t) sqlite3_changes64(db);
#else
    return (uint64_t) sqlite3_changes(db);
#endif
}

/*  Counts (count_range) or deletes (prune) a range on one shard. */
static void
job_range(mu_shard_t *self, size_t i, void *arg, bool del)
{
    job_t *job = arg;
    shard_t *s = &self->shards[i];
    char sql[SQL_MAX];
    sql_range(self, del ? "DELETE" : "SELECT count(*)", job->elem, job->lo, job->hi, sql,
              sizeof sql);
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = prepare_range(s, sql, job->lo, job->hi, &st);
    if (rc == 0) {
        int r = sqlite3_step(st);
        if (r == (del ? SQLITE_DONE : SQLITE_ROW))
            job->counts[i] = del ? changes(s->db) : (uint64_t) sqlite3_column_int64(st, 0);
        else
            rc = mu__shard_step_fail(s, r, del ? "pruning" : "counting");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        mu__shard_job_fail(job, rc);
}

static void
job_count_range(mu_shard_t *self, size_t i, void *arg)
{
    job_range(self, i, arg, false);
}

static void
job_prune(mu_shard_t *self, size_t i, void *arg)
{
    job_range(self, i, arg, true);
}

static int
range_job(mu_shard_t *self, job_fn *fn, size_t elem, const mu_shard_elem_t *lo,
          const mu_shard_elem_t *hi, uint64_t *count_p)
{
    int rc = check_range(self, elem, lo, hi);
    if (rc != 0)
        return rc;
    uint64_t *counts = calloc(self->meta.shards, sizeof *counts);
    if (counts == NULL)
        return mu__fail(MU_ENOMEM, "out of memory");
    job_t job = { .counts = counts, .elem = elem, .lo = lo, .hi = hi };
    rc = mu__shard_run_job(self, fn, &job);
    uint64_t total = 0;
    for (size_t i = 0; i < self->meta.shards; i++)
        total += counts[i];
    free(counts);
    if (count_p)
        *count_p = total;
    return rc;
}

int
mu_shard_count_range(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo,
                     const mu_shard_elem_t *hi, uint64_t *count_p)
{
    assert(count_p);
    return range_job(self, job_count_range, elem, lo, hi, count_p);
}

int
mu_shard_prune(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo, const mu_shard_elem_t *hi,
               uint64_t *count_p)
{
    return range_job(self, job_prune, elem, lo, hi, count_p);
}

int
mu_shard_clear(mu_shard_t *self)
{
    assert(self);
    return range_job(self, job_prune, 0, NULL, NULL, NULL);
}

static void
job_check(mu_shard_t *self, size_t i, void *arg)
{
    job_t *job = arg;
    shard_t *s = &self->shards[i];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    const char *first = rc == SQLITE_ROW ? (const char *) sqlite3_column_text(st, 0) : NULL;
    if (rc != SQLITE_ROW)
        mu__shard_job_fail(job, mu__shard_step_fail(s, rc, "integrity_check"));
    else if (first == NULL || strcmp(first, "ok") != 0)
        mu__shard_job_fail(job, mu__fail(MU_ECORRUPT, "%s: shard %zu fails integrity_check: %s",
                                         self->dir, i, first ? first : "?"));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
}

int
mu_shard_check(mu_shard_t *self)
{
    assert(self);
    job_t job = { 0 };
    return mu__shard_run_job(self, job_check, &job);
}

/* ---- walks ------------------------------------------------------------------------------------ */

/*  Decodes the current row of a walk into s->vbuf and calls fn. */
static int
visit_row(mu_shard_t *self, shard_t *s, sqlite3_stmt *st, mu_shard_visit_fn *fn, void *arg)
{
    mu_shard_elem_t key[MU_SHARD_MAX_K];
    size_t k = self->meta.k;
    if (!mu__shard_read_key(self, st, key))
        return mu__fail(MU_ECORRUPT,
                        "%s: shard %zu holds a key whose columns have other types than "
                        "declared",
                        self->dir, s->index);
    int codec;
    size_t vlen, slen;
    const void *src;
    const char *why = mu__shard_row_value(st, (int) k, &codec, &vlen, &src, &slen);
    if (why == NULL && vlen > s->vcap) {
        unsigned char *b = realloc(s->vbuf, vlen);
        if (b == NULL)
            return mu__fail(MU_ENOMEM, "out of memory");
        s->vbuf = b;
        s->vcap = vlen;
    }
    if (why == NULL)
        why = mu__shard_decode_value(&s->dec, codec, src, slen, s->vbuf, vlen);
    if (why != NULL)
        return mu__shard_corrupt_value(self, s->index, key, why);
    return fn(arg, key, s->vbuf, vlen);
}

/*  Walks one shard with the given SQL. */
static int
walk_shard(mu_shard_t *self, size_t i, const char *sql, const mu_shard_elem_t *lo,
           const mu_shard_elem_t *hi, mu_shard_visit_fn *fn, void *arg)
{
    shard_t *s = &self->shards[i];
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = prepare_range(s, sql, lo, hi, &st);
    int r = SQLITE_ROW;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = visit_row(self, s, st, fn, arg);
    if (rc == 0 && r != SQLITE_DONE)
        rc = mu__shard_step_fail(s, r, "walking");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
mu_shard_range(mu_shard_t *self, size_t elem, const mu_shard_elem_t *lo, const mu_shard_elem_t *hi,
               mu_shard_visit_fn *fn, void *arg)
{
    int rc = check_range(self, elem, lo, hi);
    assert(fn);
    if (rc != 0)
        return rc;
    char sql[SQL_MAX];
    sql_range(self, "SELECT k0", elem, lo, hi, sql, sizeof sql);
    size_t o = strlen(sql);
    mu__shard_put_text(sql, sizeof sql, &o, " ORDER BY k%zu, ", elem);
    mu__shard_sql_columns(self, sql, sizeof sql, &o);
    for (size_t i = 0; i < self->meta.shards && rc == 0; i++)
        rc = walk_shard(self, i, sql, lo, hi, fn, arg);
    return rc;
}

int
mu_shard_iterate(mu_shard_t *self, mu_shard_visit_fn *fn, void *arg)
{
    assert(self && fn);
    return mu_shard_range(self, 0, NULL, NULL, fn, arg);
}
