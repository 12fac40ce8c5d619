/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_cmd.c — an external command as a worker stage's handler or as a
    source, talking mu_pipe frames on its stdin and stdout (doc/flow.md,
    "External commands"). Runs inside a runner process: the command is its
    child, dies with it (PR_SET_PDEATHSIG), and a command that dies while
    it runs makes the runner exit with failure, so the supervisor restarts
    both. Input is written and output read at once (poll), so a command
    that writes much before it reads all its input never deadlocks. */
#include "base/mu_internal.h"
#include "flow/mu_flow_cmd.h"

#include "mu_log.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    const mu__cmd_def_t *def;
    int index;
    pid_t pid; /* 0: not running */
    int in_fd, out_fd;
    unsigned char *buf; /* output read and not yet taken */
    size_t len, cap;
    bool eof;
} proc_t;

#define LOG(level, p, fmt, ...)                                                            \
    mu_log(MU_LOG_##level, "flow", "mu_flow %s/%s/%d (pid %d): command '%s': " fmt,        \
           (p)->def->flow, (p)->def->stage, (p)->index, (int) getpid(), (p)->def->command, \
           ##__VA_ARGS__)

/*  In the child: stdin from in_r (or /dev/null), stdout to out_w, then exec. */
static void
child(const proc_t *p, pid_t parent, int in_r, int out_w)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != parent)
        _exit(127);
    if (in_r < 0)
        in_r = open("/dev/null", O_RDONLY);
    if (in_r < 0 || dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char index[16];
    snprintf(index, sizeof index, "%d", p->index);
    setenv("MUFLOW_FLOW", p->def->flow, 1);
    setenv("MUFLOW_STAGE", p->def->stage, 1);
    setenv("MUFLOW_INDEX", index, 1);
    if (p->def->host)
        setenv("MUFLOW_HOST", p->def->host, 1);
    if (p->def->dir && chdir(p->def->dir) != 0) {
        fprintf(stderr, "mu_flow: cannot enter %s: %s\n", p->def->dir, strerror(errno));
        _exit(127);
    }
    execl("/bin/sh", "sh", "-c", p->def->command, (char *) NULL);
    _exit(127);
}

/*  Starts the command; with_input: a pipe to its stdin. Returns 0 or -1. */
static int
spawn(proc_t *p, bool with_input)
{
    int in[2] = { -1, -1 }, out[2];
    if ((with_input && pipe2(in, O_CLOEXEC) != 0) || pipe2(out, O_CLOEXEC) != 0) {
        LOG(ERROR, p, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child(p, parent, in[0], out[1]);
    if (in[0] >= 0)
        close(in[0]);
    close(out[1]);
    if (pid < 0) {
        LOG(ERROR, p, "fork: %s", strerror(errno));
        if (in[1] >= 0)
            close(in[1]);
        close(out[0]);
        return -1;
    }
    p->pid = pid;
    p->in_fd = in[1];
    p->out_fd = out[0];
    p->len = 0;
    p->eof = false;
    if (p->in_fd >= 0)
        fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
    fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
    return 0;
}

/*  Waits for the command (after its stdout ended); returns its status as
    text into buf and whether it exited with 0. */
static bool
reap(proc_t *p, char *buf, size_t cap)
{
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    p->pid = 0;
    if (WIFSIGNALED(status))
        snprintf(buf, cap, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
close_fds(proc_t *p)
{
    if (p->in_fd >= 0)
        close(p->in_fd);
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->in_fd = p->out_fd = -1;
}

/*  Kills a command whose output cannot be trusted any more. */
static void
kill_proc(proc_t *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        char why[64];
        reap(p, why, sizeof why);
    }
    close_fds(p);
    p->len = 0;
}

/*  Reads what the command wrote; false at its end (EOF or error). */
static bool
read_some(proc_t *p)
{
    if (p->cap - p->len < 65536) {
        size_t cap = p->cap ? p->cap * 2 : 131072;
        unsigned char *buf = realloc(p->buf, cap);
        if (!buf)
            return true; /* try again later with what we have */
        p->buf = buf;
        p->cap = cap;
    }
    ssize_t n = read(p->out_fd, p->buf + p->len, p->cap - p->len);
    if (n > 0)
        p->len += (size_t) n;
    else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        p->eof = true;
    return !p->eof;
}

/*  A scan of the whole frames in p's buffer, from its start. */
typedef struct {
    size_t off;                /* past the frames taken */
    const unsigned char *data; /* the frame taken last */
    uint32_t size;
    int rc; /* the last step: 1 a frame, 0 none (yet), MU_EMSGSIZE over max_frame */
} scan_t;

/*  Takes the next whole frame from the buffer into s: true when there was
    one, false when there is none yet or it is over max_frame (s->rc). */
static bool
scan_next(proc_t *p, scan_t *s)
{
    s->rc = 0;
    if (p->len - s->off < 4)
        return false;
    const unsigned char *h = p->buf + s->off;
    uint32_t n = h[0] | (uint32_t) h[1] << 8 | (uint32_t) h[2] << 16 | (uint32_t) h[3] << 24;
    if (n > p->def->max_frame) {
        s->rc = MU_EMSGSIZE;
        return false;
    }
    if (p->len - s->off - 4 < n)
        return false;
    s->data = h + 4;
    s->size = n;
    s->off += 4 + n;
    s->rc = 1;
    return true;
}

static void
consume(proc_t *p, size_t off)
{
    if (off == 0)
        return;
    memmove(p->buf, p->buf + off, p->len - off);
    p->len -= off;
}

int
mu__cmd_startup(void *arg, int index, void **state_p)
{
    proc_t *p = calloc(1, sizeof *p);
    if (!p)
        return MU_ENOMEM;
    p->def = arg;
    p->index = index;
    p->in_fd = p->out_fd = -1;
    if (spawn(p, true) != 0) {
        free(p);
        return MU_EIO;
    }
    *state_p = p;
    return 0;
}

/*  The command died while it ran: the runner exits with failure. */
static void
died(proc_t *p)
{
    char why[64];
    reap(p, why, sizeof why);
    LOG(ERROR, p, "ended while it ran (%s); the runner exits to be restarted", why);
    _exit(3);
}

/*  Ends a scan of p's output: consumes the first off bytes; when the scan
    stopped at a frame over max_frame (frc MU_EMSGSIZE) logs it (then: the
    end of the message), kills the command and returns MU_EPROTO; else 0. */
static int
end_scan(proc_t *p, size_t off, int frc, const char *then)
{
    consume(p, off);
    if (frc != MU_EMSGSIZE)
        return 0;
    LOG(ERROR, p, "wrote a frame over max_frame (%u bytes): not mu_pipe frames?%s",
        (unsigned) p->def->max_frame, then);
    kill_proc(p);
    return MU_EPROTO;
}

/*  Emits the whole frames read; stops at the done marker (*done_p). */
static int
take_outputs(proc_t *p, mu_flow_emit_t *out, bool *done_p, int *emit_rc_p)
{
    scan_t s = { 0 }; /* s.rc read by end_scan even when no frame is scanned */
    while (!*done_p && scan_next(p, &s)) {
        if (s.size == 0)
            *done_p = true;
        else {
            int erc = mu_flow_emit(out, s.data, s.size);
            if (erc != 0 && *emit_rc_p == 0)
                *emit_rc_p = erc;
        }
    }
    return end_scan(p, s.off, s.rc, " restarting it");
}

int
mu__cmd_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    proc_t *p = state;
    if (p->pid == 0 && spawn(p, true) != 0)
        return MU_EIO;
    unsigned char head[4] = { (unsigned char) size, (unsigned char) (size >> 8),
                              (unsigned char) (size >> 16), (unsigned char) (size >> 24) };
    size_t total = 4 + size, sent = 0;
    int64_t deadline = p->def->timeout_ms > 0 ? mu__now_ms() + p->def->timeout_ms : -1;
    bool done = false;
    int emit_rc = 0;
    int rc = take_outputs(p, out, &done, &emit_rc); /* left from before */
    while (rc == 0 && !done) {
        struct pollfd fds[2] = { { .fd = p->out_fd, .events = POLLIN },
                                 { .fd = sent < total ? p->in_fd : -1, .events = POLLOUT } };
        int wait = deadline < 0 ? -1 : (int) (deadline - mu__now_ms());
        if (deadline >= 0 && wait <= 0) {
            LOG(ERROR, p, "no done marker within %d ms; restarting it", p->def->timeout_ms);
            kill_proc(p);
            return MU_ETIMEDOUT;
        }
        if (poll(fds, 2, wait) < 0 && errno != EINTR)
            break;
        if (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
            const unsigned char *src = sent < 4 ? head + sent
                                                : (const unsigned char *) data + sent - 4;
            size_t chunk = sent < 4 ? 4 - sent : total - sent;
            ssize_t n = write(p->in_fd, src, chunk);
            if (n > 0)
                sent += (size_t) n;
            else if (n < 0 && errno == EPIPE) /* it closed its stdin: it ends */
                sent = total;
        }
        if (fds[0].revents) {
            if (!read_some(p) && p->len < 4)
                died(p);
            rc = take_outputs(p, out, &done, &emit_rc);
            if (p->eof && !done && rc == 0)
                died(p);
        }
    }
    if (rc == 0 && done && sent < total) {
        LOG(ERROR, p, "wrote its done marker before it read its whole input; restarting it");
        kill_proc(p);
        return MU_EPROTO;
    }
    return rc != 0 ? rc : emit_rc;
}

int
mu__cmd_teardown(void *state, mu_flow_emit_t *out)
{
    proc_t *p = state;
    if (p->pid == 0)
        return 0;
    close(p->in_fd); /* its input ends */
    p->in_fd = -1;
    int rc = 0;
    int64_t deadline = p->def->timeout_ms > 0 ? mu__now_ms() + p->def->timeout_ms : -1;
    for (;;) {
        struct pollfd fd = { .fd = p->out_fd, .events = POLLIN };
        int wait = deadline < 0 ? -1 : (int) (deadline - mu__now_ms());
        if ((deadline >= 0 && wait <= 0) || (poll(&fd, 1, wait) == 0 && deadline >= 0)) {
            LOG(ERROR, p, "did not end within %d ms after its input ended", p->def->timeout_ms);
            kill_proc(p);
            return MU_ETIMEDOUT;
        }
        if (!read_some(p) && p->len == 0)
            break;
        scan_t s = { 0 };
        while (scan_next(p, &s))
            if (s.size > 0 && mu_flow_emit(out, s.data, s.size) != 0 && rc == 0)
                rc = MU_EPIPE;
        consume(p, s.off);
        if (s.rc == MU_EMSGSIZE || (p->eof && p->len > 0)) {
            LOG(ERROR, p, "wrote a bad frame at the end of its input");
            kill_proc(p);
            return MU_EPROTO;
        }
    }
    char why[64];
    bool ok = reap(p, why, sizeof why);
    close_fds(p);
    if (!ok) {
        LOG(ERROR, p, "ended with %s after its input ended", why);
        return MU_EIO;
    }
    return rc;
}

int
mu__cmd_source(void *arg, int index, mu_flow_emit_t *out)
{
    static proc_t src; /* a source runner runs one source */
    proc_t *p = &src;
    if (p->def == NULL) {
        p->def = arg;
        p->index = index;
        p->in_fd = p->out_fd = -1;
        if (spawn(p, false) != 0)
            return MU_EIO;
    }
    if (p->pid == 0)
        return 0;
    struct pollfd fd = { .fd = p->out_fd, .events = POLLIN };
    if (poll(&fd, 1, 100) > 0) /* a drain request is seen between calls */
        read_some(p);
    scan_t s = { 0 };
    while (scan_next(p, &s)) {
        int rc = mu_flow_emit(out, s.data, s.size);
        if (rc != 0) {
            consume(p, s.off);
            return rc == MU_EPIPE ? rc : MU_FLOW_MORE;
        }
    }
    int erc = end_scan(p, s.off, s.rc, "");
    if (erc != 0)
        return erc;
    if (!p->eof)
        return MU_FLOW_MORE;
    char why[64];
    bool ok = reap(p, why, sizeof why);
    close_fds(p);
    if (p->len > 0) {
        LOG(ERROR, p, "its output ended inside a frame (%s)", why);
        return MU_ETRUNCATED;
    }
    if (!ok) {
        LOG(ERROR, p, "ended with %s", why);
        return MU_EIO;
    }
    return 0;
}
