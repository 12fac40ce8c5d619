/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_conn_sock.c — socket helpers mu_server and mu_client share: the
    heartbeat options, the socket monitor, the wait (src/conn/mu_conn.h). */
#include "conn/mu_conn.h"
#include "net/mu_zsocket.h"
#include <czmq.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

bool
mu__conn_heartbeat_valid(int interval_ms, int timeout_ms)
{
    /* ZMQ_HEARTBEAT_TTL is sent in deciseconds in a 16-bit field */
    return interval_ms >= 10 && timeout_ms >= interval_ms && timeout_ms <= 6553500;
}

int
mu__conn_set_int(void *handle, int option, int value)
{
    return zmq_setsockopt(handle, option, &value, sizeof value) == 0 ? 0 : -errno;
}

/* libzmq starts its heartbeat timeout when it sends a PING, up to one
   interval after the peer was last heard: ask for the rest, so a silent
   peer is dropped within timeout_ms in all (but never below half an
   interval, which would drop live peers on a busy machine). */
static int
zmtp_timeout(int interval_ms, int timeout_ms)
{
    int floor = interval_ms / 2 > 10 ? interval_ms / 2 : 10;
    return timeout_ms - interval_ms > floor ? timeout_ms - interval_ms : floor;
}

int
mu__conn_set_heartbeat(void *handle, int interval_ms, int timeout_ms)
{
    int rc = mu__conn_set_int(handle, ZMQ_HEARTBEAT_IVL, interval_ms);
    if (rc == 0)
        rc = mu__conn_set_int(handle, ZMQ_HEARTBEAT_TIMEOUT, zmtp_timeout(interval_ms, timeout_ms));
    if (rc == 0)
        rc = mu__conn_set_int(handle, ZMQ_HEARTBEAT_TTL, timeout_ms);
    if (rc == 0)
        rc = mu__conn_set_int(handle, ZMQ_LINGER, 200);
    return rc;
}

int
mu__conn_monitor_open(void *handle, const char *role, const void *owner, int events,
                      void **monitor_p)
{
    static unsigned sequence;
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://mu-%s-monitor-%p-%u", role, owner,
             __atomic_fetch_add(&sequence, 1, __ATOMIC_RELAXED));
    if (zmq_socket_monitor(handle, endpoint, events) != 0)
        return errno == EMFILE ? mu__zsocket_refusal("monitor") : -errno;
    *monitor_p = mu__zsocket_open(ZMQ_PAIR, "monitor");
    if (!*monitor_p) {
        zmq_socket_monitor(handle, NULL, 0);
        return mu_last_code(); /* recorded */
    }
    if (zmq_connect(*monitor_p, endpoint) != 0) {
        mu__conn_monitor_close(handle, monitor_p);
        return MU_EINVAL;
    }
    return 0;
}

void
mu__conn_monitor_close(void *handle, void **monitor_p)
{
    if (*monitor_p)
        zmq_socket_monitor(handle, NULL, 0);
    mu__zsocket_close(monitor_p);
}

int
mu__conn_monitor_read(void *monitor_handle, uint16_t *what_p, uint32_t *value_p)
{
    zmq_msg_t event, address;
    zmq_msg_init(&event);
    if (zmq_msg_recv(&event, monitor_handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&event);
        return MU_EAGAIN;
    }
    zmq_msg_init(&address);
    if (zmq_msg_more(&event))
        zmq_msg_recv(&address, monitor_handle, 0);
    *what_p = 0;
    *value_p = 0;
    if (zmq_msg_size(&event) >= 6) {
        memcpy(what_p, zmq_msg_data(&event), 2);
        memcpy(value_p, (uint8_t *) zmq_msg_data(&event) + 2, 4);
    }
    zmq_msg_close(&event);
    zmq_msg_close(&address);
    return 0;
}

int
mu__conn_poll(struct pollfd *fds, int count, int wait_ms)
{
    /* A signal that reached czmq's (or the application's) handler outside
       poll() is seen here; one inside poll() interrupts it. */
    if (zsys_interrupted)
        return MU_EINTR;
    if (poll(fds, (nfds_t) count, wait_ms) < 0)
        return errno == EINTR ? MU_EINTR : -errno;
    return 0;
}

void *
mu__conn_copy(const void *data, size_t size)
{
    uint8_t *copy = malloc(size + 1);
    if (!copy)
        return NULL;
    if (size)
        memcpy(copy, data, size);
    copy[size] = 0;
    return copy;
}
