/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_zap.c — the process-wide ZAP handler (ZAP 1.0, RFC 27) and CURVE
    socket set-up. The contract is in src/net/mu_zap.h.

    Locking (the shared handler): `lifecycle` serializes register/unregister, so the handler is
    started and stopped by one thread at a time and never while another
    thread is between deciding to stop it and doing so. `registry` guards the
    list of domains; the handler thread takes only `registry`, for the time
    of one decision, so stopping the handler (which waits for its thread)
    under `lifecycle` cannot deadlock with it. A domain is freed only after
    it left the list under `registry`, so the handler never sees a freed
    one. */
#include "net/mu_zap.h"
#include "net/mu_zsocket.h"
#include "mu_text.h"
#include "base/mu_log_limit.h"
#include "mu_log.h"
#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_VERSION "1.0"
#define ZAP_NAME_MAX 24

struct mu__zap_domain_t {
    char name[ZAP_NAME_MAX]; /* "mu-N" */
    mu_allow_t *allow;       /* NULL: insecure (NULL mechanism only) */
    atomic_uint_least64_t failures;
    mu__log_limit_t log; /* its refusal lines (under registry) */
    mu__zap_t *zap;      /* the handler it is registered with */
    mu__zap_domain_t *next;
};

/*  One ZAP handler: the shared one (a thread on czmq's context) or the
    handler of one private context (a plain thread). */
struct mu__zap_t {
    pthread_mutex_t registry;
    mu__zap_domain_t *domains; /* under registry */
    mu__log_limit_t stray_log; /* requests of no known domain; under registry */
    bool summaries_due;        /* handler thread only: some refusals not logged */
    char label[96];            /* prefix of its log lines */
    void *zctx;                /* a context's handler: the context */
    pid_t pid;                 /* ... and the process its thread runs in */
    void *rep;                 /* ... and its socket (handler thread only) */
};

static pthread_mutex_t lifecycle = PTHREAD_MUTEX_INITIALIZER;
static mu__zap_t shared = { .registry = PTHREAD_MUTEX_INITIALIZER, .label = "mutil" };
/*  The shared handler's thread and sockets (net/mu_zsocket.h), made and
    closed by the thread that starts or stops it; the thread uses them in
    between. */
typedef struct {
    pthread_t thread;
    void *stop;      /* PAIR: a message here stops the thread */
    void *stop_peer; /* PAIR: the thread's end */
    void *rep;       /* REP at ZAP_ENDPOINT */
} shared_thread_t;

static shared_thread_t *handler; /* under lifecycle */
static atomic_uint_least64_t next_domain_id;

/* ---- the handler ----------------------------------------------------------- */

/*  One ZAP decision. */
typedef struct {
    const char *status;        /* "200" or "400" */
    const char *text;          /* status text */
    char user_id[MU_KEY_TEXT]; /* Z85 client key, or "" */
} verdict_t;

static mu__zap_domain_t *
find_domain(mu__zap_t *z, const char *name)
{
    for (mu__zap_domain_t *d = z->domains; d; d = d->next)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

/*  Decides on one request; counts a refusal on its domain, which it
    returns (NULL when unknown). Runs under registry. key is the 32-byte
    CURVE client key or NULL. */
static mu__zap_domain_t *
decide(mu__zap_t *z, const char *domain_name, const char *mechanism, const uint8_t *key,
       verdict_t *v)
{
    mu__zap_domain_t *domain = find_domain(z, domain_name);
    v->status = "400";
    v->user_id[0] = '\0';
    if (domain == NULL) {
        v->text = "unknown domain";
        return NULL;
    }
    if (domain->allow == NULL) {
        if (strcmp(mechanism, "NULL") == 0) {
            v->status = "200";
            v->text = "OK";
        } else {
            v->text = "insecure domain accepts the NULL mechanism only";
        }
    } else if (strcmp(mechanism, "CURVE") != 0) {
        v->text = "CURVE required";
    } else if (key == NULL) {
        v->text = "malformed CURVE credentials";
    } else if (!mu_allow_contains(domain->allow, key)) {
        v->text = "client key not allowed";
    } else {
        v->status = "200";
        v->text = "OK";
        mu_key_to_txt(key, v->user_id);
    }
    if (strcmp(v->status, "200") != 0)
        atomic_fetch_add(&domain->failures, 1);
    return domain;
}

/* ---- the refusal log, rate-limited ------------------------------------------------ */

/*  Logs how many refusals of a domain (name NULL: of no known domain) were
    not logged. */
static void
log_suppressed(const mu__zap_t *z, const char *name, uint64_t count)
{
    if (count > 0)
        mu_log(MU_LOG_WARNING, "net",
               "%s: %" PRIu64 " more refused handshakes on %s%s%s not logged"
               " (at most one line per second)",
               z->label, count, name ? "ZAP domain '" : "", name ? name : "no known ZAP domain",
               name ? "'" : "");
}

/*  Logs the count of a limit whose interval is over (under registry).
    Returns true when refusals are still waiting for their interval to end. */
static bool
flush_limit(const mu__zap_t *z, mu__log_limit_t *limit, const char *name, int64_t now)
{
    bool waiting;
    log_suppressed(z, name, mu__log_limit_due(limit, now, &waiting));
    return waiting;
}

/*  Logs the counts of refusals not logged whose interval is over. */
static void
flush_summaries(mu__zap_t *z)
{
    int64_t now = zclock_mono();
    pthread_mutex_lock(&z->registry);
    bool due = flush_limit(z, &z->stray_log, NULL, now);
    for (mu__zap_domain_t *d = z->domains; d; d = d->next)
        due = flush_limit(z, &d->log, d->name, now) || due;
    pthread_mutex_unlock(&z->registry);
    z->summaries_due = due;
}

/*  Copies frame's text into buf (cap bytes) escaped (mu_escape: peer
    bytes go into a log line), cut and NUL-terminated; "" for a missing
    frame. */
static void
frame_text(zframe_t *frame, char *buf, size_t cap)
{
    mu_escape(buf, cap, frame ? zframe_data(frame) : NULL, frame ? zframe_size(frame) : 0);
}

/*  Sends the ZAP reply: version, request id (echoed byte for byte, empty
    when missing), status code and text, user id, no metadata. */
static void
send_reply(void *rep, zframe_t *id, const verdict_t *v)
{
    zmsg_t *reply = zmsg_new();
    if (reply == NULL)
        return;
    zmsg_addstr(reply, ZAP_VERSION);
    zmsg_addmem(reply, id ? zframe_data(id) : NULL, id ? zframe_size(id) : 0);
    zmsg_addstr(reply, v->status);
    zmsg_addstr(reply, v->text);
    zmsg_addstr(reply, v->user_id);
    zmsg_addmem(reply, NULL, 0);
    if (zmsg_send(&reply, rep) != 0)
        zmsg_destroy(&reply);
}

/*  Reads one request from rep and sends the reply. A malformed request
    (wrong version, missing frames) gets a 400 without touching any domain.
    rep is a zsock_t or a libzmq socket. */
static void
serve_request(mu__zap_t *z, void *rep)
{
    zmsg_t *request = zmsg_recv(rep);
    if (request == NULL)
        return; /* interrupted */
    /* RFC 27: version, request id, domain, address, identity, mechanism,
       credentials... (zmsg_next wraps around after the last frame, so the
       frames are counted first.) */
    enum { F_VERSION, F_ID, F_DOMAIN, F_ADDRESS, F_IDENTITY, F_MECHANISM, F_CREDENTIALS, F_MAX };
    zframe_t *f[F_MAX + 1] = { NULL };
    size_t count = zmsg_size(request);
    f[0] = zmsg_first(request);
    for (size_t i = 1; i < count && i <= F_MAX; i++)
        f[i] = zmsg_next(request);
    char version[8], domain[64], address[64], mechanism[16];
    frame_text(f[F_VERSION], version, sizeof version);
    frame_text(f[F_DOMAIN], domain, sizeof domain);
    frame_text(f[F_ADDRESS], address, sizeof address);
    frame_text(f[F_MECHANISM], mechanism, sizeof mechanism);
    const uint8_t *key = NULL;
    if (count == F_CREDENTIALS + 1 && zframe_size(f[F_CREDENTIALS]) == MU_KEY_BYTES)
        key = zframe_data(f[F_CREDENTIALS]);
    char key_txt[MU_KEY_TEXT] = "-";
    if (key)
        mu_key_to_txt(key, key_txt);

    verdict_t v = { "400", "malformed ZAP request", "" };
    bool malformed = count < F_MECHANISM + 1 || strcmp(version, ZAP_VERSION) != 0;
    bool log_it = false;
    uint64_t before = 0;
    pthread_mutex_lock(&z->registry);
    mu__zap_domain_t *known = malformed ? NULL : decide(z, domain, mechanism, key, &v);
    if (strcmp(v.status, "200") != 0) {
        log_it = mu__log_limit_admit(known ? &known->log : &z->stray_log, zclock_mono(), &before);
        z->summaries_due |= !log_it;
    }
    pthread_mutex_unlock(&z->registry);
    if (log_it) {
        log_suppressed(z, known ? domain : NULL, before);
        mu_log(MU_LOG_WARNING, "net",
               "%s: refused %s handshake from %s (key %s) on ZAP domain '%s': %s", z->label,
               mechanism[0] ? mechanism : "?", address[0] ? address : "?", key_txt, domain, v.text);
    }

    send_reply(rep, f[F_ID], &v);
    zmsg_destroy(&request);
}

/*  Logs the counts of refusals not logged when it is time (at most once an
    interval, *next_flush_p being the next time) and returns how long the
    handler may wait for a request: until the next time when counts are
    waiting, else forever (-1). */
static int
summary_wait(mu__zap_t *z, int64_t *next_flush_p)
{
    if (!z->summaries_due)
        return -1;
    int64_t now = zclock_mono();
    if (now >= *next_flush_p) {
        flush_summaries(z);
        *next_flush_p = now + MU__LOG_INTERVAL_MS;
    }
    return z->summaries_due ? (int) (*next_flush_p - now) : -1;
}

static void *
handler_main(void *arg)
{
    shared_thread_t *h = arg;
    int64_t next_flush = 0;
    for (;;) { /* serves until told to stop, even on SIGINT */
        zmq_pollitem_t items[2] = { { h->stop_peer, 0, ZMQ_POLLIN, 0 },
                                    { h->rep, 0, ZMQ_POLLIN, 0 } };
        int n = zmq_poll(items, 2, summary_wait(&shared, &next_flush));
        if (n < 0 && zmq_errno() != EINTR)
            break; /* the context is ending (ETERM) */
        if (n > 0 && (items[0].revents & ZMQ_POLLIN))
            break;
        if (n > 0 && (items[1].revents & ZMQ_POLLIN))
            serve_request(&shared, h->rep);
    }
    return NULL;
}

/*  Unbinds and closes what handler_start made, and frees h. Unbinding
    inproc is synchronous: the endpoint is free for the next handler as
    soon as this returns (closing alone frees it later, in libzmq's reaper
    thread). */
static void
handler_free(shared_thread_t *h)
{
    if (h->rep)
        (void) zmq_unbind(h->rep, ZAP_ENDPOINT);
    mu__zsocket_close(&h->rep);
    mu__zsocket_close(&h->stop_peer);
    mu__zsocket_close(&h->stop);
    free(h);
}

/*  Stops the shared handler's thread, if any; under lifecycle. */
static void
handler_stop(void)
{
    if (handler == NULL)
        return;
    /* Only ETERM fails here, and then the thread's zmq_poll fails too and
       it ends by itself. */
    while (zmq_send(handler->stop, "", 0, 0) < 0 && zmq_errno() == EINTR)
        ;
    pthread_join(handler->thread, NULL);
    handler_free(handler);
    handler = NULL;
}

/*  Runs at exit before czmq's own zsys_shutdown (registered after
    zsys_init, so called first): a program that exits with servers still
    open would otherwise leave the handler's sockets to zsys_shutdown, which
    closes them under the handler thread's feet. */
static void
stop_at_exit(void)
{
    pthread_mutex_lock(&lifecycle);
    handler_stop();
    pthread_mutex_unlock(&lifecycle);
}

/*  Opens the handler's sockets and binds its REP. Returns 0 or an errno
    value (a refused socket's failure recorded). */
static int
handler_open(shared_thread_t *h)
{
    if (mu__zsocket_pair(&h->stop, &h->stop_peer, "ZAP handler") != 0)
        return -mu_last_code();
    h->rep = mu__zsocket_open(ZMQ_REP, "ZAP handler");
    if (h->rep == NULL)
        return -mu_last_code();
    zsock_set_linger(h->rep, 0);
    if (zmq_bind(h->rep, ZAP_ENDPOINT) != 0)
        return zmq_errno() ? zmq_errno() : EADDRINUSE;
    return 0;
}

/*  Starts the handler; under lifecycle. Returns 0 or an errno value. */
static int
handler_start(void)
{
    static bool exit_hook;
    shared_thread_t *h = calloc(1, sizeof *h);
    if (h == NULL)
        return ENOMEM;
    int rc = handler_open(h);
    if (rc == 0 && pthread_create(&h->thread, NULL, handler_main, h) != 0)
        rc = ENOMEM; /* no thread */
    if (rc != 0) {
        handler_free(h);
        return rc;
    }
    handler = h;
    if (!exit_hook)
        exit_hook = atexit(stop_at_exit) == 0;
    return 0;
}

/* ---- domains ------------------------------------------------------------------ */

/*  A domain of zap, not yet listed. NULL with errno ENOMEM. */
static mu__zap_domain_t *
domain_new(mu__zap_t *zap, const mu_allow_t *allow)
{
    mu__zap_domain_t *domain = calloc(1, sizeof *domain);
    if (domain == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (allow && (domain->allow = mu_allow_dup(allow)) == NULL) {
        free(domain);
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&domain->failures, 0);
    snprintf(domain->name, sizeof domain->name, "mu-%" PRIuLEAST64,
             (uint_least64_t) atomic_fetch_add(&next_domain_id, 1) + 1);
    domain->zap = zap;
    return domain;
}

/*  Adds domain to z's list. */
static void
domain_link(mu__zap_t *z, mu__zap_domain_t *domain)
{
    pthread_mutex_lock(&z->registry);
    domain->next = z->domains;
    z->domains = domain;
    pthread_mutex_unlock(&z->registry);
}

/*  Removes domain from z's list; true when the list is empty now. */
static bool
domain_unlink(mu__zap_t *z, mu__zap_domain_t *domain)
{
    pthread_mutex_lock(&z->registry);
    mu__zap_domain_t **link = &z->domains;
    while (*link && *link != domain)
        link = &(*link)->next;
    assert(*link == domain); /* unregistering twice is a caller bug */
    *link = domain->next;
    bool last = z->domains == NULL;
    pthread_mutex_unlock(&z->registry);
    return last;
}

static void
domain_free(mu__zap_domain_t *domain)
{
    mu_allow_destroy(&domain->allow);
    free(domain);
}

mu__zap_domain_t *
mu__zap_register(const mu_allow_t *allow)
{
    mu__zap_domain_t *domain = domain_new(&shared, allow);
    if (domain == NULL)
        return NULL;
    pthread_mutex_lock(&lifecycle);
    int rc = handler ? 0 : handler_start();
    if (rc == 0)
        domain_link(&shared, domain);
    pthread_mutex_unlock(&lifecycle);
    if (rc != 0) {
        domain_free(domain);
        errno = rc;
        return NULL;
    }
    return domain;
}

const char *
mu__zap_domain_name(const mu__zap_domain_t *domain)
{
    assert(domain);
    return domain->name;
}

uint64_t
mu__zap_failures(const mu__zap_domain_t *domain)
{
    assert(domain);
    return atomic_load(&domain->failures);
}

void
mu__zap_unregister(mu__zap_domain_t **domain_p)
{
    if (domain_p == NULL || *domain_p == NULL)
        return;
    mu__zap_domain_t *domain = *domain_p;
    *domain_p = NULL;
    mu__zap_t *z = domain->zap;
    if (z == &shared) {
        pthread_mutex_lock(&lifecycle);
        if (domain_unlink(z, domain))
            handler_stop();
        pthread_mutex_unlock(&lifecycle);
    } else {
        (void) domain_unlink(z, domain);
    }
    log_suppressed(z, domain->name, domain->log.suppressed);
    domain_free(domain);
}

/* ---- the handler of one private context -------------------------------------------- */

static void *
context_main(void *arg)
{
    mu__zap_t *z = arg;
    int64_t next_flush = 0;
    for (;;) {
        zmq_pollitem_t item = { z->rep, 0, ZMQ_POLLIN, 0 };
        int n = zmq_poll(&item, 1, summary_wait(z, &next_flush));
        if (n < 0 && zmq_errno() != EINTR)
            break; /* the context is ending (ETERM) */
        if (n > 0)
            serve_request(z, z->rep);
    }
    zmq_close(z->rep); /* lets the context's termination finish */
    return NULL;
}

mu__zap_t *
mu__zap_new_for(void *zctx, const char *label)
{
    assert(zctx);
    mu__zap_t *z = calloc(1, sizeof *z);
    if (z == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&z->registry, NULL);
    snprintf(z->label, sizeof z->label, "%s", label ? label : "mutil");
    z->zctx = zctx;
    z->pid = getpid();
    int linger = 0, err = 0;
    z->rep = zmq_socket(zctx, ZMQ_REP);
    if (z->rep == NULL || zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_bind(z->rep, ZAP_ENDPOINT) != 0)
        err = zmq_errno() ? zmq_errno() : EINVAL;
    pthread_t tid;
    if (err == 0 && (err = pthread_create(&tid, NULL, context_main, z)) == 0) {
        pthread_detach(tid);
        return z;
    }
    mu_log(MU_LOG_ERROR, "net", "%s: cannot start the ZAP handler: %s", z->label,
           zmq_strerror(err));
    if (z->rep)
        zmq_close(z->rep);
    pthread_mutex_destroy(&z->registry);
    free(z);
    errno = err;
    return NULL;
}

void
mu__zap_destroy(mu__zap_t **zap_p)
{
    if (zap_p == NULL || *zap_p == NULL)
        return;
    mu__zap_t *z = *zap_p;
    assert(z != &shared && z->domains == NULL);
    pthread_mutex_destroy(&z->registry);
    free(z);
    *zap_p = NULL;
}

bool
mu__zap_serves(const mu__zap_t *zap, void *zctx)
{
    return zap && zap != &shared && zap->zctx == zctx && zap->pid == getpid();
}

mu__zap_domain_t *
mu__zap_add_domain(mu__zap_t *zap, const mu_allow_t *allow)
{
    assert(zap && zap != &shared);
    mu__zap_domain_t *domain = domain_new(zap, allow);
    if (domain)
        domain_link(zap, domain);
    return domain;
}

/* ---- socket set-up -------------------------------------------------------------- */

int
mu__zap_setup_server(void *socket, const mu_keys_t *keys, const mu__zap_domain_t *domain)
{
    if (socket == NULL || domain == NULL || (keys && mu_keys_secret(keys) == NULL))
        return MU_EINVAL;
    int rc = zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, domain->name, strlen(domain->name));
    if (rc == 0 && keys) {
        int on = 1;
        rc = zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &on, sizeof on);
        if (rc == 0)
            rc = zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, mu_keys_secret(keys), MU_KEY_BYTES);
        if (rc == 0)
            rc = zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, mu_keys_public(keys), MU_KEY_BYTES);
    }
    return rc == 0 ? 0 : MU_EINVAL;
}

int
mu__zap_setup_client(void *socket, const mu_keys_t *keys, const uint8_t *server_public)
{
    if (socket == NULL || keys == NULL || mu_keys_secret(keys) == NULL || server_public == NULL)
        return MU_EINVAL;
    int rc = zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_public, MU_KEY_BYTES);
    if (rc == 0)
        rc = zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, mu_keys_public(keys), MU_KEY_BYTES);
    if (rc == 0)
        rc = zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, mu_keys_secret(keys), MU_KEY_BYTES);
    return rc == 0 ? 0 : MU_EINVAL;
}
