/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pubsub_int.h — what mu_pub.c, mu_sub.c and mu_proxy.c share:
    socket defaults, byte-string keyed maps, the message trailer (CURVE and
    bind/connect: net/mu_curve_side.h). Never installed. */
#ifndef MU_PUBSUB_INT_H_INCLUDED
#define MU_PUBSUB_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "net/mu_curve_side.h"
#include "net/mu_zsocket.h"
#include <czmq.h>
#include <endian.h>

/*  The trailer frame: session(8 LE) seq(8 LE) flags(1). */
#define MU__PS_TRAILER 17
#define MU__PS_FIRST 1  /* the topic's sequence (re)starts here */
#define MU__PS_REPLAY 2 /* a last-value cache replay */

/*  The largest frame an XPUB (mu_pub's, the proxy's downstream side)
    takes from a subscriber: a subscription to a prefix of at most
    MU_PUBSUB_MAX_TOPIC bytes, with room for its ZMTP command form. libzmq
    stores a prefix as a trie node per byte (some 40 bytes each), so a
    subscriber's frame of the default maximum (64 MiB) would cost the
    publisher gigabytes; a larger frame closes that subscriber's
    connection instead. */
#define MU__PS_MAX_SUBSCRIPTION 512

/*  A new libzmq socket of type (net/mu_zsocket.h) with libmutil's
    defaults (linger 200 ms, reconnect 100 ms doubling to 5 s, maximum
    message size), or NULL with the failure recorded for what (-EMFILE:
    too many sockets or files; MU_ENOMEM; MU_EIO) and errno set. */
void *mu__ps_socket(int type, const char *what);

/*  Sets an int socket option (a value libzmq accepts). */
void mu__ps_set_int(void *handle, int option, int value);

/*  Waits up to timeout_ms for handle to be readable. Returns 0, MU_EAGAIN
    (timeout 0), MU_ETIMEDOUT or MU_EINTR. */
int mu__ps_wait_readable(void *handle, int timeout_ms);

/*  The last libzmq error as a code: MU_EINTR for EINTR/ETERM, MU_EAGAIN,
    else -errno. */
int mu__ps_zmq_error(void);

/*  A byte-string key: up to 8 + MU_PUBSUB_MAX_TOPIC bytes (the stack
    buffer's size; a map takes longer keys made on the heap). */
#define MU__PS_KEY_MAX (8 + MU_PUBSUB_MAX_TOPIC)
typedef struct {
    size_t size;
    uint8_t bytes[];
} mu__ps_key_t;

/*  Room for any key on the stack: MU__PS_KEY_BUF(name) declares name, a
    mu__ps_key_t * to it. */
#define MU__PS_KEY_BUF(name)                                                            \
    _Alignas(max_align_t) uint8_t name##_space_[sizeof(mu__ps_key_t) + MU__PS_KEY_MAX]; \
    mu__ps_key_t *name = (mu__ps_key_t *) (void *) name##_space_

/*  Fills key with a (a_size bytes) then b (b_size bytes); the sizes fit. */
void mu__ps_key_set(mu__ps_key_t *key, const void *a, size_t a_size, const void *b, size_t b_size);

/*  A zhashx whose keys are mu__ps_key_t (copied by their size); items are
    freed with free() unless the caller sets another destructor. */
zhashx_t *mu__ps_map_new(void);

#endif
