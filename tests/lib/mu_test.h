/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_test.h — the shared helpers of libmutil's test programs (a minimal
    TAP harness, a monotonic clock, the time-scale factor, scratch
    directories, ready handshakes, free ports, forked children, waits on
    events: a process's exit, a directory's changes, a counter; and the
    one bounded poll, for what nothing signals). The
    functions live in tests/lib/mu_test.c, built as the noinst library
    tests/lib/libmutest.a that every test program links; use these rather
    than a private copy.

    Each case is a void function; MU_CHECK records a failure with file:line and
    returns from the case. main() lists the cases with MU_RUN and ends with
    MU_DONE, which prints the TAP plan and returns the exit status. An alarm
    (mu_test_start) bounds the whole program so that nothing hangs the suite. */
#ifndef MU_TEST_H_INCLUDED
#define MU_TEST_H_INCLUDED

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ, mkdtemp in the tests */
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
#include <pthread.h>
#include <sys/resource.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

/*  The TAP counters MU_RUN and MU_DONE keep: cases run, cases failed, and
    whether the current case failed. */
extern int mu_test_count;
extern int mu_test_failed;
extern int mu_test_case_failed;

#define MU_CHECK(cond)                                                        \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            mu_test_case_failed = 1;                                          \
            return;                                                           \
        }                                                                     \
    } while (0)

/*  Checks that an int expression equals an expected value, printing both. */
#define MU_CHECK_EQ(expr, expected)                                                            \
    do {                                                                                       \
        long long mu_got_ = (long long) (expr), mu_want_ = (long long) (expected);             \
        if (mu_got_ != mu_want_) {                                                             \
            printf("# %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #expr, mu_got_, \
                   mu_want_);                                                                  \
            mu_test_case_failed = 1;                                                           \
            return;                                                                            \
        }                                                                                      \
    } while (0)

#define MU_RUN(fn) MU_RUN_AS(fn(), #fn)

/*  Runs the statement call as the case called name (MU_RUN with a case
    run another way, e.g. in a child process). */
#define MU_RUN_AS(call, name)                                                               \
    do {                                                                                    \
        mu_test_case_failed = 0;                                                            \
        call;                                                                               \
        mu_test_count++;                                                                    \
        if (mu_test_case_failed)                                                            \
            mu_test_failed++;                                                               \
        printf("%s %d - %s\n", mu_test_case_failed ? "not ok" : "ok", mu_test_count, name); \
        fflush(stdout);                                                                     \
    } while (0)

#define MU_DONE()                         \
    do {                                  \
        printf("1..%d\n", mu_test_count); \
        return mu_test_failed ? 1 : 0;    \
    } while (0)

/*  The time-scale factor: MU_TEST_SCALE in the environment (a number >= 1,
    default 1). Every time bound in the tests is multiplied by it, so a slow
    or loaded machine runs the same suite with MU_TEST_SCALE=3. */
double mu_test_scale(void);

/*  The bytes of the file at PATH (malloc'ed, *LEN_P set), or NULL when it
    cannot be read: for a test that checks a file was left as it was. */
unsigned char *mu_test_slurp(const char *path, size_t *len_p);

/*  Connects a TCP socket to 127.0.0.1:PORT; RCVBUF > 0 sets SO_RCVBUF
    first (a small receive window). Returns the socket or -1. */
int mu_test_tcp_connect(int port, int rcvbuf);

/*  For tests at the open-file limit (lower RLIMIT_NOFILE to
    MU_TEST_FD_ROOM first): opens /dev/null until the process has no
    descriptor left, then closes SPARE of them. */
#define MU_TEST_FD_ROOM 256
void mu_test_fill_fds(int spare);

/*  Closes what mu_test_fill_fds opened. */
void mu_test_unfill_fds(void);

/*  The number of descriptors open in the process now (/proc/self/fd). */
int mu_test_open_fds(void);

/*  A time bound of MS milliseconds, scaled by mu_test_scale(). */
int mu_test_ms(int ms);

/*  Monotonic clock in milliseconds, for deadlines and measured bounds. */
int64_t mu_test_now_ms(void);

/*  Sleeps MS milliseconds (resumed after signals). Only for what a test
    simulates (slow work, a pace) or a window in which nothing may happen;
    never to wait for something to happen. */
void mu_test_sleep_ms(int ms);

/*  Waits up to TIMEOUT_MS x mu_test_scale() for one byte on FD, the usual
    "child is ready" handshake. Returns the byte read (0..255), or -1 on
    timeout, EOF or error. */
int mu_test_wait_byte(int fd, int timeout_ms);

/*  Writes one byte to FD (the ready side of mu_test_wait_byte). */
void mu_test_signal_byte(int fd, unsigned char byte);

/*  Makes a scratch directory $TMPDIR/TAG.XXXXXX (TMPDIR defaults to /tmp)
    into BUF; returns BUF or NULL. */
char *mu_test_scratch_dir(char *buf, size_t size, const char *tag);

/*  Binds a TCP socket on 127.0.0.1 to a free port and writes
    "tcp://127.0.0.1:PORT" into ENDPOINT. LISTENING: it listens and never
    accepts, so connections complete in the kernel and no ZMTP greeting
    ever follows (a server that never answers); returns the fd to close.
    Else it is closed at once, leaving a port nothing listens on
    (connections are refused); returns 0. -1 on failure. */
int mu_test_tcp_port(char *endpoint, size_t size, int listening);

/*  Bounds the test program's run time to SECONDS x mu_test_scale(); call
    first in main(). On expiry the program prints a TAP "Bail out!" line and
    exits 1, so a hang is reported as such rather than as a signal. Also
    makes stdout line-buffered. */
void mu_test_start(unsigned seconds);

/*  A child process's body: gets arg and the write end of a pipe; must end
    with _exit. */
typedef void(mu_test_child_fn)(const char *arg, int fd);

/*  Forks a child running fn(arg, fd); returns its pid with the pipe's read
    end in *fd_p, or -1. */
pid_t mu_test_fork_piped(mu_test_child_fn *fn, const char *arg, int *fd_p);

/*  Waits up to TIMEOUT_MS x mu_test_scale() until *COUNT >= WANT, where
    COUNT is an int guarded by MUTEX and every change to it broadcasts CV
    (a condition variable on CLOCK_MONOTONIC). Takes and releases MUTEX
    itself (the caller must not hold it). Returns whether the count was
    reached. */
bool mu_test_wait_count(pthread_mutex_t *mutex, pthread_cond_t *cv, const int *count, int want,
                        int timeout_ms);

/*  Watches directory DIR for changes of its entries (IN_CREATE,
    IN_MODIFY, IN_DELETE, IN_MOVED_FROM, IN_MOVED_TO, on the entries' own
    writes too); returns an inotify fd for mu_test_wait_change (close it
    after), or -1. Set it up before checking the state it is to report. */
int mu_test_watch_dir(const char *dir);

/*  Waits up to TIMEOUT_MS x mu_test_scale() for a change on WATCH (from
    mu_test_watch_dir) and takes every change waiting; returns whether one
    came. The caller then looks at the directory again. */
bool mu_test_wait_change(int watch, int timeout_ms);

/*  Calls cond(arg) until it returns true or TIMEOUT_MS x mu_test_scale()
    passed, pausing 2 ms between calls; returns whether cond held. Only for
    a condition the code under test offers no event for (a counter or a
    state of another thread or process that nothing signals); each caller
    says why in a comment. The one place in the tests that polls. */
bool mu_test_poll_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

/*  Waits up to TIMEOUT_MS x mu_test_scale() until process PID (a child or
    not) has exited, on its pidfd (the kernel's exit event; a zombie counts
    as exited). Returns whether it has. */
bool mu_test_wait_gone(pid_t pid, int timeout_ms);

/*  Waits for child pid: its exit status, or -1 when a signal killed it
    (the signal is printed as a TAP comment). */
int mu_test_child_status(pid_t pid);

/*  Runs fn(arg, fd) in a forked child (see mu_test_fork_piped) and
    returns true when a signal killed it, as an assert() on a caller bug
    does (SIGABRT); false when it exited or could not be forked. */
bool mu_test_child_aborts(mu_test_child_fn *fn, const char *arg);

/*  Removes the scratch directory DIR and everything below it (made by
    mu_test_scratch_dir); prints a TAP comment when it cannot. */
void mu_test_remove_scratch_dir(const char *dir);

/*  Initialises CV as a condition variable on CLOCK_MONOTONIC (the clock
    mu_test_wait_count's deadline is on). */
void mu_test_cond_init(pthread_cond_t *cv);

/*  Lowers RLIMIT_NOFILE's soft limit to the lowest free descriptor, so
    that opening any new descriptor fails with EMFILE; the old limits go to
    *OLD, to be put back with setrlimit(RLIMIT_NOFILE, OLD). Returns false
    (limits unchanged) when it cannot. */
bool mu_test_limit_fds(struct rlimit *old);

/*  A counter that threads raise and a test waits on; every call is
    thread-safe. Init before use (value 0), fini after. */
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC, broadcast on every change */
    int value;
} mu_test_counter_t;

void mu_test_counter_init(mu_test_counter_t *c);
void mu_test_counter_fini(mu_test_counter_t *c);

/*  Sets the counter to VALUE / adds one to it, waking waiters. */
void mu_test_counter_set(mu_test_counter_t *c, int value);
void mu_test_counter_add(mu_test_counter_t *c);

/*  Waits up to TIMEOUT_MS x mu_test_scale() until the counter reaches
    WANT (mu_test_wait_count). Returns whether it did. */
bool mu_test_counter_wait(mu_test_counter_t *c, int want, int timeout_ms);

#endif
