/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_edge.h — private: the edge runners, TCP (mu_flow_edge.c) and
    WebSocket (mu_flow_ws_edge.c). Never installed. */
#ifndef MU_FLOW_EDGE_H_INCLUDED
#define MU_FLOW_EDGE_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  The TCP edge runner's loop (mu_flow_edge.c); never returns. */
void mu__flow_edge_main(mu__runner_t *r) __attribute__((noreturn));

/*  The WebSocket edge runner's loop (mu_flow_ws_edge.c); never returns. */
void mu__flow_ws_edge_main(mu__runner_t *r) __attribute__((noreturn));

/*  A TCP client's pipe as an edge sets it up (TCP_NODELAY, max_frame,
    header_bytes of length prefix (0: 4), no waiting, no linger); owns fd
    once it returns a pipe, else NULL (fd is left open). */
mu_pipe_t *mu__edge_pipe_new(int fd, uint32_t max_frame, int header_bytes);

/*  Called per whole frame a client sent (data valid during the call); a
    non-zero return stops the reading and is returned. */
typedef int mu__edge_frame_fn(void *ctx, const void *data, size_t size);

/*  The edge's frame reader: hands fn every whole frame the client pipe p
    holds or can read now. Returns MU_EAGAIN (more bytes needed), fn's
    non-zero return, or the pipe's end of the stream or error (MU_ECLOSED
    after whole frames, MU_ETRUNCATED, MU_EPROTO for a frame over the
    maximum, ...): then the client is done. (Exposed for the fuzz target.) */
int mu__edge_read_frames(mu_pipe_t *p, mu__edge_frame_fn *fn, void *ctx);

#endif
