/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  flow_test_handler.c — a worker handler in a shared library, for the
    flow file tests ("library": "flow_test_handler.so:prefix_handler"):
    prefix_startup keeps the stage's arg (a prefix), prefix_handler emits
    prefix + input, prefix_teardown emits one "teardown" message. */
#include "mutil.h"

#include <string.h>

MU_EXPORT int prefix_startup(void *arg, int index, void **state_p);
MU_EXPORT int prefix_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out);
MU_EXPORT int prefix_teardown(void *state, mu_flow_emit_t *out);

int
prefix_startup(void *arg, int index, void **state_p)
{
    (void) index;
    *state_p = arg;
    return 0;
}

int
prefix_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    const char *prefix = state ? state : "";
    size_t n = strlen(prefix);
    char buf[256];
    if (n + size > sizeof buf)
        return MU_EMSGSIZE;
    memcpy(buf, prefix, n);
    memcpy(buf + n, data, size);
    return mu_flow_emit(out, buf, n + size);
}

int
prefix_teardown(void *state, mu_flow_emit_t *out)
{
    (void) state;
    return mu_flow_emit(out, "teardown", 8);
}
