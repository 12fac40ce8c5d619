/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sigv4_canon.c — canonical path, query and headers of a SigV4
    request (rules: include/mu_sigv4.h, doc/sigv4.md). */
#include "base/mu_internal.h"
#include "codec/mu_sigv4_int.h"
#include <stdlib.h>

void
mu__sb_putn(mu__sbuf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        char *p = mu__grow(b->p, &b->cap, 128, b->len + n + 1);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void
mu__sb_puts(mu__sbuf_t *b, const char *s)
{
    mu__sb_putn(b, s, strlen(s));
}

void
mu__sb_putc(mu__sbuf_t *b, char c)
{
    mu__sb_putn(b, &c, 1);
}

static bool
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '.' || c == '_' || c == '~';
}

void
mu__sb_encode(mu__sbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (unreserved(c)) {
            mu__sb_putc(b, (char) c);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            mu__sb_putn(b, e, 3);
        }
    }
}

char *
mu__sb_take(mu__sbuf_t *b)
{
    if (!b->oom && !b->p)
        mu__sb_putn(b, "", 0);
    char *p = b->oom ? NULL : b->p;
    if (b->oom)
        free(b->p);
    *b = (mu__sbuf_t) { 0 };
    return p;
}

void
mu__sb_free(mu__sbuf_t *b)
{
    free(b->p);
    *b = (mu__sbuf_t) { 0 };
}

/* ---- path ---- */

typedef struct {
    const char *s;
    size_t n;
} seg_t;

static void
encode_segments(mu__sbuf_t *b, const seg_t *seg, size_t n, bool trailing)
{
    mu__sb_putc(b, '/');
    for (size_t i = 0; i < n; i++) {
        if (i)
            mu__sb_putc(b, '/');
        mu__sb_encode(b, seg[i].s, seg[i].n);
    }
    if (n && trailing)
        mu__sb_putc(b, '/');
}

int
mu__sigv4_path(mu__sbuf_t *b, const char *path, bool as_given)
{
    if (!path || !*path) {
        mu__sb_putc(b, '/');
        return 0;
    }
    if (path[0] != '/')
        return mu__fail(MU_EINVAL, "sigv4: path '%.64s' does not start with '/'", path);
    size_t len = strlen(path);
    if (as_given) { /* every byte but '/' encoded, nothing dropped */
        for (size_t i = 0; i < len;) {
            size_t j = i;
            while (j < len && path[j] != '/')
                j++;
            mu__sb_encode(b, path + i, j - i);
            if (j < len)
                mu__sb_putc(b, '/');
            i = j + 1;
        }
        return 0;
    }
    seg_t *seg = malloc((len / 2 + 1) * sizeof *seg);
    if (!seg)
        return MU_ENOMEM;
    size_t n = 0;
    for (size_t i = 1; i <= len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t k = j - i;
        if (k == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n)
                n--;
        } else if (k > 0 && !(k == 1 && path[i] == '.')) {
            seg[n++] = (seg_t) { path + i, k };
        }
        i = j + 1;
    }
    encode_segments(b, seg, n, path[len - 1] == '/');
    free(seg);
    return 0;
}

/* ---- query ---- */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s (n bytes) into d (at least n bytes); returns the
   decoded length, or -1 for a bad escape. */
static long
decode(const char *s, size_t n, char *d)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[o++] = s[i];
            continue;
        }
        int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return -1;
        d[o++] = (char) (hi * 16 + lo);
        i += 2;
    }
    return (long) o;
}

static char *
encode_dup(const char *s, size_t n)
{
    mu__sbuf_t b = { 0 };
    mu__sb_encode(&b, s, n);
    return mu__sb_take(&b);
}

static int
add_encoded(mu__qlist_t *q, const char *k, size_t kn, const char *v, size_t vn)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        mu__qpair_t *p = realloc(q->v, cap * sizeof *p);
        if (!p)
            return MU_ENOMEM;
        q->v = p;
        q->cap = cap;
    }
    char *ke = encode_dup(k, kn);
    char *ve = encode_dup(v, vn);
    if (!ke || !ve) {
        free(ke);
        free(ve);
        return MU_ENOMEM;
    }
    q->v[q->n++] = (mu__qpair_t) { ke, ve };
    return 0;
}

int
mu__sigv4_query_add(mu__qlist_t *q, const char *key, const char *value)
{
    return add_encoded(q, key, strlen(key), value, strlen(value));
}

static int
parse_part(mu__qlist_t *q, const char *s, size_t n, char *tmp)
{
    const char *eq = memchr(s, '=', n);
    size_t kn = eq ? (size_t) (eq - s) : n;
    long k = decode(s, kn, tmp);
    long v = eq ? decode(eq + 1, n - kn - 1, tmp + kn) : 0;
    if (k < 0 || v < 0)
        return mu__fail(MU_EINVAL, "sigv4: bad %%XX escape in query part '%.*s'",
                        (int) (n > 64 ? 64 : n), s);
    return add_encoded(q, tmp, (size_t) k, tmp + kn, (size_t) v);
}

int
mu__sigv4_query_parse(mu__qlist_t *q, const char *query)
{
    if (!query || !*query)
        return 0;
    size_t len = strlen(query);
    char *tmp = malloc(len + 1);
    if (!tmp)
        return MU_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i <= len && rc == 0;) {
        size_t j = i;
        while (j < len && query[j] != '&')
            j++;
        if (j > i)
            rc = parse_part(q, query + i, j - i, tmp);
        i = j + 1;
    }
    free(tmp);
    return rc;
}

bool
mu__sigv4_query_has(const mu__qlist_t *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->v[i].key, key) == 0)
            return true;
    return false;
}

static int
cmp_pair(const void *a, const void *b)
{
    const mu__qpair_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

void
mu__sigv4_query_write(mu__qlist_t *q, mu__sbuf_t *b)
{
    if (q->n > 1)
        qsort(q->v, q->n, sizeof *q->v, cmp_pair);
    for (size_t i = 0; i < q->n; i++) {
        if (i)
            mu__sb_putc(b, '&');
        mu__sb_puts(b, q->v[i].key);
        mu__sb_putc(b, '=');
        mu__sb_puts(b, q->v[i].value);
    }
}

void
mu__sigv4_query_free(mu__qlist_t *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].key);
        free(q->v[i].value);
    }
    free(q->v);
    *q = (mu__qlist_t) { 0 };
}

/* ---- headers ---- */

static bool
tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The value trimmed, runs of blanks collapsed to one space. */
static char *
trim_value(const char *v)
{
    mu__sbuf_t b = { 0 };
    bool space = false;
    for (; *v; v++) {
        if (blank(*v)) {
            space = b.len > 0;
            continue;
        }
        if (space)
            mu__sb_putc(&b, ' ');
        space = false;
        mu__sb_putc(&b, *v);
    }
    return mu__sb_take(&b);
}

static int
check_header(const char *name, const char *value)
{
    if (!name || !*name)
        return mu__fail(MU_EINVAL, "sigv4: empty header name");
    if (!value)
        return mu__fail(MU_EINVAL, "sigv4: header '%.64s' has a NULL value", name);
    if (strlen(name) > MU_SIGV4_MAX_INPUT || strlen(value) > MU_SIGV4_MAX_INPUT)
        return mu__fail(MU_EINVAL, "sigv4: header '%.64s' longer than %d bytes", name,
                        MU_SIGV4_MAX_INPUT);
    for (const char *p = name; *p; p++)
        if (!tchar((unsigned char) *p))
            return mu__fail(MU_EINVAL, "sigv4: header name '%.64s' has a byte 0x%02x not allowed",
                            name, (unsigned char) *p);
    for (const char *p = value; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if ((c < 0x20 && !blank((char) c)) || c == 0x7f)
            return mu__fail(MU_EINVAL, "sigv4: header '%.64s' value has control byte 0x%02x", name,
                            c);
    }
    return 0;
}

int
mu__sigv4_header_add(mu__hlist_t *h, const char *name, const char *value)
{
    int rc = check_header(name, value);
    if (rc)
        return rc;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        mu__hdr_t *p = realloc(h->v, cap * sizeof *p);
        if (!p)
            return MU_ENOMEM;
        h->v = p;
        h->cap = cap;
    }
    char *n = strdup(name);
    char *v = trim_value(value);
    if (!n || !v) {
        free(n);
        free(v);
        return MU_ENOMEM;
    }
    for (char *p = n; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char) (*p - 'A' + 'a');
    h->v[h->n] = (mu__hdr_t) { n, v, h->n };
    h->n++;
    return 0;
}

const char *
mu__sigv4_header_find(const mu__hlist_t *h, const char *lname)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].name, lname) == 0)
            return h->v[i].value;
    return NULL;
}

static int
cmp_hdr(const void *a, const void *b)
{
    const mu__hdr_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

void
mu__sigv4_headers_write(mu__hlist_t *h, mu__sbuf_t *b, mu__sbuf_t *names)
{
    if (h->n > 1)
        qsort(h->v, h->n, sizeof *h->v, cmp_hdr);
    for (size_t i = 0; i < h->n; i++) {
        bool first = i == 0 || strcmp(h->v[i - 1].name, h->v[i].name) != 0;
        bool last = i + 1 == h->n || strcmp(h->v[i + 1].name, h->v[i].name) != 0;
        if (first) {
            if (names->len)
                mu__sb_putc(names, ';');
            mu__sb_puts(names, h->v[i].name);
            mu__sb_puts(b, h->v[i].name);
            mu__sb_putc(b, ':');
        } else {
            mu__sb_putc(b, ',');
        }
        mu__sb_puts(b, h->v[i].value);
        if (last)
            mu__sb_putc(b, '\n');
    }
}

void
mu__sigv4_headers_free(mu__hlist_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
    *h = (mu__hlist_t) { 0 };
}
