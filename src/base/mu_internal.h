/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_internal.h — private declarations shared by the library's sources.
    Never installed. */
#ifndef MU_INTERNAL_H_INCLUDED
#define MU_INTERNAL_H_INCLUDED

#include "config.h"
#include "mutil.h"
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*  Records a failure for the calling thread (mu_last_code, mu_last_error):
    code, and a detail formatted from fmt (NULL: none), and returns code, so
    that `return mu__fail(MU_ENOENT, "key file '%s'", path);` reports it.
    Use it where a caller would want to know which file, key or peer. */
int mu__fail(int code, const char *fmt, ...) MU_PRINTF(2, 3);
int mu__vfail(int code, const char *fmt, va_list ap);

/*  The detail part of the calling thread's last failure (mu_last_error
    without the leading "message: "), "" when it has none. */
const char *mu__last_detail(void);

/*  How many failures the calling thread has recorded: compare two values
    to tell whether a callback recorded one. */
unsigned long mu__fail_count(void);

/*  The detail the calling thread recorded with code since mu__fail_count()
    was fails (what a callback that returned code said), or NULL. Valid
    until the thread's next failure. */
const char *mu__detail_since(unsigned long fails, int code);

/*  The code of a wait that expired: MU_EAGAIN when timeout_ms is 0 (it
    would have blocked), MU_ETIMEDOUT when it waited. */
static inline int
mu__expired(int timeout_ms)
{
    return timeout_ms == 0 ? MU_EAGAIN : MU_ETIMEDOUT;
}

/*  A constructor's failure: records like mu__fail, sets errno to
    mu_error_errno(code) and returns NULL. */
void *mu__fail_null(int code, const char *fmt, ...) MU_PRINTF(2, 3);

/*  The one stats shape (mu_X_stats): fills a stats struct whose first field is its size_t size (set by the
    caller) from all (all_size bytes, the library's full version): the
    fields that fit in size. Returns 0, or MU_EINVAL when size is below
    first_size (the struct's first published version). */
int mu__stats_fill(void *stats, const void *all, size_t all_size, size_t first_size);

/*  Milliseconds on a monotonic clock. */
int64_t mu__now_ms(void);

/*  Remaining milliseconds until deadline (-1 = no deadline → -1). */
int mu__remaining_ms(int64_t deadline_ms);

/*  Deadline for a timeout in ms (-1 = none → -1). */
int64_t mu__deadline_ms(int timeout_ms);

/*  Checks a tcp:// or ipc:// endpoint before it reaches libzmq, which
    accepts a tcp:// port past 65535 and binds it wrapped: for
    tcp://HOST:PORT, HOST must be non-empty and PORT decimal 1..65535, or
    also 0 or "*" when binding (an ephemeral port); ipc:// needs a path.
    Returns 0 or MU_EINVAL (NULL, another transport, a bad port), recorded
    with the endpoint (mu__fail). */
int mu__endpoint_check(const char *endpoint, bool binding);

#include "base/mu_fs.h" /* mu__ignore_sigxfsz and the file helpers */

/*  Little-endian integers in byte buffers (wire formats): one load or
    store each (memcpy: any alignment). */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MU__LE32(v) __builtin_bswap32(v)
#define MU__LE64(v) __builtin_bswap64(v)
#else
#define MU__LE32(v) (v)
#define MU__LE64(v) (v)
#endif

static inline void
mu__put_le32(uint8_t *p, uint32_t v)
{
    v = MU__LE32(v);
    memcpy(p, &v, sizeof v);
}

static inline void
mu__put_le64(uint8_t *p, uint64_t v)
{
    v = MU__LE64(v);
    memcpy(p, &v, sizeof v);
}

static inline uint32_t
mu__get_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return MU__LE32(v);
}

static inline uint64_t
mu__get_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return MU__LE64(v);
}

/*  Grows a malloc'd buffer of *cap_p bytes (0: none yet, data NULL) so that
    it holds need bytes (need > *cap_p): to *cap_p doubled (initial when 0)
    as often as needed, or to need itself where doubling would pass
    PTRDIFF_MAX. Returns the buffer, which may have moved, with *cap_p
    updated; NULL when out of memory (data and *cap_p unchanged). */
static inline void *
mu__grow(void *data, size_t *cap_p, size_t initial, size_t need)
{
    assert(need > *cap_p && initial > 0);
    size_t cap = *cap_p ? *cap_p : initial;
    while (cap < need)
        cap = cap > (size_t) PTRDIFF_MAX / 2 ? need : 2 * cap;
    void *grown = realloc(data, cap);
    if (grown)
        *cap_p = cap;
    return grown;
}

#endif
