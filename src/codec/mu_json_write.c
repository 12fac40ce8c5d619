/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_json_write.c — MessagePack -> JSON (mu_json_from_pack and
    mu_json_from_unpacked, see mu_json.h).

    Writes the decoded tree as compact JSON into a growing buffer, walking it
    without recursion (a heap stack of the arrays and maps being written).
    Strings are checked as UTF-8 and escaped here: jansson's encoder holds
    integers as int64 and reals with 17 digits, so the writer is our own. */
#include "base/mu_internal.h"
#include "base/mu_utf8.h"
#include "codec/mu_json_int.h"
#include "codec/mu_unpack_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
} s_out_t;

/*  A container being written: its next item or pair. */
typedef struct {
    const mu_unpacked_t *value;
    size_t index, count;
    bool map;
} s_frame_t;

typedef struct {
    s_out_t out;
    unsigned flags;
    s_frame_t *stack;
    size_t depth, cap;
} s_writer_t;

/* ---- output buffer ------------------------------------------------------------------ */

/*  Makes room for n more bytes (and a NUL); false once out of memory. */
static bool
s_reserve(s_out_t *o, size_t n)
{
    if (o->oom)
        return false;
    if (o->cap - o->len > n)
        return true;
    char *data = n < SIZE_MAX - o->len ? mu__grow(o->data, &o->cap, 256, o->len + n + 1) : NULL;
    if (!data) {
        o->oom = true;
        return false;
    }
    o->data = data;
    return true;
}

static void
s_put(s_out_t *o, const char *s, size_t n)
{
    if (s_reserve(o, n)) {
        memcpy(o->data + o->len, s, n);
        o->len += n;
    }
}

static void
s_putc(s_out_t *o, char c)
{
    if (s_reserve(o, 1))
        o->data[o->len++] = c;
}

static void
s_puts(s_out_t *o, const char *s)
{
    s_put(o, s, strlen(s));
}

/* ---- where a value is (for the detail of an error) ---------------------------------- */

/*  The JSON Pointer of the value being written, as in mu_json_parse.c;
    map keys that are not str are written as "?". */
static void
s_path(const s_writer_t *w, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < w->depth && o + 24 < cap; i++) {
        const s_frame_t *f = &w->stack[i];
        size_t at = f->map ? (f->index - 1) / 2 : f->index - 1;
        const mu_unpacked_t *key = NULL;
        const char *s;
        size_t len;
        if (!f->map || mu_unpacked_entry(f->value, at, &key, NULL) != 0) {
            o += (size_t) snprintf(buf + o, cap - o, "/%zu", at);
            continue;
        }
        buf[o++] = '/';
        if (mu_unpacked_str(key, &s, &len) != 0) {
            s = "?";
            len = 1;
        }
        for (size_t j = 0; j < len && o + 3 < cap; j++) {
            if (s[j] == '~' || s[j] == '/') {
                buf[o++] = '~';
                buf[o++] = s[j] == '~' ? '0' : '1';
            } else {
                buf[o++] = s[j];
            }
        }
        buf[o] = '\0';
    }
}

static int
s_fail(const s_writer_t *w, const char *what)
{
    char path[256];
    s_path(w, path, sizeof path);
    return mu__fail(MU_ETYPE, "mu_json_from_pack: %s at \"%s\" has no JSON form", what, path);
}

/* ---- strings -------------------------------------------------------------------------- */

/*  Writes s as a JSON string; false (nothing useful written) when it is
    not UTF-8. */
static bool
s_string(s_out_t *o, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    s_putc(o, '"');
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            uint32_t cp;
            size_t n = c < 0x80 ? 1 : mu__utf8_sequence(s + i, len - i, &cp);
            if (n == 0)
                return false;
            i += n;
            continue;
        }
        s_put(o, str + run, i - run);
        char esc[8];
        const char *short_form = c == '"'    ? "\\\""
                                 : c == '\\' ? "\\\\"
                                 : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r"
                                 : c == '\t' ? "\\t"
                                 : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f"
                                             : NULL;
        if (!short_form)
            snprintf(esc, sizeof esc, "\\u%04x", c);
        s_puts(o, short_form ? short_form : esc);
        run = ++i;
    }
    s_put(o, str + run, len - run);
    s_putc(o, '"');
    return true;
}

/*  Writes base64 of data between quotes. */
static void
s_base64(s_out_t *o, const void *data, size_t len)
{
    size_t n = mu__b64_encoded_len(len);
    s_putc(o, '"');
    if (s_reserve(o, n)) {
        mu__b64_encode(data, len, o->data + o->len);
        o->len += n;
    }
    s_putc(o, '"');
}

/* ---- numbers ------------------------------------------------------------------------- */

/*  Formats v with the fewest of the digit counts tried that reads back as
    the same value (as a float when single), then makes sure the text reads
    as a real: a '.' or an exponent. Returns false for NaN and infinities. */
static bool
s_real(s_out_t *o, double v, bool single)
{
    if (!isfinite(v))
        return false;
    char buf[40];
    int lo = single ? 6 : 15, hi = single ? 9 : 17;
    for (int digits = lo; digits <= hi; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (single ? strtof(buf, NULL) == (float) v : strtod(buf, NULL) == v)
            break;
    }
    bool real = false;
    for (char *p = buf; *p; p++) {
        if (*p == 'e')
            real = true;
        else if (*p != '-' && *p != '+' && (*p < '0' || *p > '9')) {
            *p = '.'; /* the decimal point of any locale */
            real = true;
        }
    }
    s_puts(o, buf);
    if (!real)
        s_puts(o, ".0");
    return true;
}

/* ---- values --------------------------------------------------------------------------- */

/*  Tells whether the str value v equals the NUL-terminated key. */
static bool
s_str_is(const mu_unpacked_t *v, const char *key)
{
    const char *s;
    size_t len;
    return mu_unpacked_str(v, &s, &len) == 0 && len == strlen(key) && memcmp(s, key, len) == 0;
}

/*  Tells whether a map has a reserved shape: the one key "$bin", or
    exactly the keys "$ext" and "data". */
static bool
s_reserved_shape(const mu_unpacked_t *map, size_t count)
{
    const mu_unpacked_t *k0 = NULL, *k1 = NULL;
    if (count == 1 && mu_unpacked_entry(map, 0, &k0, NULL) == 0)
        return s_str_is(k0, MU__JSON_BIN_KEY);
    if (count != 2 || mu_unpacked_entry(map, 0, &k0, NULL) != 0
        || mu_unpacked_entry(map, 1, &k1, NULL) != 0)
        return false;
    return (s_str_is(k0, MU__JSON_EXT_KEY) && s_str_is(k1, MU__JSON_DATA_KEY))
           || (s_str_is(k1, MU__JSON_EXT_KEY) && s_str_is(k0, MU__JSON_DATA_KEY));
}

/*  The text of a map key for the duplicate check: a str's bytes, or an
    integer's decimal (MU_JSON_INT_KEYS). */
typedef struct {
    const char *text; /* NULL: the text is num */
    size_t len;
    char num[24];
} s_key_t;

static int
s_key_cmp(const void *a, const void *b)
{
    const s_key_t *x = a, *y = b;
    const char *xt = x->text ? x->text : x->num, *yt = y->text ? y->text : y->num;
    int c = memcmp(xt, yt, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/*  Fills k with the text of key; false when the key has no JSON form. */
static bool
s_key_text(const s_writer_t *w, const mu_unpacked_t *key, s_key_t *k)
{
    int64_t i;
    uint64_t u;
    if (mu_unpacked_str(key, &k->text, &k->len) == 0)
        return true;
    if (!(w->flags & MU_JSON_INT_KEYS) || mu_unpacked_type(key) != MU_PACK_INT)
        return false;
    if (mu_unpacked_int(key, &i) == 0)
        snprintf(k->num, sizeof k->num, "%" PRId64, i);
    else if (mu_unpacked_uint(key, &u) == 0)
        snprintf(k->num, sizeof k->num, "%" PRIu64, u);
    k->text = NULL;
    k->len = strlen(k->num);
    return true;
}

/*  Checks a map's keys before it is written: each has a JSON form (a str
    without NUL, or an integer with MU_JSON_INT_KEYS), no two have the same
    text, and the map has no reserved shape. */
static int
s_check_keys(s_writer_t *w, const mu_unpacked_t *map, size_t count)
{
    if (s_reserved_shape(map, count))
        return s_fail(w, "a map of the reserved shape {\"$bin\"} or {\"$ext\", \"data\"}");
    if (count == 0)
        return 0;
    s_key_t *keys = malloc(count * sizeof *keys);
    if (!keys)
        return mu__fail(MU_ENOMEM, "mu_json_from_pack: out of memory for %zu keys", count);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        const mu_unpacked_t *key = NULL;
        if (mu_unpacked_entry(map, i, &key, NULL) != 0 || !s_key_text(w, key, &keys[i]))
            rc = s_fail(w, "a map key that is not a str");
        else if (keys[i].text && memchr(keys[i].text, '\0', keys[i].len))
            rc = s_fail(w, "a map key with a NUL byte (jansson reads none back)");
    }
    if (rc == 0) {
        qsort(keys, count, sizeof *keys, s_key_cmp);
        for (size_t i = 1; i < count && rc == 0; i++)
            if (s_key_cmp(&keys[i - 1], &keys[i]) == 0)
                rc = s_fail(w, "a map with two keys of the same text");
    }
    free(keys);
    return rc;
}

/*  Starts writing an array or map: checks a map's keys, pushes it and
    writes its opening bracket. */
static int
s_push(s_writer_t *w, const mu_unpacked_t *v, bool map)
{
    size_t count = 0;
    (void) (map ? mu_unpacked_map(v, &count) : mu_unpacked_array(v, &count));
    int rc = map ? s_check_keys(w, v, count) : 0;
    if (rc != 0)
        return rc;
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        s_frame_t *stack = realloc(w->stack, cap * sizeof *stack);
        if (!stack)
            return mu__fail(MU_ENOMEM, "mu_json_from_pack: out of memory for the stack");
        w->stack = stack;
        w->cap = cap;
    }
    w->stack[w->depth++] = (s_frame_t) { v, 0, count, map };
    s_putc(&w->out, map ? '{' : '[');
    return 0;
}

/*  Writes a bin as {"$bin":"B64"} or an ext as {"$ext":T,"data":"B64"}. */
static void
s_bytes(s_writer_t *w, const mu_unpacked_t *v)
{
    const void *data = NULL;
    size_t len = 0;
    int8_t type = 0;
    if (mu_unpacked_bin(v, &data, &len) == 0) {
        s_puts(&w->out, "{\"" MU__JSON_BIN_KEY "\":");
    } else if (mu_unpacked_ext(v, &type, &data, &len) == 0) {
        char head[48];
        snprintf(head, sizeof head,
                 "{\"" MU__JSON_EXT_KEY "\":%d,\"" MU__JSON_DATA_KEY "\":", type);
        s_puts(&w->out, head);
    }
    s_base64(&w->out, data, len);
    s_putc(&w->out, '}');
}

/*  Writes a scalar, or pushes an array or map. */
static int
s_value(s_writer_t *w, const mu_unpacked_t *v)
{
    bool b = false;
    int64_t i;
    uint64_t u = 0;
    double d = 0;
    const char *s = NULL;
    size_t len = 0;
    char num[24];
    switch (mu_unpacked_type(v)) {
    case MU_PACK_NIL:
        s_puts(&w->out, "null");
        return 0;
    case MU_PACK_BOOL:
        s_puts(&w->out, mu_unpacked_bool(v, &b) == 0 && b ? "true" : "false");
        return 0;
    case MU_PACK_INT:
        if (mu_unpacked_int(v, &i) == 0)
            snprintf(num, sizeof num, "%" PRId64, i);
        else if (mu_unpacked_uint(v, &u) == 0)
            snprintf(num, sizeof num, "%" PRIu64, u);
        s_puts(&w->out, num);
        return 0;
    case MU_PACK_FLOAT:
        if (mu_unpacked_double(v, &d) != 0 || !s_real(&w->out, d, mu__unpacked_is_float32(v)))
            return s_fail(w, "NaN or an infinity");
        return 0;
    case MU_PACK_STR:
        if (mu_unpacked_str(v, &s, &len) != 0 || !s_string(&w->out, s, len))
            return s_fail(w, "a str that is not UTF-8");
        return 0;
    case MU_PACK_BIN:
    case MU_PACK_EXT:
        s_bytes(w, v);
        return 0;
    case MU_PACK_ARRAY:
    case MU_PACK_MAP:
        return s_push(w, v, mu_unpacked_type(v) == MU_PACK_MAP);
    default:
        return s_fail(w, "a value of no known type");
    }
}

/*  Writes a map key: a str, or an integer as its decimal text. */
static int
s_key(s_writer_t *w, const mu_unpacked_t *key)
{
    s_key_t k;
    if (!s_key_text(w, key, &k))
        return s_fail(w, "a map key that is not a str");
    return s_string(&w->out, k.text ? k.text : k.num, k.len) ? 0
                                                             : s_fail(w, "a str that is not UTF-8");
}

/*  Writes the next item, key or value of the innermost container, or
    closes it. */
static int
s_step(s_writer_t *w)
{
    s_frame_t *f = &w->stack[w->depth - 1];
    if (f->index == (f->map ? 2 * f->count : f->count)) {
        s_putc(&w->out, f->map ? '}' : ']');
        w->depth--;
        return 0;
    }
    size_t e = f->index++;
    if (e > 0)
        s_putc(&w->out, f->map && e % 2 ? ':' : ',');
    const mu_unpacked_t *key = NULL, *child = NULL;
    int rc = f->map ? mu_unpacked_entry(f->value, e / 2, &key, &child)
                    : mu_unpacked_at(f->value, e, &child);
    if (rc != 0)
        return s_fail(w, "a missing item");
    if (f->map && e % 2 == 0)
        return s_key(w, key);
    return s_value(w, child);
}

int
mu_json_from_unpacked(const mu_unpacked_t *value, unsigned flags, char **json_p, size_t *size_p)
{
    assert(value && json_p);
    *json_p = NULL;
    if (size_p)
        *size_p = 0;
    if (flags & ~MU_JSON_INT_KEYS)
        return mu__fail(MU_EINVAL, "mu_json_from_pack: unknown flags 0x%x", flags);
    s_writer_t w = { .flags = flags };
    int rc = s_value(&w, value);
    while (rc == 0 && w.depth > 0)
        rc = s_step(&w);
    free(w.stack);
    if (rc == 0 && (w.out.oom || !s_reserve(&w.out, 0)))
        rc = mu__fail(MU_ENOMEM, "mu_json_from_pack: out of memory for %zu bytes of JSON",
                      w.out.len);
    if (rc != 0) {
        free(w.out.data);
        return rc;
    }
    w.out.data[w.out.len] = '\0';
    *json_p = w.out.data;
    if (size_p)
        *size_p = w.out.len;
    return 0;
}

int
mu_json_from_pack(const void *data, size_t size, const mu_unpack_limits_t *limits, unsigned flags,
                  char **json_p, size_t *size_p)
{
    assert(json_p);
    assert(data || size == 0);
    *json_p = NULL;
    if (size_p)
        *size_p = 0;
    mu_unpacked_t *root = NULL;
    int rc = mu_unpack(data, size, limits, &root, NULL);
    if (rc != 0)
        return rc;
    rc = mu_json_from_unpacked(root, flags, json_p, size_p);
    mu_unpacked_destroy(&root);
    return rc;
}
