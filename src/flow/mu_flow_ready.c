/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_ready.c — which runners are set up: a page shared by the caller,
    the supervisor and the runners (mapped before the supervisor is forked,
    inherited by every fork), with a flag per runner, set by the runner
    once set up, and a word per pipeline, set by the supervisor when the
    pipeline ended; after each store the writer adds to an eventfd the
    caller polls. Nothing queues, so nothing is lost however many runners
    there are or however long the caller does not look (doc/flow.md,
    "Ready"). What mu_flow_start waits for (the listening WebSocket edges,
    so that a client can connect once it returns) and what
    mu_flow_wait_ready counts (with mu_flow.c) are read from it. The
    contract is in include/mu_flow.h. */
#include "flow/mu_flow_int.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

/*  The shared page: per pipeline how it ended (written by the supervisor:
    the code, then the state), then a flag per runner key (stage *
    MU__FLOW_MAX_RUNNERS + index). A zeroed page: nothing ready, every
    pipeline running. */
enum { PIPE_RUNNING = 0, PIPE_FINISHED = 1, PIPE_FAILED = 2 };

typedef struct {
    int32_t state; /* PIPE_* */
    int32_t rc;    /* the failure's code */
} pipe_end_t;

static size_t
page_size(const mu_flow_t *self)
{
    return MU__FLOW_MAX_PIPES * sizeof(pipe_end_t) + (size_t) self->nstages * MU__FLOW_MAX_RUNNERS;
}

static pipe_end_t *
pipe_ends(const mu_flow_t *self)
{
    return (pipe_end_t *) (void *) self->ready_page;
}

static uint8_t *
flag(const mu_flow_t *self, int s, int i)
{
    return self->ready_page + MU__FLOW_MAX_PIPES * sizeof(pipe_end_t)
           + (size_t) s * MU__FLOW_MAX_RUNNERS + (size_t) i;
}

/*  Whether runner `index` of stage s runs in this process's flow. */
static bool
runs_here(const mu_flow_t *self, int s, int index)
{
    return s >= 0 && s < self->nstages && !self->stages[s].remote && index >= 0
           && index < self->stages[s].n;
}

static bool
is_ws_listener(const mu_flow_t *self, int s, int i)
{
    if (self->stages[s].kind != MU__ST_EDGE)
        return false;
    const mu_flow_edge_t *e = &self->stages[s].edges[i];
    return e->listen && e->transport == MU_FLOW_EDGE_WS;
}

int
mu__flow_ready_open(mu_flow_t *self)
{
    void *page = mmap(NULL, page_size(self), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                      0);
    if (page == MAP_FAILED)
        return -errno;
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        munmap(page, page_size(self));
        return -err;
    }
    self->ready_page = page;
    self->ready_fd = fd;
    return 0;
}

void
mu__flow_ready_close(mu_flow_t *self)
{
    if (self->ready_fd >= 0)
        close(self->ready_fd);
    self->ready_fd = -1;
    if (self->ready_page)
        munmap(self->ready_page, page_size(self));
    self->ready_page = NULL;
}

/*  Wakes the caller (a full counter cannot happen: 2^64 - 2 additions). */
static void
poke(const mu_flow_t *flow)
{
    uint64_t one = 1;
    if (flow->ready_fd >= 0)
        (void) write(flow->ready_fd, &one, sizeof one);
}

void
mu__flow_say_ready(const mu_flow_t *flow, int stage, int index)
{
    if (!flow->ready_page || !runs_here(flow, stage, index))
        return;
    __atomic_store_n(flag(flow, stage, index), 1, __ATOMIC_RELEASE);
    poke(flow);
}

void
mu__flow_ready_pipe_ended(const mu_flow_t *flow, int pipe, int rc)
{
    if (!flow->ready_page || pipe < 0 || pipe >= MU__FLOW_MAX_PIPES)
        return;
    pipe_end_t *e = &pipe_ends(flow)[pipe];
    __atomic_store_n(&e->rc, (int32_t) rc, __ATOMIC_RELAXED);
    __atomic_store_n(&e->state, rc == 0 ? PIPE_FINISHED : PIPE_FAILED, __ATOMIC_RELEASE);
    poke(flow);
}

/*  How pipeline p ended (PIPE_*), its code in *rc_p when it failed. */
static int
pipe_state(const mu_flow_t *self, int p, int *rc_p)
{
    if (p < 0 || p >= MU__FLOW_MAX_PIPES)
        return PIPE_RUNNING;
    const pipe_end_t *e = &pipe_ends(self)[p];
    int state = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
    *rc_p = __atomic_load_n(&e->rc, __ATOMIC_RELAXED);
    return state;
}

static bool
said_ready(const mu_flow_t *self, int s, int i)
{
    return __atomic_load_n(flag(self, s, i), __ATOMIC_ACQUIRE) != 0;
}

void
mu__flow_ready_count(const mu_flow_t *self, mu__flow_ready_t *out)
{
    *out = (mu__flow_ready_t) { .failed_pipe = -1 };
    for (int s = 0; self->ready_page && s < self->nstages; s++) {
        int rc = 0, state = pipe_state(self, self->stages[s].pipe, &rc);
        for (int i = 0; runs_here(self, s, i); i++) {
            out->want++;
            if (said_ready(self, s, i)) {
                out->ready++;
                out->settled++;
                continue;
            }
            if (state == PIPE_FAILED && out->failed_pipe < 0) {
                out->failed_pipe = self->stages[s].pipe;
                out->failed_rc = rc;
            }
            out->settled += state != PIPE_RUNNING;
            out->ws_waiting += state == PIPE_RUNNING && is_ws_listener(self, s, i);
        }
    }
}

bool
mu__flow_ready_wait(const mu_flow_t *self, int timeout_ms)
{
    struct pollfd p[2] = { { .fd = self->ready_fd, .events = POLLIN },
                           { .fd = self->ctl, .events = POLLIN } };
    if (poll(p, 2, timeout_ms) < 0)
        return false; /* EINTR: the caller looks again */
    uint64_t n;
    if (p[0].revents)
        (void) read(self->ready_fd, &n, sizeof n); /* resets the counter */
    return p[1].revents != 0;
}

void
mu__flow_ready_wait_ws(mu_flow_t *self)
{
    mu__flow_ready_t r;
    for (mu__flow_ready_count(self, &r); r.ws_waiting > 0; mu__flow_ready_count(self, &r))
        if (mu__flow_ready_wait(self, -1))
            return;
}
