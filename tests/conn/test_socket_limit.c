/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_socket_limit.c — every call that opens ZeroMQ sockets, when libzmq
    refuses one because czmq's context has no socket left (its
    ZMQ_MAX_SOCKETS, set low here): an error with the code -EMFILE (errno
    EMFILE for constructors) and a message that says why, with nothing left
    open (sockets opened before the refused one are closed), the process
    still up, and the same call working once sockets are free again. czmq's
    zsock_new aborted the process there (it asserts on a refused socket);
    net/mu_zsocket.h opens the library's sockets without it.

    Synchronisation: libzmq frees a closed socket's slot in its reaper
    thread, a little after zmq_close returns, so "sockets are free again" is
    waited for by retrying the call until it succeeds, within a scaled bound
    (each refused try returns at once and leaves nothing open). */
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <sched.h>
#include <string.h>

#define LIMIT 24 /* czmq's context: sockets in all */

static void *held[LIMIT + 1]; /* raw PAIR sockets taking the slots */
static int nheld;

/*  Takes every free slot with raw sockets; returns how many it took. */
static int
take_all(void)
{
    int taken = 0;
    while (nheld < LIMIT + 1 && (held[nheld] = zsys_socket(ZMQ_PAIR, NULL, 0)) != NULL) {
        nheld++;
        taken++;
    }
    return taken;
}

/*  Closes n of the held sockets (all when n < 0). */
static void
release(int n)
{
    while (nheld > 0 && n-- != 0)
        zsys_close(held[--nheld], NULL, 0);
}

/*  Holds every slot of the context but `free` of them, once every socket
    closed before has given its slot back (true), or false after the bound
    (a slot that never comes back: a socket left open). */
static bool
leave_free(int free)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    for (;;) {
        take_all();
        if (nheld == LIMIT) { /* every slot is ours: no socket leaked */
            release(free);
            return true;
        }
        if (mu_test_now_ms() > deadline) {
            printf("# only %d of %d sockets could be taken\n", nheld, LIMIT);
            return false;
        }
        sched_yield(); /* the reaper is still freeing closed sockets */
    }
}

/*  Checks a refusal: code -EMFILE and a message naming the limit. */
static bool
refused(int code)
{
    if (code != -EMFILE || strstr(mu_last_error(), "too many sockets") == NULL) {
        printf("# code %d (%s), message '%s'\n", code, mu_errname(code), mu_last_error());
        return false;
    }
    return true;
}

/*  Retries make() until it returns non-NULL (slots come back a little
    after they are released); NULL after the bound. */
static void *
eventually(void *(*make)(void *), void *arg)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    void *made;
    while ((made = make(arg)) == NULL && mu_test_now_ms() <= deadline)
        sched_yield();
    return made;
}

/* ---- constructors with one socket ------------------------------------------ */

static void *
make_pub(void *arg)
{
    (void) arg;
    return mu_pub_new();
}

static void *
make_sub(void *arg)
{
    (void) arg;
    return mu_sub_new();
}

static void *
make_socket(void *arg)
{
    (void) arg;
    return mu_socket_new(NULL);
}

static void *
make_pipe(void *arg)
{
    return mu_pipe_new_zmq(arg, MU_PIPE_READER);
}

static void
test_one_socket_constructors(void)
{
    MU_CHECK(leave_free(0));
    errno = 0;
    MU_CHECK(mu_pub_new() == NULL);
    MU_CHECK_EQ(errno, EMFILE);
    MU_CHECK(refused(mu_last_code()));
    MU_CHECK(mu_sub_new() == NULL);
    MU_CHECK(refused(mu_last_code()));
    MU_CHECK(mu_socket_new(NULL) == NULL);
    MU_CHECK(refused(mu_last_code()));
    MU_CHECK(mu_pipe_new_zmq("inproc://mu-limit-pipe", MU_PIPE_READER) == NULL);
    MU_CHECK_EQ(errno, EMFILE);
    MU_CHECK(refused(mu_last_code()));
    release(-1);
    mu_pub_t *pub = eventually(make_pub, NULL);
    mu_sub_t *sub = eventually(make_sub, NULL);
    mu_socket_t *socket = eventually(make_socket, NULL);
    mu_pipe_t *pipe = eventually(make_pipe, "inproc://mu-limit-pipe");
    MU_CHECK(pub && sub && socket && pipe);
    mu_pub_destroy(&pub);
    mu_sub_destroy(&sub);
    mu_socket_destroy(&socket);
    mu_pipe_destroy(&pipe);
}

/* ---- the proxy: four sockets ------------------------------------------------ */

static void *
make_proxy(void *arg)
{
    (void) arg;
    return mu_proxy_new();
}

static void
test_proxy(void)
{
    for (int free = 0; free < 4; free++) { /* refused at each of its sockets */
        MU_CHECK(leave_free(free));
        errno = 0;
        MU_CHECK(mu_proxy_new() == NULL);
        MU_CHECK_EQ(errno, EMFILE);
        MU_CHECK(refused(mu_last_code()));
    }
    release(-1);
    mu_proxy_t *proxy = eventually(make_proxy, NULL);
    MU_CHECK(proxy != NULL);
    mu_proxy_destroy(&proxy);
}

/* ---- client and server: a socket, a monitor and its PAIR ------------------- */

static void
test_client_connect(void)
{
    mu_client_t *client = mu_client_new();
    MU_CHECK(client && mu_client_set_insecure(client) == 0);
    for (int free = 0; free < 3; free++) {
        MU_CHECK(leave_free(free));
        MU_CHECK(refused(mu_client_connect(client, "ipc://@mu-limit-client")));
        MU_CHECK(mu_client_zsock(client) == NULL); /* nothing kept */
    }
    release(-1);
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    int rc;
    while ((rc = mu_client_connect(client, "ipc://@mu-limit-client")) == -EMFILE
           && mu_test_now_ms() <= deadline)
        sched_yield();
    MU_CHECK_EQ(rc, 0);
    mu_client_destroy(&client);
}

/*  A server bound in one call, retried until slots come back. */
static int
bind_eventually(mu_server_t *server, const char *endpoint)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    int rc;
    while ((rc = mu_server_bind(server, endpoint)) == -EMFILE && mu_test_now_ms() <= deadline)
        sched_yield();
    return rc;
}

static void
test_server_bind(void)
{
    mu_server_t *server = mu_server_new();
    MU_CHECK(server && mu_server_set_insecure(server) == 0);
    for (int free = 0; free < 3; free++) {
        MU_CHECK(leave_free(free));
        MU_CHECK(refused(mu_server_bind(server, "ipc://@mu-limit-server")));
        MU_CHECK(mu_server_zsock(server) == NULL);
    }
    release(-1);
    MU_CHECK_EQ(bind_eventually(server, "ipc://@mu-limit-server"), 0);
    mu_server_destroy(&server);
}

/*  A CURVE server also starts the process's ZAP handler (three sockets)
    on its first bind: refused at each socket of the handler and of the
    server, then started. */
static void
test_curve_server_bind(void)
{
    mu_keys_t *keys = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    mu_server_t *server = mu_server_new();
    MU_CHECK(keys && allow && server && mu_server_set_curve(server, keys, allow) == 0);
    for (int free = 0; free < 6; free++) {
        MU_CHECK(leave_free(free));
        MU_CHECK(refused(mu_server_bind(server, "ipc://@mu-limit-curve")));
        MU_CHECK(mu_server_zsock(server) == NULL);
    }
    release(-1);
    MU_CHECK_EQ(bind_eventually(server, "ipc://@mu-limit-curve"), 0);
    mu_server_destroy(&server);
    mu_allow_destroy(&allow);
    mu_keys_destroy(&keys);
}

/*  At the end every slot can be taken again: no refused call left a
    socket open. */
static void
test_nothing_leaked(void)
{
    MU_CHECK(leave_free(0));
    release(-1);
}

int
main(void)
{
    mu_test_start(120);
    zsys_set_max_sockets(LIMIT); /* before any socket */
    MU_RUN(test_one_socket_constructors);
    MU_RUN(test_proxy);
    MU_RUN(test_client_connect);
    MU_RUN(test_server_bind);
    MU_RUN(test_curve_server_bind);
    MU_RUN(test_nothing_leaked);
    release(-1);
    MU_DONE();
}
