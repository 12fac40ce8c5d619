/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_hello.c — encoding and parsing mu_socket's HELLO message; the
    format is in mu_socket_hello.h. */
#include "base/mu_internal.h"
#include "net/mu_socket_hello.h"
#include <string.h>

void
mu__hello_encode(uint8_t *out, const mu__hello_t *hello)
{
    out[0] = 'H';
    out[1] = MU__HELLO_VERSION;
    memcpy(out + 2, hello->id, MU_SOCKET_ID_BYTES);
    mu__put_le64(out + 2 + MU_SOCKET_ID_BYTES, hello->session);
    out[MU__HELLO_BYTES - 1] = hello->flags;
}

int
mu__hello_parse(const uint8_t *route, const uint8_t *body, size_t len, mu__hello_t *hello)
{
    if (len != MU__HELLO_BYTES || body[0] != 'H' || body[1] != MU__HELLO_VERSION
        || memcmp(body + 2, route, MU_SOCKET_ID_BYTES) != 0)
        return MU_EPROTO;
    memcpy(hello->id, body + 2, MU_SOCKET_ID_BYTES);
    hello->session = mu__get_le64(body + 2 + MU_SOCKET_ID_BYTES);
    hello->flags = body[MU__HELLO_BYTES - 1];
    return 0;
}
