/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server_priv.h — private: the state of a mu_server and the calls
    between its parts. Never installed.

    mu_server.c      construction, settings, binds, answers, queries
    mu_server_recv.c mu_server_recv: reading, dispatching, leave detection
    mu_server_peers.c the peer table, sending, answering, the files port
    Calls go down that list only (and to events, files, budget, conn). */
#ifndef MU_SERVER_PRIV_H_INCLUDED
#define MU_SERVER_PRIV_H_INCLUDED

#include "conn/mu_conn.h"
#include "conn/mu_files_priv.h"
#include "conn/mu_server_events.h"
#include "conn/mu_budget.h"
#include "net/mu_zap.h"
#include "net/mu_zsocket.h"
#include <czmq.h>
#include <stdbool.h>

#define MU__SERVER_MAX_NAME 255
#define MU__SERVER_MAX_RID 255

typedef enum { MU__SEC_NONE, MU__SEC_INSECURE, MU__SEC_CURVE } mu__security_t;

/*  Counters of the server and of each peer (the public structs are
    filled from them). */
typedef struct {
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    uint64_t protocol_errors, peers_joined, peers_left;
    uint64_t files_sent, files_received;
} mu__server_counters_t;

typedef struct {
    uint64_t id;
    uint8_t rid[MU__SERVER_MAX_RID];
    size_t rid_len;
    char rid_key[2 * MU__SERVER_MAX_RID + 1];
    char id_key[17];
    uint8_t key[MU_KEY_BYTES];
    char *name;
    int fd;
    mu__server_counters_t stats;
    mu__budget_peer_t *account; /* its file data queued in libzmq */
} mu__peer_t;

struct mu_server_t {
    mu__security_t security;
    mu_keys_t *keys;
    mu_allow_t *allow;
    mu__zap_domain_t *zap;
    int hb_ivl, hb_timeout;
    size_t max_message;
    void *handle, *monitor;   /* ROUTER, the monitor's PAIR (net/mu_zsocket.h) */
    zlistx_t *endpoints;      /* char * */
    zhashx_t *by_rid, *by_id; /* mu__peer_t *; by_id owns them */
    mu__peer_t *last_peer;    /* cache of the last lookup by rid */
    uint64_t next_peer_id;
    mu__server_counters_t totals;
    mu__events_t events;     /* events ready for the application */
    int64_t monitor_read_ms; /* when the monitor was last drained */
    bool monitor_quiet;      /* drained to EAGAIN, its fd silent since */
    bool files_touched;      /* a file message was handled */
    mu__files_server_t *files;
    mu__budget_t *budget; /* file data queued, all peers */
};

/* ---- mu_server_peers.c ---- */

/*  zhashx destructor of a peer. */
void mu__peer_destroy(void **item_p);

mu__peer_t *mu__peer_by_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len);
mu__peer_t *mu__peer_by_id(const mu_server_t *self, uint64_t id);

/*  Makes and registers a peer (NULL when out of memory). */
mu__peer_t *mu__peer_new(mu_server_t *self, const uint8_t *rid, size_t rid_len, const char *name,
                         size_t name_len);

/*  Removes a peer and queues its LEAVE. */
void mu__peer_leave(mu_server_t *self, mu__peer_t *peer);

/*  Queues an event of the server (a dropped request is answered). */
void mu__server_event(mu_server_t *self, mu_event_kind_t kind, uint64_t peer, uint64_t id,
                      const void *data, size_t size, int last);

/*  Sends to a routing id / to a peer (counted). Return 0, MU_EAGAIN,
    MU_EHOSTUNREACH or MU_ENOMEM. */
int mu__server_send_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len, int kind,
                        uint64_t id, const void *data, size_t size);
int mu__server_send_peer(mu_server_t *self, mu__peer_t *peer, int kind, uint64_t id,
                         const void *data, size_t size);
int mu__server_send(mu_server_t *self, uint64_t peer, int kind, uint64_t id, const void *data,
                    size_t size);
int mu__server_send_error_rid(mu_server_t *self, const uint8_t *rid, size_t rid_len, uint64_t id,
                              int code, const char *message);
void mu__server_count_out(mu_server_t *self, mu__peer_t *peer, size_t size);

/*  Answers a malformed message with MU_EPROTO and counts it. */
void mu__server_protocol_error(mu_server_t *self, mu__peer_t *peer, const uint8_t *rid,
                               size_t rid_len, uint64_t id, const char *message);

/*  Answers a request event with kind (REP or ERR). Returns 0, MU_EINVAL
    (not an unanswered request of self) or a send error. */
int mu__server_answer(mu_server_t *self, mu_event_t *request, int kind, const void *data,
                      size_t size);

/*  The port the file service reaches this server through. */
void mu__server_files_port(mu_server_t *self, mu__files_port_t *port);

#endif
