/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_time.c — the monotonic clock and timeouts turned into deadlines. */
#include "base/mu_internal.h"
#include <time.h>

int64_t
mu__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mu__deadline_ms(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : mu__now_ms() + timeout_ms;
}

int
mu__remaining_ms(int64_t deadline_ms)
{
    if (deadline_ms < 0)
        return -1;
    int64_t left = deadline_ms - mu__now_ms();
    return left > 0 ? (int) left : 0;
}
