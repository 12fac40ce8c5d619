/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sigv4.c — AWS Signature Version 4: the canonical request, string to
    sign, signing key and signature (include/mu_sigv4.h, doc/sigv4.md). */
#include "base/mu_internal.h"
#include "codec/mu_sigv4_int.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_EXPIRES 604800 /* seven days, AWS's limit for presigned URLs */

static void
to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void
sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, data, len);
    to_hex(d, sizeof d, out);
}

static void
hmac(unsigned char out[32], const void *key, size_t klen, const char *msg)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* ---- checks ---- */

static int
check_str(const char *s, const char *field)
{
    if (!s || !*s)
        return mu__fail(MU_EINVAL, "sigv4: %s is required", field);
    if (strlen(s) > MU_SIGV4_MAX_INPUT)
        return mu__fail(MU_EINVAL, "sigv4: %s longer than %d bytes", field, MU_SIGV4_MAX_INPUT);
    return 0;
}

/* A credential-scope part: no '/', ',', space or control byte. */
static int
check_word(const char *s, const char *field)
{
    int rc = check_str(s, field);
    if (rc)
        return rc;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c <= ' ' || c == 0x7f || c == '/' || c == ',')
            return mu__fail(MU_EINVAL, "sigv4: %s '%.64s' has a byte 0x%02x not allowed", field, s,
                            c);
    }
    return 0;
}

static int
check_opt(const char *s, const char *field)
{
    if (s && strlen(s) > MU_SIGV4_MAX_INPUT)
        return mu__fail(MU_EINVAL, "sigv4: %s longer than %d bytes", field, MU_SIGV4_MAX_INPUT);
    return 0;
}

static int
check_request(const mu_sigv4_request_t *req)
{
    int rc = check_word(req->method, "method");
    if (!rc)
        rc = check_word(req->region, "region");
    if (!rc)
        rc = check_word(req->service, "service");
    if (!rc)
        rc = check_word(req->access_key, "access key");
    if (!rc)
        rc = check_str(req->secret_key, "secret key");
    if (!rc)
        rc = check_opt(req->path, "path");
    if (!rc)
        rc = check_opt(req->query, "query");
    if (!rc)
        rc = check_opt(req->session_token, "session token");
    if (!rc && req->payload_hash)
        rc = check_word(req->payload_hash, "payload hash");
    if (!rc && req->n_headers > MU_SIGV4_MAX_HEADERS)
        rc = mu__fail(MU_EINVAL, "sigv4: %zu headers, at most %d", req->n_headers,
                      MU_SIGV4_MAX_HEADERS);
    if (!rc && req->n_headers && !req->headers)
        rc = mu__fail(MU_EINVAL, "sigv4: headers NULL with n_headers %zu", req->n_headers);
    if (!rc && req->payload_len && !req->payload)
        rc = mu__fail(MU_EINVAL, "sigv4: payload NULL with payload_len %zu", req->payload_len);
    return rc;
}

/* ---- date ---- */

static bool
digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int
check_amz_date(const char *d)
{
    if (strlen(d) != 16 || !digits(d, 8) || d[8] != 'T' || !digits(d + 9, 6) || d[15] != 'Z')
        return mu__fail(MU_EINVAL, "sigv4: X-Amz-Date '%.64s' is not YYYYMMDDTHHMMSSZ", d);
    return 0;
}

static int
format_time(int64_t t, char out[17])
{
    if (t == 0)
        t = (int64_t) time(NULL);
    if (t < 0 || t > INT64_C(253402300799)) /* 9999-12-31T23:59:59Z */
        return mu__fail(MU_EINVAL, "sigv4: time %lld outside years 1970..9999", (long long) t);
    time_t tt = (time_t) t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return mu__fail(MU_EINVAL, "sigv4: time %lld cannot be formatted", (long long) t);
    return 0;
}

/* The date: the X-Amz-Date header(s) when given (all equal), else
   req->time (*added set). */
static int
pick_date(const mu_sigv4_request_t *req, char out[17], bool *added)
{
    const char *found = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        const mu_sigv4_header_t *h = &req->headers[i];
        if (!h->name || strcasecmp(h->name, "x-amz-date") != 0 || !h->value)
            continue;
        if (found && strcmp(found, h->value) != 0)
            return mu__fail(MU_EINVAL, "sigv4: two different X-Amz-Date headers");
        found = h->value;
    }
    *added = !found;
    if (!found)
        return format_time(req->time, out);
    int rc = check_amz_date(found);
    if (rc == 0)
        memcpy(out, found, 17);
    return rc;
}

/* ---- signing ---- */

typedef struct {
    mu__hlist_t h;
    mu__qlist_t q;
    mu__sbuf_t creq;
    mu__sbuf_t names;
} work_t;

static void
work_free(work_t *w)
{
    mu__sigv4_headers_free(&w->h);
    mu__sigv4_query_free(&w->q);
    mu__sb_free(&w->creq);
    mu__sb_free(&w->names);
}

static int
add_headers(work_t *w, const mu_sigv4_request_t *req, mu_sigv4_t *out, bool date_added,
            bool presign)
{
    int rc = 0;
    for (size_t i = 0; i < req->n_headers && rc == 0; i++)
        rc = mu__sigv4_header_add(&w->h, req->headers[i].name, req->headers[i].value);
    if (rc)
        return rc;
    if (date_added && !presign) {
        out->add_date = out->amz_date;
        rc = mu__sigv4_header_add(&w->h, "x-amz-date", out->amz_date);
    }
    bool token = req->session_token && *req->session_token;
    if (!rc && token && !presign && !mu__sigv4_header_find(&w->h, "x-amz-security-token")) {
        out->add_token = req->session_token;
        if (!(req->flags & MU_SIGV4_TOKEN_UNSIGNED))
            rc = mu__sigv4_header_add(&w->h, "x-amz-security-token", req->session_token);
    }
    if (!rc && (req->flags & MU_SIGV4_CONTENT_SHA256) && !presign
        && !mu__sigv4_header_find(&w->h, "x-amz-content-sha256")) {
        out->add_content_sha256 = out->payload_hash;
        rc = mu__sigv4_header_add(&w->h, "x-amz-content-sha256", out->payload_hash);
    }
    return rc;
}

/* The query parameters of a presigned URL (all but the signature). */
static int
add_presign_query(work_t *w, const mu_sigv4_request_t *req, mu_sigv4_t *out, int expires_s)
{
    if (mu__sigv4_query_has(&w->q, "X-Amz-Signature"))
        return mu__fail(MU_EINVAL, "sigv4: the query already has an X-Amz-Signature");
    mu__sbuf_t cred = { 0 }, names = { 0 };
    mu__sb_puts(&cred, req->access_key);
    mu__sb_putc(&cred, '/');
    mu__sb_puts(&cred, out->scope);
    mu__sbuf_t block = { 0 }; /* only the names are wanted here */
    mu__sigv4_headers_write(&w->h, &block, &names);
    mu__sb_free(&block);
    char exp[16];
    snprintf(exp, sizeof exp, "%d", expires_s);
    int rc = cred.oom || names.oom ? MU_ENOMEM : 0;
    if (!rc)
        rc = mu__sigv4_query_add(&w->q, "X-Amz-Algorithm", ALGORITHM);
    if (!rc)
        rc = mu__sigv4_query_add(&w->q, "X-Amz-Credential", cred.p);
    if (!rc)
        rc = mu__sigv4_query_add(&w->q, "X-Amz-Date", out->amz_date);
    if (!rc)
        rc = mu__sigv4_query_add(&w->q, "X-Amz-Expires", exp);
    if (!rc)
        rc = mu__sigv4_query_add(&w->q, "X-Amz-SignedHeaders", names.p ? names.p : "");
    if (!rc && req->session_token && *req->session_token && !(req->flags & MU_SIGV4_TOKEN_UNSIGNED))
        rc = mu__sigv4_query_add(&w->q, "X-Amz-Security-Token", req->session_token);
    mu__sb_free(&cred);
    mu__sb_free(&names);
    return rc;
}

static int
build_creq(work_t *w, const mu_sigv4_request_t *req, mu_sigv4_t *out)
{
    mu__sbuf_t *b = &w->creq;
    mu__sb_puts(b, req->method);
    mu__sb_putc(b, '\n');
    int rc = mu__sigv4_path(b, req->path, (req->flags & MU_SIGV4_NO_NORMALIZE) != 0);
    if (rc)
        return rc;
    mu__sb_putc(b, '\n');
    mu__sigv4_query_write(&w->q, b);
    mu__sb_putc(b, '\n');
    mu__sigv4_headers_write(&w->h, b, &w->names);
    mu__sb_putc(b, '\n');
    mu__sb_puts(b, w->names.len ? w->names.p : "");
    mu__sb_putc(b, '\n');
    mu__sb_puts(b, out->payload_hash);
    if (b->oom || w->names.oom)
        return MU_ENOMEM;
    out->signed_headers = mu__sb_take(&w->names);
    out->canonical_request = mu__sb_take(b);
    return out->signed_headers && out->canonical_request ? 0 : MU_ENOMEM;
}

static int
sign_sts(const mu_sigv4_request_t *req, mu_sigv4_t *out)
{
    char h[65];
    sha256_hex(out->canonical_request, strlen(out->canonical_request), h);
    mu__sbuf_t s = { 0 };
    mu__sb_puts(&s, ALGORITHM "\n");
    mu__sb_puts(&s, out->amz_date);
    mu__sb_putc(&s, '\n');
    mu__sb_puts(&s, out->scope);
    mu__sb_putc(&s, '\n');
    mu__sb_puts(&s, h);
    out->string_to_sign = mu__sb_take(&s);
    if (!out->string_to_sign)
        return MU_ENOMEM;
    mu__sbuf_t k = { 0 };
    mu__sb_puts(&k, "AWS4");
    mu__sb_puts(&k, req->secret_key);
    if (k.oom)
        return MU_ENOMEM;
    char day[9];
    memcpy(day, out->amz_date, 8);
    day[8] = '\0';
    unsigned char key[32], sig[32];
    hmac(key, k.p, k.len, day);
    sodium_memzero(k.p, k.len);
    mu__sb_free(&k);
    hmac(key, key, sizeof key, req->region);
    hmac(key, key, sizeof key, req->service);
    hmac(key, key, sizeof key, "aws4_request");
    hmac(sig, key, sizeof key, out->string_to_sign);
    sodium_memzero(key, sizeof key);
    to_hex(sig, sizeof sig, out->signature);
    return 0;
}

static int
prepare(const mu_sigv4_request_t *req, mu_sigv4_t *out, bool *date_added, bool presign)
{
    int rc = check_request(req);
    if (!rc)
        rc = pick_date(req, out->amz_date, date_added);
    if (rc)
        return rc;
    mu__sbuf_t s = { 0 };
    mu__sb_putn(&s, out->amz_date, 8);
    mu__sb_putc(&s, '/');
    mu__sb_puts(&s, req->region);
    mu__sb_putc(&s, '/');
    mu__sb_puts(&s, req->service);
    mu__sb_puts(&s, "/aws4_request");
    out->scope = mu__sb_take(&s);
    if (req->payload_hash) {
        out->payload_hash = strdup(req->payload_hash);
    } else if (presign && (req->flags & MU_SIGV4_S3) == MU_SIGV4_S3) {
        out->payload_hash = strdup("UNSIGNED-PAYLOAD");
    } else {
        out->payload_hash = malloc(65);
        if (out->payload_hash)
            sha256_hex(req->payload ? req->payload : "", req->payload_len, out->payload_hash);
    }
    return out->scope && out->payload_hash ? 0 : MU_ENOMEM;
}

static int
authorization(const mu_sigv4_request_t *req, mu_sigv4_t *out)
{
    mu__sbuf_t a = { 0 };
    mu__sb_puts(&a, ALGORITHM " Credential=");
    mu__sb_puts(&a, req->access_key);
    mu__sb_putc(&a, '/');
    mu__sb_puts(&a, out->scope);
    mu__sb_puts(&a, ", SignedHeaders=");
    mu__sb_puts(&a, out->signed_headers);
    mu__sb_puts(&a, ", Signature=");
    mu__sb_puts(&a, out->signature);
    out->authorization = mu__sb_take(&a);
    return out->authorization ? 0 : MU_ENOMEM;
}

static int
presigned_query(const mu_sigv4_request_t *req, mu_sigv4_t *out, work_t *w)
{
    mu__sbuf_t q = { 0 };
    mu__sigv4_query_write(&w->q, &q); /* already sorted: same order */
    mu__sb_puts(&q, "&X-Amz-Signature=");
    mu__sb_puts(&q, out->signature);
    if (req->session_token && *req->session_token && (req->flags & MU_SIGV4_TOKEN_UNSIGNED)) {
        mu__sb_puts(&q, "&X-Amz-Security-Token=");
        mu__sb_encode(&q, req->session_token, strlen(req->session_token));
    }
    out->query = mu__sb_take(&q);
    return out->query ? 0 : MU_ENOMEM;
}

static int
run(const mu_sigv4_request_t *req, int expires_s, mu_sigv4_t *out)
{
    bool presign = expires_s > 0, date_added = false;
    work_t w = { 0 };
    *out = (mu_sigv4_t) { 0 };
    int rc = prepare(req, out, &date_added, presign);
    if (!rc)
        rc = mu__sigv4_query_parse(&w.q, req->query);
    if (!rc)
        rc = add_headers(&w, req, out, date_added, presign);
    if (!rc && presign)
        rc = add_presign_query(&w, req, out, expires_s);
    if (!rc)
        rc = build_creq(&w, req, out);
    if (!rc)
        rc = sign_sts(req, out);
    if (!rc)
        rc = presign ? presigned_query(req, out, &w) : authorization(req, out);
    work_free(&w);
    if (rc) {
        mu_sigv4_clear(out);
        if (rc == MU_ENOMEM)
            mu__fail(MU_ENOMEM, "sigv4: out of memory");
    }
    return rc;
}

int
mu_sigv4_sign(const mu_sigv4_request_t *req, mu_sigv4_t *out)
{
    assert(req && out);
    return run(req, 0, out);
}

int
mu_sigv4_presign(const mu_sigv4_request_t *req, int expires_s, mu_sigv4_t *out)
{
    assert(req && out);
    if (expires_s < 1 || expires_s > MAX_EXPIRES) {
        *out = (mu_sigv4_t) { 0 };
        return mu__fail(MU_EINVAL, "sigv4: expires %d s outside 1..%d", expires_s, MAX_EXPIRES);
    }
    return run(req, expires_s, out);
}

void
mu_sigv4_clear(mu_sigv4_t *out)
{
    if (!out)
        return;
    free(out->canonical_request);
    free(out->string_to_sign);
    free(out->signed_headers);
    free(out->scope);
    free(out->payload_hash);
    free(out->authorization);
    free(out->query);
    *out = (mu_sigv4_t) { 0 };
}
