/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_sigv4.c — mu_sigv4_sign / mu_sigv4_presign against AWS's published
    SigV4 test suite (sigv4_vectors.h: every case's request is parsed from
    its HTTP text, signed, and the canonical request, string to sign and
    signature compared), then the documented errors and edge cases. */
#include "mu_test.h"
#include <mutil.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *request; /* HTTP/1.1 text */
    const char *token;   /* session token or NULL */
    int flags;
    const char *creq, *sts, *sig, *authz; /* header form (sig or authz) */
    const char *qcreq, *qsts, *qsig;      /* query form, or NULL */
    int expires;
} sigv4_vector_t;

#include "sigv4_vectors.h"

#define SUITE_TIME 1440938160 /* 2015-08-30T12:36:00Z */
#define MAX_HDRS 16

/* A request parsed from the suite's HTTP text: "METHOD URI HTTP/1.1",
   "Name:value" lines (a line starting with a blank continues the previous
   value), a blank line, the body. */
typedef struct {
    char *text; /* owned copy, cut in place */
    mu_sigv4_header_t h[MAX_HDRS];
    char *values[MAX_HDRS]; /* owned, continuation lines joined */
    mu_sigv4_request_t req;
} parsed_t;

static bool
parse_request(const char *http, parsed_t *p)
{
    memset(p, 0, sizeof *p);
    p->text = strdup(http);
    char *line = p->text, *end = strchr(line, '\n');
    if (!end)
        end = line + strlen(line);
    char *s = *end ? end + 1 : end;
    *end = '\0';
    char *sp = strchr(line, ' '), *proto = strstr(line, " HTTP/1.1");
    if (!sp || !proto)
        return false;
    *sp = '\0';
    *proto = '\0';
    p->req.method = line;
    char *uri = sp + 1, *q = strchr(uri, '?');
    if (q) {
        *q = '\0';
        p->req.query = q + 1;
    }
    p->req.path = uri;
    size_t n = 0;
    while (*s) {
        char *e = strchr(s, '\n');
        size_t len = e ? (size_t) (e - s) : strlen(s);
        if (len == 0) { /* blank line: the body follows */
            s += 1;
            p->req.payload = s;
            p->req.payload_len = strlen(s);
            break;
        }
        if ((s[0] == ' ' || s[0] == '\t') && n > 0) {
            size_t old = strlen(p->values[n - 1]);
            p->values[n - 1] = realloc(p->values[n - 1], old + len + 2);
            p->values[n - 1][old] = '\n';
            memcpy(p->values[n - 1] + old + 1, s, len);
            p->values[n - 1][old + 1 + len] = '\0';
        } else {
            char *colon = memchr(s, ':', len);
            if (!colon || n == MAX_HDRS)
                return false;
            *colon = '\0';
            p->h[n].name = s;
            p->values[n] = strndup(colon + 1, len - (size_t) (colon + 1 - s));
            n++;
        }
        s += len + (e ? 1 : 0);
    }
    for (size_t i = 0; i < n; i++)
        p->h[i].value = p->values[i];
    p->req.headers = p->h;
    p->req.n_headers = n;
    p->req.region = "us-east-1";
    p->req.service = "service";
    p->req.access_key = "AKIDEXAMPLE";
    p->req.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    p->req.time = SUITE_TIME;
    return true;
}

static void
parsed_free(parsed_t *p)
{
    for (size_t i = 0; i < MAX_HDRS; i++)
        free(p->values[i]);
    free(p->text);
}

static bool
same(const char *what, const char *name, const char *got, const char *want)
{
    if (got && want && strcmp(got, want) == 0)
        return true;
    printf("# %s: %s differs\n# got:\n%s\n# want:\n%s\n", name, what, got ? got : "(null)", want);
    return false;
}

/* Header form: canonical request, string to sign, signature (and the
   Authorization header when the case gives it). */
static bool
check_header_form(const sigv4_vector_t *v)
{
    parsed_t p;
    bool ok = parse_request(v->request, &p);
    p.req.session_token = v->token;
    p.req.flags = v->flags;
    mu_sigv4_t out = { 0 };
    int rc = ok ? mu_sigv4_sign(&p.req, &out) : -1;
    if (rc != 0) {
        printf("# %s: sign rc %d (%s)\n", v->name, rc, mu_last_error());
        ok = false;
    }
    ok = ok && same("canonical request", v->name, out.canonical_request, v->creq);
    ok = ok && same("string to sign", v->name, out.string_to_sign, v->sts);
    if (ok && v->sig)
        ok = same("signature", v->name, out.signature, v->sig);
    if (ok && v->authz)
        ok = same("authorization", v->name, out.authorization, v->authz);
    if (ok && v->token && (v->flags & MU_SIGV4_TOKEN_UNSIGNED))
        ok = out.add_token == v->token && !strstr(out.signed_headers, "x-amz-security-token");
    mu_sigv4_clear(&out);
    parsed_free(&p);
    return ok;
}

/* Query form (presigned URL): canonical request, string to sign,
   signature, and the query to send ends with the signature. */
static bool
check_query_form(const sigv4_vector_t *v)
{
    parsed_t p;
    bool ok = parse_request(v->request, &p);
    p.req.session_token = v->token;
    p.req.flags = v->flags;
    mu_sigv4_t out = { 0 };
    int rc = ok ? mu_sigv4_presign(&p.req, v->expires, &out) : -1;
    if (rc != 0) {
        printf("# %s: presign rc %d (%s)\n", v->name, rc, mu_last_error());
        ok = false;
    }
    ok = ok && same("query canonical request", v->name, out.canonical_request, v->qcreq);
    ok = ok && same("query string to sign", v->name, out.string_to_sign, v->qsts);
    ok = ok && same("query signature", v->name, out.signature, v->qsig);
    if (ok) {
        char tail[100];
        snprintf(tail, sizeof tail, "X-Amz-Signature=%s", v->qsig);
        ok = strstr(out.query, tail) != NULL && out.authorization == NULL;
    }
    mu_sigv4_clear(&out);
    parsed_free(&p);
    return ok;
}

static void
test_suite_header_form(void)
{
    size_t n = sizeof sigv4_vectors / sizeof sigv4_vectors[0], passed = 0;
    for (size_t i = 0; i < n; i++)
        passed += check_header_form(&sigv4_vectors[i]);
    printf("# header form: %zu of %zu vectors\n", passed, n);
    MU_CHECK_EQ(passed, n);
}

static void
test_suite_query_form(void)
{
    size_t n = 0, passed = 0;
    for (size_t i = 0; i < sizeof sigv4_vectors / sizeof sigv4_vectors[0]; i++) {
        if (!sigv4_vectors[i].qcreq)
            continue;
        n++;
        passed += check_query_form(&sigv4_vectors[i]);
    }
    printf("# query form: %zu of %zu vectors\n", passed, n);
    MU_CHECK(n > 0);
    MU_CHECK_EQ(passed, n);
}

static mu_sigv4_request_t
base_request(void)
{
    static const mu_sigv4_header_t host[] = { { "Host", "example.amazonaws.com" } };
    return (mu_sigv4_request_t) { .method = "GET",
                                  .path = "/",
                                  .headers = host,
                                  .n_headers = 1,
                                  .region = "us-east-1",
                                  .service = "service",
                                  .access_key = "AKIDEXAMPLE",
                                  .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                  .time = SUITE_TIME };
}

static int
sign_rc(const mu_sigv4_request_t *req)
{
    mu_sigv4_t out = { 0 };
    int rc = mu_sigv4_sign(req, &out);
    /* On failure nothing is left to free. */
    if (rc != 0 && (out.canonical_request || out.authorization || out.scope))
        rc = 12345;
    mu_sigv4_clear(&out);
    return rc;
}

/* The date is added as x-amz-date when no header gives it, and reported. */
static void
test_date_added(void)
{
    mu_sigv4_request_t req = base_request();
    mu_sigv4_t out = { 0 };
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    MU_CHECK(strcmp(out.amz_date, "20150830T123600Z") == 0);
    MU_CHECK(out.add_date && strcmp(out.add_date, "20150830T123600Z") == 0);
    MU_CHECK(strcmp(out.signed_headers, "host;x-amz-date") == 0);
    MU_CHECK(strcmp(out.scope, "20150830/us-east-1/service/aws4_request") == 0);
    MU_CHECK(out.add_token == NULL && out.add_content_sha256 == NULL);
    /* get-vanilla's published signature. */
    MU_CHECK(
        strcmp(out.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        == 0);
    mu_sigv4_clear(&out);
    mu_sigv4_clear(&out); /* a cleared struct clears again */
    mu_sigv4_clear(NULL);
}

/* S3: path kept as given, x-amz-content-sha256 signed, presigned URLs
   with UNSIGNED-PAYLOAD; a given payload hash is used as is. */
static void
test_s3(void)
{
    mu_sigv4_request_t req = base_request();
    req.path = "/my-object//example//photo.user";
    req.flags = MU_SIGV4_S3;
    mu_sigv4_t out = { 0 };
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    MU_CHECK(strncmp(out.canonical_request, "GET\n/my-object//example//photo.user\n", 36) == 0);
    MU_CHECK(strcmp(out.signed_headers, "host;x-amz-content-sha256;x-amz-date") == 0);
    MU_CHECK(out.add_content_sha256
             && strcmp(out.add_content_sha256,
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                    == 0);
    mu_sigv4_clear(&out);
    MU_CHECK_EQ(mu_sigv4_presign(&req, 60, &out), 0);
    MU_CHECK(strcmp(out.payload_hash, "UNSIGNED-PAYLOAD") == 0);
    MU_CHECK(strstr(out.canonical_request, "\nUNSIGNED-PAYLOAD") != NULL);
    MU_CHECK(strstr(out.query, "X-Amz-Expires=60&") != NULL);
    mu_sigv4_clear(&out);
    req.payload_hash = "UNSIGNED-PAYLOAD";
    req.flags = 0;
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    MU_CHECK(strcmp(out.payload_hash, "UNSIGNED-PAYLOAD") == 0);
    MU_CHECK(strstr(out.canonical_request, "\nUNSIGNED-PAYLOAD") != NULL);
    mu_sigv4_clear(&out);
}

/* Query edge cases: '+' is a literal plus, a key without '=' has an empty
   value, empty parts are ignored, escapes are normalised. */
static void
test_query_edges(void)
{
    mu_sigv4_request_t req = base_request();
    req.query = "b=%7e+x&&a&c=%2f%2F";
    mu_sigv4_t out = { 0 };
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    MU_CHECK(strncmp(out.canonical_request, "GET\n/\na=&b=~%2Bx&c=%2F%2F\n", 26) == 0);
    mu_sigv4_clear(&out);
    req.query = "";
    req.path = NULL;
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    MU_CHECK(strncmp(out.canonical_request, "GET\n/\n\n", 7) == 0);
    mu_sigv4_clear(&out);
    req.path = "/a/b/../c/./d/";
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    MU_CHECK(strncmp(out.canonical_request, "GET\n/a/c/d/\n", 12) == 0);
    mu_sigv4_clear(&out);
    req.path = "/../..";
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    MU_CHECK(strncmp(out.canonical_request, "GET\n/\n", 6) == 0);
    mu_sigv4_clear(&out);
}

/* Every documented MU_EINVAL, each leaving nothing to free. */
static void
test_errors(void)
{
    mu_sigv4_request_t req = base_request();
    MU_CHECK_EQ(sign_rc(&req), 0);
    req.method = NULL;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.method = "";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.region = "us/east";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "region") != NULL);
    req = base_request();
    req.service = NULL;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.access_key = "AK ID";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.secret_key = "";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.path = "relative";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.query = "a=%zz";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req.query = "a=%2";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    mu_sigv4_header_t bad_name[] = { { "Bad Name", "x" } };
    req.headers = bad_name;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    mu_sigv4_header_t empty_name[] = { { "", "x" } };
    req.headers = empty_name;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    mu_sigv4_header_t ctl_value[] = { { "X-A", "a\001b" } };
    req.headers = ctl_value;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    mu_sigv4_header_t bad_date[] = { { "X-Amz-Date", "2015-08-30" } };
    req.headers = bad_date;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    mu_sigv4_header_t two_dates[] = { { "X-Amz-Date", "20150830T123600Z" },
                                      { "x-amz-date", "20150830T123601Z" } };
    req.headers = two_dates;
    req.n_headers = 2;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.n_headers = MU_SIGV4_MAX_HEADERS + 1;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.time = -5;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req.time = INT64_C(253402300800);
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.payload_len = 3;
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    req.payload_hash = "has space";
    MU_CHECK_EQ(sign_rc(&req), MU_EINVAL);
    req = base_request();
    char *big = malloc(MU_SIGV4_MAX_INPUT + 2);
    MU_CHECK(big);
    memset(big, 'a', MU_SIGV4_MAX_INPUT + 1);
    big[0] = '/';
    big[MU_SIGV4_MAX_INPUT + 1] = '\0';
    mu_sigv4_header_t big_value[] = { { "X-Big", big } };
    req.headers = big_value;
    int hrc = sign_rc(&req);
    req = base_request();
    req.path = big;
    int rc = sign_rc(&req);
    free(big);
    MU_CHECK_EQ(rc, MU_EINVAL);
    MU_CHECK_EQ(hrc, MU_EINVAL);
    /* Presign: expiry range, a query already signed. */
    req = base_request();
    mu_sigv4_t out = { 0 };
    MU_CHECK_EQ(mu_sigv4_presign(&req, 0, &out), MU_EINVAL);
    MU_CHECK_EQ(mu_sigv4_presign(&req, 604801, &out), MU_EINVAL);
    req.query = "X-Amz-Signature=abc";
    MU_CHECK_EQ(mu_sigv4_presign(&req, 60, &out), MU_EINVAL);
    MU_CHECK(out.canonical_request == NULL && out.query == NULL);
}

/* time 0 means now: the date is today's (checked against time()). */
static void
test_time_now(void)
{
    mu_sigv4_request_t req = base_request();
    req.time = 0;
    time_t before = time(NULL);
    mu_sigv4_t out = { 0 };
    MU_CHECK_EQ(mu_sigv4_sign(&req, &out), 0);
    time_t after = time(NULL);
    char a[17], b[17];
    struct tm tm;
    strftime(a, sizeof a, "%Y%m%dT%H%M%SZ", gmtime_r(&before, &tm));
    strftime(b, sizeof b, "%Y%m%dT%H%M%SZ", gmtime_r(&after, &tm));
    bool in = strcmp(out.amz_date, a) >= 0 && strcmp(out.amz_date, b) <= 0;
    mu_sigv4_clear(&out);
    MU_CHECK(in);
}

int
main(void)
{
    mu_test_start(120);
    MU_RUN(test_suite_header_form);
    MU_RUN(test_suite_query_form);
    MU_RUN(test_date_added);
    MU_RUN(test_s3);
    MU_RUN(test_query_edges);
    MU_RUN(test_errors);
    MU_RUN(test_time_now);
    MU_DONE();
}
