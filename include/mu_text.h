/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_text.h — printable copies of untrusted bytes.

    Text that came from a peer (a client's name, a path, an error text, an
    address) may hold a newline or a terminal escape sequence. Printed or
    logged as is, it could forge a log line or drive the terminal: pass it
    through mu_escape first. The library does so for everything it logs;
    the mutil tool for everything it prints. Thread-safe (no state). */
#ifndef MU_TEXT_H_INCLUDED
#define MU_TEXT_H_INCLUDED

#include <stddef.h>
#include "mu_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Room for an escaped copy of at most n input bytes, none cut
    (each byte takes at most 4 output characters, plus the NUL). */
#define MU_ESCAPE_ROOM(n) (4 * (n) + 1)

/*  Writes into out (cap bytes, at least 8) a NUL-terminated, printable copy
    of the size bytes at data (NULL only when size is 0):
      - printable ASCII (0x20..0x7e) as is, except the backslash, doubled;
      - \n, \r and \t as those two-character escapes;
      - every other byte below 0x20, DEL (0x7f) and every byte that is not
        part of a well-formed UTF-8 sequence (overlong, surrogate, above
        U+10FFFF, truncated) as \xHH (lower-case hex);
      - a well-formed UTF-8 sequence as is, unless it encodes a C1 control
        (U+0080..U+009F), a line or paragraph separator (U+2028, U+2029)
        or a bidirectional control (U+200E, U+200F, U+202A..U+202E,
        U+2066..U+2069): those as \xHH for each of their bytes.
    A copy longer than cap - 1 is cut before the escape or character that
    would not fit, leaving room for "..." at its end. Same input, same
    output. Returns out. A NULL out, cap below 8 or NULL data with size > 0
    is a caller bug (assert). */
MU_EXPORT const char *mu_escape(char *out, size_t cap, const void *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
