/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_test.c — the shared test helpers (tests/lib/libmutest.a); the
    contracts are in mu_test.h. */
#include "mu_test.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <sys/inotify.h>
#include <sys/syscall.h>

int mu_test_count;
int mu_test_failed;
int mu_test_case_failed;

double
mu_test_scale(void)
{
    const char *env = getenv("MU_TEST_SCALE");
    double scale = env ? strtod(env, NULL) : 1.0;
    return scale >= 1.0 ? scale : 1.0;
}

int
mu_test_ms(int ms)
{
    return (int) (ms * mu_test_scale());
}

int64_t
mu_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mu_test_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) < 0) {
    }
}

int
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

void
mu_test_signal_byte(int fd, unsigned char byte)
{
    ssize_t rc;
    do
        rc = write(fd, &byte, 1);
    while (rc < 0 && errno == EINTR);
}

char *
mu_test_scratch_dir(char *buf, size_t size, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if ((size_t) snprintf(buf, size, "%s/%s.XXXXXX", tmp, tag) >= size)
        return NULL;
    return mkdtemp(buf);
}

int
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
on_alarm(int sig)
{
    (void) sig;
    static const char msg[] =
        "Bail out! test program timed out (raise MU_TEST_SCALE on a slow machine)\n";
    ssize_t rc = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void) rc;
    _exit(1);
}

void
mu_test_start(unsigned seconds)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    alarm((unsigned) (seconds * mu_test_scale()));
}

pid_t
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

int
mu_test_child_status(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status))
        printf("# child %d killed by signal %d\n", (int) pid, WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool
mu_test_wait_count(pthread_mutex_t *mutex, pthread_cond_t *cv, const int *count, int want,
                   int timeout_ms)
{
    int64_t deadline_ms = mu_test_now_ms() + mu_test_ms(timeout_ms);
    struct timespec deadline = { .tv_sec = (time_t) (deadline_ms / 1000),
                                 .tv_nsec = (long) (deadline_ms % 1000) * 1000000L };
    pthread_mutex_lock(mutex);
    int rc = 0;
    while (*count < want && rc == 0)
        rc = pthread_cond_timedwait(cv, mutex, &deadline);
    bool reached = *count >= want;
    pthread_mutex_unlock(mutex);
    return reached;
}

bool
mu_test_child_aborts(mu_test_child_fn *fn, const char *arg)
{
    int fd = -1;
    pid_t pid = mu_test_fork_piped(fn, arg, &fd);
    if (pid <= 0)
        return false;
    bool killed = mu_test_child_status(pid) == -1;
    if (fd >= 0)
        close(fd);
    return killed;
}

void
mu_test_remove_scratch_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

void
mu_test_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

bool
mu_test_limit_fds(struct rlimit *old)
{
    if (getrlimit(RLIMIT_NOFILE, old) != 0)
        return false;
    int probe = dup(0);
    if (probe < 0)
        return false;
    close(probe);
    struct rlimit tight = { (rlim_t) probe, old->rlim_max }; /* no fd >= probe */
    return setrlimit(RLIMIT_NOFILE, &tight) == 0;
}

void
mu_test_counter_init(mu_test_counter_t *c)
{
    pthread_mutex_init(&c->mutex, NULL);
    mu_test_cond_init(&c->cv);
    c->value = 0;
}

void
mu_test_counter_fini(mu_test_counter_t *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mutex);
}

void
mu_test_counter_set(mu_test_counter_t *c, int value)
{
    pthread_mutex_lock(&c->mutex);
    c->value = value;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mutex);
}

void
mu_test_counter_add(mu_test_counter_t *c)
{
    pthread_mutex_lock(&c->mutex);
    c->value++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mutex);
}

bool
mu_test_counter_wait(mu_test_counter_t *c, int want, int timeout_ms)
{
    return mu_test_wait_count(&c->mutex, &c->cv, &c->value, want, timeout_ms);
}

bool
mu_test_poll_until(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    while (!cond(arg)) {
        if (mu_test_now_ms() > deadline)
            return cond(arg);
        mu_test_sleep_ms(2);
    }
    return true;
}

bool
mu_test_wait_gone(pid_t pid, int timeout_ms)
{
    int fd = (int) syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH; /* no such process (any more) */
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int n;
    for (;;) {
        int64_t left = deadline - mu_test_now_ms();
        n = poll(&pfd, 1, left > 0 ? (int) left : 0);
        if (n >= 0 || errno != EINTR)
            break;
    }
    close(fd);
    return n == 1;
}

int
mu_test_watch_dir(const char *dir)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -1;
    uint32_t mask = IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
    if (inotify_add_watch(fd, dir, mask) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool
mu_test_wait_change(int watch, int timeout_ms)
{
    struct pollfd pfd = { .fd = watch, .events = POLLIN };
    int64_t deadline = mu_test_now_ms() + mu_test_ms(timeout_ms);
    int n;
    for (;;) {
        int64_t left = deadline - mu_test_now_ms();
        n = poll(&pfd, 1, left > 0 ? (int) left : 0);
        if (n >= 0 || errno != EINTR)
            break;
    }
    if (n != 1)
        return false;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(watch, buf, sizeof buf) > 0) {
    } /* every change waiting (non-blocking) */
    return true;
}

unsigned char *
mu_test_slurp(const char *path, size_t *len_p)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *more = realloc(buf, cap);
            if (more == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = more;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    *len_p = len;
    return buf;
}

int
mu_test_tcp_connect(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t) port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0)
        return -1;
    if ((rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0)
        || connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int fills[MU_TEST_FD_ROOM];
static int nfills;

void
mu_test_fill_fds(int spare)
{
    int fd;
    while (nfills < MU_TEST_FD_ROOM && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fills[nfills++] = fd;
    while (spare-- > 0 && nfills > 0)
        close(fills[--nfills]);
}

void
mu_test_unfill_fds(void)
{
    while (nfills > 0)
        close(fills[--nfills]);
}

int
mu_test_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    int n = 0;
    if (dir) {
        while (readdir(dir))
            n++;
        closedir(dir);
    }
    return n;
}
