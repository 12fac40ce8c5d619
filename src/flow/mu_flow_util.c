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
mu__flow_die_with_parent(pid_t parent_pid, int sig)
{
    prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0);
    if (getppid() != parent_pid)
        _exit(1);
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
