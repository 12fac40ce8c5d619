/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_keys_allow.c — allow-lists (mu_keys) and the private ZAP handler
    of src/net/mu_zap.c (compiled into this program: its symbols are hidden
    in libmutil) deciding real CURVE and NULL handshakes over
    tcp://127.0.0.1: allowed and refused clients, two domains, the NULL
    mechanism, a handler on a context of its own. */
#include "keys_cases.h"

static int
load_dir_errno_fn(const char *path)
{
    mu_allow_t *allow = mu_allow_new();
    int skipped, rc = allow ? mu_allow_load_dir(allow, path, &skipped) : MU_ENOMEM;
    mu_allow_destroy(&allow);
    return rc < 0 ? -rc : 0;
}

/* ---- allow-lists ------------------------------------------------------------ */

static void
test_allow(void)
{
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    MU_CHECK_EQ(mu_allow_is_any(allow), 0);
    MU_CHECK_EQ(mu_allow_size(allow), 0);
    uint8_t keys[50][MU_KEY_BYTES];
    for (int i = 0; i < 50; i++)
        randombytes_buf(keys[i], MU_KEY_BYTES);
    MU_CHECK_EQ(mu_allow_contains(allow, keys[0]), 0);
    for (int i = 0; i < 40; i++)
        MU_CHECK_EQ(mu_allow_add(allow, keys[i]), 0);
    MU_CHECK_EQ(mu_allow_add(allow, keys[7]), 0); /* twice: not an error */
    MU_CHECK_EQ(mu_allow_size(allow), 40);
    for (int i = 0; i < 50; i++)
        MU_CHECK_EQ(mu_allow_contains(allow, keys[i]), i < 40);

    mu_allow_t *copy = mu_allow_dup(allow);
    MU_CHECK(copy);
    MU_CHECK_EQ(mu_allow_size(copy), 40);
    MU_CHECK_EQ(mu_allow_add(copy, keys[45]), 0);
    MU_CHECK_EQ(mu_allow_contains(copy, keys[45]), 1);
    MU_CHECK_EQ(mu_allow_contains(allow, keys[45]), 0);

    mu_allow_t *any = mu_allow_new_any();
    MU_CHECK(any);
    MU_CHECK_EQ(mu_allow_is_any(any), 1);
    MU_CHECK_EQ(mu_allow_size(any), 0);
    for (int i = 0; i < 50; i++)
        MU_CHECK_EQ(mu_allow_contains(any, keys[i]), 1);
    mu_allow_t *any_copy = mu_allow_dup(any);
    MU_CHECK(any_copy);
    MU_CHECK_EQ(mu_allow_is_any(any_copy), 1);
    mu_allow_t *empty = mu_allow_new();
    MU_CHECK(empty);
    mu_allow_t *empty_copy = mu_allow_dup(empty);
    MU_CHECK(empty_copy);
    MU_CHECK_EQ(mu_allow_size(empty_copy), 0);
    MU_CHECK_EQ(mu_allow_is_any(empty_copy), 0);
    MU_CHECK_EQ(mu_allow_contains(empty_copy, keys[0]), 0);
    mu_allow_destroy(&empty_copy);
    mu_allow_destroy(&empty);

    mu_allow_destroy(&allow);
    mu_allow_destroy(&copy);
    mu_allow_destroy(&any);
    mu_allow_destroy(&any_copy);
    MU_CHECK(any == NULL);
    mu_allow_destroy(&any);
    mu_allow_destroy(NULL);
}

static void
test_allow_load_dir(void)
{
    char dir[256], path[320];
    snprintf(dir, sizeof dir, "%s/allow", tmpdir);
    MU_CHECK_EQ(mkdir(dir, 0755), 0);
    mu_keys_t *a = mu_keys_new(), *b = mu_keys_new(), *c = mu_keys_new();
    MU_CHECK(a && b && c);
    snprintf(path, sizeof path, "%s/alice", dir);
    MU_CHECK_EQ(mu_keys_save(a, path), 0); /* with alice_secret */
    snprintf(path, sizeof path, "%s/bob.cert", dir);
    MU_CHECK_EQ(mu_keys_save(b, path), 0);
    mu_keys_t *c_pub = mu_keys_new_from(mu_keys_public(c), NULL);
    MU_CHECK(c_pub);
    snprintf(path, sizeof path, "%s/.hidden", dir);
    MU_CHECK_EQ(mu_keys_save(c_pub, path), 0); /* hidden: ignored */
    snprintf(path, sizeof path, "%s/README", dir);
    MU_CHECK_EQ(write_str(path, "not a cert\n"), 0); /* skipped, counted */
    snprintf(path, sizeof path, "%s/broken", dir);
    MU_CHECK_EQ(write_str(path, "curve\n    public-key = \"short\"\n"), 0);
    snprintf(path, sizeof path, "%s/subdir", dir);
    MU_CHECK_EQ(mkdir(path, 0755), 0); /* not a file: ignored */

    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    int skipped = -1;
    MU_CHECK_EQ(mu_allow_load_dir(allow, dir, &skipped), 2);
    MU_CHECK_EQ(skipped, 2);
    MU_CHECK_EQ(mu_allow_size(allow), 2);
    MU_CHECK_EQ(mu_allow_contains(allow, mu_keys_public(a)), 1);
    MU_CHECK_EQ(mu_allow_contains(allow, mu_keys_public(b)), 1);
    MU_CHECK_EQ(mu_allow_contains(allow, mu_keys_public(c)), 0);
    /* Loading again adds nothing new; skipped_p may be NULL. */
    MU_CHECK_EQ(mu_allow_load_dir(allow, dir, NULL), 2);
    MU_CHECK_EQ(mu_allow_size(allow), 2);

    /* Errors of opendir. */
    MU_CHECK_EQ(mu_allow_load_dir(allow, tmp_path("no-such-dir"), &skipped), MU_ENOENT);
    snprintf(path, sizeof path, "%s/README", dir);
    MU_CHECK_EQ(mu_allow_load_dir(allow, path, &skipped), MU_ENOTDIR);
    /* EACCES: a directory without read permission (for root, checked as
       "nobody" in a child). */
    snprintf(path, sizeof path, "%s/subdir", dir);
    MU_CHECK_EQ(chmod(path, 0), 0);
    MU_CHECK_EQ(without_root(load_dir_errno_fn, path), EACCES);
    MU_CHECK_EQ(chmod(path, 0755), 0);
    MU_CHECK_EQ(mu_allow_size(allow), 2);

    mu_allow_destroy(&allow);
    mu_keys_destroy(&a);
    mu_keys_destroy(&b);
    mu_keys_destroy(&c);
    mu_keys_destroy(&c_pub);
}

typedef struct {
    const mu__zap_domain_t *domain;
    uint64_t n;
} failures_t;

static bool
failures_reached(void *arg)
{
    failures_t *w = arg;
    return mu__zap_failures(w->domain) >= w->n;
}

/*  Waits up to timeout_ms (scaled) until domain counted at least n
    failures (the handler offers no event to wait on: the counter is
    polled, with mu_test_poll_until). */
static int
wait_failures(const mu__zap_domain_t *domain, uint64_t n, int timeout_ms)
{
    failures_t w = { domain, n };
    return mu_test_poll_until(failures_reached, &w, timeout_ms);
}

static void
test_zap_allowed_and_refused(void)
{
    mu_keys_t *server_keys = mu_keys_new(), *good = mu_keys_new(), *bad = mu_keys_new();
    MU_CHECK(server_keys && good && bad);
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(good)), 0);
    mu__zap_domain_t *domain = mu__zap_register(allow);
    mu_allow_destroy(&allow); /* the domain keeps its own copy */
    MU_CHECK(domain);
    MU_CHECK_EQ(strncmp(mu__zap_domain_name(domain), "mu-", 3), 0);
    MU_CHECK_EQ(mu__zap_failures(domain), 0);

    int port = 0;
    zsock_t *router = make_server(server_keys, domain, &port);
    MU_CHECK(router);
    char user_id[64];

    /* An allowed client gets through, with its key as User-Id. */
    zsock_t *client = make_client(good, mu_keys_public(server_keys), port);
    MU_CHECK(client);
    MU_CHECK(receive_hello(router, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(good)), 0);
    MU_CHECK_EQ(mu__zap_failures(domain), 0);

    /* A client with the wrong server key fails the CURVE handshake itself
       (it never reaches ZAP) and gets nothing through either. */
    mu_keys_t *impostor = mu_keys_new();
    MU_CHECK(impostor);
    zsock_t *lost = make_client(good, mu_keys_public(impostor), port);
    MU_CHECK(lost);
    MU_CHECK(!receive_hello(router, 700, user_id, sizeof user_id));
    MU_CHECK_EQ(mu__zap_failures(domain), 0);

    /* An unlisted client is refused by ZAP and counted. */
    zsock_t *intruder = make_client(bad, mu_keys_public(server_keys), port);
    MU_CHECK(intruder);
    MU_CHECK(wait_failures(domain, 1, 10000));
    MU_CHECK(!receive_hello(router, 500, user_id, sizeof user_id));

    /* The allowed client still works alongside. */
    MU_CHECK_EQ(zstr_send(client, "hello"), 0);
    MU_CHECK(receive_hello(router, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(good)), 0);

    zsock_destroy(&lost);
    zsock_destroy(&intruder);
    zsock_destroy(&client);
    zsock_destroy(&router);
    mu__zap_unregister(&domain);
    MU_CHECK(domain == NULL);
    mu__zap_unregister(&domain); /* *domain_p NULL */
    mu__zap_unregister(NULL);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&good);
    mu_keys_destroy(&bad);
    mu_keys_destroy(&impostor);
}

static void
test_zap_two_domains(void)
{
    mu_keys_t *s1 = mu_keys_new(), *s2 = mu_keys_new(), *c1 = mu_keys_new(), *c2 = mu_keys_new();
    MU_CHECK(s1 && s2 && c1 && c2);
    mu_allow_t *allow1 = mu_allow_new(), *allow2 = mu_allow_new();
    MU_CHECK(allow1 && allow2);
    MU_CHECK_EQ(mu_allow_add(allow1, mu_keys_public(c1)), 0);
    MU_CHECK_EQ(mu_allow_add(allow2, mu_keys_public(c2)), 0);
    mu__zap_domain_t *d1 = mu__zap_register(allow1), *d2 = mu__zap_register(allow2);
    MU_CHECK(d1 && d2);
    MU_CHECK(strcmp(mu__zap_domain_name(d1), mu__zap_domain_name(d2)) != 0);
    int port1 = 0, port2 = 0;
    zsock_t *r1 = make_server(s1, d1, &port1), *r2 = make_server(s2, d2, &port2);
    MU_CHECK(r1 && r2);
    char user_id[64];

    zsock_t *c1_to_1 = make_client(c1, mu_keys_public(s1), port1);
    zsock_t *c2_to_2 = make_client(c2, mu_keys_public(s2), port2);
    MU_CHECK(c1_to_1 && c2_to_2);
    MU_CHECK(receive_hello(r1, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(c1)), 0);
    MU_CHECK(receive_hello(r2, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(c2)), 0);

    /* c1 is not on server 2's list: refused there and counted there only. */
    zsock_t *c1_to_2 = make_client(c1, mu_keys_public(s2), port2);
    MU_CHECK(c1_to_2);
    MU_CHECK(wait_failures(d2, 1, 10000));
    MU_CHECK(!receive_hello(r2, 500, user_id, sizeof user_id));
    MU_CHECK_EQ(mu__zap_failures(d1), 0);

    /* A domain's list is a copy: changing allow1 now changes nothing. */
    MU_CHECK_EQ(mu_allow_add(allow1, mu_keys_public(c2)), 0);
    zsock_t *c2_to_1 = make_client(c2, mu_keys_public(s1), port1);
    MU_CHECK(c2_to_1);
    MU_CHECK(wait_failures(d1, 1, 10000));
    MU_CHECK(!receive_hello(r1, 500, user_id, sizeof user_id));

    zsock_destroy(&c2_to_1);
    zsock_destroy(&c1_to_2);
    zsock_destroy(&c1_to_1);
    zsock_destroy(&c2_to_2);
    zsock_destroy(&r1);
    zsock_destroy(&r2);
    mu__zap_unregister(&d1);
    mu__zap_unregister(&d2);
    mu_allow_destroy(&allow1);
    mu_allow_destroy(&allow2);
    mu_keys_destroy(&s1);
    mu_keys_destroy(&s2);
    mu_keys_destroy(&c1);
    mu_keys_destroy(&c2);
}

static void
test_zap_null_mechanism(void)
{
    char user_id[64];
    /* An insecure domain accepts NULL peers (with an empty User-Id). */
    mu__zap_domain_t *insecure = mu__zap_register(NULL);
    MU_CHECK(insecure);
    int port = 0;
    zsock_t *router = make_server(NULL, insecure, &port);
    MU_CHECK(router);
    zsock_t *client = make_client(NULL, NULL, port);
    MU_CHECK(client);
    MU_CHECK(receive_hello(router, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, ""), 0);
    MU_CHECK_EQ(mu__zap_failures(insecure), 0);

    /* A secure domain refuses a NULL handshake through ZAP and counts it
       (a socket set up without keys in a domain that has a list). */
    mu_allow_t *any = mu_allow_new_any();
    MU_CHECK(any);
    mu__zap_domain_t *secure = mu__zap_register(any);
    mu_allow_destroy(&any);
    MU_CHECK(secure);
    int port2 = 0;
    zsock_t *router2 = make_server(NULL, secure, &port2);
    MU_CHECK(router2);
    zsock_t *client2 = make_client(NULL, NULL, port2);
    MU_CHECK(client2);
    MU_CHECK(wait_failures(secure, 1, 10000));
    MU_CHECK(!receive_hello(router2, 500, user_id, sizeof user_id));

    /* "Allow any" takes any CURVE client key. */
    mu_keys_t *server_keys = mu_keys_new(), *anybody = mu_keys_new();
    MU_CHECK(server_keys && anybody);
    int port3 = 0;
    zsock_t *router3 = make_server(server_keys, secure, &port3);
    MU_CHECK(router3);
    zsock_t *client3 = make_client(anybody, mu_keys_public(server_keys), port3);
    MU_CHECK(client3);
    MU_CHECK(receive_hello(router3, 10000, user_id, sizeof user_id));
    MU_CHECK_EQ(strcmp(user_id, mu_keys_public_txt(anybody)), 0);

    zsock_destroy(&client3);
    zsock_destroy(&router3);
    zsock_destroy(&client2);
    zsock_destroy(&router2);
    zsock_destroy(&client);
    zsock_destroy(&router);
    mu__zap_unregister(&secure);
    mu__zap_unregister(&insecure);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&anybody);
}

/*  The ZAP handler of a private context (what a flow runner runs): it
    serves that context only, in this process only; its domain admits the
    listed key and refuses and counts another; a second handler on the
    same context cannot start; it lets go when its context ends. */
static void
test_zap_context_handler(void)
{
    mu_keys_t *server = mu_keys_new(), *good = mu_keys_new(), *bad = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    MU_CHECK(server && good && bad && allow);
    MU_CHECK_EQ(mu_allow_add(allow, mu_keys_public(good)), 0);
    void *ctx = zmq_ctx_new(), *other = zmq_ctx_new();
    mu__zap_t *zap = mu__zap_new_for(ctx, "test context");
    MU_CHECK(zap != NULL);
    MU_CHECK(mu__zap_serves(zap, ctx));
    MU_CHECK(!mu__zap_serves(zap, other));
    MU_CHECK(!mu__zap_serves(NULL, ctx));
    errno = 0;
    MU_CHECK(mu__zap_new_for(ctx, "second") == NULL && errno == EADDRINUSE);
    mu__zap_domain_t *domain = mu__zap_add_domain(zap, allow);
    MU_CHECK(domain != NULL);

    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    MU_CHECK_EQ(mu__zap_setup_server(router, server, domain), 0);
    MU_CHECK_EQ(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
    char ep[64];
    size_t len = sizeof ep;
    MU_CHECK_EQ(zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &len), 0);
    int port = atoi(strrchr(ep, ':') + 1);
    char user_id[64];
    zsock_t *ok_client = make_client(good, mu_keys_public(server), port);
    MU_CHECK(ok_client != NULL);
    MU_CHECK_EQ(receive_hello((zsock_t *) router, 20000, user_id, sizeof user_id), 1);
    char good_txt[MU_KEY_TEXT];
    mu_key_to_txt(mu_keys_public(good), good_txt);
    MU_CHECK_EQ(strcmp(user_id, good_txt), 0);
    zsock_t *bad_client = make_client(bad, mu_keys_public(server), port);
    MU_CHECK(bad_client != NULL);
    MU_CHECK(wait_failures(domain, 1, 20000));
    MU_CHECK_EQ(receive_hello((zsock_t *) router, 200, user_id, sizeof user_id), 0);
    zsock_destroy(&ok_client);
    zsock_destroy(&bad_client);

    pid_t pid = fork(); /* a forked child has no handler thread */
    if (pid == 0)
        _exit(mu__zap_serves(zap, ctx) ? 1 : 0);
    int status = -1;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    zmq_close(router);
    mu__zap_unregister(&domain);
    MU_CHECK_EQ(zmq_ctx_term(ctx), 0); /* the handler let go of its socket */
    mu__zap_destroy(&zap);
    MU_CHECK(zap == NULL);
    zmq_ctx_term(other);
    mu_allow_destroy(&allow);
    mu_keys_destroy(&server);
    mu_keys_destroy(&good);
    mu_keys_destroy(&bad);
}

int
main(void)
{
    if (!keys_suite_begin())
        return 1;
    MU_RUN(test_allow);
    MU_RUN(test_allow_load_dir);
    MU_RUN(test_zap_allowed_and_refused);
    MU_RUN(test_zap_two_domains);
    MU_RUN(test_zap_null_mechanism);
    MU_RUN(test_zap_context_handler);
    keys_suite_end();
    MU_DONE();
}
