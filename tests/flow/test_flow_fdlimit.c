/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_fdlimit.c — a flow at the process's open-file limit: a
    supervisor that cannot create the control socket pair of any runner
    logs why and fails with the restart-limit error (no silent retrying for
    ever); a TCP edge that cannot accept for want of descriptors rests its
    listening socket instead of spinning on it, logs it once, counts an
    error, and accepts again once descriptors are free. */
#include "mu_test.h"
#include "mutil.h"
#include "flow_test.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------ */

/*  The whole of a (small) file into buf, NUL-terminated; "" when absent. */
static void
read_text(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

/*  The lowest descriptor number not in use in this process at or above
    from, or -1. */
static int
free_fd_from(int from)
{
    for (int fd = from; fd < 65536; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            return fd;
    return -1;
}

/*  The second lowest descriptor number not in use in process pid (from
    /proc/pid/fd), or -1. */
static int
second_free_fd_of(pid_t pid)
{
    static bool used[4096];
    memset(used, 0, sizeof used);
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int) pid);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd >= 0 && fd < 4096)
            used[fd] = true;
    }
    closedir(d);
    for (int fd = 0, seen = 0; fd < 4096; fd++)
        if (!used[fd] && ++seen == 2)
            return fd;
    return -1;
}

/*  CPU time (user + system) of process pid so far, in ms, or -1. */
static long
cpu_ms_of(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    read_text(path, text, sizeof text);
    const char *p = strrchr(text, ')'); /* after the command name */
    if (!p)
        return -1;
    unsigned long utime, stime;
    /* fields 3 to 13, then utime (14) and stime (15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (long) ((utime + stime) * 1000 / (unsigned long) sysconf(_SC_CLK_TCK));
}

typedef struct {
    mu_flow_t *f;
    const char *stage;
    mu_flow_stats_t *row;
} pid_wait_t;

/*  For mu_test_poll_until: runner 0 of the stage reports a pid (the
    statistics are all mu_flow offers to see it start). */
static bool
has_pid(void *arg)
{
    pid_wait_t *w = arg;
    return stage_row(w->f, w->stage, 0, w->row) && w->row->pid > 0;
}

/* ---- a supervisor that cannot start its runners --------------------------------- */

typedef struct {
    int start, end;
    uint64_t errors;
    char error[512];
} starved_t;

static int
idle_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    (void) out;
    return 0; /* nothing to send */
}

/*  In a child process: a flow started with exactly one descriptor left
    below the open-file limit for its supervisor (the limit is inherited),
    so that every runner's socketpair fails; sends how it ended to out. */
static void __attribute__((noreturn)) starved_child(int out, const char *log)
{
    starved_t r = { .start = 1, .end = 1 };
    mu_flow_t *f = mu_flow_new("starved");
    if (mu_log_set_file(log) != 0 || !f || mu_flow_add_source(f, "src", 1, idle_source, NULL) != 0
        || mu_flow_add_worker_stage(f, "work", 2, NULL, pass_through, NULL) != 0
        || mu_flow_set_restart_limit(f, 3, 600000) != 0)
        _exit(2);
    /* mu_flow_start keeps the lowest free descriptor a (its directory's
       lock file), then its socket pair to the supervisor takes the next
       two, b < c, and the eventfd the runners say they are ready on the
       one after, d; the supervisor closes b, its only free one below
       d + 1. */
    int a = free_fd_from(0), b = free_fd_from(a + 1), c = free_fd_from(b + 1);
    int d = free_fd_from(c + 1);
    struct rlimit old, low;
    if (a < 0 || b < 0 || c < 0 || d < 0 || getrlimit(RLIMIT_NOFILE, &old) != 0)
        _exit(3);
    low = (struct rlimit) { .rlim_cur = (rlim_t) d + 1, .rlim_max = old.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &low) != 0)
        _exit(4);
    r.start = mu_flow_start(f);
    snprintf(r.error, sizeof r.error, "%s", mu_last_error());
    if (r.start == 0) {
        r.end = mu_flow_wait(f, mu_test_ms(20000));
        snprintf(r.error, sizeof r.error, "%s", mu_last_error());
        mu_flow_stats_t row;
        if (stage_row(f, "work", -1, &row))
            r.errors = row.errors;
    }
    if (r.end == MU_ETIMEDOUT) { /* still running: ended hard, the result is r.end */
        int stopped = mu_flow_stop(f, 0);
        (void) stopped;
    }
    mu_flow_destroy(&f);
    _exit(write(out, &r, sizeof r) == (ssize_t) sizeof r ? 0 : 5);
}

static void
test_runners_cannot_start(void)
{
    char dir[256], log[300], text[8192];
    MU_CHECK(mu_test_scratch_dir(dir, sizeof dir, "flowfd"));
    snprintf(log, sizeof log, "%s/log", dir);
    int p[2];
    MU_CHECK_EQ(pipe(p), 0);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        starved_child(p[1], log);
    }
    close(p[1]);
    starved_t r = { .start = 1 };
    struct pollfd w = { .fd = p[0], .events = POLLIN };
    bool got = poll(&w, 1, mu_test_ms(60000)) == 1 && read(p[0], &r, sizeof r) == sizeof r;
    close(p[0]);
    if (!got)
        kill(pid, SIGKILL);
    int status = -1;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(got);
    MU_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("# ended %s: %s\n", mu_errname(r.end), r.error);
    MU_CHECK_EQ(r.start, 0);
    MU_CHECK_EQ(r.end, MU_ELIMIT); /* before: still running, retried every second */
    MU_CHECK(strstr(r.error, "exceeded its restart limit") != NULL);
    MU_CHECK(strstr(r.error, "cannot start runner: socketpair: Too many open files") != NULL);
    read_text(log, text, sizeof text);
    printf("# log:\n# %s\n", text);
    MU_CHECK(strstr(text, "(supervisor, pid ") != NULL);
    MU_CHECK(strstr(text, ": cannot start runner: socketpair: Too many open files") != NULL);
    MU_CHECK(r.errors >= 2); /* each runner of "work" failed to start at least once */
    unlink(log);
    rmdir(dir);
}

/* ---- an edge out of descriptors -------------------------------------------------- */

#define EDGE_FREE 2    /* descriptors the edge runner has left for clients */
#define EDGE_CLIENTS 8 /* the first one, EDGE_FREE accepted, the rest waiting */

static void
test_edge_accept_out_of_fds(void)
{
    char dir[256], log[300], text[8192];
    MU_CHECK(mu_test_scratch_dir(dir, sizeof dir, "flowfd"));
    snprintf(log, sizeof log, "%s/log", dir);
    MU_CHECK_EQ(mu_log_set_file(log), 0);
    mu_flow_t *f = mu_flow_new("fdedge");
    mu_flow_edge_t in = { .host = "127.0.0.1",
                          .port = 0,
                          .listen = true,
                          .max_clients = 64,
                          .idle_timeout_ms = -1 };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &in), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    int port = mu_flow_edge_port(f, "in", 0);
    mu_flow_stats_t row;
    pid_wait_t pw = { f, "in", &row };
    MU_CHECK(mu_test_poll_until(has_pid, &pw, 20000));
    pid_t edge = row.pid;
    /* A first client's frame through the flow: the edge runner has set
       up everything it holds (its links) and has its listener in hand. */
    int c[EDGE_CLIENTS];
    c[0] = mu_test_tcp_connect(port, 0);
    MU_CHECK(c[0] >= 0);
    MU_CHECK(send_frame(c[0], "x", 1));
    MU_CHECK(wait_stat(f, "work", STAT(in), 1, &row));
    /* Now it gets EDGE_FREE descriptors more than it holds. */
    int limit = second_free_fd_of(edge) + 1;
    MU_CHECK(limit > 0);
    struct rlimit old, low;
    MU_CHECK_EQ(prlimit(edge, RLIMIT_NOFILE, NULL, &old), 0);
    low = (struct rlimit) { .rlim_cur = (rlim_t) limit, .rlim_max = old.rlim_max };
    MU_CHECK_EQ(prlimit(edge, RLIMIT_NOFILE, &low, NULL), 0);
    for (int k = 1; k < EDGE_CLIENTS; k++) {
        c[k] = mu_test_tcp_connect(port,
                                   0); /* the kernel completes it; the edge accepts it or not */
        MU_CHECK(c[k] >= 0);
        MU_CHECK(send_frame(c[k], "x", 1));
    }
    MU_CHECK(wait_stat(f, "in", STAT(clients), 1 + EDGE_FREE, &row));
    MU_CHECK(wait_stat(f, "in", STAT(in), 1 + EDGE_FREE, &row));
    /* The others wait: the edge must not spin on its readable listener
       meanwhile (before: a core's worth of CPU until a descriptor freed). */
    long cpu0 = cpu_ms_of(edge);
    int64_t t0 = mu_test_now_ms();
    (void) poll(NULL, 0, 2000); /* a measuring window, not a wait for an event */
    long cpu = cpu_ms_of(edge) - cpu0;
    int64_t wall = mu_test_now_ms() - t0;
    printf("# edge runner CPU %ld ms in %lld ms with %d clients waiting\n", cpu, (long long) wall,
           EDGE_CLIENTS - 1 - EDGE_FREE);
    MU_CHECK(cpu0 >= 0 && cpu * 4 < wall);
    MU_CHECK(stage_row(f, "in", -1, &row));
    MU_CHECK_EQ(row.clients, 1 + EDGE_FREE);
    MU_CHECK_EQ(row.errors, 1); /* one burst of failed accepts */
    /* Descriptors free again: the edge accepts the clients that waited. */
    MU_CHECK_EQ(prlimit(edge, RLIMIT_NOFILE, &old, NULL), 0);
    MU_CHECK(wait_stat(f, "in", STAT(in), EDGE_CLIENTS, &row));
    MU_CHECK(wait_stat(f, "in", STAT(clients), EDGE_CLIENTS, &row));
    MU_CHECK(wait_stat(f, "work", STAT(in), EDGE_CLIENTS, &row));
    for (int k = 0; k < EDGE_CLIENTS; k++)
        close(c[k]);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
    mu_log_reset();
    read_text(log, text, sizeof text);
    printf("# log:\n# %s\n", text);
    MU_CHECK(strstr(text, "fdedge/in/0") != NULL);
    MU_CHECK(strstr(text, "cannot accept a client: Too many open files (open-file limit") != NULL);
    unlink(log);
    rmdir(dir);
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_runners_cannot_start);
    RUN(test_edge_accept_out_of_fds);
    MU_DONE();
}
