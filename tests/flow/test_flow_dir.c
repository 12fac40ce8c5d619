/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_dir.c — a flow's private directory (doc/flow.md, "Temporary
    directories"): made under $XDG_RUNTIME_DIR (else $TMPDIR), locked while
    the flow lives and removed at its end; the directory of a flow whose
    processes were all killed with SIGKILL is removed when the next flow
    starts, while a live flow's directory and a fresh unlocked one stay. */
#include "mu_test.h"
#include "mutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static char base[256];

/*  The source: waits for one byte on the pipe in arg, then ends. */
static int
gated_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) index;
    char c;
    if (read(*(int *) arg, &c, 1) != 1)
        return 0;
    return mu_flow_emit(out, "x", 1) == 0 ? 0 : MU_EIO;
}

static int
sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state, (void) data, (void) size, (void) out;
    return 0;
}

static int gate[2];

static mu_flow_t *
gated_flow(const char *name)
{
    mu_flow_t *f = mu_flow_new(name);
    if (f
        && (mu_flow_add_source(f, "src", 1, gated_source, &gate[0]) != 0
            || mu_flow_add_worker_stage(f, "sink", 2, NULL, sink, NULL) != 0))
        mu_flow_destroy(&f);
    return f;
}

/*  The muflow-* entries in base: their count, the last name into name. */
static int
flow_dirs(char *name, size_t cap)
{
    DIR *d = opendir(base);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "muflow-", 7) == 0) {
            n++;
            if (name)
                snprintf(name, cap, "%s/%s", base, e->d_name);
        }
    if (d)
        closedir(d);
    return n;
}

static bool
exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void
test_dir_under_xdg_runtime_dir(void)
{
    char dir[512], lock[600];
    mu_flow_t *f = gated_flow("xdg");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(flow_dirs(dir, sizeof dir), 1);
    snprintf(lock, sizeof lock, "%s/lock", dir);
    MU_CHECK(exists(lock));
    MU_CHECK_EQ(write(gate[1], "g", 1), 1);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(30000)), 0);
    MU_CHECK(!exists(dir)); /* removed at the end */
    mu_flow_destroy(&f);
}

/*  In a child: starts a flow, reports its supervisor's and runners' pids,
    then waits to be killed. */
static void
doomed_child(const char *arg, int fd)
{
    (void) arg;
    mu_flow_t *f = gated_flow("doomed");
    if (!f || mu_flow_start(f) != 0)
        _exit(1);
    pid_t pids[8] = { mu_flow_pid(f) };
    int n = 1;
    for (int64_t until = mu_test_now_ms() + mu_test_ms(20000); n < 4 && mu_test_now_ms() < until;) {
        mu_flow_stats_t rows[8];
        size_t got = 0;
        rows[0].size = sizeof rows[0];
        n = 1;
        if (mu_flow_stats(f, rows, 8, &got) == 0)
            for (size_t i = 0; i < got && i < 8; i++)
                if (rows[i].index >= 0 && rows[i].pid > 0)
                    pids[n++] = rows[i].pid;
    }
    mu_test_signal_byte(fd, 'r');
    if (write(fd, pids, sizeof pids) != (ssize_t) sizeof pids)
        _exit(1);
    pause();
    _exit(0);
}

static void
test_stale_dir_reaped(void)
{
    int fd;
    pid_t child = mu_test_fork_piped(doomed_child, NULL, &fd);
    MU_CHECK(child > 0);
    pid_t pids[8] = { 0 };
    MU_CHECK_EQ(mu_test_wait_byte(fd, 30000), 'r');
    ssize_t got = read(fd, pids, sizeof pids);
    close(fd);
    MU_CHECK_EQ(got, (ssize_t) sizeof pids);
    char dir[512];
    MU_CHECK_EQ(flow_dirs(dir, sizeof dir), 1);
    /* Stop the child (so that nothing of it cleans up), kill every process
       of its flow with SIGKILL, then the child itself. */
    MU_CHECK_EQ(kill(child, SIGSTOP), 0);
    for (int i = 0; i < 8; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    MU_CHECK_EQ(kill(child, SIGKILL), 0);
    waitpid(child, NULL, 0);
    /* The supervisor and the runners are gone (not our children): each
       drops its hold on the lock only as it exits, which under ASan (its
       large mappings torn down first) can take a while after the SIGKILL;
       the supervisor was not waited for, and "next" found the directory
       still locked once under load. */
    for (int i = 0; i < 8; i++)
        MU_CHECK(pids[i] <= 0 || mu_test_wait_gone(pids[i], 10000));
    MU_CHECK(exists(dir)); /* left behind */
    /* A fresh directory without a lock (one being made) stays. */
    char fresh[600];
    snprintf(fresh, sizeof fresh, "%s/muflow-fresh0", base);
    MU_CHECK_EQ(mkdir(fresh, 0700), 0);

    mu_flow_t *f = gated_flow("next");
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK(!exists(dir)); /* reaped */
    MU_CHECK(exists(fresh));
    MU_CHECK_EQ(flow_dirs(NULL, 0), 2); /* its own and the fresh one */
    /* A live flow's directory is not stale: a second flow leaves it. */
    char live[512];
    MU_CHECK_EQ(flow_dirs(live, sizeof live), 2);
    mu_flow_t *g = gated_flow("other");
    MU_CHECK_EQ(mu_flow_start(g), 0);
    MU_CHECK_EQ(flow_dirs(NULL, 0), 3);
    MU_CHECK_EQ(write(gate[1], "gg", 2), 2);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(30000)), 0);
    MU_CHECK_EQ(mu_flow_wait(g, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
    mu_flow_destroy(&g);
    MU_CHECK_EQ(flow_dirs(NULL, 0), 1);
    rmdir(fresh);
}

static void
test_tmpdir_without_xdg(void)
{
    char tmp[256];
    MU_CHECK(mu_test_scratch_dir(tmp, sizeof tmp, "flowtmp"));
    unsetenv("XDG_RUNTIME_DIR");
    setenv("TMPDIR", tmp, 1);
    snprintf(base, sizeof base, "%s", tmp);
    mu_flow_t *f = gated_flow("tmp");
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(flow_dirs(NULL, 0), 1);
    MU_CHECK_EQ(write(gate[1], "g", 1), 1);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(30000)), 0);
    MU_CHECK_EQ(flow_dirs(NULL, 0), 0);
    mu_flow_destroy(&f);
    mu_test_remove_scratch_dir(tmp);
}

int
main(void)
{
    mu_test_start(180);
    if (pipe(gate) != 0 || !mu_test_scratch_dir(base, sizeof base, "flowxdg"))
        return 1;
    setenv("XDG_RUNTIME_DIR", base, 1);
    MU_RUN(test_dir_under_xdg_runtime_dir);
    MU_RUN(test_stale_dir_reaped);
    MU_RUN(test_tmpdir_without_xdg);
    mu_test_remove_scratch_dir(base);
    MU_DONE();
}
