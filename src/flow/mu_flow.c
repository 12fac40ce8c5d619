/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow.c — flow definition and the calling process's side (start, wait,
    stop, stats). The contract is in include/mu_flow.h; the supervisor is in
    mu_flow_super.c, runners in mu_flow_worker.c (entry and loops),
    mu_flow_runner.c (core), mu_flow_links.c, mu_flow_reliable.c and
    mu_flow_edge.c; shared helpers in mu_flow_util.c. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_dir.h"
#include "flow/mu_flow_super.h"
#include "flow/mu_flow_hosts.h"
#include "flow/mu_flow_pipes.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- definition ------------------------------------------------------------- */

mu_flow_t *
mu_flow_new(const char *name)
{
    assert(name);
    if (name[0] == '\0')
        return mu__fail_null(MU_EINVAL, "flow: empty name");
    mu_flow_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "flow '%s': out of memory", name);
    snprintf(self->name, sizeof self->name, "%s", name);
    self->max_restarts = 5;
    self->window_ms = 5000;
    self->drain_ms = 10000;
    self->ctl = -1;
    self->ready_fd = -1;
    self->dir_lock = -1;
    mu__flow_hosts_init(self);
    return self;
}

static void
stage_free(mu__stage_t *st)
{
    if (st->fds)
        for (int i = 0; i < st->n; i++)
            if (st->fds[i] >= 0)
                close(st->fds[i]);
    if (st->listen_fds)
        for (int i = 0; i < st->n; i++)
            if (st->listen_fds[i] >= 0)
                close(st->listen_fds[i]);
    free(st->fds);
    free(st->inproc);
    free(st->edges);
    free(st->listen_fds);
    free(st->ports);
    free(st->on_host);
}

void
mu_flow_destroy(mu_flow_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_flow_t *self = *self_p;
    if (self->started && !self->ended && self->super_pid > 0) {
        kill(self->super_pid, SIGKILL);
        waitpid(self->super_pid, NULL, 0);
    }
    mu__flow_drop_dir(self);
    if (self->ctl >= 0)
        close(self->ctl);
    mu__flow_ready_close(self);
    for (int i = 0; i < self->nstages; i++)
        stage_free(&self->stages[i]);
    free(self->stages);
    free(self->stats);
    explicit_bzero(self->curve_server_sec, sizeof self->curve_server_sec);
    explicit_bzero(self->curve_client_sec, sizeof self->curve_client_sec);
    mu__flow_hosts_free(self);
    mu__flow_pipes_free(self);
    free(self);
    *self_p = NULL;
}

static mu__stage_t *
find_stage(const mu_flow_t *self, const char *name, int *index_p)
{
    for (int i = 0; name && i < self->nstages; i++)
        if (strcmp(self->stages[i].name, name) == 0) {
            if (index_p)
                *index_p = i;
            return &self->stages[i];
        }
    return NULL;
}

/*  Appends a stage with the common checks; NULL when they fail. */
static mu__stage_t *
append_stage(mu_flow_t *self, const char *name, int n, mu__stage_kind_t kind)
{
    assert(name);
    if (self->started)
        return mu__fail_null(MU_EINVAL, "flow '%s': already started", self->name);
    if (name[0] == '\0' || strlen(name) >= MU__FLOW_NAME || find_stage(self, name, NULL))
        return mu__fail_null(MU_EINVAL,
                             "flow '%s': stage name '%s' empty, over %d bytes or "
                             "taken",
                             self->name, name, MU__FLOW_NAME - 1);
    if (n < 1 || n > MU__FLOW_MAX_RUNNERS)
        return mu__fail_null(MU_EINVAL, "flow '%s': stage '%s': %d runners (1..%d)", self->name,
                             name, n, MU__FLOW_MAX_RUNNERS);
    if (kind != MU__ST_WORKER && kind != MU__ST_EDGE && !mu__flow_pipe_starts(self))
        return mu__fail_null(MU_EINVAL, "flow '%s': source '%s' is not the first stage%s",
                             self->name, name, self->npipes ? " of its pipeline" : "");
    mu__stage_t *grown = realloc(self->stages, (size_t) (self->nstages + 1) * sizeof *grown);
    if (!grown)
        return mu__fail_null(MU_ENOMEM, "flow '%s': out of memory", self->name);
    self->stages = grown;
    mu__stage_t *st = &grown[self->nstages++];
    memset(st, 0, sizeof *st);
    snprintf(st->name, sizeof st->name, "%s", name);
    st->kind = kind;
    st->n = n;
    st->link = MU_FLOW_BALANCE;
    st->pipe = mu__flow_pipe_current(self);
    return st;
}

int
mu_flow_add_worker_stage(mu_flow_t *self, const char *name, int n, mu_flow_startup_fn *startup,
                         mu_flow_handler_fn *handler, void *arg)
{
    assert(self);
    assert(handler);
    mu__stage_t *st = append_stage(self, name, n, MU__ST_WORKER);
    if (!st)
        return mu_last_code();
    st->startup = startup;
    st->handler = handler;
    st->arg = arg;
    return 0;
}

int
mu_flow_set_teardown(mu_flow_t *self, const char *name, mu_flow_teardown_fn *teardown)
{
    assert(self);
    mu__stage_t *st = find_stage(self, name, NULL);
    if (!st || st->kind != MU__ST_WORKER || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': no worker stage '%s', or started", self->name,
                        name ? name : "(null)");
    st->teardown = teardown;
    return 0;
}

int
mu_flow_set_timer(mu_flow_t *self, const char *name, int interval_ms, mu_flow_timer_fn *timer)
{
    assert(self);
    mu__stage_t *st = find_stage(self, name, NULL);
    if (!st || st->kind != MU__ST_WORKER || self->started || interval_ms < 1
        || interval_ms > 3600000)
        return mu__fail(MU_EINVAL,
                        "flow '%s': no worker stage '%s', started, or a timer interval of %d ms "
                        "(1..3600000)",
                        self->name, name ? name : "(null)", interval_ms);
    st->timer = timer;
    st->timer_ms = interval_ms;
    return 0;
}

int
mu_flow_set_frame_header(mu_flow_t *self, const char *name, int bytes)
{
    assert(self);
    mu__stage_t *st = find_stage(self, name, NULL);
    bool ok = st && !self->started && bytes >= 1 && bytes <= 8
              && (st->kind == MU__ST_FD_SOURCE || st->kind == MU__ST_EDGE);
    for (int i = 0; ok && st->kind == MU__ST_EDGE && i < st->n; i++)
        ok = st->edges[i].transport == MU_FLOW_EDGE_TCP;
    if (!ok)
        return mu__fail(MU_EINVAL,
                        "flow '%s': no fd source or TCP edge stage '%s', started, or a frame "
                        "header of %d bytes (1..8)",
                        self->name, name ? name : "(null)", bytes);
    st->header_bytes = bytes;
    return 0;
}

int
mu_flow_add_inproc(mu_flow_t *self, const char *stage, const char *event, mu_flow_mode_t mode,
                   mu_flow_inproc_fn *fn, void *arg, size_t queue_max)
{
    assert(self);
    assert(event);
    assert(fn);
    assert(mode == MU_FLOW_INLINE || mode == MU_FLOW_THREAD);
    mu__stage_t *st = find_stage(self, stage, NULL);
    if (!st || st->kind != MU__ST_WORKER || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': no worker stage '%s', or started", self->name,
                        stage ? stage : "(null)");
    if (!event[0] || strlen(event) >= sizeof st->inproc->event)
        return mu__fail(MU_EINVAL, "flow '%s': event name empty or over %zu bytes", self->name,
                        sizeof st->inproc->event - 1);
    mu__inproc_def_t *grown = realloc(st->inproc, (size_t) (st->ninproc + 1) * sizeof *grown);
    if (!grown)
        return mu__fail(MU_ENOMEM, "flow '%s': out of memory", self->name);
    st->inproc = grown;
    mu__inproc_def_t *d = &grown[st->ninproc++];
    memset(d, 0, sizeof *d);
    snprintf(d->event, sizeof d->event, "%s", event);
    d->mode = mode;
    d->fn = fn;
    d->arg = arg;
    d->queue_max = queue_max;
    return 0;
}

int
mu_flow_add_source(mu_flow_t *self, const char *name, int n, mu_flow_source_fn *fn, void *arg)
{
    assert(self);
    assert(fn);
    mu__stage_t *st = append_stage(self, name, n, MU__ST_SOURCE);
    if (!st)
        return mu_last_code();
    st->source = fn;
    st->arg = arg;
    return 0;
}

int
mu_flow_add_fd_source(mu_flow_t *self, const char *name, const int *fds, int n)
{
    assert(self);
    assert(fds || n < 1);
    if (n < 1)
        return mu__fail(MU_EINVAL, "flow '%s': %d descriptors", self->name, n);
    for (int i = 0; i < n; i++)
        if (fds[i] < 0 || fcntl(fds[i], F_GETFD) < 0)
            return mu__fail(MU_EINVAL, "flow '%s': descriptor %d is not open", self->name, fds[i]);
    int *copy = malloc((size_t) n * sizeof *copy);
    if (!copy)
        return mu__fail(MU_ENOMEM, "flow '%s': out of memory", self->name);
    mu__stage_t *st = append_stage(self, name, n, MU__ST_FD_SOURCE);
    if (!st) {
        free(copy);
        return mu_last_code();
    }
    memcpy(copy, fds, (size_t) n * sizeof *copy);
    st->fds = copy;
    return 0;
}

static bool
readable_or_null(const char *path)
{
    return !path || access(path, R_OK) == 0;
}

/*  The WebSocket settings: each on the side (listen, connect) it is for;
    on a TCP edge, none. */
static bool
ws_settings_valid(const mu_flow_edge_t *e)
{
    bool listen_set = e->ws_cert_file || e->ws_key_file;
    bool connect_set = e->ws_path || e->ws_tls || e->ws_ca_file || e->ws_tls_insecure;
    if (e->transport == MU_FLOW_EDGE_TCP)
        return !listen_set && !connect_set && !e->ws_origin && !e->ws_binary
               && e->ws_ping_interval_ms == 0;
    if (e->transport != MU_FLOW_EDGE_WS || e->ws_ping_interval_ms < -1)
        return false;
    if (e->listen ? connect_set : listen_set)
        return false;
    if (!e->ws_cert_file != !e->ws_key_file || (e->ws_path && e->ws_path[0] != '/'))
        return false;
    return readable_or_null(e->ws_cert_file) && readable_or_null(e->ws_key_file)
           && readable_or_null(e->ws_ca_file);
}

static bool
edge_valid(const mu_flow_edge_t *edge)
{
    return edge->host != NULL && edge->host[0] != '\0' && edge->port >= 0 && edge->port <= 65535
           && (edge->listen || edge->port != 0) && edge->max_clients >= 0
           && edge->max_clients <= 65536 && edge->idle_timeout_ms >= -1
           && (edge->overflow == MU_FLOW_EDGE_DISCONNECT
               || edge->overflow == MU_FLOW_EDGE_DROP_OLDEST)
           && ws_settings_valid(edge);
}

/*  The edge with its defaults filled in. */
static mu_flow_edge_t
edge_with_defaults(const mu_flow_edge_t *edge)
{
    mu_flow_edge_t e = *edge;
    if (e.max_frame == 0)
        e.max_frame = 1024 * 1024;
    if (e.max_clients == 0)
        e.max_clients = MU_FLOW_EDGE_MAX_CLIENTS;
    if (e.idle_timeout_ms == 0)
        e.idle_timeout_ms = MU_FLOW_EDGE_IDLE_TIMEOUT_MS;
    if (e.queue_max == 0)
        e.queue_max = MU_FLOW_EDGE_QUEUE_MAX;
    return e;
}

int
mu_flow_add_edge(mu_flow_t *self, const char *name, const mu_flow_edge_t *edge)
{
    assert(self);
    assert(name);
    assert(edge);
    if (!edge_valid(edge) || self->started)
        return mu__fail(MU_EINVAL,
                        "flow '%s': edge '%s': bad settings (host, port, "
                        "max_clients, idle_timeout_ms, overflow, transport, ws_), "
                        "or started",
                        self->name, name);
    int index;
    mu__stage_t *st = find_stage(self, name, &index);
    if (st
        && (index != self->nstages - 1 || st->kind != MU__ST_EDGE || st->n >= MU__FLOW_MAX_RUNNERS
            || st->pipe != mu__flow_pipe_current(self)))
        return mu__fail(MU_EINVAL, "flow '%s': stage '%s' is not the last edge stage, or full",
                        self->name, name);
    if (!st) {
        st = append_stage(self, name, 1, MU__ST_EDGE);
        if (!st)
            return mu_last_code();
        st->n = 0;
    }
    int n = st->n + 1;
    mu_flow_edge_t *edges = realloc(st->edges, (size_t) n * sizeof *edges);
    if (edges)
        st->edges = edges;
    int *lfds = realloc(st->listen_fds, (size_t) n * sizeof *lfds);
    if (lfds)
        st->listen_fds = lfds;
    int *ports = realloc(st->ports, (size_t) n * sizeof *ports);
    if (ports)
        st->ports = ports;
    if (!edges || !lfds || !ports) {
        if (st->n == 0) /* a stage that never got its edge goes again */
            self->nstages--;
        return mu__fail(MU_ENOMEM, "flow '%s': out of memory", self->name);
    }
    edges[n - 1] = edge_with_defaults(edge);
    lfds[n - 1] = -1;
    ports[n - 1] = edge->port;
    st->n = n;
    return 0;
}

int
mu_flow_set_link(mu_flow_t *self, const char *name, mu_flow_link_t kind, mu_flow_filter_fn *filter,
                 mu_flow_key_fn *key, void *arg)
{
    assert(self);
    assert(kind == MU_FLOW_BALANCE || kind == MU_FLOW_BROADCAST || kind == MU_FLOW_KEYED);
    assert(kind != MU_FLOW_KEYED || key);
    int index;
    mu__stage_t *st = find_stage(self, name, &index);
    if (!st || mu__flow_first(self, index) || self->started)
        return mu__fail(MU_EINVAL,
                        "flow '%s': no stage '%s' after the first of its pipeline (links run "
                        "within a pipeline), or started",
                        self->name, name ? name : "(null)");
    st->link = kind;
    st->filter = filter;
    st->key = key;
    st->link_arg = arg;
    return 0;
}

int
mu_flow_set_drop(mu_flow_t *self, const char *name, bool drop)
{
    assert(self);
    mu__stage_t *st = find_stage(self, name, NULL);
    if (!st)
        return mu__fail(MU_EINVAL, "flow '%s': no stage '%s'", self->name, name ? name : "(null)");
    st->drop = drop;
    return 0;
}

int
mu_flow_set_at_least_once(mu_flow_t *self, const char *name, bool on)
{
    assert(self);
    int index;
    mu__stage_t *st = find_stage(self, name, &index);
    if (!st || mu__flow_first(self, index) || self->started)
        return mu__fail(MU_EINVAL,
                        "flow '%s': no stage '%s' after the first of its pipeline (links run "
                        "within a pipeline), or started",
                        self->name, name ? name : "(null)");
    st->reliable = on;
    return 0;
}

int
mu_flow_set_endpoint(mu_flow_t *self, const char *name, const char *host, int base_port)
{
    assert(self);
    mu__stage_t *st = find_stage(self, name, NULL);
    assert(host);
    if (!st || self->started || host[0] == '\0' || strlen(host) >= sizeof st->host || base_port < 1
        || base_port + st->n - 1 > 65535)
        return mu__fail(MU_EINVAL,
                        "flow '%s': no stage '%s', bad host or port range, or "
                        "started",
                        self->name, name ? name : "(null)");
    snprintf(st->host, sizeof st->host, "%s", host);
    st->base_port = base_port;
    self->pinned = true;
    return 0;
}

int
mu_flow_set_local(mu_flow_t *self, const char *name, bool local)
{
    assert(self);
    mu__stage_t *st = find_stage(self, name, NULL);
    if (!st || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': no stage '%s', or started", self->name,
                        name ? name : "(null)");
    st->remote = !local;
    self->pinned = true;
    return 0;
}

int
mu_flow_set_curve(mu_flow_t *self, const mu_keys_t *server, const mu_keys_t *client)
{
    assert(self);
    assert(server);
    assert(client);
    if (self->started || !mu_keys_secret(server) || !mu_keys_secret(client))
        return mu__fail(MU_EINVAL, "flow '%s': CURVE keys without their secret, or started",
                        self->name);
    memcpy(self->curve_server_pub, mu_keys_public(server), 32);
    memcpy(self->curve_server_sec, mu_keys_secret(server), 32);
    memcpy(self->curve_client_pub, mu_keys_public(client), 32);
    memcpy(self->curve_client_sec, mu_keys_secret(client), 32);
    self->curve = true;
    return 0;
}

int
mu_flow_set_restart_limit(mu_flow_t *self, int max_restarts, int window_ms)
{
    assert(self);
    if (max_restarts < 0 || window_ms < 1 || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': restart limit %d in %d ms, or started", self->name,
                        max_restarts, window_ms);
    self->max_restarts = max_restarts;
    self->window_ms = window_ms;
    return 0;
}

int
mu_flow_set_drain_timeout(mu_flow_t *self, int timeout_ms)
{
    assert(self);
    if (timeout_ms < 1 || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': drain timeout %d ms, or started", self->name,
                        timeout_ms);
    self->drain_ms = timeout_ms;
    return 0;
}

/* ---- start -------------------------------------------------------------------- */

/*  Binds a listening TCP socket for an edge; returns the fd or -errno. A
    WebSocket edge's socket is bound but does not listen: it holds the port
    (the supervisor keeps it) for the edge's runner, whose libwebsockets
    socket listens there (Linux lets SO_REUSEADDR sockets bind next to a
    bound one that does not listen). */
static int
bind_edge(const mu_flow_edge_t *e, int *port_p)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) e->port) };
    if (inet_pton(AF_INET, e->host, &sa.sin_addr) != 1)
        return MU_EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = sizeof sa;
    bool ws = e->transport == MU_FLOW_EDGE_WS;
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 || (!ws && listen(fd, 128) != 0)
        || getsockname(fd, (struct sockaddr *) &sa, &len) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *port_p = ntohs(sa.sin_port);
    return fd;
}

static int
check_shape(const mu_flow_t *self)
{
    const char *fn = self->name;
    if (self->nstages == 0)
        return mu__fail(MU_EINVAL, "flow '%s': no stage", fn);
    int rc = mu__flow_pipes_check(self);
    if (rc != 0)
        return rc;
    bool any_local = false;
    for (int s = 0; s < self->nstages; s++) {
        const mu__stage_t *st = &self->stages[s];
        any_local = any_local || !st->remote;
        if (mu__flow_first(self, s) && st->kind == MU__ST_WORKER)
            return mu__fail(MU_EINVAL, "flow '%s': the first stage '%s'%s%s%s is a worker stage",
                            fn, st->name, self->npipes ? " of pipeline '" : "",
                            self->npipes ? self->pipes[st->pipe].name : "",
                            self->npipes ? "'" : "");
        if (!mu__flow_first(self, s) && st->reliable && st->link != MU_FLOW_BALANCE)
            return mu__fail(MU_EINVAL,
                            "flow '%s': at-least-once link into '%s' is not "
                            "balanced",
                            fn, st->name);
        /* Stages in different processes meet on pinned endpoints; acks of
           at-least-once travel over the local directory only. */
        if (s > 0 && st->remote != self->stages[s - 1].remote
            && (st->base_port == 0 || st->reliable))
            return mu__fail(MU_EINVAL,
                            "flow '%s': the link into '%s' between processes is "
                            "%s",
                            fn, st->name, st->reliable ? "at-least-once" : "not pinned");
    }
    if (!any_local)
        return mu__fail(MU_EINVAL, "flow '%s': no local stage", fn);
    return mu__flow_hosts_check(self);
}

static void
close_listeners(mu_flow_t *self)
{
    for (int s = 0; s < self->nstages; s++)
        for (int i = 0; self->stages[s].listen_fds && i < self->stages[s].n; i++)
            if (self->stages[s].listen_fds[i] >= 0) {
                close(self->stages[s].listen_fds[i]);
                self->stages[s].listen_fds[i] = -1;
            }
}

static int
bind_edges(mu_flow_t *self)
{
    for (int s = 0; s < self->nstages; s++) {
        mu__stage_t *st = &self->stages[s];
        if (st->kind != MU__ST_EDGE)
            continue;
        for (int i = 0; i < st->n; i++) {
            if (!st->edges[i].listen)
                continue;
            int fd = bind_edge(&st->edges[i], &st->ports[i]);
            if (fd < 0) {
                close_listeners(self);
                return fd;
            }
            st->listen_fds[i] = fd;
        }
    }
    return 0;
}

int
mu_flow_start(mu_flow_t *self)
{
    assert(self);
    if (self->started)
        return mu__fail(MU_EINVAL, "flow '%s': already started", self->name);
    int rc = check_shape(self);
    if (rc == 0)
        rc = mu__flow_hosts_localize(self);
    if (rc != 0)
        return rc;
    rc = mu__flow_make_dir(self);
    if (rc != 0)
        return rc;
    rc = bind_edges(self);
    if (rc != 0) {
        mu__flow_drop_dir(self);
        if (rc == -EADDRINUSE)
            rc = MU_EADDRINUSE;
        return mu__fail(rc, "flow '%s': cannot listen on an edge: %s", self->name, mu_strerror(rc));
    }
    int sv[2];
    bool have_sv = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0;
    rc = have_sv ? mu__flow_ready_open(self) : -errno;
    if (rc != 0) {
        rc = mu__fail(rc, "flow '%s': cannot make the supervisor's channels: %s", self->name,
                      mu_strerror(rc));
        if (have_sv) {
            close(sv[0]);
            close(sv[1]);
        }
        close_listeners(self);
        mu__flow_drop_dir(self);
        return rc;
    }
    pid_t parent = getpid();
    fflush(NULL);
    mu__flow_fork_quiesce();
    pid_t pid = fork();
    if (pid < 0) {
        rc = mu__fail(-errno, "flow '%s': fork: %s", self->name, strerror(errno));
        close(sv[0]);
        close(sv[1]);
        mu__flow_ready_close(self);
        close_listeners(self);
        mu__flow_drop_dir(self);
        return rc;
    }
    if (pid == 0) { /* the ready page and eventfd stay: the runners write them */
        close(sv[0]);
        mu__flow_supervisor_begin(parent);
        mu__flow_supervise(self, sv[1]);
    }
    close(sv[1]);
    self->ctl = sv[0];
    self->super_pid = pid;
    self->started = true;
    mu__flow_ready_wait_ws(self);
    /* The supervisor holds the inherited descriptors now. */
    close_listeners(self);
    for (int s = 0; s < self->nstages; s++)
        for (int i = 0; self->stages[s].fds && i < self->stages[s].n; i++)
            if (self->stages[s].fds[i] >= 0) {
                close(self->stages[s].fds[i]);
                self->stages[s].fds[i] = -1;
            }
    return 0;
}

int
mu_flow_edge_port(const mu_flow_t *self, const char *name, int index)
{
    assert(self);
    const mu__stage_t *st = find_stage(self, name, NULL);
    if (!self->started || !st || st->kind != MU__ST_EDGE || index < 0 || index >= st->n
        || !st->edges[index].listen)
        return mu__fail(MU_EINVAL,
                        "flow '%s': no listening edge %d in stage '%s', or not "
                        "started",
                        self->name, index, name ? name : "(null)");
    return st->ports[index];
}

pid_t
mu_flow_pid(const mu_flow_t *self)
{
    assert(self);
    return self->super_pid;
}

/* ---- talking to the supervisor ------------------------------------------------ */

/*  Marks the end after the supervisor is gone. */
static void
set_end(mu_flow_t *self, int rc, const char *error)
{
    self->ended = true;
    self->end_rc = rc;
    if (error && !self->error[0])
        snprintf(self->error, sizeof self->error, "%s", error);
    if (self->super_pid > 0)
        waitpid(self->super_pid, NULL, 0);
    mu__flow_drop_dir(self);
}

/*  Reads one message from the supervisor waiting up to timeout_ms: stores
    statistics ('T') or the end ('F'). Returns the type read, 0 on timeout. */
static int
read_one(mu_flow_t *self, int timeout_ms)
{
    struct pollfd p = { .fd = self->ctl, .events = POLLIN };
    int n = poll(&p, 1, timeout_ms);
    if (n <= 0)
        return 0;
    static __thread char buf[1 << 17];
    ssize_t len;
    /* ECONNRESET: the supervisor exited with requests of ours unread; the
       kernel reports that before what it sent, which is still there. */
    do
        len = recv(self->ctl, buf, sizeof buf, MSG_DONTWAIT);
    while (len < 0 && (errno == EINTR || errno == ECONNRESET));
    if (len < 0 && errno == EAGAIN)
        return 0;
    if (len <= 0) {
        set_end(self, MU_EIO, "the flow's supervisor died");
        return 'F';
    }
    if (buf[0] == 'T' && len >= MU__FLOW_STATS_HDR) {
        uint32_t count;
        uint16_t np;
        memcpy(&count, buf + 4, sizeof count);
        memcpy(&np, buf + 2, sizeof np);
        size_t need = MU__FLOW_STATS_HDR + count * sizeof(mu_flow_stats_t);
        if ((size_t) len < need)
            return 'T';
        mu__flow_pipes_take(self, buf + need, (size_t) len - need, np);
        mu_flow_stats_t *rows = malloc(count ? count * sizeof *rows : 1);
        if (!rows)
            return 'T';
        memcpy(rows, buf + MU__FLOW_STATS_HDR, count * sizeof *rows);
        free(self->stats);
        self->stats = rows;
        self->nstats = count;
        return 'T';
    }
    if (buf[0] == 'F' && len == (ssize_t) sizeof(mu__flow_end_t)) {
        mu__flow_end_t end;
        memcpy(&end, buf, sizeof end);
        end.error[sizeof end.error - 1] = '\0';
        set_end(self, end.rc, end.error);
        return 'F';
    }
    return '?';
}

/*  The end's code, its detail recorded for the calling thread. */
static int
end_result(const mu_flow_t *self)
{
    if (self->end_rc == 0)
        return 0;
    return mu__fail(self->end_rc, "flow '%s': %s", self->name,
                    self->error[0] ? self->error : mu_strerror(self->end_rc));
}

int
mu_flow_wait(mu_flow_t *self, int timeout_ms)
{
    assert(self);
    if (!self->started)
        return mu__fail(MU_EINVAL, "flow '%s': not started", self->name);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    while (!self->ended) {
        int left = mu__remaining_ms(deadline);
        if (left == 0 && timeout_ms >= 0) {
            if (read_one(self, 0) == 'F' || self->ended)
                continue;
            if (timeout_ms == 0)
                return mu__fail(MU_EAGAIN, "flow '%s': still running", self->name);
            return mu__fail(MU_ETIMEDOUT, "flow '%s': still running after %d ms", self->name,
                            timeout_ms);
        }
        read_one(self, left < 0 ? 1000 : left);
    }
    return end_result(self);
}

mu_flow_state_t
mu_flow_state(mu_flow_t *self, int *code_p)
{
    assert(self);
    if (code_p)
        *code_p = 0;
    if (!self->started)
        return MU_FLOW_IDLE;
    while (!self->ended && read_one(self, 0) != 0) /* what the supervisor sent */
        ;
    if (!self->ended)
        return MU_FLOW_RUNNING;
    if (self->end_rc == 0)
        return MU_FLOW_FINISHED;
    int rc = end_result(self);
    if (code_p)
        *code_p = rc;
    return MU_FLOW_FAILED;
}

int
mu_flow_wait_ready(mu_flow_t *self, int timeout_ms)
{
    assert(self);
    if (!self->started)
        return mu__fail(MU_EINVAL, "flow '%s': not started", self->name);
    int64_t deadline = mu__deadline_ms(timeout_ms);
    mu__flow_ready_t r;
    for (;;) {
        int code = 0;
        if (mu_flow_state(self, &code) != MU_FLOW_RUNNING)
            return code; /* 0: finished; else its detail is recorded */
        mu__flow_ready_count(self, &r);
        if (r.failed_pipe >= 0)
            return mu__fail(r.failed_rc,
                            "flow '%s': pipeline '%s' failed before its runners were ready "
                            "(mu_flow_pipeline_state says why)",
                            self->name, mu__flow_pipe_name(self, r.failed_pipe));
        if (r.settled == r.want)
            return 0;
        int left = mu__remaining_ms(deadline);
        if (left == 0 && timeout_ms >= 0)
            break;
        (void) mu__flow_ready_wait(self, left);
    }
    if (timeout_ms == 0)
        return mu__fail(MU_EAGAIN, "flow '%s': %d of %d runners ready", self->name, r.ready,
                        r.want);
    return mu__fail(MU_ETIMEDOUT, "flow '%s': %d of %d runners ready after %d ms", self->name,
                    r.ready, r.want, timeout_ms);
}

int
mu_flow_stop(mu_flow_t *self, int timeout_ms)
{
    assert(self);
    if (!self->started)
        return mu__fail(MU_EINVAL, "flow '%s': not started", self->name);
    if (!self->ended) {
        mu__caller_req_t req = { .type = 'S',
                                 .timeout_ms = timeout_ms < 0 ? self->drain_ms : timeout_ms };
        if (send(self->ctl, &req, sizeof req, MSG_NOSIGNAL) < 0)
            kill(self->super_pid, SIGTERM);
    }
    return mu_flow_wait(self, -1);
}

/*  Copies the snapshot's rows into the caller's rows of `size` bytes each. */
static void
copy_rows(const mu_flow_t *self, mu_flow_stats_t *rows, size_t cap, size_t size)
{
    size_t take = size < sizeof(mu_flow_stats_t) ? size : sizeof(mu_flow_stats_t);
    for (size_t i = 0; i < self->nstats && i < cap; i++) {
        unsigned char *row = (unsigned char *) rows + i * size;
        memcpy(row, &self->stats[i], take);
        memcpy(row, &size, sizeof size); /* the caller's size stays */
    }
}

int
mu_flow_stats(mu_flow_t *self, mu_flow_stats_t *rows, size_t cap, size_t *n_p)
{
    assert(self);
    assert(n_p);
    assert(rows || cap == 0);
    size_t size = cap ? rows[0].size : sizeof(mu_flow_stats_t);
    if (size < offsetof(mu_flow_stats_t, clients) + sizeof rows[0].clients)
        return mu__fail(MU_EINVAL, "flow '%s': stats row size %zu is too small", self->name, size);
    if (!self->started)
        return mu__fail(MU_EINVAL, "flow '%s': not started", self->name);
    if (!self->ended) {
        /* A supervisor that ended by itself takes no request: what it sent
           last, its final figures and the end, is still to be read. */
        mu__caller_req_t req = { .type = 'T' };
        bool asked = send(self->ctl, &req, sizeof req, MSG_NOSIGNAL) == (ssize_t) sizeof req;
        int64_t deadline = mu__deadline_ms(1000);
        int got = 0;
        while (!(asked && got == 'T') && !self->ended) {
            int left = mu__remaining_ms(deadline);
            if (left == 0)
                return mu__fail(MU_ETIMEDOUT,
                                "flow '%s': no statistics from the supervisor "
                                "within 1 s",
                                self->name);
            got = read_one(self, left);
        }
    }
    *n_p = self->nstats;
    copy_rows(self, rows, cap, size);
    return 0;
}
