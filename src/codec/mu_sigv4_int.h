/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sigv4_int.h — private pieces of the SigV4 signer: a growable string
    and the canonical forms of a request's path, query and headers
    (mu_sigv4_canon.c). Never installed. */
#ifndef MU_SIGV4_INT_H_INCLUDED
#define MU_SIGV4_INT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "mu_sigv4.h"

/*  A growable NUL-terminated string; after an allocation failure (oom)
    every append is a no-op, so callers check once at the end. */
typedef struct {
    char *p;
    size_t len;
    size_t cap;
    bool oom;
} mu__sbuf_t;

void mu__sb_putn(mu__sbuf_t *b, const char *s, size_t n);
void mu__sb_puts(mu__sbuf_t *b, const char *s);
void mu__sb_putc(mu__sbuf_t *b, char c);
/*  Appends s (n bytes) URI-encoded: RFC 3986 unreserved bytes as they are,
    every other byte %XX with upper-case hex. */
void mu__sb_encode(mu__sbuf_t *b, const char *s, size_t n);
/*  Hands the string over (an empty string when nothing was appended), or
    NULL after an allocation failure (the buffer is freed either way). */
char *mu__sb_take(mu__sbuf_t *b);
void mu__sb_free(mu__sbuf_t *b);

/*  Appends the canonical URI of path (NULL or "" is "/"), normalised
    unless as_given. Returns 0 or MU_EINVAL (recorded). */
int mu__sigv4_path(mu__sbuf_t *b, const char *path, bool as_given);

/*  The query pairs, encoded, to be sorted and joined. */
typedef struct {
    char *key;
    char *value;
} mu__qpair_t;

typedef struct {
    mu__qpair_t *v;
    size_t n;
    size_t cap;
} mu__qlist_t;

/*  Adds the pairs of query (a URL query, without '?'; NULL for none),
    decoded then encoded. Returns 0, MU_EINVAL (bad escape, recorded) or
    MU_ENOMEM. */
int mu__sigv4_query_parse(mu__qlist_t *q, const char *query);
/*  Adds one pair given decoded (raw bytes). Returns 0 or MU_ENOMEM. */
int mu__sigv4_query_add(mu__qlist_t *q, const char *key, const char *value);
/*  True when a pair has the (encoded) key. */
bool mu__sigv4_query_has(const mu__qlist_t *q, const char *key);
/*  Sorts the pairs and appends "k=v&k=v". */
void mu__sigv4_query_write(mu__qlist_t *q, mu__sbuf_t *b);
void mu__sigv4_query_free(mu__qlist_t *q);

/*  The headers of a request, canonical: lower-case names, trimmed values. */
typedef struct {
    char *name;
    char *value;
    size_t order; /* position given: ties keep it */
} mu__hdr_t;

typedef struct {
    mu__hdr_t *v;
    size_t n;
    size_t cap;
} mu__hlist_t;

/*  Adds a header after checking its name and value. Returns 0, MU_EINVAL
    (recorded) or MU_ENOMEM. */
int mu__sigv4_header_add(mu__hlist_t *h, const char *name, const char *value);
/*  The canonical value of the first header named lname (lower case), or
    NULL. */
const char *mu__sigv4_header_find(const mu__hlist_t *h, const char *lname);
/*  Sorts the headers, appends the canonical header block (each
    "name:v1,v2\n") to b and the signed-header list to names. */
void mu__sigv4_headers_write(mu__hlist_t *h, mu__sbuf_t *b, mu__sbuf_t *names);
void mu__sigv4_headers_free(mu__hlist_t *h);

#endif
