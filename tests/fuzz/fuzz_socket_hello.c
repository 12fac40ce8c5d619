/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_socket_hello.c — libFuzzer target for the parser of mu_socket's
    HELLO message (mu__hello_parse, src/net/mu_socket_hello.h).

    Input: byte 0 chooses where the routing id comes from (bit 0 set: the
    identity field of the body, when it has one, so that well-formed HELLOs
    are common; clear: the next 16 input bytes), the rest is the body. The
    parser's answer must match the format as include/mu_socket.h states it,
    written out again here, and an accepted HELLO must encode back to the
    very same bytes. Disagreement aborts. */
#include "net/mu_socket_hello.h"
#include "mutil.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_socket_hello: %s\n", what);
    abort();
}

/* The format: 'H', version 1, identity(16) equal to the routing id,
   session(8, little-endian), flags(1); nothing more, nothing less. */
static bool
reference_accepts(const uint8_t *route, const uint8_t *body, size_t len, uint64_t *session)
{
    enum { ID = MU_SOCKET_ID_BYTES };
    if (len != 1 + 1 + ID + 8 + 1 || body[0] != 'H' || body[1] != 1)
        return false;
    for (size_t i = 0; i < ID; i++)
        if (body[2 + i] != route[i])
            return false;
    *session = 0;
    for (size_t i = 0; i < 8; i++)
        *session |= (uint64_t) body[2 + ID + i] << (8 * i);
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t route[MU_SOCKET_ID_BYTES] = { 0 };
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        if (len >= 2 + MU_SOCKET_ID_BYTES)
            memcpy(route, body + 2, MU_SOCKET_ID_BYTES);
    } else {
        size_t take = len < MU_SOCKET_ID_BYTES ? len : MU_SOCKET_ID_BYTES;
        memcpy(route, body, take);
        body += take;
        len -= take;
    }
    /* The body in a buffer of its own size, so that a read past it is
       caught by AddressSanitizer. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    memcpy(copy, body, len);

    mu__hello_t hello;
    memset(&hello, 0xa5, sizeof hello);
    mu__hello_t untouched = hello;
    int rc = mu__hello_parse(route, copy, len, &hello);
    uint64_t session = 0;
    bool accept = reference_accepts(route, copy, len, &session);
    if (rc != 0 && rc != MU_EPROTO)
        fail("an answer other than 0 or MU_EPROTO");
    if ((rc == 0) != accept)
        fail("the parser and the format disagree on accepting");
    if (rc != 0 && memcmp(&hello, &untouched, sizeof hello) != 0)
        fail("a refused HELLO changed the output");
    if (rc == 0) {
        if (memcmp(hello.id, route, MU_SOCKET_ID_BYTES) != 0 || hello.session != session
            || hello.flags != copy[len - 1])
            fail("fields differ from the format");
        uint8_t again[MU__HELLO_BYTES];
        mu__hello_encode(again, &hello);
        if (memcmp(again, copy, len) != 0)
            fail("encoding the parsed HELLO gives other bytes");
    }
    free(copy);
    return 0;
}
