/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_json_b64.c — base64 for mu_json's bin and ext payloads (see
    mu_json_int.h). Strict on input: one spelling per byte string. */
#include "base/mu_internal.h"
#include "codec/mu_json_int.h"

static const char s_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
mu__b64_encode(const void *data, size_t len, char *out)
{
    const uint8_t *p = data;
    size_t i = 0;
    for (; i + 3 <= len; i += 3, out += 4) {
        uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
        out[0] = s_alphabet[v >> 18];
        out[1] = s_alphabet[(v >> 12) & 63];
        out[2] = s_alphabet[(v >> 6) & 63];
        out[3] = s_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < len ? (uint32_t) p[i + 1] << 8 : 0);
        out[0] = s_alphabet[v >> 18];
        out[1] = s_alphabet[(v >> 12) & 63];
        out[2] = i + 1 < len ? s_alphabet[(v >> 6) & 63] : '=';
        out[3] = '=';
    }
}

/*  The 6-bit value of a base64 character, or -1. */
static int
s_sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

bool
mu__b64_check(const char *text, size_t len, size_t *bytes_p)
{
    if (len % 4 != 0)
        return false;
    size_t pad = len == 0 ? 0 : text[len - 1] != '=' ? 0 : text[len - 2] != '=' ? 1 : 2;
    for (size_t i = 0; i < len - pad; i++)
        if (s_sextet(text[i]) < 0)
            return false;
    /* The bits after the last byte must be zero (canonical text only). */
    if (pad == 1 && (s_sextet(text[len - 2]) & 3) != 0)
        return false;
    if (pad == 2 && (s_sextet(text[len - 3]) & 15) != 0)
        return false;
    *bytes_p = len / 4 * 3 - pad;
    return true;
}

void
mu__b64_decode(const char *text, size_t len, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t n = 0;
        for (; n < 4 && text[i + n] != '='; n++)
            v |= (uint32_t) s_sextet(text[i + n]) << (18 - 6 * n);
        out[o++] = (uint8_t) (v >> 16);
        if (n > 2)
            out[o++] = (uint8_t) (v >> 8);
        if (n > 3)
            out[o++] = (uint8_t) v;
    }
}
