/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_curve_side.h — the CURVE set-up of one libzmq socket and its binds and
    connects with it, shared by mu_socket, mu_pub, mu_sub and mu_proxy.
    Never installed. */
#ifndef MU_CURVE_SIDE_H_INCLUDED
#define MU_CURVE_SIDE_H_INCLUDED

#include "base/mu_internal.h"
#include "net/mu_zap.h"

/*  The CURVE choice of one libzmq socket (mu_socket, mu_pub, mu_sub, or
    one side of mu_proxy): keys for its binds (CURVE server checked against
    allow by libmutil's ZAP handler), keys for its connects (CURVE client of
    server_public), and the last endpoint bound. Zero-initialised: plaintext. */
typedef struct {
    mu_keys_t *srv_keys; /* binds: CURVE server with allow */
    mu_allow_t *allow;
    mu_keys_t *cli_keys; /* connects: CURVE client of server_public */
    uint8_t server_public[MU_KEY_BYTES];
    mu__zap_domain_t *zap; /* registered at the first CURVE bind */
    char endpoint[256];    /* the last bound, port filled in */
} mu__curve_side_t;

/*  Copies the keys and allow-list for later binds and connects (either pair
    may be NULL). Returns 0, MU_EINVAL (a keypair without its secret, half
    a pair, or after a CURVE bind) or MU_ENOMEM; recorded. */
int mu__curve_side_set(mu__curve_side_t *side, const mu_keys_t *server_keys,
                       const mu_allow_t *allow, const mu_keys_t *client_keys,
                       const uint8_t *server_public);
/*  CURVE from a shared secret: binds use its server keypair and allow its
    client key; connects use its client keypair. Returns 0, MU_EINVAL or
    MU_ENOMEM; recorded. */
int mu__curve_side_set_secret(mu__curve_side_t *side, const void *secret, size_t size);

/*  Frees the keys and unregisters the ZAP domain: after the socket is
    closed. */
void mu__curve_side_fini(mu__curve_side_t *side);

/*  CURVE handshakes refused on side's binds. */
uint64_t mu__curve_side_failures(const mu__curve_side_t *side);

/*  Binds handle (a libzmq socket) with side's security. Returns the tcp
    port, 0 for ipc, or MU_EADDRINUSE / MU_EINVAL / MU_ENOMEM (recorded). */
int mu__curve_bind(void *handle, mu__curve_side_t *side, const char *endpoint);

/*  Connects with side's security. Returns 0 or MU_EINVAL (recorded). */
int mu__curve_connect(void *handle, mu__curve_side_t *side, const char *endpoint);

#endif
