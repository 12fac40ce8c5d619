/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sigv4.h — AWS Signature Version 4 (AWS4-HMAC-SHA256) request signing.

    mu_sigv4_sign turns a request (method, path, query, headers, payload or
    its hash) and credentials (access key, secret, optional session token,
    region, service, time) into the canonical request, the string to sign,
    the signature and the Authorization header value; mu_sigv4_presign
    gives the query-string ("presigned URL") form instead. Pure
    computation: no I/O, no clock unless the caller leaves the time unset,
    no global state; thread-safe. SHA-256 and HMAC-SHA-256 are libsodium's.

    Canonicalisation (checked against AWS's published SigV4 test suite; see
    doc/sigv4.md for the vectors and the rules in detail):
      - path: each segment is URI-encoded (RFC 3986 unreserved characters
        A-Z a-z 0-9 - . _ ~ kept, every other byte %XX, upper-case hex),
        '/' kept. Unless MU_SIGV4_NO_NORMALIZE is set, the path is normalised first:
        empty and "." segments are dropped, ".." removes the segment before
        it, and a trailing '/' is kept. Amazon S3 is the exception: its
        keys are signed as given (no normalisation), so "a//b" stays.
        The path is encoded once as given: for S3 pass the decoded key
        ("/my key"); other services expect the encoded URL path to be
        encoded again, which passing the path as it appears in the URL
        ("/my%20key") does.
      - query: split on '&', each part at its first '=' (a part without
        '=' has an empty value); keys and values are percent-decoded (a
        '+' stays a '+') and re-encoded as above, then sorted by key, then
        by value (byte order). Empty parts ("a=1&&b=2") are ignored.
      - headers: names lower-cased; values trimmed, every run of spaces,
        tabs, CR or LF collapsed to one space; headers sorted by name;
        repeated names joined with ',' in the order given. Every header
        given is signed.
    The date (YYYYMMDDTHHMMSSZ) comes from an X-Amz-Date header when the
    request has one, else from mu_sigv4_request_t.time; in the latter case
    an "x-amz-date" header is added to the signed headers and the caller
    must send it (mu_sigv4_t.amz_date). */
#ifndef MU_SIGV4_H_INCLUDED
#define MU_SIGV4_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Flags of mu_sigv4_request_t. */
#define MU_SIGV4_NO_NORMALIZE 1 /* sign the path as given (no dot/empty segment removal) */
#define MU_SIGV4_TOKEN_UNSIGNED \
    2                             /* session token sent but not signed
                                     (some services add it after signing) */
#define MU_SIGV4_CONTENT_SHA256 4 /* sign an x-amz-content-sha256 header */
/*  Amazon S3's rules: no normalisation, x-amz-content-sha256 signed, and
    presigned URLs use the payload hash "UNSIGNED-PAYLOAD". */
#define MU_SIGV4_S3 (MU_SIGV4_NO_NORMALIZE | MU_SIGV4_CONTENT_SHA256)

/*  Longest input strings accepted, bytes (each of path, query, a header
    name or value). */
#define MU_SIGV4_MAX_INPUT (1024 * 1024)
/*  Most headers in one request. */
#define MU_SIGV4_MAX_HEADERS 1024

/*  One request header: name and value, NUL-terminated. */
typedef struct {
    const char *name;
    const char *value;
} mu_sigv4_header_t;

/*  A request to sign. Fields left NULL / 0 take the default noted. */
typedef struct {
    const char *method;               /* "GET", "POST", ... (required) */
    const char *path;                 /* starts with '/'; NULL or "" means "/" */
    const char *query;                /* without the '?'; NULL or "" for none */
    const mu_sigv4_header_t *headers; /* n_headers entries (Host should be one) */
    size_t n_headers;
    const void *payload; /* the body, payload_len bytes (may be NULL when 0) */
    size_t payload_len;
    const char *payload_hash;  /* when not NULL, used instead of hashing the
                                 payload: 64 hex digits, "UNSIGNED-PAYLOAD", ... */
    const char *region;        /* "us-east-1" (required) */
    const char *service;       /* "s3", "execute-api", ... (required) */
    const char *access_key;    /* required */
    const char *secret_key;    /* required */
    const char *session_token; /* NULL: none; else sent as X-Amz-Security-Token */
    int64_t time;              /* Unix seconds; 0: now (unused with an X-Amz-Date header) */
    int flags;                 /* MU_SIGV4_* */
} mu_sigv4_request_t;

/*  The result of mu_sigv4_sign / mu_sigv4_presign: NUL-terminated strings
    owned by the struct, freed by mu_sigv4_clear. */
typedef struct {
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers; /* "host;x-amz-date" */
    char *scope;          /* "20150830/us-east-1/service/aws4_request" */
    char *payload_hash;   /* as signed */
    char *authorization;  /* Authorization header value (mu_sigv4_sign only) */
    char *query;          /* the full canonical query to send, with the
                             X-Amz-* parameters and the signature
                             (mu_sigv4_presign only, else NULL) */
    char amz_date[17];    /* YYYYMMDDTHHMMSSZ */
    char signature[65];   /* 64 lower-case hex digits */
    /* Headers the caller must add to the request when not NULL:
       x-amz-date (no X-Amz-Date header given), x-amz-security-token
       (session token and no such header given), x-amz-content-sha256
       (MU_SIGV4_CONTENT_SHA256). add_token is req->session_token itself (valid
       while the caller keeps it); the others point into the struct. */
    const char *add_date;
    const char *add_token;
    const char *add_content_sha256;
} mu_sigv4_t;

/*  Signs req for the Authorization header and fills *out (overwritten
    without freeing: start from a zeroed struct or one passed to
    mu_sigv4_clear). The session token, unless MU_SIGV4_TOKEN_UNSIGNED, is
    signed as the x-amz-security-token header (when req's headers do not
    already have one); with MU_SIGV4_CONTENT_SHA256 the header
    x-amz-content-sha256 (the payload hash) is signed. Returns 0, or:
      MU_EINVAL  a required field NULL or empty; a path not starting with
                 '/'; a bad %XX escape in the query; a header name empty or
                 with a byte outside RFC 7230's token characters; a value
                 with a control byte other than tab, CR, LF; a region,
                 service or access key holding '/', ',', a space or a
                 control byte; more than MU_SIGV4_MAX_HEADERS headers; a
                 bad X-Amz-Date value (two different ones, or not
                 YYYYMMDDTHHMMSSZ); a time outside years 1970..9999; an
                 input over MU_SIGV4_MAX_INPUT;
      MU_ENOMEM.
    On failure *out holds nothing to free (all NULL). mu_last_error() names
    the field. Thread-safe. A NULL req or out is a caller bug (assert). */
MU_EXPORT MU_NODISCARD int mu_sigv4_sign(const mu_sigv4_request_t *req, mu_sigv4_t *out);

/*  Signs req for a presigned URL valid expires_s seconds (1..604800): the
    query parameters X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
    X-Amz-Expires, X-Amz-SignedHeaders (and X-Amz-Security-Token with a
    session token, unless MU_SIGV4_TOKEN_UNSIGNED: then it follows the
    signature unsigned) are added to req's query; no header is added
    (x-amz-date, the token and x-amz-content-sha256 are not headers here);
    the payload hash is req->payload_hash, else "UNSIGNED-PAYLOAD" with
    MU_SIGV4_S3, else the payload's SHA-256; out->query receives the query to send (canonical order) ending with
    &X-Amz-Signature=.... out->authorization is NULL. Same errors as
    mu_sigv4_sign, plus MU_EINVAL for expires_s out of range or a query
    already holding an X-Amz-Signature. Thread-safe. */
MU_EXPORT MU_NODISCARD int mu_sigv4_presign(const mu_sigv4_request_t *req, int expires_s,
                                            mu_sigv4_t *out);

/*  Frees the strings of *out and zeroes it. Accepts NULL and a zeroed
    struct. */
MU_EXPORT void mu_sigv4_clear(mu_sigv4_t *out);

#ifdef __cplusplus
}
#endif
#endif
