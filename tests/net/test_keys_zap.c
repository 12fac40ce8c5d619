/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_keys_zap.c — the private ZAP handler of src/net/mu_zap.c (compiled
    into this program: its symbols are hidden in libmutil): the ZAP protocol
    spoken raw, refusals logged at a bounded rate and escaped, its
    lifecycle, threads, setup errors. */
#include "keys_cases.h"

/*  Sends a raw ZAP request (frames as given, n of them) to the handler
    and returns the reply (NULL on time-out). */
static zmsg_t *
zap_ask(const char *const *frames, const size_t *sizes, int n)
{
    zsock_t *req = zsock_new(ZMQ_REQ);
    if (req == NULL)
        return NULL;
    zsock_set_linger(req, 0);
    zsock_set_rcvtimeo(req, mu_test_ms(5000));
    zmsg_t *reply = NULL;
    if (zsock_connect(req, "inproc://zeromq.zap.01") == 0) {
        zmsg_t *request = zmsg_new();
        for (int i = 0; i < n; i++)
            zmsg_addmem(request, frames[i], sizes[i]);
        if (zmsg_send(&request, req) == 0)
            reply = zmsg_recv(req);
        zmsg_destroy(&request);
    }
    zsock_destroy(&req);
    return reply;
}

/*  True when reply is [1.0, id, status, *, user_id, ""]. */
static int
reply_is(zmsg_t *reply, const char *id, const char *status, const char *user_id)
{
    if (reply == NULL || zmsg_size(reply) != 6)
        return 0;
    zframe_t *f = zmsg_first(reply);
    int ok = zframe_streq(f, "1.0");
    ok = ok && zframe_streq(zmsg_next(reply), id);
    ok = ok && zframe_streq(zmsg_next(reply), status);
    ok = ok && zmsg_next(reply) != NULL;
    ok = ok && zframe_streq(zmsg_next(reply), user_id);
    ok = ok && zframe_size(zmsg_next(reply)) == 0;
    return ok;
}

static void
test_zap_protocol(void)
{
    mu_keys_t *client = mu_keys_new();
    MU_CHECK(client);
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(client)), 0);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow);
    MU_CHECK(domain);
    const char *name = mu__zap_domain_name(domain);
    const char *key = (const char *) mu_keys_public(client);

    const char *good[] = { "1.0", "id-7", name, "10.0.0.1", "", "CURVE", key };
    size_t good_sizes[] = { 3, 4, strlen(name), 8, 0, 5, 32 };
    zmsg_t *reply = zap_ask(good, good_sizes, 7);
    int ok = reply_is(reply, "id-7", "200", mu_keys_public_txt(client));
    zmsg_destroy(&reply);
    MU_CHECK(ok);

    /* Wrong version, too few frames, a 31-byte key, an extra credential
       frame, an unknown domain: 400, the id echoed. */
    const char *bad_version[] = { "2.0", "id-8", name, "10.0.0.1", "", "CURVE", key };
    reply = zap_ask(bad_version, good_sizes, 7);
    ok = reply_is(reply, "id-8", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    reply = zap_ask(good, good_sizes, 4);
    ok = reply_is(reply, "id-7", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    size_t short_key[] = { 3, 4, strlen(name), 8, 0, 5, 31 };
    reply = zap_ask(good, short_key, 7);
    ok = reply_is(reply, "id-7", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    const char *extra[] = { "1.0", "id-9", name, "a", "", "CURVE", key, "x" };
    size_t extra_sizes[] = { 3, 4, strlen(name), 1, 0, 5, 32, 1 };
    reply = zap_ask(extra, extra_sizes, 8);
    ok = reply_is(reply, "id-9", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    const char *unknown[] = { "1.0", "id-10", "mu-0", "10.0.0.1", "", "CURVE", key };
    size_t unknown_sizes[] = { 3, 5, 4, 8, 0, 5, 32 };
    reply = zap_ask(unknown, unknown_sizes, 7);
    ok = reply_is(reply, "id-10", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    /* PLAIN is refused on a CURVE domain. */
    const char *plain[] = { "1.0", "id-11", name, "a", "", "PLAIN", "user", "pass" };
    size_t plain_sizes[] = { 3, 5, strlen(name), 1, 0, 5, 4, 4 };
    reply = zap_ask(plain, plain_sizes, 8);
    ok = reply_is(reply, "id-11", "400", "");
    zmsg_destroy(&reply);
    MU_CHECK(ok);
    /* Malformed requests touch no domain; the short key, the extra frame
       and PLAIN count on this one. */
    MU_CHECK_EQ(mu__zap_failures(domain), 3);
    mu__zap_unregister(&domain);
    mu_keys_destroy(&client);
}

/*  Counts, in the log file path, the refusal lines of domain name and the
    refusals that its "N more refused handshakes" lines report. */
static void
count_log_lines(const char *path, const char *name, int *refused_p, int *summaries_p,
                uint64_t *more_p)
{
    char line[512], domain[96];
    snprintf(domain, sizeof domain, "ZAP domain '%s'", name);
    *refused_p = *summaries_p = 0;
    *more_p = 0;
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        const char *text = strstr(line, "mutil: ");
        if (text == NULL || strstr(line, domain) == NULL)
            continue;
        if (strstr(text, "more refused handshakes")) {
            (*summaries_p)++;
            *more_p += strtoull(text + 7, NULL, 10);
        } else if (strstr(text, "refused CURVE handshake")) {
            (*refused_p)++;
        }
    }
    if (f)
        fclose(f);
}

/*  A flood of refused handshakes logs a bounded number of lines (at most
    one per second per domain, plus the lines that count the rest), and
    every refusal is still counted, in the counter and in the log. */
static void
test_zap_log_rate_limit(void)
{
    enum { N = 300 };
    mu_keys_t *stranger = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(stranger && allow);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow);
    MU_CHECK(domain);
    char log_path[256];
    snprintf(log_path, sizeof log_path, "%s", tmp_path("zap.log"));
    MU_CHECK_EQ(mu_log_set_file(log_path), 0); /* appends: the test reads it meanwhile */
    int watch = mu_test_watch_dir(tmpdir);     /* reports the log's writes */
    MU_CHECK(watch >= 0);
    const char *name = mu__zap_domain_name(domain);
    const char *frames[] = {
        "1.0", "r", name, "10.0.0.9", "", "CURVE", (const char *) mu_keys_public(stranger)
    };
    size_t sizes[] = { 3, 1, strlen(name), 8, 0, 5, 32 };
    int64_t start = mu_test_now_ms();
    int answered = 0;
    for (int i = 0; i < N; i++) {
        zmsg_t *reply = zap_ask(frames, sizes, 7);
        answered += reply_is(reply, "r", "400", "");
        zmsg_destroy(&reply);
    }
    int64_t seconds = (mu_test_now_ms() - start) / 1000;
    uint64_t failures = mu__zap_failures(domain);
    /* The handler reports the refusals it did not log once their second is
       over, without another request: wait for that line (up to 5 s). */
    int refused, summaries = 0;
    uint64_t more;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(5000);
    count_log_lines(log_path, name, &refused, &summaries, &more);
    while (summaries == 0 && mu_test_now_ms() < deadline && mu_test_wait_change(watch, 5000))
        count_log_lines(log_path, name, &refused, &summaries, &more); /* the log grew */
    close(watch);
    int reported_while_running = summaries > 0;
    char saved[64];
    snprintf(saved, sizeof saved, "%s", name);
    mu__zap_unregister(&domain); /* would report the refusals not logged yet */
    mu_log_reset();
    count_log_lines(log_path, saved, &refused, &summaries, &more);
    mu_keys_destroy(&stranger);
    printf("# %d refusals in %lld s: %d lines logged, %d lines count %llu more\n", N,
           (long long) seconds, refused, summaries, (unsigned long long) more);
    MU_CHECK_EQ(answered, N);
    MU_CHECK_EQ(failures, N);
    MU_CHECK(reported_while_running);
    MU_CHECK(refused >= 1 && refused <= seconds + 2);
    MU_CHECK(summaries >= 1 && summaries <= 2 * seconds + 3);
    MU_CHECK_EQ((uint64_t) refused + more, N);
}

/*  The peer bytes of a refused request reach the log escaped: one line,
    no raw newline or ESC. */
static void
test_zap_log_escapes(void)
{
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow);
    MU_CHECK(domain);
    char log_path[256];
    snprintf(log_path, sizeof log_path, "%s", tmp_path("zap-escape.log"));
    unlink(log_path);
    MU_CHECK_EQ(mu_log_set_file(log_path), 0);
    const char *name = mu__zap_domain_name(domain);
    const char *frames[] = { "1.0", "e", name, "10.0.0.7\nFAKE\x1b[31m", "", "PLAIN", "u", "p" };
    size_t sizes[] = { 3, 1, strlen(name), 18, 0, 5, 1, 1 };
    zmsg_t *reply = zap_ask(frames, sizes, 8);
    int ok = reply_is(reply, "e", "400", "");
    zmsg_destroy(&reply);
    mu__zap_unregister(&domain);
    mu_log_reset();
    char text[4096] = "";
    FILE *f = fopen(log_path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    MU_CHECK(ok);
    MU_CHECK(strstr(text, "from 10.0.0.7\\nFAKE\\x1b[31m (key -)") != NULL);
    MU_CHECK(strchr(text, '\x1b') == NULL);
    MU_CHECK(strstr(text, "\nFAKE") == NULL);
}

static void
test_zap_lifecycle(void)
{
    char user_id[64];
    /* The handler starts with the first domain and stops with the last,
       again and again. */
    for (int round = 0; round < 5; round++) {
        mu__zap_domain_t *a = mu__zap_register(NULL);
        mu__zap_domain_t *b = mu__zap_register(NULL);
        MU_CHECK(a && b);
        mu__zap_unregister(&a); /* b keeps the handler running */
        int port = 0;
        zsock_t *router = make_server(NULL, b, &port);
        MU_CHECK(router);
        zsock_t *client = make_client(NULL, NULL, port);
        MU_CHECK(client);
        int got = receive_hello(router, 10000, user_id, sizeof user_id);
        zsock_destroy(&client);
        zsock_destroy(&router);
        mu__zap_unregister(&b);
        MU_CHECK(got);
    }
    /* After the last unregister the ZAP endpoint is free... */
    zsock_t *rep = zsock_new(ZMQ_REP);
    MU_CHECK(rep);
    zsock_set_linger(rep, 0);
    MU_CHECK_EQ(zsock_bind(rep, "inproc://zeromq.zap.01"), 0);
    /* ...and while someone else holds it (czmq's zauth would),
       registering fails with EADDRINUSE. */
    errno = 0;
    mu__zap_domain_t *d = mu__zap_register(NULL);
    int err = errno;
    zsock_unbind(rep, "inproc://zeromq.zap.01");
    zsock_destroy(&rep);
    MU_CHECK(d == NULL);
    MU_CHECK_EQ(err, EADDRINUSE);
    /* Once it is released, registering works again. */
    d = mu__zap_register(NULL);
    MU_CHECK(d);
    mu__zap_unregister(&d);
}

/*  Registers and unregisters domains in a loop; returns the failures. */
static void *
churn(void *arg)
{
    (void) arg;
    intptr_t failed = 0;
    for (int i = 0; i < 25; i++) {
        mu__zap_domain_t *d = mu__zap_register(NULL);
        if (d == NULL) {
            failed++;
        } else if (i % 5 == 0) {
            /* A request on the own domain while others churn: 200. */
            const char *name = mu__zap_domain_name(d);
            const char *frames[] = { "1.0", "t", name, "127.0.0.1", "", "NULL" };
            size_t sizes[] = { 3, 1, strlen(name), 9, 0, 4 };
            zmsg_t *reply = zap_ask(frames, sizes, 6);
            failed += !reply_is(reply, "t", "200", "");
            zmsg_destroy(&reply);
        }
        mu__zap_unregister(&d);
    }
    return (void *) failed;
}

static void
test_zap_threads(void)
{
    /* Threads start and stop the handler under each other's feet: every
       registration succeeds (no EADDRINUSE from a handler still stopping,
       no deadlock between a stop and a request). */
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        MU_CHECK_EQ(pthread_create(&threads[i], NULL, churn, NULL), 0);
    intptr_t failed = 0;
    for (int i = 0; i < 4; i++) {
        void *result;
        MU_CHECK_EQ(pthread_join(threads[i], &result), 0);
        failed += (intptr_t) result;
    }
    MU_CHECK_EQ(failed, 0);
    /* Everything unregistered: the endpoint is free again. */
    zsock_t *rep = zsock_new(ZMQ_REP);
    MU_CHECK(rep);
    zsock_set_linger(rep, 0);
    int rc = zsock_bind(rep, "inproc://zeromq.zap.01");
    zsock_unbind(rep, "inproc://zeromq.zap.01");
    zsock_destroy(&rep);
    MU_CHECK_EQ(rc, 0);
}

static void
test_zap_setup_errors(void)
{
    mu_keys_t *full = mu_keys_new();
    MU_CHECK(full);
    mu_keys_t *pub = mu_keys_new_from(mu_keys_public(full), NULL);
    MU_CHECK(pub);
    mu__zap_domain_t *domain = mu__zap_register(NULL);
    MU_CHECK(domain);
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    MU_CHECK(sock);
    void *raw = zsock_resolve(sock);

    MU_CHECK_EQ(mu__zap_setup_server(raw, pub, domain), MU_EINVAL); /* no secret */
    MU_CHECK_EQ(mu__zap_setup_server(NULL, full, domain), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_server(raw, full, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(raw, pub, mu_keys_public(full)), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(raw, full, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(raw, NULL, mu_keys_public(full)), MU_EINVAL);
    MU_CHECK_EQ(mu__zap_setup_client(NULL, full, mu_keys_public(full)), MU_EINVAL);

    /* The server set-up lands in the socket options. */
    MU_CHECK_EQ(mu__zap_setup_server(raw, full, domain), 0);
    MU_CHECK_EQ(zsock_curve_server(sock), 1);
    char *zap_domain = zsock_zap_domain(sock);
    MU_CHECK(zap_domain);
    int same = strcmp(zap_domain, mu__zap_domain_name(domain)) == 0;
    zstr_free(&zap_domain);
    MU_CHECK(same);
    zsock_t *client = zsock_new(ZMQ_DEALER);
    MU_CHECK(client);
    MU_CHECK_EQ(mu__zap_setup_client(zsock_resolve(client), full, mu_keys_public(full)), 0);
    char *server_key = zsock_curve_serverkey(client);
    MU_CHECK(server_key);
    same = strcmp(server_key, mu_keys_public_txt(full)) == 0;
    zstr_free(&server_key);
    MU_CHECK(same);

    zsock_destroy(&client);
    zsock_destroy(&sock);
    mu__zap_unregister(&domain);
    mu_keys_destroy(&full);
    mu_keys_destroy(&pub);
}

int
main(void)
{
    if (!keys_suite_begin())
        return 1;
    MU_RUN(test_zap_protocol);
    MU_RUN(test_zap_log_rate_limit);
    MU_RUN(test_zap_log_escapes);
    MU_RUN(test_zap_lifecycle);
    MU_RUN(test_zap_threads);
    MU_RUN(test_zap_setup_errors);
    keys_suite_end();
    MU_DONE();
}
