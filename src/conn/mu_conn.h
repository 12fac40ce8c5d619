/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_conn.h — private: the wire protocol of mu_server / mu_client and the
    internal interface between the connection core (mu_server*.c,
    mu_client.c) and file transfer (mu_files_*.c, src/conn/mu_files_priv.h).
    Never installed.

    Wire format (little-endian; documented in doc/wire.md, "mu_conn"):
    every protocol message is ONE ZeroMQ frame (the ROUTER adds the
    routing id frame in front at the server): [0] MU__PROTO_VERSION,
    [1] kind, [2..9] id (u64 LE), [10..] payload. Malformed messages are
    counted and answered MU__K_ERR / MU_EPROTO (server side). Error
    payload: i32 LE code, then a UTF-8 message. File kinds (0x40..0x5f)
    are parsed only by mu_files_*.c; the core hands them over unparsed. */
#ifndef MU_CONN_H_INCLUDED
#define MU_CONN_H_INCLUDED

#include "base/mu_internal.h"
#include "mu_server.h"
#include "mu_client.h"
#include "mu_files.h"
#include <stdbool.h>
#include <zmq.h>

#define MU__PROTO_VERSION 2 /* 1 was a header frame + a payload frame */
#define MU__HDR_SIZE 10

typedef enum {
    /* client -> server */
    MU__K_HELLO = 0x01,      /* payload: client name (may be empty) */
    MU__K_BYE = 0x02,        /* no payload */
    MU__K_PING = 0x03,       /* no payload; answered with PONG */
    MU__K_REQ = 0x04,        /* id = correlation id; payload = request */
    MU__K_MSG = 0x05,        /* one-way message */
    MU__K_STREAM = 0x06,     /* id = stream id; payload = chunk */
    MU__K_STREAM_END = 0x07, /* last chunk of a stream (may be empty) */
    /* server -> client */
    MU__K_WELCOME = 0x21, /* payload: 8-byte LE peer id */
    MU__K_PONG = 0x22,
    MU__K_REP = 0x23, /* id = correlation id; payload = reply */
    MU__K_ERR = 0x24, /* id = correlation id (0: not tied to a request) */
    MU__K_PUSH = 0x25,
    MU__K_SSTREAM = 0x26,     /* server stream chunk, id = stream id */
    MU__K_SSTREAM_END = 0x27, /* its last chunk */
    MU__K_GOODBYE = 0x28,     /* the server is closing */
    /* files, both directions: 0x40..0x5f, owned by mu_files_*.c */
    MU__K_FILE_FIRST = 0x40,
    MU__K_FILE_LAST = 0x5f
} mu__kind_t;

#define MU__IS_FILE_KIND(k) ((k) >= MU__K_FILE_FIRST && (k) <= MU__K_FILE_LAST)

/*  Header encoding helper (no validation). */
void mu__hdr_encode(uint8_t hdr[MU__HDR_SIZE], int kind, uint64_t id);

/*  Parses a frame: returns 0 and sets *kind_p / *id_p and the payload
    (*data_p points into frame, *size_p bytes, NULL when empty), or
    MU_EPROTO (shorter than the header, or another version). Unknown kinds
    are the caller's to reject. */
int mu__frame_decode(const void *frame, size_t size, int *kind_p, uint64_t *id_p,
                     const uint8_t **data_p, size_t *size_p);

/*  Initialises msg as a frame of kind/id with room for size payload bytes
    and returns a pointer to that room (the caller fills it), or NULL
    (out of memory; msg is then closed). */
uint8_t *mu__frame_init(zmq_msg_t *msg, int kind, uint64_t id, size_t size);

/*  mu__frame_init and a copy of size bytes of data into the payload.
    Returns 0 or MU_ENOMEM (msg is then closed). */
int mu__frame_copy(zmq_msg_t *msg, int kind, uint64_t id, const void *data, size_t size);

/*  Error payload: encodes code + message into a malloc'd buffer (*size_p);
    decodes into *code_p and a pointer/length into the message. decode
    returns 0 or MU_EPROTO (shorter than 4 bytes or code >= 0). */
void *mu__err_encode(int code, const char *message, size_t *size_p);
int mu__err_decode(const void *data, size_t size, int *code_p, const char **msg_p,
                   size_t *msg_len_p);

/*  mu__err_decode that never fails: a payload that cannot be decoded
    gives fallback and the message "malformed error message". */
void mu__err_read(const void *data, size_t size, int fallback, int *code_p, const char **msg_p,
                  size_t *msg_len_p);

/* ---- socket helpers of server and client (mu_conn_sock.c) ---- */

struct pollfd;

/*  True when a heartbeat interval/timeout pair is allowed: interval >= 10,
    timeout >= interval, timeout <= 6553500 (ZeroMQ's TTL field). */
bool mu__conn_heartbeat_valid(int interval_ms, int timeout_ms);

/*  zmq_setsockopt of an int. Returns 0 or -errno. */
int mu__conn_set_int(void *handle, int option, int value);

/*  Sets the ZeroMQ heartbeat (interval, timeout, TTL) and a 200 ms linger.
    Returns 0 or -errno. */
int mu__conn_set_heartbeat(void *handle, int interval_ms, int timeout_ms);

/*  Starts a zmq_socket_monitor of handle for events and connects a PAIR
    (*monitor_p, net/mu_zsocket.h) to it; role and owner name the inproc
    endpoint. Returns 0, -errno (-EMFILE: too many sockets or files),
    MU_ENOMEM, MU_EIO or MU_EINVAL (nothing left open then). */
int mu__conn_monitor_open(void *handle, const char *role, const void *owner, int events,
                          void **monitor_p);

/*  Stops the monitor and closes its PAIR; accepts *monitor_p NULL. */
void mu__conn_monitor_close(void *handle, void **monitor_p);

/*  Reads one monitor event without waiting: *what_p (ZMQ_EVENT_*) and
    *value_p (the event's value, an fd for DISCONNECTED). Returns 0 or
    MU_EAGAIN (none). */
int mu__conn_monitor_read(void *monitor_handle, uint16_t *what_p, uint32_t *value_p);

/*  poll() for up to wait_ms, MU_EINTR when czmq's handler saw a signal
    (zsys_interrupted) or poll was interrupted. Returns 0, MU_EINTR or
    -errno. */
int mu__conn_poll(struct pollfd *fds, int count, int wait_ms);

/*  A malloc'd copy of size bytes followed by a NUL, or NULL. */
void *mu__conn_copy(const void *data, size_t size);

/* ---- files -> core, client side (implemented in mu_client.c) ---- */

/*  Sends one protocol message, waiting up to timeout_ms for queue room.
    Returns 0, MU_EAGAIN, MU_ENOMEM or a connection failure (as
    mu__client_recv_file). */
int mu__client_send(mu_client_t *client, int kind, uint64_t id, const void *data, size_t size,
                    int timeout_ms);

/*  Waits up to timeout_ms for the next file-kind message (other messages
    are handled as usual: replies matched, pushes/streams queued for
    mu_client_recv). On success *kind_p, *id_p and the received frame in
    *msg (which the caller has initialised and must close; the payload is
    *data_p / *size_p, pointing into it, NULL when empty: no copy is made).
    MU__K_ERR messages with a non-zero id are handed over too (kind
    MU__K_ERR) so a transfer sees its errors. Returns 0, MU_EAGAIN
    (timeout), MU_EINTR, a connection failure (MU_EAUTH, MU_EHANDSHAKE,
    MU_ECONNREFUSED, MU_ENOHOST: see mu_client.c), or MU_ECONNRESET-like
    MU_EPIPE when the client noticed a reconnect since the last call (the
    caller restarts its transfer from its offset). */
int mu__client_recv_file(mu_client_t *client, int *kind_p, uint64_t *id_p, zmq_msg_t *msg,
                         const uint8_t **data_p, size_t *size_p, int timeout_ms);

/*  A fresh id for a request or transfer. */
uint64_t mu__client_next_id(mu_client_t *client);

#endif
