/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_ready.c — the runners' "ready" messages: the socket pair they
    are sent on (each runner, once set up, sends its key: stage *
    MU__FLOW_MAX_RUNNERS + index), the keys the caller has seen, what
    mu_flow_start waits for (the listening WebSocket edges, so that a
    client can connect once it returns) and mu_flow_wait_ready (every
    runner of this process, with mu_flow.c). The contract is in
    include/mu_flow.h. */
#include "flow/mu_flow_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*  Whether runner `index` of stage s runs in this process's flow. */
static bool
runs_here(const mu_flow_t *self, int s, int index)
{
    return s >= 0 && s < self->nstages && !self->stages[s].remote && index >= 0
           && index < self->stages[s].n;
}

/*  Whether the runner of key is a listening WebSocket edge of this process. */
static bool
is_ws_listener(const mu_flow_t *self, int key)
{
    int s = key / MU__FLOW_MAX_RUNNERS, i = key % MU__FLOW_MAX_RUNNERS;
    if (!runs_here(self, s, i) || self->stages[s].kind != MU__ST_EDGE)
        return false;
    const mu_flow_edge_t *e = &self->stages[s].edges[i];
    return e->listen && e->transport == MU_FLOW_EDGE_WS;
}

int
mu__flow_ready_open(mu_flow_t *self)
{
    size_t keys = (size_t) self->nstages * MU__FLOW_MAX_RUNNERS;
    self->ready_seen = calloc((keys + 7) / 8, 1);
    if (!self->ready_seen)
        return -ENOMEM;
    self->ready_want = 0;
    for (int s = 0; s < self->nstages; s++)
        self->ready_want += self->stages[s].remote ? 0 : self->stages[s].n;
    int pair[2];
    /* SEQPACKET: every runner writes whole records on the shared end,
       without the 10-datagram queue of a local datagram socket. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        int err = errno;
        free(self->ready_seen);
        self->ready_seen = NULL;
        return -err;
    }
    self->ready_fd = pair[0];
    self->runner_ready_fd = pair[1];
    return 0;
}

void
mu__flow_ready_started(mu_flow_t *self)
{
    if (self->runner_ready_fd >= 0)
        close(self->runner_ready_fd); /* the supervisor and the runners have it */
    self->runner_ready_fd = -1;
}

void
mu__flow_ready_close(mu_flow_t *self)
{
    mu__flow_ready_started(self);
    if (self->ready_fd >= 0)
        close(self->ready_fd);
    self->ready_fd = -1;
    free(self->ready_seen);
    self->ready_seen = NULL;
}

void
mu__flow_say_ready(const mu_flow_t *flow, int stage, int index)
{
    int key = stage * MU__FLOW_MAX_RUNNERS + index;
    if (flow->runner_ready_fd >= 0) /* a full pair loses a restart's, never a first one's */
        (void) send(flow->runner_ready_fd, &key, sizeof key, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/*  Takes the keys waiting on the pair; counts each runner once. */
static void
take_ready(mu_flow_t *self)
{
    int key;
    while (self->ready_fd >= 0
           && recv(self->ready_fd, &key, sizeof key, MSG_DONTWAIT) == sizeof key) {
        int s = key / MU__FLOW_MAX_RUNNERS, i = key % MU__FLOW_MAX_RUNNERS;
        if (key < 0 || !runs_here(self, s, i))
            continue;
        uint8_t bit = (uint8_t) (1u << (key % 8));
        if (!(self->ready_seen[key / 8] & bit)) {
            self->ready_seen[key / 8] |= bit;
            self->ready_count++;
        }
    }
}

/*  Whether every listening WebSocket edge of this process said it is ready. */
static bool
ws_listeners_ready(const mu_flow_t *self)
{
    for (int key = 0; key < self->nstages * MU__FLOW_MAX_RUNNERS; key++)
        if (is_ws_listener(self, key) && !(self->ready_seen[key / 8] & (1u << (key % 8))))
            return false;
    return true;
}

bool
mu__flow_ready_wait(const mu_flow_t *self, int timeout_ms)
{
    struct pollfd p[2] = { { .fd = self->ready_fd, .events = POLLIN },
                           { .fd = self->ctl, .events = POLLIN } };
    if (poll(p, 2, timeout_ms) < 0)
        return false; /* EINTR: the caller looks again */
    return p[1].revents != 0;
}

void
mu__flow_ready_wait_ws(mu_flow_t *self)
{
    take_ready(self);
    while (!ws_listeners_ready(self) && !mu__flow_ready_wait(self, -1))
        take_ready(self);
}

bool
mu__flow_ready_all(mu_flow_t *self)
{
    take_ready(self);
    return self->ready_count >= self->ready_want;
}
