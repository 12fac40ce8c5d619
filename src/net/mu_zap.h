/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_zap.h — private: the one ZAP handler of libmutil and CURVE socket
    set-up, used by mu_server, mu_socket and mu_flow. Never installed.

    Two kinds of instance share the decisions, the counts and the
    rate-limited log below: the process-wide handler on czmq's context
    (mu__zap_register: servers and sockets), and the handler of one private
    libzmq context (mu__zap_new_for: a flow runner, a forked process with
    contexts of its own, where czmq's context and the shared handler's
    thread are not its to use). A context's handler is a thread bound to
    that context's inproc://zeromq.zap.01; it serves only that context in
    the process that started it (mu__zap_serves: callers fail closed, never
    making a CURVE server socket without a live handler of its context,
    e.g. in a forked child), and it ends, closing its socket, when its
    context is terminated.

    libzmq asks one ZAP handler per context (inproc://zeromq.zap.01) to
    authenticate each incoming handshake. libmutil runs one such handler (a
    thread on czmq's shared context) while at least one domain is
    registered, and stops it when the last is unregistered. Each server
    socket gets its own ZAP domain ("mu-N"), so servers in one process may
    have different allow-lists. A process that also runs czmq's zauth on
    the same context conflicts with it: the second bind of the ZAP endpoint
    fails (mu__zap_register returns NULL with errno EADDRINUSE).

    Decisions: CURVE handshakes are accepted when the domain's allow-list
    contains the client key (User-Id = the key in Z85); NULL handshakes only
    on an insecure domain; everything else is refused with status 400,
    counted on the domain and logged with mu_log (mu_log.h) naming the peer
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
#include <stdbool.h>

typedef struct mu__zap_domain_t mu__zap_domain_t;
typedef struct mu__zap_t mu__zap_t;

/*  Registers a domain. allow (copied) is the CURVE allow-list; NULL makes
    an insecure domain that accepts NULL-mechanism peers only. Starts the
    handler on first use. Returns NULL with errno ENOMEM (no memory, no
    thread), EMFILE (libzmq refused one of the handler's sockets, recorded
    by net/mu_zsocket.h), EADDRINUSE (the ZAP endpoint is bound by another
    handler, e.g. czmq's zauth) or EIO. */
mu__zap_domain_t *mu__zap_register(const mu_allow_t *allow);

/*  Starts the ZAP handler of the private context zctx (not czmq's) in the
    calling process; label prefixes its log lines (e.g. the runner's
    identity). Lives as long as the context. Returns NULL with errno
    (EADDRINUSE: zctx has a handler already; ENOMEM, ...), logged. */
mu__zap_t *mu__zap_new_for(void *zctx, const char *label);

/*  Frees a context handler once its context has been terminated
    (zmq_ctx_term returned: its thread has let go of it) and its domains
    were unregistered; accepts NULL and *zap_p NULL. A process that never
    terminates the context (a flow runner) never calls it. */
void mu__zap_destroy(mu__zap_t **zap_p);

/*  True when zap is a context handler serving zctx in this process: its
    thread runs here (not in the parent of a fork) on that context. */
bool mu__zap_serves(const mu__zap_t *zap, void *zctx);

/*  Registers a domain on a context handler (as mu__zap_register on the
    shared one); mu__zap_unregister removes it. NULL with errno ENOMEM. */
mu__zap_domain_t *mu__zap_add_domain(mu__zap_t *zap, const mu_allow_t *allow);

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
