/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_budget.c — byte budgets for the file data a server queues (the
    contract is in src/conn/mu_budget.h). The counters are updated on the
    server's thread (a frame is made) and on libzmq's I/O thread (a frame
    is freed), so they are atomics. The wake-up: the server sets waiting
    before it reads the counters (mu__budget_admit), a release clears it
    after it lowered them and then writes the eventfd; with sequentially
    consistent atomics either the server sees the lowered count or the
    release sees waiting set, so no drain goes unnoticed. */
#include "conn/mu_budget.h"
#include "conn/mu_conn.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct mu__budget_t {
    atomic_size_t refs;
    atomic_size_t queued;
    atomic_bool waiting;
    size_t per_peer, per_server; /* the server's thread only */
    int wake_fd;
};

struct mu__budget_peer_t {
    atomic_size_t refs;
    atomic_size_t queued;
    mu__budget_t *server;
};

/* What precedes each counted frame's bytes in its allocation. */
typedef struct {
    mu__budget_peer_t *peer;
    size_t bytes;
} frame_head_t;

#define HEAD_ROOM ((sizeof(frame_head_t) + 15) & ~(size_t) 15)

mu__budget_t *
mu__budget_new(size_t per_peer, size_t per_server)
{
    assert(per_peer > 0 && per_server > 0);
    mu__budget_t *self = calloc(1, sizeof *self);
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    self->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->wake_fd < 0) {
        int err = errno;
        free(self);
        errno = err;
        return NULL;
    }
    atomic_init(&self->refs, 1);
    atomic_init(&self->queued, 0);
    atomic_init(&self->waiting, false);
    mu__budget_set(self, per_peer, per_server);
    return self;
}

void
mu__budget_set(mu__budget_t *self, size_t per_peer, size_t per_server)
{
    assert(self && per_peer > 0 && per_server > 0);
    self->per_peer = per_peer;
    self->per_server = per_server;
}

void
mu__budget_release(mu__budget_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu__budget_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub(&self->refs, 1) == 1) {
        close(self->wake_fd);
        free(self);
    }
}

int
mu__budget_fd(const mu__budget_t *self)
{
    assert(self);
    return self->wake_fd;
}

void
mu__budget_woken(mu__budget_t *self)
{
    assert(self);
    uint64_t count;
    while (read(self->wake_fd, &count, sizeof count) < 0 && errno == EINTR)
        ;
}

mu__budget_peer_t *
mu__budget_peer_new(mu__budget_t *server)
{
    assert(server);
    mu__budget_peer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init(&self->refs, 1);
    atomic_init(&self->queued, 0);
    atomic_fetch_add(&server->refs, 1);
    self->server = server;
    return self;
}

void
mu__budget_peer_release(mu__budget_peer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu__budget_peer_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub(&self->refs, 1) == 1) {
        mu__budget_release(&self->server);
        free(self);
    }
}

size_t
mu__budget_peer_queued(const mu__budget_peer_t *self)
{
    assert(self);
    return atomic_load(&((mu__budget_peer_t *) self)->queued);
}

/* True when bytes more fit below limit over queued (or nothing is queued). */
static bool
fits(size_t queued, size_t bytes, size_t limit)
{
    return queued == 0 || (bytes <= limit && queued <= limit - bytes);
}

bool
mu__budget_admit(mu__budget_peer_t *self, size_t bytes)
{
    assert(self);
    mu__budget_t *server = self->server;
    atomic_store(&server->waiting, true); /* before reading: see the header */
    bool ok = fits(atomic_load(&self->queued), bytes, server->per_peer)
              && fits(atomic_load(&server->queued), bytes, server->per_server);
    if (ok)
        atomic_store(&server->waiting, false);
    return ok;
}

/* libzmq's free callback of a counted frame (any thread). */
static void
frame_free(void *data, void *hint)
{
    (void) data;
    frame_head_t *head = hint;
    mu__budget_peer_t *peer = head->peer;
    mu__budget_t *server = peer->server;
    atomic_fetch_sub(&peer->queued, head->bytes);
    atomic_fetch_sub(&server->queued, head->bytes);
    if (atomic_exchange(&server->waiting, false)) {
        uint64_t one = 1;
        ssize_t rc = write(server->wake_fd, &one, sizeof one);
        (void) rc; /* EAGAIN: the counter is already non-zero, awake anyway */
    }
    free(head);
    mu__budget_peer_release(&peer);
}

uint8_t *
mu__budget_frame_init(mu__budget_peer_t *self, zmq_msg_t *msg, int kind, uint64_t id, size_t size)
{
    assert(self && msg);
    size_t bytes = MU__HDR_SIZE + size;
    frame_head_t *head = malloc(HEAD_ROOM + bytes);
    if (!head) {
        zmq_msg_init(msg);
        return NULL;
    }
    head->peer = self;
    head->bytes = bytes;
    uint8_t *frame = (uint8_t *) head + HEAD_ROOM;
    atomic_fetch_add(&self->refs, 1);
    atomic_fetch_add(&self->queued, bytes);
    atomic_fetch_add(&self->server->queued, bytes);
    if (zmq_msg_init_data(msg, frame, bytes, frame_free, head) != 0) {
        frame_free(frame, head);
        zmq_msg_init(msg);
        return NULL;
    }
    mu__hdr_encode(frame, kind, id);
    return frame + MU__HDR_SIZE;
}
