/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_escape.c — printable copies of peer bytes for log lines and the
    terminal. The contract is in include/mu_text.h. */
#include "mu_text.h"
#include "base/mu_utf8.h"
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ELLIPSIS "..."

/*  True for the characters that are well-formed but act on the terminal or
    on how a line is displayed. */
static bool
invisible_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e
           || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*  The escaped form of the character at p (n bytes left) into piece (at
    least 17 bytes); returns the input bytes it covers. */
static size_t
escape_one(const uint8_t *p, size_t n, char *piece)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t cp;
    size_t len = p[0] >= 0x80 ? mu__utf8_sequence(p, n, &cp) : 0;
    if (len > 0 && !invisible_control(cp)) {
        memcpy(piece, p, len);
        piece[len] = '\0';
        return len;
    }
    size_t count = len > 0 ? len : 1;
    if (count == 1 && p[0] >= 0x20 && p[0] < 0x7f) {
        piece[0] = (char) p[0];
        piece[1] = p[0] == '\\' ? '\\' : '\0';
        piece[2] = '\0';
    } else if (count == 1 && (p[0] == '\n' || p[0] == '\r' || p[0] == '\t')) {
        piece[0] = '\\';
        piece[1] = p[0] == '\n' ? 'n' : p[0] == '\r' ? 'r' : 't';
        piece[2] = '\0';
    } else {
        for (size_t i = 0; i < count; i++) {
            char *q = piece + 4 * i;
            q[0] = '\\', q[1] = 'x', q[2] = hex[p[i] >> 4], q[3] = hex[p[i] & 15];
        }
        piece[4 * count] = '\0';
    }
    return count;
}

/*  The length of the whole escaped copy of the size bytes at p. */
static size_t
escaped_length(const uint8_t *p, size_t size)
{
    size_t total = 0;
    for (size_t i = 0; i < size;) {
        char piece[17];
        i += escape_one(p + i, size - i, piece);
        total += strlen(piece);
    }
    return total;
}

const char *
mu_escape(char *out, size_t cap, const void *data, size_t size)
{
    assert(out && cap >= 8 && (data || size == 0));
    const uint8_t *p = data;
    size_t used = 0, room = cap - 1, dots = sizeof ELLIPSIS - 1;
    /* When the whole copy does not fit, each piece must leave room for the
       ellipsis after it. */
    size_t reserve = escaped_length(p, size) > room ? dots : 0;
    for (size_t i = 0; i < size;) {
        char piece[17];
        size_t covers = escape_one(p + i, size - i, piece);
        size_t len = strlen(piece);
        if (used + len + reserve > room) {
            memcpy(out + used, ELLIPSIS, dots);
            used += dots;
            break;
        }
        memcpy(out + used, piece, len);
        used += len;
        i += covers;
    }
    out[used] = '\0';
    return out;
}
