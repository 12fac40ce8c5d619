/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_log_limit.h — private: the rate limit of a repeated log line (such as
    "refused handshake"), shared by the ZAP handler (mu_zap.c) and the flow
    CURVE handler (mu_flow_curve.c). Never installed.

    At most one line per MU__LOG_INTERVAL_MS: the events in between are not
    logged but counted, and their count is reported in one "N more" line,
    before the next logged line or once the interval is over (the caller
    wakes up for that: mu__log_limit_wait_ms). No lock inside: the caller
    guards a limit shared by threads. The lines themselves go through the
    process-wide logger (mu_log.h). */
#ifndef MU_LOG_LIMIT_H_INCLUDED
#define MU_LOG_LIMIT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#define MU__LOG_INTERVAL_MS 1000

typedef struct {
    int64_t last_ms;     /* when its last line was logged; 0: never */
    uint64_t suppressed; /* events not logged since */
} mu__log_limit_t;

/*  Counts an event at time now (ms, monotonic). Returns true when its line
    may be logged, *before_p then being the events not logged before it (to
    report first when > 0); false when it is one of them (counted). */
bool mu__log_limit_admit(mu__log_limit_t *limit, int64_t now, uint64_t *before_p);

/*  The count of events not logged whose interval is over at now, to report
    now (a new interval starts then), or 0 (none, or not yet: *waiting_p
    then says whether some wait for their interval to end). */
uint64_t mu__log_limit_due(mu__log_limit_t *limit, int64_t now, bool *waiting_p);

/*  Milliseconds from now until the events not logged are due (0: now), or
    -1 when none wait. */
int mu__log_limit_wait_ms(const mu__log_limit_t *limit, int64_t now);

#endif
