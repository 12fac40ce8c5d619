/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_hello.h — the HELLO message of mu_socket's wire format (see
    include/mu_socket.h): 'H' version(1) identity(16) session(8, little-
    endian) flags(1). Private to the library; a header of its own so that
    tests/fuzz/fuzz_socket_hello.c reaches the parser. Never installed. */
#ifndef MU_SOCKET_HELLO_H_INCLUDED
#define MU_SOCKET_HELLO_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_socket.h"

#define MU__HELLO_VERSION 1
#define MU__HELLO_BYTES (1 + 1 + MU_SOCKET_ID_BYTES + 8 + 1)
#define MU__HELLO_ANSWER 1 /* flags bit 0: answer me with a HELLO */

/*  A HELLO's fields. */
typedef struct {
    uint8_t id[MU_SOCKET_ID_BYTES]; /* the sender's identity */
    uint64_t session;               /* the sender's session number */
    uint8_t flags;                  /* MU__HELLO_ANSWER or 0 */
} mu__hello_t;

/*  Writes the MU__HELLO_BYTES bytes of a HELLO with these fields to out. */
void mu__hello_encode(uint8_t *out, const mu__hello_t *hello);

/*  Parses the len bytes at body as a HELLO that arrived from routing id
    route (MU_SOCKET_ID_BYTES bytes) into *hello. Returns 0, or MU_EPROTO
    when body is no HELLO of this version (wrong type byte, length or
    version) or names another identity than route; *hello is then
    unchanged. */
int mu__hello_parse(const uint8_t *route, const uint8_t *body, size_t len, mu__hello_t *hello);

#endif
