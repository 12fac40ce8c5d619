/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_socket_limit.c — every call that opens ZeroMQ sockets, when libzmq
    refuses one (the context's ZMQ_MAX_SOCKETS or the process's open-file
    limit reached): the code -EMFILE (errno EMFILE for constructors) with a
    message that says why, nothing left open (sockets the call opened
    before the refused one are closed), the process still up, and the same
    call working once sockets are available. czmq's zsock_new and
    zactor_new aborted the process there (czmq 4.2 asserts on a refused
    socket); net/mu_zsocket.h opens the library's sockets without them.

    Each socket of each call is refused in turn: this program defines
    zsys_socket, zsys_close and zmq_socket_monitor, which take the place of
    czmq's and libzmq's for libmutil's calls (the executable's definitions
    come first), count the sockets open and refuse the next open once a
    budget is spent, as libzmq does at its limit. Then one pass against
    libzmq's real limit, in a child process (this program run again with
    the argument "real-limit") whose context has LIMIT sockets: a limit
    that low would also refuse the other cases' sockets while libzmq's
    reaper thread is still giving back the slots of closed ones. */
#define _GNU_SOURCE
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the stand-ins -------------------------------------------------------- */

static int budget = -1; /* opens left before the next is refused; -1: no limit */
static int live;        /* sockets opened by zsys_socket and not closed yet */

/*  Spends one open of the budget; false (errno EMFILE) when none is left. */
static bool
spend(void)
{
    if (budget == 0) {
        errno = EMFILE;
        return false;
    }
    if (budget > 0)
        budget--;
    return true;
}

void *
zsys_socket(int type, const char *filename, size_t line_nbr)
{
    static void *(*real)(int, const char *, size_t);
    if (!real)
        *(void **) &real = dlsym(RTLD_NEXT, "zsys_socket");
    if (!spend())
        return NULL;
    void *handle = real(type, filename, line_nbr);
    live += handle != NULL;
    return handle;
}

int
zsys_close(void *handle, const char *filename, size_t line_nbr)
{
    static int (*real)(void *, const char *, size_t);
    if (!real)
        *(void **) &real = dlsym(RTLD_NEXT, "zsys_close");
    live--;
    return real(handle, filename, line_nbr);
}

/*  libzmq opens a PAIR socket of its own for a monitor. */
int
zmq_socket_monitor(void *socket, const char *endpoint, int events)
{
    static int (*real)(void *, const char *, int);
    if (!real)
        *(void **) &real = dlsym(RTLD_NEXT, "zmq_socket_monitor");
    if (endpoint && !spend())
        return -1;
    return real(socket, endpoint, events);
}

/* ---- the harness -------------------------------------------------------------- */

/*  One try of the call under test with `allowed` socket opens: makes what
    the call needs, runs it with budget = allowed (and no limit after),
    destroys what it made, and returns the call's code (>= 0: it worked). */
typedef int try_fn(int allowed);

/*  Runs the call with `allowed` opens (budget), returning its code. */
#define WITH_BUDGET(allowed, call) (budget = (allowed), budget_rc = (call), budget = -1, budget_rc)
static int budget_rc;

/*  Tries with 0, 1, 2, ... opens allowed until the call works: each refused
    try must return -EMFILE saying why and leave no socket open. Returns the
    number of opens the call takes, or -1 (printed why). */
static int
refuse_each(try_fn *try, const char *name)
{
    for (int allowed = 0; allowed < 16; allowed++) {
        int before = live;
        int rc = try(allowed);
        if (rc >= 0)
            return allowed;
        if (live != before) {
            printf("# %s, %d opens allowed: %d sockets left open\n", name, allowed, live - before);
            return -1;
        }
        if (rc != -EMFILE || strstr(mu_last_error(), "too many sockets") == NULL) {
            printf("# %s, %d opens allowed: code %d (%s), '%s'\n", name, allowed, rc,
                   mu_errname(rc), mu_last_error());
            return -1;
        }
    }
    printf("# %s: still refused with 16 opens allowed\n", name);
    return -1;
}

/*  A name for an ipc endpoint of this process. */
static const char *
ipc_name(const char *what)
{
    static char name[96];
    snprintf(name, sizeof name, "ipc://@mu-limit-%s-%ld", what, (long) getpid());
    return name;
}

/* ---- the calls ------------------------------------------------------------- */

static int
try_pub(int allowed)
{
    mu_pub_t *pub;
    errno = 0;
    int rc = WITH_BUDGET(allowed, (pub = mu_pub_new()) ? 0 : mu_last_code());
    if (!pub && errno != EMFILE)
        return MU_EINVAL;
    mu_pub_destroy(&pub);
    return rc;
}

static int
try_sub(int allowed)
{
    mu_sub_t *sub;
    int rc = WITH_BUDGET(allowed, (sub = mu_sub_new()) ? 0 : mu_last_code());
    mu_sub_destroy(&sub);
    return rc;
}

static int
try_socket(int allowed)
{
    mu_socket_t *socket;
    int rc = WITH_BUDGET(allowed, (socket = mu_socket_new(NULL)) ? 0 : mu_last_code());
    mu_socket_destroy(&socket);
    return rc;
}

static int
try_pipe(int allowed)
{
    mu_pipe_t *pipe;
    errno = 0;
    int rc = WITH_BUDGET(allowed, (pipe = mu_pipe_new_zmq("inproc://mu-limit-pipe", MU_PIPE_READER))
                                      ? 0
                                      : mu_last_code());
    if (!pipe && errno != EMFILE)
        return MU_EINVAL;
    mu_pipe_destroy(&pipe);
    return rc;
}

static int
try_proxy(int allowed)
{
    mu_proxy_t *proxy;
    errno = 0;
    int rc = WITH_BUDGET(allowed, (proxy = mu_proxy_new()) ? 0 : mu_last_code());
    if (!proxy && errno != EMFILE)
        return MU_EINVAL;
    mu_proxy_destroy(&proxy);
    return rc;
}

/*  mu_proxy_start with a WebSocket front, tried again and again on one
    proxy: a refused start leaves nothing open, and the next start works. */
static mu_proxy_t *ws_proxy;

static int
try_proxy_ws_start(int allowed)
{
    return WITH_BUDGET(allowed, mu_proxy_start(ws_proxy));
}

static int
try_client_connect(int allowed)
{
    mu_client_t *client = mu_client_new();
    if (!client || mu_client_set_insecure(client) != 0)
        return MU_ENOMEM;
    int rc = WITH_BUDGET(allowed, mu_client_connect(client, ipc_name("client")));
    if (rc != 0 && mu_client_zsock(client) != NULL)
        rc = MU_EINVAL; /* a refused connect keeps no socket */
    mu_client_destroy(&client);
    return rc;
}

static int
try_server_bind(int allowed)
{
    mu_server_t *server = mu_server_new();
    if (!server || mu_server_set_insecure(server) != 0)
        return MU_ENOMEM;
    int rc = WITH_BUDGET(allowed, mu_server_bind(server, ipc_name("server")));
    mu_server_destroy(&server);
    return rc;
}

static int
try_curve_server_bind(int allowed)
{
    mu_keys_t *keys = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    mu_server_t *server = mu_server_new();
    int rc = keys && allow && server ? mu_server_set_curve(server, keys, allow) : MU_ENOMEM;
    if (rc == 0)
        rc = WITH_BUDGET(allowed, mu_server_bind(server, ipc_name("curve")));
    mu_server_destroy(&server);
    mu_allow_destroy(&allow);
    mu_keys_destroy(&keys);
    return rc;
}

/*  The first CURVE bind of a publisher starts the ZAP handler. */
static int
try_curve_pub_bind(int allowed)
{
    mu_pub_t *pub = mu_pub_new();
    mu_keys_t *keys = mu_keys_new();
    mu_allow_t *allow = mu_allow_new();
    int rc = pub && keys && allow ? mu_pub_set_curve(pub, keys, allow, NULL, NULL) : MU_ENOMEM;
    if (rc == 0)
        rc = WITH_BUDGET(allowed, mu_pub_bind(pub, ipc_name("curve-pub")));
    mu_pub_destroy(&pub);
    mu_allow_destroy(&allow);
    mu_keys_destroy(&keys);
    return rc;
}

/*  Checks that the call refuses each of its `opens` sockets in turn. */
#define CHECK_EACH(try, opens) MU_CHECK_EQ(refuse_each(try, #try), opens)

static void
test_constructors(void)
{
    CHECK_EACH(try_pub, 1);
    CHECK_EACH(try_sub, 1);
    CHECK_EACH(try_socket, 1);
    CHECK_EACH(try_pipe, 1);
    CHECK_EACH(try_proxy, 4); /* XSUB, XPUB, the control pair */
}

static void
test_proxy_ws_start(void)
{
    ws_proxy = mu_proxy_new();
    mu_proxy_ws_t ws = { 0 };
    MU_CHECK(ws_proxy && mu_proxy_set_ws(ws_proxy, &ws) > 0);
    CHECK_EACH(try_proxy_ws_start, 4); /* the front's SUB, PUB, control pair */
    mu_proxy_destroy(&ws_proxy);
}

static void
test_client_and_server(void)
{
    CHECK_EACH(try_client_connect, 3); /* DEALER, libzmq's monitor PAIR, ours */
    /* ROUTER, the ZAP handler's pair and REP (the first server of the
       process starts it, insecure ones too), the monitor's two PAIRs */
    CHECK_EACH(try_server_bind, 6);
    CHECK_EACH(try_curve_server_bind, 6);
    CHECK_EACH(try_curve_pub_bind, 3); /* the ZAP handler */
}

/* ---- the open-file limit ------------------------------------------------------ */

/*  Waits until the process has `count` descriptors open again: libzmq
    closes a socket's descriptors in its reaper thread, after zmq_close. */
static bool
fds_back_to(int count)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    while (mu_test_open_fds() != count)
        if (mu_test_now_ms() > deadline)
            return false;
        else
            sched_yield();
    return true;
}

/*  A new insecure client (not connected), or NULL. */
static mu_client_t *
insecure_client(void)
{
    mu_client_t *client = mu_client_new();
    if (client && mu_client_set_insecure(client) != 0)
        mu_client_destroy(&client);
    return client;
}

/*  Connects client with only `spare` descriptors left; they stay taken
    when keep_full, else are given back. */
static int
connect_with(mu_client_t *client, const char *endpoint, int spare, bool keep_full)
{
    mu_test_fill_fds(spare);
    int rc = client ? mu_client_connect(client, endpoint) : MU_ENOMEM;
    if (!keep_full)
        mu_test_unfill_fds();
    return rc;
}

/*  A server's tcp:// bind with no descriptor left, then a client whose
    connection gets no descriptor (the process is at its open-file limit
    once the client's sockets are open): wait_ready says
    -EMFILE, not MU_ENOHOST (the connection's socket never existed); once
    descriptors are free, it connects. How many descriptors connect takes
    is found first by trying 1, 2, ... spare ones; then, once every socket
    of those tries is closed, a client connects with exactly that many. */
static void
test_client_out_of_fds(void)
{
    struct rlimit saved;
    MU_CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0 && saved.rlim_cur > MU_TEST_FD_ROOM);
    struct rlimit low = { MU_TEST_FD_ROOM, saved.rlim_max };
    MU_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    mu_server_t *server = mu_server_new();
    MU_CHECK(server && mu_server_set_insecure(server) == 0);
    MU_CHECK_EQ(mu_server_bind(server, ipc_name("fds")), 0); /* its sockets are open */
    /* A tcp:// bind with no descriptor left: -EMFILE, where libzmq 4.3.4
       would abort the process (its interface lookup asserts). */
    mu_test_fill_fds(0);
    int refused = mu_server_bind(server, "tcp://127.0.0.1:*");
    mu_test_unfill_fds();
    MU_CHECK_EQ(refused, -EMFILE);
    int port = mu_server_bind(server, "tcp://127.0.0.1:*");
    MU_CHECK(port > 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    int baseline = mu_test_open_fds();
    mu_client_t *client = NULL;
    int needed = 0, rc = -EMFILE;
    while (rc == -EMFILE && ++needed < 16) {
        mu_client_destroy(&client);
        client = insecure_client();
        rc = connect_with(client, endpoint, needed, false);
    }
    mu_client_destroy(&client);
    int ready = MU_EINVAL;
    if (rc == 0 && fds_back_to(baseline)) {
        client = insecure_client();
        rc = connect_with(client, endpoint, needed, true);
        ready = rc == 0 ? mu_client_wait_ready(client, mu_test_ms(5000)) : rc;
        mu_test_unfill_fds();
    }
    (void) setrlimit(RLIMIT_NOFILE, &saved);
    MU_CHECK_EQ(rc, 0);
    MU_CHECK_EQ(ready, -EMFILE);
    /* It fails fast until the retried connection's handshake clears it;
       the server answers the hello inside its own calls. */
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    do {
        mu_event_t *event = NULL;
        if (mu_server_recv(server, &event, 10) == 0)
            mu_event_destroy(&event);
        ready = mu_client_wait_ready(client, 10);
    } while (ready != 0 && mu_test_now_ms() <= deadline);
    MU_CHECK_EQ(ready, 0);
    mu_client_destroy(&client);
    mu_server_destroy(&server);
}

/* ---- libzmq's own limit ------------------------------------------------------ */

#define LIMIT 24 /* czmq's context: sockets in all */

static void *held[LIMIT + 1]; /* raw PAIR sockets taking the slots */
static int nheld;

/*  Takes every slot libzmq gives now. */
static void
take_all(void)
{
    while (nheld < LIMIT + 1 && (held[nheld] = zsys_socket(ZMQ_PAIR, NULL, 0)) != NULL)
        nheld++;
}

/*  Closes every held socket (libzmq gives their slots back a little later,
    in its reaper thread). */
static void
release_all(void)
{
    while (nheld > 0)
        zsys_close(held[--nheld], NULL, 0);
}

/*  Takes all LIMIT slots, waiting for the reaper to give back the slots of
    sockets closed before; false after the bound (a socket left open). */
static bool
take_every_slot(void)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    while (take_all(), nheld < LIMIT) {
        if (mu_test_now_ms() > deadline) {
            printf("# only %d of %d sockets could be taken\n", nheld, LIMIT);
            return false;
        }
        sched_yield();
    }
    return true;
}

static void *
make_pub(void)
{
    return mu_pub_new();
}

/*  With every slot taken, libzmq refuses the library's next socket: an
    error, not an abort; once the slots are back, the call works. Run in
    the child. */
static void
real_limit(void)
{
    MU_CHECK(take_every_slot());
    errno = 0;
    MU_CHECK(mu_pub_new() == NULL);
    MU_CHECK_EQ(errno, EMFILE);
    MU_CHECK(strstr(mu_last_error(), "ZMQ_MAX_SOCKETS 24") != NULL);
    mu_client_t *client = mu_client_new();
    MU_CHECK(client && mu_client_set_insecure(client) == 0);
    MU_CHECK_EQ(mu_client_connect(client, ipc_name("real")), -EMFILE);
    release_all();
    mu_pub_t *pub = NULL;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    while ((pub = make_pub()) == NULL && mu_test_now_ms() <= deadline)
        sched_yield(); /* the reaper is still giving slots back */
    MU_CHECK(pub != NULL);
    mu_pub_destroy(&pub);
    mu_client_destroy(&client);
    MU_CHECK(take_every_slot()); /* nothing of the above left open */
    release_all();
}

/*  Runs real_limit in a child process, this program run again. */
static void
test_real_limit(void)
{
    fflush(stdout);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        execl("/proc/self/exe", "test_socket_limit", "real-limit", (char *) NULL);
        _exit(127);
    }
    MU_CHECK_EQ(mu_test_child_status(pid), 0);
}

int
main(int argc, char **argv)
{
    mu_test_start(120);
    if (argc > 1 && strcmp(argv[1], "real-limit") == 0) {
        zsys_set_max_sockets(LIMIT); /* before any socket */
        real_limit();
        return mu_test_case_failed ? 1 : 0; /* its checks print why */
    }
    MU_RUN(test_client_out_of_fds); /* first: no other case's sockets still closing */
    MU_RUN(test_constructors);
    MU_RUN(test_proxy_ws_start);
    MU_RUN(test_client_and_server);
    MU_RUN(test_real_limit);
    MU_DONE();
}
