/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_util.c — helpers every part of mu_flow uses (latency
    histogram, endpoints, process titles, the endpoint directory, parent
    death, logging set-up). Calls nothing else of mu_flow. */
#include "flow/mu_flow_int.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int
mu__flow_bucket(uint64_t ns)
{
    if (ns < 64)
        return 0;
    int msb = 63 - __builtin_clzll(ns);
    int sub = (int) ((ns >> (msb - 2)) & 3);
    int b = (msb - 5) * 4 + sub;
    return b >= MU__FLOW_HIST ? MU__FLOW_HIST - 1 : b;
}

double
mu__flow_bucket_us(int bucket)
{
    if (bucket <= 0)
        return 0.032;
    int msb = bucket / 4 + 5, sub = bucket % 4;
    double lo = (double) ((uint64_t) (4 + sub) << (msb - 2));
    double width = (double) ((uint64_t) 1 << (msb - 2));
    return (lo + width / 2) / 1000.0;
}

double
mu__flow_percentile(const uint32_t *hist, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < MU__FLOW_HIST; i++)
        total += hist[i];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t) ceil(q * (double) total), seen = 0;
    if (want == 0)
        want = 1;
    for (int i = 0; i < MU__FLOW_HIST; i++) {
        seen += hist[i];
        if (seen >= want)
            return mu__flow_bucket_us(i);
    }
    return mu__flow_bucket_us(MU__FLOW_HIST - 1);
}

void
mu__flow_endpoint(const mu_flow_t *flow, int stage, int index, char *buf, size_t cap)
{
    const mu__stage_t *st = &flow->stages[stage];
    if (st->base_port > 0)
        snprintf(buf, cap, "tcp://%s:%d", st->host, st->base_port + index);
    else
        snprintf(buf, cap, "ipc://%s/s%d-%d", flow->dir, stage, index);
}

void
mu__flow_set_title(const char *title)
{
    char shortname[16];
    snprintf(shortname, sizeof shortname, "%s", title);
    prctl(PR_SET_NAME, shortname, 0, 0, 0);
    /* The argv strings are contiguous from argv[0] (program_invocation_name
       points at it); /proc/self/cmdline says how long the area is. */
    extern char *program_invocation_name;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    ssize_t len = read(fd, buf, sizeof buf);
    close(fd);
    if (len <= 1 || program_invocation_name == NULL || strcmp(program_invocation_name, buf) != 0)
        return;
    size_t area = (size_t) len;
    memset(program_invocation_name, 0, area);
    snprintf(program_invocation_name, area, "%s", title);
}

void
mu__flow_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

void
mu__flow_supervisor_begin(pid_t parent_pid)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (getppid() != parent_pid)
        _exit(1);
}

void
mu__flow_die_with_parent(pid_t parent_pid, int sig)
{
    prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0);
    if (getppid() != parent_pid)
        _exit(1);
}

#if defined(__SANITIZE_ADDRESS__)
#define MU__FLOW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MU__FLOW_ASAN 1
#endif
#endif

#ifdef MU__FLOW_ASAN
/*  True when a thread of the process other than the caller is running or
    runnable (state R in /proc/self/task/TID/stat). */
static bool
other_thread_running(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return false;
    long self = (long) gettid();
    bool running = false;
    struct dirent *e;
    while (!running && (e = readdir(d)) != NULL) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || tid <= 0 || tid == self)
            continue;
        char path[64], buf[256];
        snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* it ended meanwhile */
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *paren = strrchr(buf, ')'); /* the name may hold spaces */
        running = paren && paren[1] == ' ' && paren[2] == 'R';
    }
    closedir(d);
    return running;
}
#endif

/*  gcc 12's AddressSanitizer takes no lock of its allocator around fork
    (glibc's malloc does), so a child inherits an allocator lock that
    another thread held at the fork and hangs at its first allocation that
    needs it. A thread that just ended (a joined Python thread) still
    returns its allocator cache, under those locks, for a moment after its
    join. A thread blocked in the kernel holds none of them. */
void
mu__flow_fork_quiesce(void)
{
#ifdef MU__FLOW_ASAN
    int64_t deadline = mu__now_ms() + MU__FLOW_QUIESCE_MS;
    while (other_thread_running() && mu__now_ms() < deadline) {
        struct timespec pause = { 0, 200 * 1000 };
        nanosleep(&pause, NULL);
    }
#endif
}

void
mu__flow_log_setup(void)
{
    zsys_handler_set(NULL); /* no czmq handlers, now or at a later zsys_init */
}


int64_t
mu__flow_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}
