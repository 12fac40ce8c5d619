/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_json_int.h — what the two directions of mu_json share: base64 (RFC
    4648 section 4, with padding) for bin and ext payloads, and the names
    of the reserved objects. Never installed. */
#ifndef MU_JSON_INT_H_INCLUDED
#define MU_JSON_INT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MU__JSON_BIN_KEY "$bin"
#define MU__JSON_EXT_KEY "$ext"
#define MU__JSON_DATA_KEY "data"

/*  Characters of the base64 text of len bytes (a multiple of 4). */
static inline size_t
mu__b64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

/*  Writes the base64 text of the len bytes at data to out, which has room
    for mu__b64_encoded_len(len) characters (no NUL is written). */
void mu__b64_encode(const void *data, size_t len, char *out);

/*  Checks that the len characters at text are canonical base64 (standard
    alphabet, '=' padding to a multiple of 4, unused bits zero) and stores
    the number of bytes they decode to in *bytes_p. Returns false if not. */
bool mu__b64_check(const char *text, size_t len, size_t *bytes_p);

/*  Decodes len characters that mu__b64_check accepted into out (room for
    the bytes it counted). */
void mu__b64_decode(const char *text, size_t len, uint8_t *out);

#endif
