/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_timer.h — timing sections of code.

        MU_TIMED("load config") {
            ... code ...
        }                       // logs "load config: 1.234 ms"

    or, when the section is not one block, mu_timer_begin / mu_timer_end.
    The elapsed time is on CLOCK_MONOTONIC in nanoseconds and goes to the
    process's timer log function: by default one line on stderr, or the
    function given to mu_timer_set_log (e.g. to record it in a mu_hist_t,
    or to send it to the application's logger). Thread-safe. */
#ifndef MU_TIMER_H_INCLUDED
#define MU_TIMER_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  A running timer: what mu_timer_begin returns. */
typedef struct {
    const char *label; /* not copied: must outlive the timer */
    int64_t start_ns;  /* CLOCK_MONOTONIC */
} mu_timer_t;

/*  Receives each finished timer's label and elapsed nanoseconds; may be
    called from any thread at once. */
typedef void(mu_timer_log_fn)(void *arg, const char *label, int64_t elapsed_ns);

/*  Returns CLOCK_MONOTONIC in nanoseconds. */
MU_EXPORT int64_t mu_timer_now_ns(void);

/*  Starts a timer labelled label (may be NULL: logged as "timer"). */
MU_EXPORT mu_timer_t mu_timer_begin(const char *label);

/*  Returns the nanoseconds since timer->start_ns without logging. */
MU_EXPORT int64_t mu_timer_elapsed_ns(const mu_timer_t *timer);

/*  Stops the timer: passes its label and elapsed time to the log
    function, and returns the elapsed nanoseconds. The timer may be ended
    again (each end logs the time since its begin). */
MU_EXPORT int64_t mu_timer_end(const mu_timer_t *timer);

/*  Sets the process's timer log function (NULL: the default, a line
    "LABEL: 1.234 ms" on stderr). A call from one thread while timers end
    on others is safe: each end uses the old or the new function with its
    own arg. */
MU_EXPORT void mu_timer_set_log(mu_timer_log_fn *fn, void *arg);

#define MU__TIMER_CAT2(a, b) a##b
#define MU__TIMER_CAT(a, b) MU__TIMER_CAT2(a, b)

/*  Runs the statement or block that follows once and logs its elapsed
    time with mu_timer_end when it ends normally. Leaving it by break,
    return or goto skips the log (the timer is a loop in disguise: a break
    inside ends the MU_TIMED block, not an enclosing loop). */
#define MU_TIMED(label)                                                                 \
    for (mu_timer_t MU__TIMER_CAT(mu__timer_, __LINE__) = mu_timer_begin(label),        \
                                              *MU__TIMER_CAT(mu__timer_p_, __LINE__) =  \
                                                  &MU__TIMER_CAT(mu__timer_, __LINE__); \
         MU__TIMER_CAT(mu__timer_p_, __LINE__);                                         \
         (void) mu_timer_end(MU__TIMER_CAT(mu__timer_p_, __LINE__)),                    \
                                              MU__TIMER_CAT(mu__timer_p_, __LINE__) = NULL)

#ifdef __cplusplus
}
#endif

#endif
