/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_accept.h — private: what a listening socket of ours does when accept
    fails for want of resources (the flow's TCP edge, mu_flow_edge.c; the
    WebSocket endpoint, mu_ws_listen.c): which errors those are, and the
    warning it logs once per burst. Never installed. */
#ifndef MU_ACCEPT_H_INCLUDED
#define MU_ACCEPT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  How long such a listening socket rests before accepting again. */
#define MU__ACCEPT_PAUSE_MS 100

/*  True for the accept errors that mean "no descriptor or memory for the
    connection now" (EMFILE, ENFILE, ENOBUFS, ENOMEM): they last until
    something is freed, so the listener rests instead of retrying. */
bool mu__accept_out_of_resources(int err);

/*  The warning for a burst of such failures into buf: err's text, the
    process's open-file limit, the rest of MU__ACCEPT_PAUSE_MS, and the
    bursts not logged before it (before > 0). */
void mu__accept_warning(char *buf, size_t size, int err, uint64_t before);

#endif
