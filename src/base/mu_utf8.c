/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_utf8.c — UTF-8 well-formedness (RFC 3629): the contract is in
    mu_utf8.h. */
#include "base/mu_utf8.h"
#include <string.h>

size_t
mu__utf8_sequence(const uint8_t *p, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t min;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, min = 0x80, *cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, min = 0x800, *cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, min = 0x10000, *cp = p[0] & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

/*  True when the 8 bytes at p are all ASCII. */
static bool
ascii8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return (w & 0x8080808080808080u) == 0;
}

bool
mu__utf8_valid(const void *s, size_t size)
{
    const uint8_t *p = s;
    size_t i = 0;
    while (i < size) {
        if (size - i >= 8 && ascii8(p + i)) {
            i += 8;
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = mu__utf8_sequence(p + i, size - i, &cp);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}
