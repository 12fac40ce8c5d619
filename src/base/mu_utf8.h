/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_utf8.h — private: UTF-8 checks shared by the escaper, the JSON
    writer and the WebSocket code (text frames must be UTF-8). Never
    installed. */
#ifndef MU_UTF8_H_INCLUDED
#define MU_UTF8_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Length (2..4) of the well-formed multi-byte UTF-8 sequence at p (n >= 1
    bytes left), its code point in *cp; 0 when p[0] does not start one
    (ASCII, a continuation byte, overlong forms, surrogates, beyond
    U+10FFFF, or cut off by the end). */
size_t mu__utf8_sequence(const uint8_t *p, size_t n, uint32_t *cp);

/*  True when the size bytes at s are well-formed UTF-8 (NUL allowed). */
bool mu__utf8_valid(const void *s, size_t size);

#endif
