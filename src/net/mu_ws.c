/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws.c — the WebSocket endpoint's owner side (mu_ws.h): settings
    checked and copied, creation and teardown, sends into the clients'
    queues, closes, events out of the queue, counters. Everything here runs
    on the owner's thread and reaches the service thread only through the
    shared state under the lock and mu__ws_wake. */
#include "base/mu_internal.h"
#include "net/mu_ws_int.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- settings ----------------------------------------------------------- */

/*  A copy of a string setting into *dst (NULL stays NULL). */
static int
copy_string(const char **dst, const char *src, const char *fallback)
{
    if (!src)
        src = fallback;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : mu__fail(MU_ENOMEM, "WebSocket settings");
}

static void
free_strings(mu__ws_config_t *config)
{
    const char **all[] = { &config->host,     &config->path,    &config->cert_file,
                           &config->key_file, &config->ca_file, &config->origin };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free((char *) *all[i]);
        *all[i] = NULL;
    }
}

/*  A file setting must name a readable regular file. */
static int
check_file(const char *what, const char *path)
{
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mu__fail(MU_EINVAL, "WebSocket %s '%s': %s", what, path, strerror(errno));
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    return regular ? 0 : mu__fail(MU_EINVAL, "WebSocket %s '%s': not a regular file", what, path);
}

static int
check_tls(const mu__ws_config_t *c)
{
    if (c->listen) {
        if (c->key_file && !c->cert_file)
            return mu__fail(MU_EINVAL, "WebSocket listen: key file '%s' without a certificate",
                            c->key_file);
        if (c->cert_file && !c->key_file)
            return mu__fail(MU_EINVAL, "WebSocket listen: certificate '%s' without a key file",
                            c->cert_file);
        if (c->tls && !c->cert_file)
            return mu__fail(MU_EINVAL, "WebSocket listen: tls needs cert_file and key_file");
    } else if (c->cert_file || c->key_file)
        return mu__fail(MU_EINVAL, "WebSocket connect: client certificates are not supported");
    if (check_file("certificate", c->cert_file) < 0 || check_file("key file", c->key_file) < 0)
        return MU_EINVAL;
    if (!c->listen && c->tls && check_file("CA file", c->ca_file) < 0)
        return MU_EINVAL;
    return 0;
}

/*  The largest ping interval or timeout: lws keeps seconds in 16 bits. */
#define MAX_PING_MS (30000 * 1000)

static int
check_numbers(const mu__ws_config_t *c)
{
    if (c->port < 0 || c->port > 65535 || (!c->listen && c->port == 0))
        return mu__fail(MU_EINVAL, "WebSocket port %d: %s", c->port,
                        c->listen ? "not 0..65535" : "connect needs 1..65535");
    if (c->max_clients < 0 || c->reconnect_ms < 0)
        return mu__fail(MU_EINVAL, "WebSocket max_clients %d / reconnect_ms %d: negative",
                        c->max_clients, c->reconnect_ms);
    if (c->overflow != MU__WS_DISCONNECT && c->overflow != MU__WS_DROP_OLDEST)
        return mu__fail(MU_EINVAL, "WebSocket overflow policy %d", (int) c->overflow);
    if (c->ping_interval_ms < -1 || c->ping_interval_ms > MAX_PING_MS || c->ping_timeout_ms < 0
        || c->ping_timeout_ms > MAX_PING_MS)
        return mu__fail(MU_EINVAL, "WebSocket ping_interval_ms %d / ping_timeout_ms %d",
                        c->ping_interval_ms, c->ping_timeout_ms);
    if (c->path && c->path[0] != '/')
        return mu__fail(MU_EINVAL, "WebSocket path '%s': must start with '/'", c->path);
    /* lws writes the client's Origin line into 128 bytes */
    if (c->origin && strlen(c->origin) > (c->listen ? 1000 : 100))
        return mu__fail(MU_EINVAL, "WebSocket origin: over %d bytes", c->listen ? 1000 : 100);
    if (c->host && !c->host[0])
        return mu__fail(MU_EINVAL, "WebSocket host: empty");
    return 0;
}

/*  Checks *in and copies it into *out with the defaults applied. */
static int
config_copy(mu__ws_config_t *out, const mu__ws_config_t *in)
{
    if (check_numbers(in) < 0 || check_tls(in) < 0)
        return MU_EINVAL;
    *out = *in;
    out->host = out->path = out->cert_file = out->key_file = out->ca_file = out->origin = NULL;
    if (copy_string(&out->host, in->host, "127.0.0.1") < 0
        || copy_string(&out->path, in->path, "/") < 0
        || copy_string(&out->cert_file, in->cert_file, NULL) < 0
        || copy_string(&out->key_file, in->key_file, NULL) < 0
        || copy_string(&out->ca_file, in->ca_file, NULL) < 0
        || copy_string(&out->origin, in->origin, NULL) < 0)
        return MU_ENOMEM;
    if (out->listen)
        out->tls = out->cert_file != NULL;
    out->max_message = in->max_message ? in->max_message : MU__WS_MAX_MESSAGE;
    out->max_clients = in->max_clients ? in->max_clients : MU__WS_MAX_CLIENTS;
    out->queue_max = in->queue_max ? in->queue_max : MU__WS_QUEUE_MAX;
    out->event_max = in->event_max ? in->event_max : MU__WS_EVENT_MAX;
    out->ping_interval_ms = in->ping_interval_ms ? in->ping_interval_ms : MU__WS_PING_INTERVAL_MS;
    out->ping_timeout_ms = in->ping_timeout_ms ? in->ping_timeout_ms : MU__WS_PING_TIMEOUT_MS;
    out->reconnect_ms = in->reconnect_ms ? in->reconnect_ms : 100;
    return 0;
}

/* ---- life --------------------------------------------------------------- */

mu__ws_t *
mu__ws_new(const mu__ws_config_t *config)
{
    assert(config);
    mu__ws_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "WebSocket endpoint");
    self->events.fd = -1;
    self->listen_fd = -1;
    pthread_mutex_init(&self->lock, NULL);
    int rc = config_copy(&self->config, config);
    if (rc == 0)
        rc = mu__ws_table_init(&self->table);
    if (rc == 0)
        rc = mu__ws_events_init(&self->events, self->config.event_max);
    if (rc == 0 && !(self->scratch = malloc(LWS_PRE + MU__WS_CHUNK)))
        rc = mu__fail(MU_ENOMEM, "WebSocket endpoint");
    if (rc == 0)
        rc = mu__ws_context_new(self);
    if (rc == 0)
        rc = mu__ws_thread_start(self);
    if (rc < 0) {
        mu__ws_destroy(&self);
        errno = mu_error_errno(rc); /* the detail is recorded where it failed */
        return NULL;
    }
    return self;
}

void
mu__ws_destroy(mu__ws_t **self_p)
{
    assert(self_p);
    mu__ws_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    mu__ws_context_stop(self);
    if (self->listen_fd >= 0) /* never handed to lws */
        close(self->listen_fd);
    if (self->table.buckets)
        mu__ws_table_free(&self->table);
    mu__ws_events_free(&self->events);
    pthread_mutex_destroy(&self->lock);
    free_strings(&self->config);
    free(self->scratch);
    free(self);
}

int
mu__ws_port(const mu__ws_t *self)
{
    assert(self);
    return self->port;
}

int
mu__ws_fd(const mu__ws_t *self)
{
    assert(self);
    return self->events.fd;
}

/* ---- events ------------------------------------------------------------- */

int
mu__ws_recv(mu__ws_t *self, mu__ws_event_t *event)
{
    assert(self && event);
    bool resume = false;
    int rc = mu__ws_events_pop(&self->events, event, &resume);
    if (resume) {
        atomic_store(&self->resume_rx, true);
        mu__ws_wake(self);
    }
    return rc;
}

/* ---- sends and closes --------------------------------------------------- */

int
mu__ws_send_msg(mu__ws_t *self, uint64_t client, mu__ws_msg_t *msg)
{
    assert(self && msg);
    if (msg->size > self->config.max_message)
        return mu__fail(MU_EMSGSIZE, "WebSocket message of %zu bytes: over max_message %zu",
                        msg->size, self->config.max_message);
    pthread_mutex_lock(&self->lock);
    mu__ws_client_t *c = mu__ws_table_find(&self->table, client);
    int rc = 0;
    if (!c || (c->closing && !c->slow))
        rc = mu__fail(MU_ENOENT, "WebSocket client %llu: %s", (unsigned long long) client,
                      c ? "closing" : "not connected");
    else if (c->slow)
        rc = mu__fail(MU_EPIPE, "WebSocket client %llu: closed for a full send queue",
                      (unsigned long long) client);
    else {
        rc = mu__ws_client_queue(c, msg, self->config.queue_max, self->config.overflow,
                                 &self->stats);
        if (rc == 0 || rc == MU_EPIPE)
            mu__ws_dirty_add(&self->dirty, c);
    }
    pthread_mutex_unlock(&self->lock);
    if (rc == 0 || rc == MU_EPIPE)
        mu__ws_wake(self);
    return rc;
}

int
mu__ws_send(mu__ws_t *self, uint64_t client, const void *data, size_t size, bool binary)
{
    assert(self && (data || size == 0));
    if (size > self->config.max_message)
        return mu__fail(MU_EMSGSIZE, "WebSocket message of %zu bytes: over max_message %zu", size,
                        self->config.max_message);
    mu__ws_msg_t *msg = mu__ws_msg_new(data, size, binary);
    if (!msg)
        return MU_ENOMEM;
    int rc = mu__ws_send_msg(self, client, msg);
    mu__ws_msg_unref(&msg);
    return rc;
}

int
mu__ws_close(mu__ws_t *self, uint64_t client, int code, const char *reason)
{
    assert(self);
    assert(code >= 1000 && code <= 4999);
    size_t len = reason ? strlen(reason) : 0;
    assert(len <= MU__WS_REASON_MAX);
    pthread_mutex_lock(&self->lock);
    mu__ws_client_t *c = mu__ws_table_find(&self->table, client);
    if (c && !c->closing) {
        c->closing = true;
        c->close_code = code;
        c->reason_len = len;
        if (len)
            memcpy(c->reason, reason, len);
        c->reason[len] = 0;
        mu__ws_dirty_add(&self->dirty, c);
    }
    pthread_mutex_unlock(&self->lock);
    if (!c)
        return mu__fail(MU_ENOENT, "WebSocket client %llu: not connected",
                        (unsigned long long) client);
    mu__ws_wake(self);
    return 0;
}

/* ---- counters ----------------------------------------------------------- */

size_t
mu__ws_clients(const mu__ws_t *self)
{
    assert(self);
    mu__ws_t *mutable = (mu__ws_t *) self;
    pthread_mutex_lock(&mutable->lock);
    size_t n = (size_t) self->stats.clients;
    pthread_mutex_unlock(&mutable->lock);
    return n;
}

int
mu__ws_stats(const mu__ws_t *self, mu__ws_stats_t *stats)
{
    assert(self && stats);
    mu__ws_t *mutable = (mu__ws_t *) self;
    pthread_mutex_lock(&mutable->lock);
    mu__ws_stats_t all = self->stats;
    pthread_mutex_unlock(&mutable->lock);
    all.size = sizeof all;
    return mu__stats_fill(stats, &all, sizeof all, sizeof all);
}
