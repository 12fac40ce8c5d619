/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_super.c — the supervisor process of a flow: forks the runners,
    restarts crashed ones with backoff, enforces the restart intensity,
    coordinates the stage-by-stage drain and collects statistics. It never
    touches ZeroMQ. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_super.h"
#include "flow/mu_flow_worker.h"

#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000
#define STABLE_MS 1000 /* alive this long: the backoff starts again */
#define TICK_MS 10

typedef struct {
    pid_t pid;          /* 0: not running */
    int ctl;            /* our end of its control socket pair, or -1 */
    int64_t restart_at; /* > 0: to be restarted then */
    int64_t started_at;
    int backoff_ms;
    bool drained; /* reported 'd', or ended during a drain */
    bool done;    /* will not run again */
    bool told_exit;
    mu__runner_stats_t cur;  /* last report of the current process */
    mu__runner_stats_t base; /* sums of earlier processes */
    uint64_t restarts;
} slot_t;

typedef struct {
    slot_t *slots;
    int64_t *restart_times; /* ring of the last max_restarts + 1 restarts */
    int nrestart_times;
} stage_state_t;

/*  A pipeline (the one implicit pipeline of a flow without named ones):
    each drains and ends by itself. */
typedef struct {
    bool draining;
    bool stop_requested; /* by the caller or a signal, not by the sources */
    int64_t deadline;
    mu__pipe_end_t end; /* state MU_FLOW_RUNNING until it ended */
} pipe_state_t;

static struct {
    mu_flow_t *flow;
    int caller;
    stage_state_t *st;
    pipe_state_t *P;
    int np;
    int first_failed; /* the pipeline that failed first, or -1 */
    volatile sig_atomic_t signalled;
    volatile sig_atomic_t orphaned;
    pid_t parent;
    mu__log_limit_t start_log; /* "cannot start runner": a line a second */
} S;

static void
on_signal(int sig)
{
    if (sig == SIGHUP)
        S.orphaned = 1; /* a hang-up: end as when the caller is gone */
    else
        S.signalled = 1;
}

/* ---- runners ------------------------------------------------------------ */

/*  In a new runner: closes what belongs to the supervisor and to the other
    runners, and restores default signal dispositions. */
static void
child_cleanup(int stage, int index)
{
    close(S.caller);
    mu_flow_t *f = S.flow;
    for (int s = 0; s < f->nstages; s++) {
        mu__stage_t *st = &f->stages[s];
        for (int i = 0; i < st->n; i++) {
            bool mine = s == stage && i == index;
            if (S.st[s].slots[i].ctl >= 0)
                close(S.st[s].slots[i].ctl);
            if (!mine && st->fds && st->fds[i] >= 0)
                close(st->fds[i]);
            if (!mine && st->listen_fds && st->listen_fds[i] >= 0)
                close(st->listen_fds[i]);
        }
    }
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
}

static void count_restart(int s, int i, const char *how);

/*  The next backoff of slot sl: 10 ms doubling to 1 s. */
static void
grow_backoff(slot_t *sl)
{
    sl->backoff_ms = sl->backoff_ms ? sl->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (sl->backoff_ms > BACKOFF_MAX_MS)
        sl->backoff_ms = BACKOFF_MAX_MS;
}

/*  Logs the count of failed starts not logged whose interval is over. */
static void
log_start_failures_due(int64_t now)
{
    bool waiting;
    uint64_t n = mu__log_limit_due(&S.start_log, now, &waiting);
    if (n > 0)
        mu_log(MU_LOG_ERROR, "flow",
               "mu_flow %s/supervisor (pid %d): %llu more failed starts of runners, not logged",
               S.flow->name, (int) getpid(), (unsigned long long) n);
}

/*  Runner i of stage s could not be started: call (socketpair, fork)
    failed with err. Logged (at most a line a second: the others are
    counted in the next line), counted as an error of the runner and, like
    a runner's exit, towards the stage's restart limit (which may end the
    flow here, or the runner's pipeline: then the runner is done); else
    retried after the runner's backoff. */
static void
start_failed(int s, int i, const char *call, int err)
{
    slot_t *sl = &S.st[s].slots[i];
    char how[96];
    snprintf(how, sizeof how, "cannot start runner: %s: %s", call, strerror(err));
    sl->base.errors++;
    uint64_t before = 0;
    if (mu__log_limit_admit(&S.start_log, mu__now_ms(), &before)) {
        if (before > 0)
            mu_log(MU_LOG_ERROR, "flow",
                   "mu_flow %s/%s/%d (supervisor, pid %d): %s (%llu more failed starts before "
                   "it not logged)",
                   S.flow->name, S.flow->stages[s].name, i, (int) getpid(), how,
                   (unsigned long long) before);
        else
            mu_log(MU_LOG_ERROR, "flow", "mu_flow %s/%s/%d (supervisor, pid %d): %s", S.flow->name,
                   S.flow->stages[s].name, i, (int) getpid(), how);
    }
    grow_backoff(sl);
    count_restart(s, i, how);
    if (!sl->done) /* its pipeline goes on */
        sl->restart_at = mu__now_ms() + sl->backoff_ms;
}

/*  Starts runner i of stage s: its control socket pair, then its process.
    A failure is start_failed's. */
static void
spawn(int s, int i)
{
    slot_t *sl = &S.st[s].slots[i];
    int sv[2];
    sl->restart_at = 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        start_failed(s, i, "socketpair", errno);
        return;
    }
    pid_t me = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(sv[0]);
        close(sv[1]);
        start_failed(s, i, "fork", err);
        return;
    }
    if (pid == 0) {
        close(sv[0]);
        mu__flow_die_with_parent(me, SIGKILL);
        child_cleanup(s, i);
        mu__flow_runner_main(S.flow, s, i, sv[1]);
    }
    close(sv[1]);
    sl->pid = pid;
    sl->ctl = sv[0];
    sl->started_at = mu__now_ms();
    memset(&sl->cur, 0, sizeof sl->cur);
}

static void
tell(slot_t *sl, const void *msg, size_t len)
{
    if (sl->pid > 0 && sl->ctl >= 0)
        (void) send(sl->ctl, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*  A runner of stage s ended for good during a drain: the next stage stops
    waiting for its end-of-stream, the previous stops sending to it. */
static void
announce_gone(int s, int i)
{
    mu_flow_t *f = S.flow;
    char msg[1 + sizeof(int)];
    memcpy(msg + 1, &i, sizeof i);
    if (!mu__flow_last(f, s)) {
        msg[0] = 'e';
        for (int j = 0; j < f->stages[s + 1].n; j++)
            tell(&S.st[s + 1].slots[j], msg, sizeof msg);
    }
    if (!mu__flow_first(f, s)) {
        msg[0] = 'x';
        for (int j = 0; j < f->stages[s - 1].n; j++)
            tell(&S.st[s - 1].slots[j], msg, sizeof msg);
    }
}

static void
add_stats(mu__runner_stats_t *into, const mu__runner_stats_t *from)
{
    into->in += from->in;
    into->duplicates += from->duplicates;
    into->peers_lost += from->peers_lost;
    into->peers_joined += from->peers_joined;
    into->auth_failures += from->auth_failures;
    into->out += from->out;
    into->errors += from->errors;
    into->drops += from->drops;
    into->redelivered += from->redelivered;
    into->clients_idle += from->clients_idle;
    into->clients_slow += from->clients_slow;
    for (int b = 0; b < MU__FLOW_HIST; b++)
        into->hist[b] += from->hist[b];
}

/* ---- the end ------------------------------------------------------------------ */

/*  Kills the runners of pipeline p (-1: every pipeline) for good. */
static void
kill_pipe(int p)
{
    mu_flow_t *f = S.flow;
    for (int s = 0; s < f->nstages; s++)
        for (int i = 0; i < f->stages[s].n && (p < 0 || f->stages[s].pipe == p); i++) {
            slot_t *sl = &S.st[s].slots[i];
            if (sl->pid > 0) {
                kill(sl->pid, SIGKILL);
                waitpid(sl->pid, NULL, 0);
                add_stats(&sl->base, &sl->cur);
                memset(&sl->cur, 0, sizeof sl->cur);
                sl->pid = 0;
            }
            sl->done = true;
            sl->restart_at = 0;
        }
}

static void
kill_all(void)
{
    kill_pipe(-1);
}

/*  Builds the statistics rows: per stage a total, then its runners. */
static size_t
build_stats(mu_flow_stats_t *rows)
{
    mu_flow_t *f = S.flow;
    size_t n = 0;
    uint64_t prev_out = 0;
    int64_t live_here = -1; /* the previous stage's view of this one */
    for (int s = 0; s < f->nstages; s++) {
        int64_t live_next = -1;
        mu_flow_stats_t *total = &rows[n++];
        memset(total, 0, sizeof *total);
        snprintf(total->stage, sizeof total->stage, "%s", f->stages[s].name);
        snprintf(total->pipeline, sizeof total->pipeline, "%s",
                 mu__flow_pipe_name(f, f->stages[s].pipe));
        total->index = -1;
        mu__runner_stats_t sum = { 0 };
        for (int i = 0; i < f->stages[s].n; i++) {
            slot_t *sl = &S.st[s].slots[i];
            mu__runner_stats_t one = sl->base;
            add_stats(&one, &sl->cur);
            add_stats(&sum, &one);
            mu_flow_stats_t *row = &rows[n++];
            memset(row, 0, sizeof *row);
            snprintf(row->stage, sizeof row->stage, "%s", f->stages[s].name);
            memcpy(row->pipeline, total->pipeline, sizeof row->pipeline);
            row->index = i;
            row->pid = sl->pid;
            row->in = one.in;
            row->out = one.out;
            row->errors = one.errors;
            row->drops = one.drops;
            row->redelivered = one.redelivered;
            row->clients_idle = one.clients_idle;
            row->clients_slow = one.clients_slow;
            row->clients = sl->cur.clients;
            total->clients += sl->cur.clients;
            row->restarts = sl->restarts;
            row->duplicates = one.duplicates;
            row->hosts_lost = one.peers_lost;
            row->hosts_joined = one.peers_joined;
            row->auth_failures = one.auth_failures;
            row->live_runners = -1;
            if (sl->pid > 0 && sl->cur.live_down > live_next)
                live_next = sl->cur.live_down;
            row->p50_us = mu__flow_percentile(one.hist, 0.5);
            row->p99_us = mu__flow_percentile(one.hist, 0.99);
            total->restarts += sl->restarts;
        }
        total->in = sum.in;
        total->out = sum.out;
        total->errors = sum.errors;
        total->drops = sum.drops;
        total->redelivered = sum.redelivered;
        total->clients_idle = sum.clients_idle;
        total->clients_slow = sum.clients_slow;
        total->queue = !mu__flow_first(f, s) ? (int64_t) (prev_out - sum.in) : 0;
        total->duplicates = sum.duplicates;
        total->hosts_lost = sum.peers_lost;
        total->hosts_joined = sum.peers_joined;
        total->auth_failures = sum.auth_failures;
        total->live_runners = live_here;
        live_here = live_next;
        total->p50_us = mu__flow_percentile(sum.hist, 0.5);
        total->p99_us = mu__flow_percentile(sum.hist, 0.99);
        prev_out = sum.out;
    }
    return n;
}

static size_t
total_runners(void)
{
    size_t n = 0;
    for (int s = 0; s < S.flow->nstages; s++)
        n += (size_t) S.flow->stages[s].n + 1;
    return n;
}

static void
send_stats(void)
{
    size_t cap = total_runners();
    size_t ends = (size_t) S.np * sizeof(mu__pipe_end_t);
    mu_flow_stats_t *rows = calloc(cap, sizeof *rows);
    char *buf = malloc(MU__FLOW_STATS_HDR + cap * sizeof *rows + ends);
    if (rows && buf) {
        uint32_t count = (uint32_t) build_stats(rows);
        uint16_t np = (uint16_t) S.np;
        memset(buf, 0, MU__FLOW_STATS_HDR);
        buf[0] = 'T';
        memcpy(buf + 2, &np, sizeof np);
        memcpy(buf + 4, &count, sizeof count);
        memcpy(buf + MU__FLOW_STATS_HDR, rows, count * sizeof *rows);
        size_t len = MU__FLOW_STATS_HDR + count * sizeof *rows;
        for (int p = 0; p < S.np; p++, len += sizeof(mu__pipe_end_t))
            memcpy(buf + len, &S.P[p].end, sizeof(mu__pipe_end_t));
        (void) send(S.caller, buf, len, MSG_NOSIGNAL);
    }
    free(rows);
    free(buf);
}

static void
remove_endpoints(void)
{
    mu__flow_remove_dir(S.flow->dir);
}

/*  Sets how pipeline p ended. */
static void
set_pipe_end(int p, mu_flow_state_t state, int rc, const char *error)
{
    S.P[p].end.state = state;
    S.P[p].end.rc = rc;
    snprintf(S.P[p].end.error, sizeof S.P[p].end.error, "%s", error ? error : "");
    S.P[p].draining = false;
}

/*  Ends the flow: every runner killed, the pipelines still running marked
    as the flow ends, the final statistics and the end sent to the caller.
    error (or NULL) is logged when log. */
static void __attribute__((noreturn)) end_flow(int rc, const char *error, bool log)
{
    kill_all();
    for (int p = 0; p < S.np; p++)
        if (S.P[p].end.state == MU_FLOW_RUNNING)
            set_pipe_end(p, rc == 0 ? MU_FLOW_FINISHED : MU_FLOW_FAILED, rc, error);
    send_stats();
    mu__flow_end_t end = { .type = 'F', .rc = rc };
    if (error) {
        snprintf(end.error, sizeof end.error, "%s", error);
        if (log)
            mu_log(MU_LOG_ERROR, "flow", "mu_flow %s/supervisor (pid %d): %s", S.flow->name,
                   (int) getpid(), end.error);
    }
    (void) send(S.caller, &end, sizeof end, MSG_NOSIGNAL);
    remove_endpoints();
    _exit(0);
}

static void __attribute__((noreturn)) finish(int rc, const char *fmt, ...)
{
    char error[256];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(error, sizeof error, fmt, ap);
        va_end(ap);
    }
    end_flow(rc, fmt ? error : NULL, true);
}

/*  Ends the flow once every pipeline ended: 0 when each finished, else as
    the first that failed. */
static void
end_if_all_ended(void)
{
    for (int p = 0; p < S.np; p++)
        if (S.P[p].end.state == MU_FLOW_RUNNING)
            return;
    if (S.first_failed < 0)
        end_flow(0, NULL, false);
    const mu__pipe_end_t *f = &S.P[S.first_failed].end;
    end_flow(f->rc, f->error, false); /* logged when it failed */
}

/*  Pipeline p failed (rc, why): the flow fails with a single pipeline or
    the fail-the-flow policy; else only p stops. */
static void __attribute__((format(printf, 3, 4))) fail_pipe(int p, int rc, const char *fmt, ...)
{
    mu_flow_t *f = S.flow;
    char why[200], error[256]; /* fit mu__pipe_end_t.error */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (f->npipes == 0)
        finish(rc, "%s", why);
    snprintf(error, sizeof error, "pipeline '%s': %s", f->pipes[p].name, why);
    if (S.np == 1 || f->pipes[p].policy == MU_FLOW_PIPELINE_FAIL_FLOW) {
        char stopped[256];
        snprintf(stopped, sizeof stopped, "stopped: pipeline '%s' failed the flow",
                 f->pipes[p].name);
        set_pipe_end(p, MU_FLOW_FAILED, rc, error);
        for (int q = 0; q < S.np; q++)
            if (S.P[q].end.state == MU_FLOW_RUNNING)
                set_pipe_end(q, MU_FLOW_FAILED, MU_ECANCELED, stopped);
        end_flow(rc, error, true);
    }
    kill_pipe(p);
    set_pipe_end(p, MU_FLOW_FAILED, rc, error);
    mu__flow_ready_pipe_ended(f, p, rc); /* its runners not ready never will be */
    mu_log(MU_LOG_ERROR, "flow", "mu_flow %s/supervisor (pid %d): %s; the other pipelines go on",
           f->name, (int) getpid(), error);
    if (S.first_failed < 0)
        S.first_failed = p;
    end_if_all_ended();
}

/* ---- events ---------------------------------------------------------------------- */

static bool
has_remote(void)
{
    for (int s = 0; s < S.flow->nstages; s++)
        if (S.flow->stages[s].remote)
            return true;
    return false;
}

/*  Starts draining pipeline p. requested: by the caller or a signal (else
    the local input ended). A process that shares the flow with others
    drains without deadline until a stop is requested: its stages feeding
    remote ones stay up until then (see drain_progress). */
static void
begin_drain(int p, int timeout_ms, bool requested)
{
    mu_flow_t *f = S.flow;
    pipe_state_t *ps = &S.P[p];
    if (ps->end.state != MU_FLOW_RUNNING)
        return;
    int64_t deadline = mu__now_ms() + timeout_ms;
    if (!requested && has_remote())
        deadline = INT64_MAX;
    if (requested)
        ps->stop_requested = true;
    if (!ps->draining || deadline < ps->deadline)
        ps->deadline = deadline;
    ps->draining = true;
    char d = 'D';
    for (int s = 0; s < f->nstages; s++)
        for (int i = 0; i < f->stages[s].n && f->stages[s].pipe == p; i++) {
            slot_t *sl = &S.st[s].slots[i];
            tell(sl, &d, 1); /* sources stop; outbound edges stop waiting for clients */
            if (sl->pid == 0 && !sl->done) { /* waiting for a restart: gone */
                sl->restart_at = 0;
                sl->done = sl->drained = true;
                announce_gone(s, i);
            }
        }
}

/*  Drains every pipeline still running (a stop from the caller or a
    signal). */
static void
begin_drain_all(int timeout_ms)
{
    for (int p = 0; p < S.np; p++)
        begin_drain(p, timeout_ms, true);
}

/*  Records a restart of runner i of stage s, or a failed start (how: what
    happened to it, for the error); fails its pipeline (the flow, without
    named pipelines) when the intensity is exceeded. */
static void
count_restart(int s, int i, const char *how)
{
    mu_flow_t *f = S.flow;
    stage_state_t *ss = &S.st[s];
    int cap = f->max_restarts + 1;
    int64_t now = mu__now_ms();
    ss->restart_times[ss->nrestart_times % cap] = now;
    ss->nrestart_times++;
    int recent = 0;
    for (int k = 0; k < cap && k < ss->nrestart_times; k++)
        if (now - ss->restart_times[k] <= f->window_ms)
            recent++;
    if (recent > f->max_restarts)
        fail_pipe(f->stages[s].pipe, MU_ELIMIT,
                  "stage '%s' exceeded its restart limit: %d exits or failed starts within %d ms "
                  "(last: runner %d, %s)",
                  f->stages[s].name, recent, f->window_ms, i, how);
}

static void on_runner_msg(int s, int i);

static void
on_exit_of(int s, int i, int status)
{
    slot_t *sl = &S.st[s].slots[i];
    /* Its last reports (final stats, "drained") may still wait in the
       control socket when the exit is reaped first: read them before the
       socket is closed, or the final counts are lost. */
    if (sl->ctl >= 0)
        on_runner_msg(s, i);
    add_stats(&sl->base, &sl->cur);
    memset(&sl->cur, 0, sizeof sl->cur);
    sl->pid = 0;
    close(sl->ctl);
    sl->ctl = -1;
    if (sl->told_exit || sl->done)
        return;
    if (S.P[S.flow->stages[s].pipe].draining) {
        bool was_drained = sl->drained;
        sl->done = sl->drained = true;
        if (!was_drained)
            announce_gone(s, i);
        return;
    }
    if (mu__now_ms() - sl->started_at >= STABLE_MS)
        sl->backoff_ms = 0;
    grow_backoff(sl);
    sl->restarts++;
    char how[64];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    count_restart(s, i, how);
    if (sl->done) /* its pipeline failed */
        return;
    /* at-least-once senders resend what it had not acknowledged */
    if (!mu__flow_first(S.flow, s)) {
        char msg[1 + sizeof(int)] = { 'r' };
        memcpy(msg + 1, &i, sizeof i);
        for (int j = 0; j < S.flow->stages[s - 1].n; j++)
            tell(&S.st[s - 1].slots[j], msg, sizeof msg);
    }
    sl->restart_at = mu__now_ms() + sl->backoff_ms;
}

static void
reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        for (int s = 0; s < S.flow->nstages; s++)
            for (int i = 0; i < S.flow->stages[s].n; i++)
                if (S.st[s].slots[i].pid == pid)
                    on_exit_of(s, i, status);
}

static void
on_runner_msg(int s, int i)
{
    slot_t *sl = &S.st[s].slots[i];
    mu__runner_stats_t buf;
    for (;;) {
        ssize_t len = recv(sl->ctl, &buf, sizeof buf, MSG_DONTWAIT);
        if (len <= 0)
            return;
        if (buf.type == 'S' && len == (ssize_t) sizeof buf)
            sl->cur = buf;
        else if (buf.type == 'F' && len == 1 + (ssize_t) sizeof(int)) {
            int dead; /* multi-host: a stage without live runner anywhere */
            memcpy(&dead, (char *) &buf + 1, sizeof dead);
            if (dead > 0 && dead < S.flow->nstages)
                finish(MU_ECANCELED,
                       "stage '%s' has had no live runner on any host for %d ms "
                       "(mu_flow_set_stage_deadline)",
                       S.flow->stages[dead].name, S.flow->stage_deadline_ms);
        } else if (buf.type == 'd') {
            sl->drained = true;
            int p = S.flow->stages[s].pipe, first = s;
            while (!mu__flow_first(S.flow, first))
                first--;
            while (S.flow->stages[first].remote)
                first++;
            if (s == first && !S.P[p].draining) {
                bool all = true;
                for (int j = 0; j < S.flow->stages[first].n; j++)
                    all = all && S.st[first].slots[j].drained;
                if (all)
                    begin_drain(p, S.flow->drain_ms, false);
            }
        }
    }
}

static void
on_caller_msg(void)
{
    mu__caller_req_t req;
    ssize_t len = recv(S.caller, &req, sizeof req, MSG_DONTWAIT);
    if (len == 0) { /* the caller closed its end: nobody to report to */
        kill_all();
        remove_endpoints();
        _exit(0);
    }
    if (len != (ssize_t) sizeof req)
        return;
    if (req.type == 'T')
        send_stats();
    else if (req.type == 'S')
        begin_drain_all(req.timeout_ms > 0 ? req.timeout_ms : S.flow->drain_ms);
}

static bool
stage_drained(int s)
{
    for (int i = 0; i < S.flow->stages[s].n; i++)
        if (!S.st[s].slots[i].drained)
            return false;
    return true;
}

/*  Lets go of the stages of pipeline p whose next stage has everything.
    Returns true when no process of p is left. */
static bool
drain_progress(int p)
{
    mu_flow_t *f = S.flow;
    bool any_left = false;
    char x = 'X';
    for (int s = 0; s < f->nstages; s++) {
        if (f->stages[s].pipe != p)
            continue;
        /* A stage feeding a remote one cannot know when that one has all
           its input: it stays up until a stop is requested. */
        /* Multi-host runners report only once every live downstream
           runner acknowledged their end of stream. */
        bool closable = stage_drained(s)
                        && (mu__flow_last(f, s) || f->nhosts > 0
                            || (f->stages[s + 1].remote ? S.P[p].stop_requested
                                                        : stage_drained(s + 1)));
        for (int i = 0; i < f->stages[s].n; i++) {
            slot_t *sl = &S.st[s].slots[i];
            if (sl->pid > 0) {
                any_left = true;
                if (closable && !sl->told_exit) {
                    tell(sl, &x, 1);
                    sl->told_exit = true;
                }
            }
        }
    }
    return !any_left;
}

static const char *
running_stages(int p, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int s = 0; s < S.flow->nstages; s++)
        if (S.flow->stages[s].pipe == p && !stage_drained(s)) {
            size_t used = strlen(buf);
            snprintf(buf + used, cap - used, "%s'%s'", used ? ", " : "", S.flow->stages[s].name);
        }
    return buf;
}

/* ---- main loop -------------------------------------------------------------------- */

static void
setup(mu_flow_t *flow, int ctl)
{
    mu__flow_log_setup();
    S.flow = flow;
    S.caller = ctl;
    S.parent = getppid();
    S.st = calloc((size_t) flow->nstages, sizeof *S.st);
    S.np = mu__flow_npipes(flow);
    S.P = calloc((size_t) S.np, sizeof *S.P);
    S.first_failed = -1;
    if (!S.st || !S.P)
        _exit(1);
    for (int p = 0; p < S.np; p++)
        S.P[p].end.state = MU_FLOW_RUNNING;
    for (int s = 0; s < flow->nstages; s++) {
        S.st[s].slots = calloc((size_t) flow->stages[s].n, sizeof(slot_t));
        S.st[s].restart_times = calloc((size_t) flow->max_restarts + 1, sizeof(int64_t));
        if (!S.st[s].slots || !S.st[s].restart_times)
            _exit(1);
        for (int i = 0; i < flow->stages[s].n; i++)
            S.st[s].slots[i].ctl = -1;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    char title[96];
    snprintf(title, sizeof title, "%s/supervisor", flow->name);
    mu__flow_set_title(title);
}

void
mu__flow_supervise(mu_flow_t *flow, int ctl)
{
    setup(flow, ctl);
    /* Later stages first: their sockets are bound when the sources start. */
    for (int s = flow->nstages - 1; s >= 0; s--)
        for (int i = 0; i < flow->stages[s].n; i++) {
            if (flow->stages[s].remote) /* another process runs it */
                S.st[s].slots[i].done = S.st[s].slots[i].drained = true;
            else if (!S.st[s].slots[i].done) /* not in a pipeline that failed to start */
                spawn(s, i);
        }
    size_t cap = total_runners() + 1;
    struct pollfd *pfd = calloc(cap, sizeof *pfd);
    int(*who)[2] = calloc(cap, sizeof *who);
    if (!pfd || !who)
        finish(MU_ENOMEM, "out of memory in the supervisor");
    for (;;) {
        int n = 0;
        pfd[n++] = (struct pollfd) { .fd = ctl, .events = POLLIN };
        for (int s = 0; s < flow->nstages; s++)
            for (int i = 0; i < flow->stages[s].n; i++)
                if (S.st[s].slots[i].ctl >= 0) {
                    who[n][0] = s;
                    who[n][1] = i;
                    pfd[n++] = (struct pollfd) { .fd = S.st[s].slots[i].ctl, .events = POLLIN };
                }
        poll(pfd, (nfds_t) n, TICK_MS);
        if (pfd[0].revents)
            on_caller_msg();
        for (int k = 1; k < n; k++)
            if (pfd[k].revents && S.st[who[k][0]].slots[who[k][1]].ctl == pfd[k].fd)
                on_runner_msg(who[k][0], who[k][1]);
        if (S.orphaned || getppid() != S.parent) { /* nobody to report to */
            kill_all();
            remove_endpoints();
            _exit(0);
        }
        if (S.signalled) {
            S.signalled = 0;
            begin_drain_all(flow->drain_ms);
        }
        reap();
        int64_t now = mu__now_ms();
        log_start_failures_due(now);
        for (int s = 0; s < flow->nstages; s++)
            for (int i = 0; i < flow->stages[s].n; i++) {
                slot_t *sl = &S.st[s].slots[i];
                if (sl->restart_at > 0 && now >= sl->restart_at
                    && !S.P[flow->stages[s].pipe].draining)
                    spawn(s, i);
            }
        for (int p = 0; p < S.np; p++) {
            if (!S.P[p].draining)
                continue;
            if (drain_progress(p)) {
                set_pipe_end(p, MU_FLOW_FINISHED, 0, NULL);
                mu__flow_ready_pipe_ended(flow, p, 0);
                end_if_all_ended();
            } else if (mu__now_ms() > S.P[p].deadline) {
                char names[150];
                fail_pipe(p, MU_ECANCELED, "drain deadline expired; stages still busy: %s",
                          running_stages(p, names, sizeof names));
            }
        }
    }
}
