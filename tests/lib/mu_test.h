/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_test.h — a minimal TAP test harness for libmutil's test programs.

    Each case is a void function; MU_CHECK records a failure with file:line and
    returns from the case. main() lists the cases with MU_RUN and ends with
    MU_DONE, which prints the TAP plan and returns the exit status. An alarm
    bounds the whole program so that nothing hangs the suite. */
#ifndef MU_TEST_H_INCLUDED
#define MU_TEST_H_INCLUDED

#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* pipe2, F_SETPIPE_SZ, mkdtemp in the tests */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int mu_test_count;
static int mu_test_failed;
static int mu_test_case_failed;

#define MU_CHECK(cond)                                                          \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            mu_test_case_failed = 1;                                            \
            return;                                                             \
        }                                                                       \
    } while (0)

/*  Checks that an int expression equals an expected value, printing both. */
#define MU_CHECK_EQ(expr, expected)                                             \
    do {                                                                        \
        long long mu_got_ = (long long) (expr), mu_want_ = (long long) (expected); \
        if (mu_got_ != mu_want_) {                                              \
            printf("# %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
                   #expr, mu_got_, mu_want_);                                   \
            mu_test_case_failed = 1;                                            \
            return;                                                             \
        }                                                                       \
    } while (0)

#define MU_RUN(fn)                                                              \
    do {                                                                        \
        mu_test_case_failed = 0;                                                \
        fn();                                                                   \
        mu_test_count++;                                                        \
        if (mu_test_case_failed)                                                \
            mu_test_failed++;                                                   \
        printf("%s %d - %s\n", mu_test_case_failed ? "not ok" : "ok",           \
               mu_test_count, #fn);                                             \
        fflush(stdout);                                                         \
    } while (0)

#define MU_DONE()                                                               \
    do {                                                                        \
        printf("1..%d\n", mu_test_count);                                       \
        return mu_test_failed ? 1 : 0;                                          \
    } while (0)

/*  The time-scale factor: MU_TEST_SCALE in the environment (a number >= 1,
    default 1). Every time bound in the tests is multiplied by it, so a slow
    or loaded machine runs the same suite with MU_TEST_SCALE=3. */
static inline double
mu_test_scale(void)
{
    const char *env = getenv("MU_TEST_SCALE");
    double scale = env ? strtod(env, NULL) : 1.0;
    return scale >= 1.0 ? scale : 1.0;
}

/*  A time bound of MS milliseconds, scaled by mu_test_scale(). */
static inline int
mu_test_ms(int ms)
{
    return (int) (ms * mu_test_scale());
}

/*  Monotonic clock in milliseconds, for deadlines and measured bounds. */
static inline int64_t
mu_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  Waits up to TIMEOUT_MS x mu_test_scale() for one byte on FD, the usual
    "child is ready" handshake. Returns the byte read (0..255), or -1 on
    timeout, EOF or error. */
static inline int
mu_test_wait_byte(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    for (;;) {
        int64_t left = deadline - mu_test_now_ms();
        if (left < 0)
            return -1;
        int n = poll(&pfd, 1, (int) left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        unsigned char byte;
        ssize_t got = read(fd, &byte, 1);
        if (got < 0 && errno == EINTR)
            continue;
        return got == 1 ? byte : -1;
    }
}

/*  Writes one byte to FD (the ready side of mu_test_wait_byte). */
static inline void
mu_test_signal_byte(int fd, unsigned char byte)
{
    ssize_t rc;
    do
        rc = write(fd, &byte, 1);
    while (rc < 0 && errno == EINTR);
}

/*  Makes a scratch directory $TMPDIR/TAG.XXXXXX (TMPDIR defaults to /tmp)
    into BUF; returns BUF or NULL. */
static inline char *
mu_test_scratch_dir(char *buf, size_t size, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if ((size_t) snprintf(buf, size, "%s/%s.XXXXXX", tmp, tag) >= size)
        return NULL;
    return mkdtemp(buf);
}

/*  Binds a TCP socket on 127.0.0.1 to a free port and writes
    "tcp://127.0.0.1:PORT" into ENDPOINT. LISTENING: it listens and never
    accepts, so connections complete in the kernel and no ZMTP greeting
    ever follows (a server that never answers); returns the fd to close.
    Else it is closed at once, leaving a port nothing listens on
    (connections are refused); returns 0. -1 on failure. */
static inline int
mu_test_tcp_port(char *endpoint, size_t size, int listening)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof addr) != 0
        || (listening && listen(fd, 8) != 0)
        || getsockname(fd, (struct sockaddr *) &addr, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(endpoint, size, "tcp://127.0.0.1:%d", ntohs(addr.sin_port));
    if (listening)
        return fd;
    close(fd);
    return 0;
}

static void
mu_test_on_alarm(int sig)
{
    (void) sig;
    static const char msg[] =
        "Bail out! test program timed out (raise MU_TEST_SCALE on a slow machine)\n";
    ssize_t rc = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void) rc;
    _exit(1);
}

/*  Bounds the test program's run time to SECONDS x mu_test_scale(); call
    first in main(). On expiry the program prints a TAP "Bail out!" line and
    exits 1, so a hang is reported as such rather than as a signal. */
static inline void
mu_test_start(unsigned seconds)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, mu_test_on_alarm);
    alarm((unsigned) (seconds * mu_test_scale()));
}

/*  A child process's body: gets arg and the write end of a pipe; must end
    with _exit. */
typedef void (mu_test_child_fn)(const char *arg, int fd);

/*  Forks a child running fn(arg, fd); returns its pid with the pipe's read
    end in *fd_p, or -1. */
static inline pid_t
mu_test_fork_piped(mu_test_child_fn *fn, const char *arg, int *fd_p)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        fn(arg, fds[1]);
        _exit(127);
    }
    close(fds[1]);
    *fd_p = fds[0];
    if (pid < 0)
        close(fds[0]);
    return pid;
}

/*  Waits for child pid: its exit status, or -1 when a signal killed it
    (the signal is printed as a TAP comment). */
static inline int
mu_test_child_status(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status))
        printf("# child %d killed by signal %d\n", (int) pid, WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
