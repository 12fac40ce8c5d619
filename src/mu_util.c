/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_util.c — small private helpers shared by the modules. */
#include "mu_internal.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

void
mu__ignore_sigxfsz(void)
{
    struct sigaction old;
    if (sigaction(SIGXFSZ, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO)
        && old.sa_handler == SIG_DFL) {
        struct sigaction ignore = { .sa_handler = SIG_IGN };
        sigemptyset(&ignore.sa_mask);
        (void) sigaction(SIGXFSZ, &ignore, NULL);
    }
}

/*  A tcp:// port: "*" (binding only) or decimal digits 0..65535 (0 only
    when binding: the system picks one). */
static bool
tcp_port_ok(const char *port, bool binding)
{
    if (strcmp(port, "*") == 0)
        return binding;
    size_t digits = strspn(port, "0123456789");
    if (digits == 0 || digits > 5 || port[digits] != '\0')
        return false;
    long value = strtol(port, NULL, 10);
    return value <= 65535 && (binding || value > 0);
}

int
mu__endpoint_check(const char *endpoint, bool binding)
{
    if (endpoint == NULL)
        return MU_EINVAL;
    if (strncmp(endpoint, "ipc://", 6) == 0)
        return endpoint[6] != '\0' ? 0 : MU_EINVAL;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return MU_EINVAL;
    const char *colon = strrchr(endpoint + 6, ':');
    return colon && colon > endpoint + 6 && tcp_port_ok(colon + 1, binding) ? 0 : MU_EINVAL;
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
