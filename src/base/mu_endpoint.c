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
        return mu__fail(MU_EINVAL, "no endpoint");
    if (strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6] != '\0')
        return 0;
    const char *colon = strncmp(endpoint, "tcp://", 6) == 0 ? strrchr(endpoint + 6, ':') : NULL;
    if (colon && colon > endpoint + 6 && tcp_port_ok(colon + 1, binding))
        return 0;
    return mu__fail(MU_EINVAL, "endpoint '%s': expected tcp://HOST:PORT%s or ipc://PATH", endpoint,
                    binding ? " (PORT 0 or * for any)" : "");
}
