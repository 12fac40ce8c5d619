/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_log_limit.c — the rate limit of a repeated log line. The contract is
    in src/base/mu_log_limit.h. */
#include "base/mu_log_limit.h"

bool
mu__log_limit_admit(mu__log_limit_t *limit, int64_t now, uint64_t *before_p)
{
    if (limit->last_ms != 0 && now - limit->last_ms < MU__LOG_INTERVAL_MS) {
        limit->suppressed++;
        return false;
    }
    *before_p = limit->suppressed;
    limit->suppressed = 0;
    limit->last_ms = now;
    return true;
}

uint64_t
mu__log_limit_due(mu__log_limit_t *limit, int64_t now, bool *waiting_p)
{
    *waiting_p = false;
    if (limit->suppressed == 0)
        return 0;
    if (now - limit->last_ms < MU__LOG_INTERVAL_MS) {
        *waiting_p = true;
        return 0;
    }
    uint64_t count = limit->suppressed;
    limit->suppressed = 0;
    limit->last_ms = now;
    return count;
}

int
mu__log_limit_wait_ms(const mu__log_limit_t *limit, int64_t now)
{
    if (limit->suppressed == 0)
        return -1;
    int64_t left = limit->last_ms + MU__LOG_INTERVAL_MS - now;
    return left > 0 ? (int) left : 0;
}
