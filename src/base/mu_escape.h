/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_escape.h — private: a printable copy of bytes a peer sent, for log
    lines. Never installed. Compiled into the library and into the mutil
    tool (the library's symbols are hidden).

    Everything the library or the tool logs that came from a peer (a
    client's name, a path, an error text, an address) goes through
    mu__escape first, so a newline or a terminal escape sequence in it
    cannot forge a log line or drive the terminal. */
#ifndef MU_ESCAPE_H_INCLUDED
#define MU_ESCAPE_H_INCLUDED

#include <stddef.h>

/*  Room for an escaped copy of at most n input bytes, none cut
    (each byte takes at most 4 output characters, plus the NUL). */
#define MU__ESCAPE_ROOM(n) (4 * (n) + 1)

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
    output. Returns out. */
const char *mu__escape(char *out, size_t cap, const void *data, size_t size);

#endif
