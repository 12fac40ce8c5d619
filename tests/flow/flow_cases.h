/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  flow_cases.h — what the test_flow* programs (test_flow, test_flow_restart,
    test_flow_split, test_flow_inproc) share beyond tests/lib/flow_test.h:
    the counting and endless sources, the record reporter and the keying
    function. Header-only like flow_test.h (each program is one translation
    unit); include after mu_test.h and mutil.h. */
#ifndef FLOW_CASES_H_INCLUDED
#define FLOW_CASES_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <zmq.h>
#include "flow_test.h"

static uint64_t src_count; /* ids the counting source emits */

/*  One record to the results pipe from a runner (tag in index). */
static inline void
report(int32_t tag, uint64_t id)
{
    record_t rec = { .index = tag, .id = id };
    if (write(result_fd, &rec, sizeof rec) != (ssize_t) sizeof rec)
        abort();
}

/* ---- sources ----------------------------------------------------------------- */

/*  Emits ids index*1e9 + 0 .. src_count-1, then ends. */
static inline int
counting_source(void *arg, int index, mu_flow_emit_t *out)
{
    uint64_t *next = arg;
    if (*next >= src_count)
        return 0;
    uint64_t id = (uint64_t) index * 1000000000u + *next;
    (*next)++;
    int rc = mu_flow_emit(out, &id, sizeof id);
    return rc == 0 ? MU_FLOW_MORE : rc;
}

/*  Emits ids forever, paced at one per 0.2 ms or slower. */
static inline int
endless_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) index;
    uint64_t *next = arg;
    uint64_t id = (*next)++;
    int rc = mu_flow_emit(out, &id, sizeof id);
    usleep(200); /* the source's pace, not a wait */
    return rc == 0 ? MU_FLOW_MORE : rc;
}

/*  The key of the keyed links: the id modulo 7. */
static inline uint64_t
key_mod7(void *arg, const void *data, size_t size)
{
    (void) arg;
    uint64_t id = 0;
    memcpy(&id, data, size < sizeof id ? size : sizeof id);
    return id % 7;
}

#endif
