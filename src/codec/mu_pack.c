/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pack.c — MessagePack writer on msgpack-c's packer (see mu_pack.h). The
    bounded reader is mu_unpack.c. */
#include "base/mu_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>

/*  ---- writer ------------------------------------------------------------- */

struct mu_pack_t {
    msgpack_sbuffer buf;
    msgpack_packer pk;
    uint64_t owed; /* items announced by array/map headers, not yet written */
    int error;     /* first failure since the last reset (sticky) */
};

mu_pack_t *
mu_pack_new(void)
{
    mu_pack_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "mu_pack_new: out of memory");
    msgpack_sbuffer_init(&self->buf);
    msgpack_packer_init(&self->pk, &self->buf, msgpack_sbuffer_write);
    return self;
}

void
mu_pack_destroy(mu_pack_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgpack_sbuffer_destroy(&(*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

void
mu_pack_reset(mu_pack_t *self)
{
    if (!self)
        return;
    msgpack_sbuffer_clear(&self->buf);
    self->owed = 0;
    self->error = 0;
}

/*  Fails an append before anything was written; the error becomes sticky. */
static int
s_pack_fail(mu_pack_t *self, int rc)
{
    self->error = rc;
    return mu__fail(rc, "mu_pack: %s", mu_strerror(rc));
}

/*  Ends an append that started when the buffer held `before` bytes: on
    failure the partial bytes are dropped and the error becomes sticky; on
    success the value fills one announced slot and announces `items` more. */
static int
s_pack_end(mu_pack_t *self, int rc, size_t before, uint64_t items)
{
    if (rc != 0) {
        self->buf.size = before;
        return s_pack_fail(self, rc);
    }
    if (self->owed > 0)
        self->owed--;
    self->owed += items;
    return 0;
}

/*  Common start of an append; returns the sticky error, if any. */
static int
s_pack_check(mu_pack_t *self)
{
    assert(self);
    return self->error;
}

int
mu_pack_nil(mu_pack_t *self)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_nil(&self->pk) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, 0);
}

int
mu_pack_bool(mu_pack_t *self, bool value)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = (value ? msgpack_pack_true(&self->pk) : msgpack_pack_false(&self->pk)) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, 0);
}

int
mu_pack_int(mu_pack_t *self, int64_t value)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_int64(&self->pk, value) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, 0);
}

int
mu_pack_uint(mu_pack_t *self, uint64_t value)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_uint64(&self->pk, value) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, 0);
}

int
mu_pack_float(mu_pack_t *self, float value)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_float(&self->pk, value) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, 0);
}

int
mu_pack_double(mu_pack_t *self, double value)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_double(&self->pk, value) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, 0);
}

/*  Checks the arguments of a str/bin/ext append. */
static int
s_pack_bytes_check(mu_pack_t *self, const void *data, size_t len)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    if (!data && len > 0)
        return s_pack_fail(self, MU_EINVAL);
    if (len > UINT32_MAX)
        return s_pack_fail(self, MU_EMSGSIZE);
    return 0;
}

int
mu_pack_str(mu_pack_t *self, const char *str, size_t len)
{
    int rc = s_pack_bytes_check(self, str, len);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_str(&self->pk, len);
    if (rc == 0 && len > 0)
        rc = msgpack_pack_str_body(&self->pk, str, len);
    return s_pack_end(self, rc ? MU_ENOMEM : 0, before, 0);
}

int
mu_pack_cstr(mu_pack_t *self, const char *str)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    if (!str)
        return s_pack_fail(self, MU_EINVAL);
    return mu_pack_str(self, str, strlen(str));
}

int
mu_pack_bin(mu_pack_t *self, const void *data, size_t len)
{
    int rc = s_pack_bytes_check(self, data, len);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_bin(&self->pk, len);
    if (rc == 0 && len > 0)
        rc = msgpack_pack_bin_body(&self->pk, data, len);
    return s_pack_end(self, rc ? MU_ENOMEM : 0, before, 0);
}

int
mu_pack_ext(mu_pack_t *self, int8_t type, const void *data, size_t len)
{
    int rc = s_pack_bytes_check(self, data, len);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_ext(&self->pk, len, type);
    if (rc == 0 && len > 0)
        rc = msgpack_pack_ext_body(&self->pk, data, len);
    return s_pack_end(self, rc ? MU_ENOMEM : 0, before, 0);
}

int
mu_pack_array(mu_pack_t *self, uint32_t count)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_array(&self->pk, count) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, count);
}

int
mu_pack_map(mu_pack_t *self, uint32_t count)
{
    int rc = s_pack_check(self);
    if (rc)
        return rc;
    size_t before = self->buf.size;
    rc = msgpack_pack_map(&self->pk, count) ? MU_ENOMEM : 0;
    return s_pack_end(self, rc, before, 2 * (uint64_t) count);
}

const void *
mu_pack_data(const mu_pack_t *self, size_t *size_p)
{
    assert(self);
    if (size_p)
        *size_p = 0;
    if (self->error || self->owed > 0) {
        errno = self->error ? -self->error : EINVAL;
        return NULL;
    }
    if (size_p)
        *size_p = self->buf.size;
    return self->buf.data ? (const void *) self->buf.data : (const void *) "";
}
