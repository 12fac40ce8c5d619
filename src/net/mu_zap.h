/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_zap.h — private: the process-wide ZAP handler and CURVE socket set-up
    shared by mu_server, mu_socket and mu_flow. Never installed.

    libzmq asks one ZAP handler per context (inproc://zeromq.zap.01) to
    authenticate each incoming handshake. libmutil runs one such handler (a
    zactor on czmq's shared context) while at least one domain is
    registered, and stops it when the last is unregistered. Each server
    socket gets its own ZAP domain ("mu-N"), so servers in one process may
    have different allow-lists. A process that also runs czmq's zauth on
    the same context conflicts with it: the second bind of the ZAP endpoint
    fails (mu__zap_register returns NULL with errno EADDRINUSE).

    Decisions: CURVE handshakes are accepted when the domain's allow-list
    contains the client key (User-Id = the key in Z85); NULL handshakes only
    on an insecure domain; everything else is refused with status 400,
    counted on the domain and logged with zsys_warning naming the peer
    address, the key and the domain. The log is rate-limited: at most one
    refusal line per domain per second; the refusals not logged are
    counted and reported in a line "N more refused handshakes on ZAP domain
    'mu-N' not logged" before the domain's next logged refusal, once its
    second is over while the handler runs, or when the domain is
    unregistered. mu__zap_failures counts every refusal.

    Order of teardown: close every socket of a domain BEFORE unregistering
    it. While the handler runs, a socket whose domain is gone is refused
    (unknown domain); but once the last domain is unregistered the handler
    stops, and libzmq 4.3.4 with no ZAP handler accepts EVERY CURVE client
    key (ZMQ_ZAP_ENFORCE_DOMAIN is draft API) — checked by experiment.
    At exit the handler is stopped by an atexit hook that runs before
    czmq's zsys_shutdown, so a program that exits with servers still open
    does not leave zsys_shutdown a socket in use by the handler thread.
    The handler is a thread: a child forked while it runs has none, and
    must not use these functions (fork before touching ZeroMQ). */
#ifndef MU_ZAP_H_INCLUDED
#define MU_ZAP_H_INCLUDED

#include "base/mu_internal.h"

typedef struct mu__zap_domain_t mu__zap_domain_t;

/*  Registers a domain. allow (copied) is the CURVE allow-list; NULL makes
    an insecure domain that accepts NULL-mechanism peers only. Starts the
    handler on first use. Returns NULL with errno ENOMEM or EADDRINUSE. */
mu__zap_domain_t *mu__zap_register(const mu_allow_t *allow);

/*  The domain's name, to set as ZMQ_ZAP_DOMAIN. */
const char *mu__zap_domain_name(const mu__zap_domain_t *domain);

/*  Handshakes refused on this domain so far (atomic read). */
uint64_t mu__zap_failures(const mu__zap_domain_t *domain);

/*  Unregisters (the handler stops with the last domain); accepts NULL. */
void mu__zap_unregister(mu__zap_domain_t **domain_p);

/*  Makes a libzmq socket (void *, not zsock_t) a CURVE server with keys
    (secret required) in domain, or, when keys is NULL, a NULL-mechanism
    socket in domain (so ZAP still sees and counts it). Before bind.
    Returns 0 or MU_EINVAL. */
int mu__zap_setup_server(void *socket, const mu_keys_t *keys, const mu__zap_domain_t *domain);

/*  Makes a libzmq socket a CURVE client of server_public with its own
    keys (secret required). Before connect. Returns 0 or MU_EINVAL. */
int mu__zap_setup_client(void *socket, const mu_keys_t *keys, const uint8_t *server_public);

#endif
