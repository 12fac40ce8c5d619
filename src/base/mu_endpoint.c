/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_endpoint.c — endpoint syntax checked before libzmq sees it. */
#include "base/mu_internal.h"
#include <stdlib.h>
#include <string.h>

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
