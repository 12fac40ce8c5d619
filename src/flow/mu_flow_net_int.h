/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_net_int.h — private: the state shared by the two halves of the
    multi-host links, mu_flow_net.c (output, set-up) and mu_flow_net_in.c
    (input). Never installed. */
#ifndef MU_FLOW_NET_INT_H_INCLUDED
#define MU_FLOW_NET_INT_H_INCLUDED

#include "flow/mu_flow_int.h"
#include "flow/mu_flow_seen.h"

#include <pthread.h>

#define WINDOW 32    /* credit per (upstream, downstream) pair */
#define PROBE_MS 25  /* hello to a peer not (yet) live */
#define WARN_MS 5000 /* stage without live runner: warning period */
#define REDONE 4096  /* redelivered ids remembered (duplicates) */
#define C_HDR 30     /* 'C' header */
#define R_HDR 18     /* 'R' header: type, id, flags, origin */
#define R_REDONE 1   /* 'R' flags: sent again (its first receiver was lost) */
#define R_DERIVED 2  /* 'R' flags: emitted while handling a flagged copy */
#define MAX_ACKS 64  /* ids per 'C' */
#define HWM 100000
#define CLOSE_MS 1000 /* linger of a runner's sockets on exit (at most) */
#define H_LEN 11      /* 'H' hello: type, incarnation, protocol version */
#define V_LEN 3       /* 'V' refusal: type, the refusing side's protocol version */
/*  Messages an edge holding one for a client reads ahead (mu__net_skim),
    times the number of upstream runners, in all: each sender's credit
    bounds its data (WINDOW, not consumed), a hello repeated with nothing
    between is kept once; the rest is slack for the ends of stream and the
    hellos of restarts. */
#define AHEAD_PER_PEER (2 * WINDOW + 8)
/*  The version of the multi-host wire protocol (doc/wire.md) this build
    speaks, carried in every hello; a peer of another version is refused.
    1 stands for the builds before the version was carried (9-byte hello).
    Raise it with every change of a layout in doc/wire.md "Multi-host links". */
#define MU__NET_PROTO 2

typedef struct {
    int host;
    uint8_t rid[5];
    char endpoint[96];
    bool alive, ever;
    bool shaking;         /* connected, handshake not done (CURVE) */
    bool connected;       /* its connection is up (handshake done) */
    uint64_t refused;     /* failed handshakes */
    bool ver_refused_now; /* refused for its protocol version, until a hello of ours */
    unsigned ver;         /* the protocol version it last spoke when refused */
    uint64_t ver_refused; /* hellos refused for their version */
    int64_t ver_logged;   /* when a refusal was last logged (ms; at most one a second) */
    uint64_t inc;
    int64_t last_rx, last_tx;
    /* downstream peer (we send to it) */
    uint64_t sent, consumed;
    bool eos_sent, eos_acked;
    /* upstream peer (it sends to us) */
    bool eos;
    uint64_t used, reported;
    uint64_t acks[MAX_ACKS];
    int nacks;
    int nahead;                 /* its messages read ahead (mu__net_skim) */
    uint8_t ahead_hello[H_LEN]; /* the last of them when a hello (ahead_hello_len > 0) */
    uint8_t ahead_hello_len;
} peer_t;

/*  Records that peer p spoke protocol version ver, which we refuse, at now
    (ms), and returns whether to log it: at most one line a second per
    peer, so a peer cycling through versions cannot flood the log. */
static inline bool
mu__net_version_refused(peer_t *p, unsigned ver, int64_t now)
{
    p->ver_refused_now = true;
    p->ver = ver;
    p->ver_refused++;
    if (p->ver_refused > 1 && now - p->ver_logged < 1000)
        return false;
    p->ver_logged = now;
    return true;
}

#define REDO (-1) /* entry_t.peer: its peer was lost, to send again (counted in nredo) */
#define NEW (-2)  /* entry_t.peer: being sent by send_reliable (not in nredo) */

typedef struct {
    uint64_t id;
    int peer; /* the peer it went to, REDO or NEW */
    void *data;
    size_t size;
    bool redelivered;
} entry_t;

struct mu__net_t {
    void *in, *out, *mon;
    void *in_mon; /* input's failed handshakes (CURVE), or NULL */
    uint64_t in_refused;
    int64_t started_ms;
    bool joins_done; /* first message: waited for the listed peers */
    peer_t *up, *down;
    int nup, ndown;
    uint64_t inc;
    int cur; /* upstream peer of the message being handled */
    bool cur_rel;
    uint64_t cur_id;
    /* At-least-once input: the message being handled (its origin and
       flags, and what it emitted so far) and the window of origins
       handled (duplicates counted there). */
    bool deriving;
    uint8_t cur_flags;
    uint64_t cur_origin;
    uint32_t emits;
    mu__seen_t *seen;
    bool any_eos;
    /* Read ahead (mu__net_skim): messages taken off the input socket, not
       yet received, in order: ahead[ahead_head..nahead), each with its
       upstream runner in ahead_g. */
    zmq_msg_t **ahead;
    int *ahead_g;
    size_t ahead_head, nahead, ahead_cap;
    int64_t up_alive_at, none_down_since, last_warn, last_scan;
    bool failed_sent;
    entry_t *ent; /* at-least-once: MU__REL_WINDOW slots */
    uint64_t seq;
    size_t unacked;
    int nredo;
    bool redo_note; /* log the next redelivery (after a loss) */
    uint64_t redone[REDONE];
    int nredone;
    int rr;
    uint64_t duplicates, lost, joined, auth, redelivered, drops;
    uint64_t errors; /* malformed credit, counted also by the heartbeat thread: merged into
                        r->stats by mu__net_stats (r->stats is the runner thread's) */
    /* Heartbeat thread (mu_flow_net_hb.c): mu is held by the runner's
       thread except while it runs user code (user_since: since when, ms;
       0: not in user code). */
    pthread_mutex_t mu;
    int64_t user_since;
    void (*service)(mu__runner_t *r); /* what the thread runs: mu__net_service */
    bool hb, closed;
};

/*  Sends a two-frame message (routing id, header + payload); 0 or -errno. */
int mu__net_xmit(void *s, const uint8_t *rid, const void *hdr, size_t hlen, const void *data,
                 size_t size);

/*  Heartbeat thread (mu_flow_net_hb.c): started at set-up, with n->mu
    held by the caller (the runner's thread); it runs service (the links'
    service, passed in so that this file does not call back into
    mu_flow_net.c, which calls it). */
void mu__net_hb_start(mu__runner_t *r, void (*service)(mu__runner_t *r));

/*  From user code (an emit): takes the links back from the heartbeat
    thread; returns what mu__net_give needs (0: not in user code). */
int64_t mu__net_take(mu__runner_t *r);
void mu__net_give(mu__runner_t *r, int64_t since);

/*  Input half (mu_flow_net_in.c): silences, heartbeats to upstream. */
void mu__net_up_timers(mu__runner_t *r, int64_t now);

/*  Input half: frees what mu__net_skim read ahead (at the exit). */
void mu__net_drop_ahead(mu__net_t *n);

#endif
