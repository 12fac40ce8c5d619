/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_reliable.c — opt-in at-least-once delivery on a balanced link.

    The sender numbers each message (its own 64-bit sequence) and keeps a
    copy in a window of MU__REL_WINDOW slots indexed by id modulo the window
    until the receiver acknowledges it. Messages are 'R', the sender's
    runner index (uint32, little-endian), the id (uint64, little-endian),
    then the payload; an acknowledgement message is up to 64 ids (uint64,
    little-endian) (doc/wire.md). The receiver acks
    after its handler returned (so after its own emits were accepted): the
    ids, gathered up to 64 per message and sent at the latest after each
    batch of input or before it waits, go on a PUSH socket connected to the
    sender's ack PULL socket (ipc://DIR/a<stage>-<index>). When the supervisor reports that a
    receiving runner died ('r' or, during a drain, 'x'), the sender sends
    that runner's unacknowledged messages again, balanced over the runners
    (the restarted one included); and a message unacknowledged for 2 s is
    sent again anyway (it may have been written to a connection whose peer
    had just died, before the supervisor's notice). A message the dead
    runner had finished
    but not yet acknowledged arrives twice: duplicates are possible, losses
    are not, on this link. The guarantee is per link: a runner that dies
    after acknowledging its input but before its own outputs were delivered
    loses those outputs unless its downstream link is reliable too and the
    runner itself survives. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_reliable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define HDR (1 + 4 + 8)
#define RETRY_MS 2000 /* unacknowledged this long: sent again */
#define SCAN_MS 500   /* how often to look for such messages */

struct mu__rel_t {
    struct {
        uint64_t id;
        int target;
        void *data; /* the whole message, header included; NULL: free */
        size_t size;
        int64_t sent_ms;
    } slot[MU__REL_WINDOW];
    int64_t last_scan_ms;
    uint64_t next_id;
    size_t unacked;
    void *ack_pull;
    mu__rel_port_t port; /* the layer above: send, wait */
    bool redeliver[MU__FLOW_MAX_RUNNERS];
    bool any_redeliver;
};

int
mu__rel_setup(mu__runner_t *r, void *ack_pull, const mu__rel_port_t *port)
{
    r->rel = calloc(1, sizeof *r->rel);
    if (!r->rel)
        return MU_ENOMEM;
    r->rel->ack_pull = ack_pull;
    r->rel->port = *port;
    /* Ids differ between incarnations of a runner, so a late ack for the
       previous one frees nothing of this one. */
    r->rel->next_id = ((uint64_t) mu__now_ms() << 32) | 1;
    return 0;
}

void *
mu__rel_ack_socket(const mu__runner_t *r)
{
    return r->rel ? r->rel->ack_pull : NULL;
}

size_t
mu__rel_unacked(const mu__runner_t *r)
{
    return r->rel ? r->rel->unacked : 0;
}

void
mu__rel_take_acks(mu__runner_t *r)
{
    mu__rel_t *rel = r->rel;
    if (!rel)
        return;
    uint8_t buf[MU__ACK_BATCH * 8];
    int len;
    while ((len = zmq_recv(rel->ack_pull, buf, sizeof buf, ZMQ_DONTWAIT)) > 0) {
        int n = (len > (int) sizeof buf ? (int) sizeof buf : len) / 8;
        for (int i = 0; i < n; i++) {
            uint64_t id = mu__get_le64(buf + 8 * i);
            size_t k = (size_t) (id % MU__REL_WINDOW);
            if (rel->slot[k].data && rel->slot[k].id == id) {
                free(rel->slot[k].data);
                rel->slot[k].data = NULL;
                rel->unacked--;
            }
        }
    }
}

void
mu__rel_dead(mu__runner_t *r, int target)
{
    if (r->rel && target >= 0 && target < r->npush) {
        r->rel->redeliver[target] = true;
        r->rel->any_redeliver = true;
    }
}

/*  Sends the copy in slot k again, balanced; records the new target. */
static int
resend(mu__runner_t *r, size_t k)
{
    mu__rel_t *rel = r->rel;
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, rel->slot[k].size) != 0)
        return MU_ENOMEM;
    memcpy(zmq_msg_data(&m), rel->slot[k].data, rel->slot[k].size);
    int target = -1;
    int rc = rel->port.send_balanced(r, &m, &target);
    if (rc == 0) {
        rel->slot[k].target = target;
        rel->slot[k].sent_ms = mu__now_ms();
    }
    return rc < 0 ? rc : 0;
}

/*  Sends again what stayed unacknowledged too long: a message written to a
    connection whose peer had just died, before the supervisor's notice. */
static int
retry_old(mu__runner_t *r)
{
    mu__rel_t *rel = r->rel;
    int64_t now = mu__now_ms();
    if (now - rel->last_scan_ms < SCAN_MS)
        return 0;
    rel->last_scan_ms = now;
    for (size_t k = 0; k < MU__REL_WINDOW; k++)
        if (rel->slot[k].data && now - rel->slot[k].sent_ms >= RETRY_MS) {
            int rc = resend(r, k);
            if (rc != 0)
                return rc;
            r->stats.redelivered++;
        }
    return 0;
}

int
mu__rel_redeliver(mu__runner_t *r)
{
    mu__rel_t *rel = r->rel;
    if (!rel)
        return 0;
    int rc = retry_old(r);
    if (rc != 0 || !rel->any_redeliver)
        return rc;
    bool dead[MU__FLOW_MAX_RUNNERS];
    memcpy(dead, rel->redeliver, sizeof dead);
    memset(rel->redeliver, 0, sizeof rel->redeliver);
    rel->any_redeliver = false;
    for (size_t k = 0; k < MU__REL_WINDOW; k++)
        if (rel->slot[k].data && dead[rel->slot[k].target]) {
            rc = resend(r, k);
            if (rc != 0)
                return rc;
            r->stats.redelivered++;
        }
    return 0;
}

int
mu__rel_send(mu__runner_t *r, const void *data, size_t size)
{
    mu__rel_t *rel = r->rel;
    int rc = mu__rel_redeliver(r);
    if (rc != 0)
        return rc;
    uint64_t id = rel->next_id;
    if ((id & 63) == 0) /* keep the window open: take acks as they come */
        mu__rel_take_acks(r);
    size_t k = (size_t) (id % MU__REL_WINDOW);
    while (rel->slot[k].data) { /* the window is full: wait for acks */
        if ((rc = rel->port.wait_acks(r)) != 0)
            return rc;
        if ((rc = mu__rel_redeliver(r)) != 0)
            return rc;
    }
    uint8_t *copy = malloc(HDR + size);
    if (!copy)
        return MU_ENOMEM;
    copy[0] = 'R';
    mu__put_le32(copy + 1, (uint32_t) r->index);
    mu__put_le64(copy + 5, id);
    if (size)
        memcpy(copy + HDR, data, size);
    rel->next_id++;
    rel->slot[k].id = id;
    rel->slot[k].data = copy;
    rel->slot[k].size = HDR + size;
    rel->unacked++;
    return resend(r, k);
}

bool
mu__rel_parse(const void *msg, size_t size, int *sender_p, uint64_t *id_p)
{
    const uint8_t *p = msg;
    if (size < HDR || p[0] != 'R')
        return false;
    uint32_t sender = mu__get_le32(p + 1);
    if (sender >= MU__FLOW_MAX_RUNNERS)
        return false;
    *sender_p = (int) sender;
    *id_p = mu__get_le64(p + 5);
    return true;
}

size_t
mu__rel_header(void)
{
    return HDR;
}
