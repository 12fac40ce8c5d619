/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_dcache_fetch.c — HTTP fetch-through for the TTL disk cache with
    libcurl (optional: HAVE_CURL), one transfer per URL at a time in a
    process (single flight). See include/mu_dcache.h, doc/dcache.md. */
#include "store/mu_dcache_int.h"

#include <stdlib.h>
#include <strings.h>

#ifdef HAVE_CURL
#include <curl/curl.h>

#define MAX_REDIRS 5

int
mu_dcache_can_fetch(void)
{
    return 1;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    bool too_big;
    bool oom;
} body_t;

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    body_t *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > b->max) {
        b->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        char *p = mu__grow(b->data, &b->cap, 16384, b->len + n + 1);
        if (!p) {
            b->oom = true;
            return 0;
        }
        b->data = p;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* The library's code for a failed transfer, recorded with its detail
   (os_errno: curl's CURLINFO_OS_ERRNO). */
static int
transfer_error(CURLcode cc, const body_t *b, const char *url, const char *errbuf, int timeout_ms,
               long os_errno)
{
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    if (b->too_big)
        return mu__fail(MU_EMSGSIZE, "dcache: %s: body larger than %zu bytes", url, b->max);
    if (b->oom)
        return mu__fail(MU_ENOMEM, "dcache: %s: out of memory for the body", url);
    if (os_errno == EMFILE || os_errno == ENFILE || (cc == CURLE_COULDNT_CONNECT && !mu__fd_room()))
        return mu__fail(-EMFILE, "dcache: %s: no file descriptor left for the connection: %s", url,
                        why);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return mu__fail(MU_ECONNREFUSED, "dcache: %s: cannot connect: %s", url, why);
    case CURLE_OPERATION_TIMEDOUT:
        return mu__fail(MU_ETIMEDOUT, "dcache: %s: no complete answer within %d ms", url,
                        timeout_ms);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return mu__fail(MU_ENOHOST, "dcache: %s: %s", url, why);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return mu__fail(MU_EINVAL, "dcache: bad URL %s: %s", url, why);
    default:
        return mu__fail(MU_EIO, "dcache: %s: %s", url, why);
    }
}

/* One HTTP GET. On success *body_p owns the body (NUL-terminated). */
static int
http_get(const char *url, size_t max, int timeout_ms, char **body_p, size_t *len_p)
{
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK)
        return mu__fail(MU_EIO, "dcache: libcurl: %s", curl_easy_strerror(curl_init_rc));
    CURL *h = curl_easy_init();
    if (!h)
        return mu__fail(MU_ENOMEM, "dcache: libcurl: cannot make a handle");
    body_t b = { .max = max };
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long) MAX_REDIRS);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mutil-dcache/1");
    CURLcode cc = curl_easy_perform(h);
    long status = 0, os_errno = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    curl_easy_cleanup(h);
    int rc = 0;
    if (cc != CURLE_OK)
        rc = transfer_error(cc, &b, url, errbuf, timeout_ms, os_errno);
    else if (status < 200 || status > 299)
        rc = mu__fail(MU_EREMOTE, "dcache: %s: HTTP status %ld", url, status);
    if (rc) {
        free(b.data);
        return rc;
    }
    if (!b.data && !(b.data = calloc(1, 1)))
        return mu__fail(MU_ENOMEM, "dcache: out of memory");
    *body_p = b.data;
    *len_p = b.len;
    return 0;
}

/* ---- single flight ---- */

static mu__dcache_flight_t *
find_flight(mu_dcache_t *self, const char *url)
{
    for (mu__dcache_flight_t *f = self->flights; f; f = f->next)
        if (strcmp(f->url, url) == 0)
            return f;
    return NULL;
}

static void
end_flight(mu_dcache_t *self, mu__dcache_flight_t *flight)
{
    for (mu__dcache_flight_t **pp = &self->flights; *pp; pp = &(*pp)->next)
        if (*pp == flight) {
            *pp = flight->next;
            break;
        }
    free(flight->url);
    free(flight);
    pthread_cond_broadcast(&self->cv);
}

/* With the mutex held: the cached body (0), or MU_ENOENT with *flight_p
   set when this caller must fetch, after waiting for other fetches of
   the same URL. */
static int
cached_or_claim(mu_dcache_t *self, const char *url, void **body_p, size_t *len_p,
                mu__dcache_flight_t **flight_p)
{
    for (;;) {
        int rc = mu__dcache_get_locked(self, url, strlen(url), body_p, len_p);
        if (rc != MU_ENOENT)
            return rc;
        if (!find_flight(self, url))
            break;
        pthread_cond_wait(&self->cv, &self->mutex);
    }
    mu__dcache_flight_t *f = calloc(1, sizeof *f);
    if (!f || !(f->url = strdup(url))) {
        free(f);
        return mu__fail(MU_ENOMEM, "dcache: out of memory");
    }
    f->next = self->flights;
    self->flights = f;
    *flight_p = f;
    return MU_ENOENT;
}

static int
check_url(const char *url)
{
    size_t n = url ? strlen(url) : 0;
    if (n == 0 || n > MU_DCACHE_MAX_KEY)
        return mu__fail(MU_EINVAL, "dcache: URL of %zu bytes (1..%d)", n, MU_DCACHE_MAX_KEY);
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return mu__fail(MU_EINVAL, "dcache: URL '%.64s' is not http:// or https://", url);
    return 0;
}

int
mu_dcache_fetch(mu_dcache_t *self, const char *url, int64_t ttl_ms, void **body_p, size_t *len_p,
                int *from_cache_p)
{
    assert(self && body_p);
    *body_p = NULL;
    if (from_cache_p)
        *from_cache_p = 0;
    int rc = check_url(url);
    if (!rc)
        rc = mu__dcache_check_ttl(ttl_ms);
    if (rc)
        return rc;
    mu__dcache_flight_t *flight = NULL;
    pthread_mutex_lock(&self->mutex);
    rc = cached_or_claim(self, url, body_p, len_p, &flight);
    size_t max = self->max_value;
    int timeout_ms = self->fetch_timeout_ms;
    pthread_mutex_unlock(&self->mutex);
    if (!flight) {
        if (rc == 0 && from_cache_p)
            *from_cache_p = 1;
        return rc;
    }
    char *body = NULL;
    size_t len = 0;
    rc = http_get(url, max, timeout_ms, &body, &len);
    pthread_mutex_lock(&self->mutex);
    self->counts.fetches++;
    if (rc)
        self->counts.fetch_errors++;
    else
        rc = mu__dcache_set_locked(self, url, strlen(url), body, len, ttl_ms);
    end_flight(self, flight);
    pthread_mutex_unlock(&self->mutex);
    if (rc) {
        free(body);
        return rc;
    }
    *body_p = body;
    if (len_p)
        *len_p = len;
    return 0;
}

#else /* !HAVE_CURL */

int
mu_dcache_can_fetch(void)
{
    return 0;
}

int
mu_dcache_fetch(mu_dcache_t *self, const char *url, int64_t ttl_ms, void **body_p, size_t *len_p,
                int *from_cache_p)
{
    assert(self && body_p);
    (void) url, (void) ttl_ms, (void) len_p;
    *body_p = NULL;
    if (from_cache_p)
        *from_cache_p = 0;
    return mu__fail(MU_ENOTSUP, "dcache: HTTP fetch needs libcurl: this build has none "
                                "(install libcurl4-openssl-dev, configure --with-curl)");
}

#endif
