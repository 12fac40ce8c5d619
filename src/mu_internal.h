/*  mu_internal.h — private declarations shared by the library's sources.
    Never installed. */
#ifndef MU_INTERNAL_H_INCLUDED
#define MU_INTERNAL_H_INCLUDED

#include "config.h"
#include "mutil.h"
#include <assert.h>
#include <stdint.h>
#include <stddef.h>

/*  Milliseconds on a monotonic clock. */
int64_t mu__now_ms(void);

/*  Remaining milliseconds until deadline (-1 = no deadline → -1). */
int mu__remaining_ms(int64_t deadline_ms);

/*  Deadline for a timeout in ms (-1 = none → -1). */
int64_t mu__deadline_ms(int timeout_ms);

#endif
