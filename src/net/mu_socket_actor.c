/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_actor.c — the smart socket's optional background thread,
    which does the periodic work while the owner is not inside a call, and
    the libzmq options for reconnect backoff and high-water marks. Every
    public call takes the socket's mutex while the thread runs; the thread
    sleeps on a condition variable (released mutex) until the work is due,
    so the owner is never blocked by it for longer than one tick. */
#include "net/mu_socket_int.h"
#include <errno.h>
#include <time.h>

int mu__socket_tick_locked(mu_socket_t *self);

/* The thread: does the work when due, sleeps until the next due time or
   until it is told to stop. */
static void *
actor_main(void *arg)
{
    mu_socket_t *self = arg;
    pthread_mutex_lock(&self->mu);
    while (!self->bg_stop) {
        int wait_ms = mu__socket_tick_locked(self);
        if (wait_ms < 1)
            wait_ms = 1;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!self->bg_stop
               && pthread_cond_timedwait(&self->bg_wake, &self->mu, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

int
mu_socket_set_background(mu_socket_t *self, int on)
{
    assert(self);
    if (!on) {
        mu__socket_background_stop(self);
        return 0;
    }
    if (self->bg)
        return 0;
    self->bg_stop = false;
    self->bg = true; /* from now on the owner's calls lock */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&self->bg_wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc == 0) {
        rc = pthread_create(&self->bg_thread, NULL, actor_main, self);
        if (rc != 0)
            pthread_cond_destroy(&self->bg_wake);
    }
    if (rc != 0) {
        self->bg = false;
        return mu__fail(MU_ENOMEM, "mu_socket_set_background: cannot start a thread (%s)",
                        strerror(rc));
    }
    return 0;
}

void
mu__socket_background_stop(mu_socket_t *self)
{
    if (!self->bg)
        return;
    pthread_mutex_lock(&self->mu);
    self->bg_stop = true;
    pthread_cond_signal(&self->bg_wake);
    pthread_mutex_unlock(&self->mu);
    pthread_join(self->bg_thread, NULL);
    pthread_cond_destroy(&self->bg_wake);
    self->bg = false;
}

int
mu_socket_set_reconnect(mu_socket_t *self, int initial_ms, int max_ms)
{
    assert(self);
    if (initial_ms < 1 || max_ms < initial_ms || max_ms > 3600000)
        return mu__fail(MU_EINVAL,
                        "reconnect backoff %d..%d ms: need 1 <= initial <= max <= 3600000",
                        initial_ms, max_ms);
    mu__socket_lock(self);
    mu__socket_set_int(self, ZMQ_RECONNECT_IVL, initial_ms);
    mu__socket_set_int(self, ZMQ_RECONNECT_IVL_MAX, max_ms);
    mu__socket_unlock(self);
    return 0;
}

int
mu_socket_set_hwm(mu_socket_t *self, int send_hwm, int recv_hwm)
{
    assert(self);
    if (send_hwm < 1 || send_hwm > (1 << 24) || recv_hwm < 1 || recv_hwm > (1 << 24))
        return mu__fail(MU_EINVAL, "socket high-water marks send %d, receive %d: each 1..2^24",
                        send_hwm, recv_hwm);
    mu__socket_lock(self);
    self->rcvhwm = recv_hwm;
    int rcv = recv_hwm;
    if (self->reliable && rcv < (int) (2 * self->window + 1000))
        rcv = (int) (2 * self->window + 1000);
    mu__socket_set_int(self, ZMQ_SNDHWM, send_hwm);
    mu__socket_set_int(self, ZMQ_RCVHWM, rcv);
    mu__socket_unlock(self);
    return 0;
}
