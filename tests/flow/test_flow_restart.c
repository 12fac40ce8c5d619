/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_restart.c — mu_flow supervision: SIGKILL → restart, restart
    intensity, drain on SIGTERM, children dying with the parent,
    at-least-once links (errors, runners killed mid-stream). */
#include "flow_cases.h"

/* ---- supervision ------------------------------------------------------------------ */
/*  Each runner process started says so: (stage code + runner index, its
    pid) into this pipe (inherited from the test process), so that the
    test waits on starts rather than polling the statistics for them. */
static int started[2] = { -1, -1 };

static bool
report_start(int code)
{
    record_t rec = { .index = code, .id = (uint64_t) getpid() };
    return write(started[1], &rec, sizeof rec) == (ssize_t) sizeof rec;
}

/*  sink_startup that reports the runner's start; arg is the stage code. */
static int
reporting_startup(void *arg, int index, void **state_p)
{
    if (!report_start((int) (intptr_t) arg + index))
        return MU_EIO;
    return sink_startup(arg, index, state_p);
}

/*  The pid of runner code once it started (flow_wait_start), or 0. */
static pid_t
wait_start(int code)
{
    return flow_wait_start(started[0], code);
}

/*  Waits up to 20 s (scaled) for the starts of runners 0..n-1 (in any
    order); pids[code] gets each one's pid. Returns whether all came. */
static bool
wait_starts(pid_t *pids, int n)
{
    int64_t until = mu_test_now_ms() + mu_test_ms(20000);
    for (int i = 0; i < n; i++)
        pids[i] = 0;
    for (int have = 0; have < n;) {
        int64_t left = until - mu_test_now_ms();
        struct pollfd p = { .fd = started[0], .events = POLLIN };
        record_t rec;
        if (left < 0 || poll(&p, 1, (int) left) <= 0
            || read(started[0], &rec, sizeof rec) != (ssize_t) sizeof rec)
            return false; /* each record was written at once */
        if (rec.index >= 0 && rec.index < n && pids[rec.index] == 0) {
            pids[rec.index] = (pid_t) rec.id;
            have++;
        }
    }
    return true;
}

/*  endless_source that reports its runner's start (code 0). */
static int
reporting_source(void *arg, int index, mu_flow_emit_t *out)
{
    static bool reported; /* per runner process */
    if (!reported && !(reported = report_start(0)))
        return MU_EIO;
    return endless_source(arg, index, out);
}

static void
test_sigkill_restart(void)
{
    open_results();
    MU_CHECK_EQ(pipe(started), 0);
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("restart");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 2, reporting_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    pid_t victim = wait_start(0);
    MU_CHECK(victim > 0);
    record_t rec = { .index = -1 };
    while (rec.index != 0 && read_records(&rec, 1, 20000) == 1) {
    } /* runner 0 handled a message */
    MU_CHECK_EQ(rec.index, 0);
    mu_flow_stats_t row = { 0 };
    MU_CHECK(wait_runner_pid(f, "work", 0, victim, &row));
    MU_CHECK(row.pid > 0);
    char comm[64] = "";
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int) victim);
    FILE *fp = fopen(path, "r");
    MU_CHECK(fp);
    MU_CHECK(fgets(comm, sizeof comm, fp) != NULL);
    fclose(fp);
    MU_CHECK(strncmp(comm, "restart/work/0", 14) == 0); /* the process title */
    MU_CHECK_EQ(kill(victim, SIGKILL), 0);
    pid_t successor = wait_start(0); /* the restarted runner 0 */
    MU_CHECK(successor > 0 && successor != victim);
    MU_CHECK(wait_runner_pid(f, "work", 0, successor, &row));
    MU_CHECK_EQ(row.restarts, 1);
    MU_CHECK(row.pid > 0 && row.pid != victim);
    MU_CHECK(stage_row(f, "work", -1, &row));
    MU_CHECK_EQ(row.restarts, 1);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
    close(started[0]);
    close(started[1]);
    close_results();
}

static int
failing_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    (void) index;
    (void) state_p;
    return -1;
}

static void
test_restart_intensity(void)
{
    static uint64_t next;
    mu_flow_t *f = mu_flow_new("doomed");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "crashy", 1, failing_startup, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 3, 10000), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 3, 10000), MU_EINVAL); /* started */
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), MU_ELIMIT);
    printf("# %s\n", mu_last_error());
    MU_CHECK(strstr(mu_last_error(), "stage 'crashy'") != NULL);
    MU_CHECK(strstr(mu_last_error(), "restart limit") != NULL);
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "crashy", -1, &row));
    MU_CHECK_EQ(row.restarts, 4);
    mu_flow_destroy(&f);
}

static void
test_sigterm_drains(void)
{
    open_results();
    worker_delay_us = 300;
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("drain");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "mid", 3, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 2, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_drain_timeout(f, mu_test_ms(30000)), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    static record_t recs[200000];
    size_t got = read_records(recs, 300, 20000);
    MU_CHECK_EQ(got, 300);
    MU_CHECK_EQ(kill(mu_flow_pid(f), SIGTERM), 0);
    got += read_records(recs + got, 200000 - got, 60000); /* until the end of the stream */
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    worker_delay_us = 0;
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "src", -1, &row));
    MU_CHECK_EQ(got, row.out); /* every accepted message finished */
    static uint8_t seen[200000];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < got; i++) {
        MU_CHECK(recs[i].id < got);         /* ids 0..got-1 ... */
        MU_CHECK_EQ(seen[recs[i].id]++, 0); /* ... each once */
    }
    mu_flow_destroy(&f);
    close_results();
}

static bool
process_gone(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return true;
    bool zombie = fgets(buf, sizeof buf, fp) && strstr(buf, ") Z ") != NULL;
    fclose(fp);
    return zombie;
}

static void
test_parent_killed(void)
{
    int info[2];
    MU_CHECK(pipe(info) == 0);
    pid_t parent = fork();
    MU_CHECK(parent >= 0);
    if (parent == 0) {
        alarm((unsigned) mu_test_ms(60000) / 1000);
        close(info[0]);
        static uint64_t next;
        if (pipe(started) != 0)
            _exit(1);
        mu_flow_t *f = mu_flow_new("orphan");
        if (mu_flow_add_source(f, "src", 1, reporting_source, &next) != 0
            || mu_flow_add_worker_stage(f, "work", 3, reporting_startup, pass_through,
                                        (void *) (intptr_t) 1)
                   != 0
            || mu_flow_add_worker_stage(f, "last", 1, reporting_startup, pass_through,
                                        (void *) (intptr_t) 4)
                   != 0
            || mu_flow_start(f) != 0)
            _exit(1);
        /* the 5 runners (codes 0 src, 1..3 work, 4 last) say they started */
        pid_t pids[6] = { mu_flow_pid(f) };
        if (!wait_starts(pids + 1, 5))
            _exit(1);
        if (write(info[1], pids, sizeof pids) != (ssize_t) sizeof pids)
            _exit(1);
        pause();
        _exit(0);
    }
    close(info[1]);
    pid_t pids[6] = { 0 };
    struct pollfd p = { .fd = info[0], .events = POLLIN };
    bool got = poll(&p, 1, mu_test_ms(30000)) == 1
               && read(info[0], pids, sizeof pids) == sizeof pids;
    close(info[0]);
    bool all_alive = true;
    for (int i = 0; i < 6; i++)
        all_alive = all_alive && pids[i] > 0 && !process_gone(pids[i]);
    MU_CHECK_EQ(kill(parent, SIGKILL), 0);
    waitpid(parent, NULL, 0);
    MU_CHECK(got);
    MU_CHECK(all_alive);
    int left = 0; /* on each process's exit event (pidfd); they die together */
    for (int i = 0; i < 6; i++)
        left += !mu_test_wait_gone(pids[i], 10000);
    MU_CHECK_EQ(left, 0);
}

/* ---- at-least-once ---------------------------------------------------------------- */
static void
test_at_least_once_errors(void)
{
    static uint64_t next;
    mu_flow_t *f = mu_flow_new("alo");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 2, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "src", true), MU_EINVAL); /* first stage */
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "nope", true), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "sink", true), 0);
    MU_CHECK_EQ(mu_flow_set_link(f, "sink", MU_FLOW_KEYED, NULL, key_mod7, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL); /* only balanced links */
    mu_flow_destroy(&f);
}

/*  100,000 ids over an at-least-once link while its workers are SIGKILLed
    in a loop: every id arrives, duplicates are counted. */
static void
test_at_least_once_kills(void)
{
    enum { N = 100000, KILLS = 12 };
    open_results();
    src_count = N;
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("alo");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 4, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "sink", true), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 100, 10000), 0);
    sink_delay_us = 20; /* long enough for the kills to land mid-stream */
    MU_CHECK_EQ(mu_flow_start(f), 0);
    sink_delay_us = 0;
    static uint8_t seen[N];
    memset(seen, 0, sizeof seen);
    static record_t recs[4096];
    size_t distinct = 0, dupes = 0;
    int kills = 0;
    int64_t until = mu_test_now_ms() + mu_test_ms(90000), next_kill = mu_test_now_ms() + 100;
    while (distinct < N && mu_test_now_ms() < until) {
        size_t got = read_records(recs, 4096, 30);
        for (size_t i = 0; i < got; i++) {
            uint64_t id = recs[i].id;
            if (id >= N) {
                printf("# bad id %llu\n", (unsigned long long) id);
                mu_flow_destroy(&f);
                MU_CHECK(0);
            }
            if (seen[id]++)
                dupes++;
            else
                distinct++;
        }
        mu_flow_stats_t row;
        if (kills < KILLS && mu_test_now_ms() >= next_kill && stage_row(f, "sink", kills % 4, &row)
            && row.pid > 0) {
            kill(row.pid, SIGKILL);
            kills++;
            next_kill = mu_test_now_ms() + 80;
        }
    }
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    mu_flow_stats_t total;
    MU_CHECK(stage_row(f, "sink", -1, &total));
    MU_CHECK(stage_row(f, "src", -1, &total));
    printf("# %d kills, %zu distinct ids, %zu duplicates, %llu redelivered\n", kills, distinct,
           dupes, (unsigned long long) total.redelivered);
    MU_CHECK_EQ(distinct, N); /* no id missing */
    MU_CHECK(kills >= 3);
    MU_CHECK(stage_row(f, "sink", -1, &total));
    MU_CHECK(total.restarts >= 3);
    mu_flow_destroy(&f);
    close_results();
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_sigkill_restart);
    RUN(test_restart_intensity);
    RUN(test_sigterm_drains);
    RUN(test_parent_killed);
    RUN(test_at_least_once_errors);
    RUN(test_at_least_once_kills);
    MU_DONE();
}
