/*  mu_util.c — small private helpers shared by the modules. */
#include "mu_internal.h"
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

int
mu_version(void)
{
    return MU_VERSION;
}

const char *
mu_version_string(void)
{
    return PACKAGE_VERSION;
}
