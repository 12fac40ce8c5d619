/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/pipe.c — throughput of mu_pipe against raw pipe(2) and raw libzmq.

    Cases (SPEC.md, "Performance bars"):
      fd-64B, fd-1KiB, fd-1MiB     frames from one process to another over a
                                   pipe(2) made by mu_pipe_pair, against raw
                                   write()/read() of the same bytes on a pipe
                                   of the same capacity (F_SETPIPE_SZ 1 MiB);
      zmq-ipc-64B, zmq-ipc-1KiB    mu_pipe_new_zmq READER / WRITER in two
                                   processes, against raw libzmq PUSH/PULL;
      zmq-inproc-64B, -1KiB        the same with two threads of one process.

    Every measurement runs in fresh child processes (the parent never touches
    ZeroMQ, so no context is ever inherited through fork): the reader sets up
    (binds), tells the writer; the writer sets up (connects) and sends one
    warm-up frame; when the reader has it, it reads the clock and tells the
    writer to go; the time ends when the reader holds the last of N frames.
    So set-up, fork and connection are outside the timed part on both sides,
    and both sides are timed the same way. The reader touches one byte of
    every frame (every read() for the raw byte streams) and checks the sum.

    Each case runs ours and its baselines alternately, --reps times, after one
    calibration run per path that sizes N for the wanted duration; reported
    figures are medians, the ratio the median of the per-repetition ratios.
    Frames per second count frames of payload; MB/s in the table is payload
    bytes (10^6) per second. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "mu_pipe.h"
#include "bench.h"

#define HEADER_BYTES 4              /* mu_pipe's default length prefix */
#define CHUNK (64 * 1024)           /* raw read()/write() size */
#define PIPE_CAPACITY (1024 * 1024) /* what mu_pipe_pair asks for */
#define PATTERN 0x5a                /* every payload byte */

typedef enum {
    P_FD_OURS,          /* mu_pipe_pair + mu_pipe_send(MORE)/flush + mu_pipe_recv */
    P_FD_RAW_BATCHED,   /* pre-built frames, write() and read() of 64 KiB */
    P_FD_RAW_PER_FRAME, /* one write() per frame, read() of 64 KiB */
    P_FD_RAW_WHOLE,     /* one write() per frame, read() into a frame-sized buffer */
    P_ZMQ_OURS,         /* mu_pipe_new_zmq READER / WRITER */
    P_ZMQ_RAW           /* libzmq PULL / PUSH, zmq_recv into a buffer / zmq_send */
} path_kind_t;

typedef enum { T_PIPE, T_IPC, T_INPROC } transport_t;

typedef struct {
    path_kind_t kind;
    transport_t transport;
    size_t size;        /* payload bytes per frame */
    uint64_t n;         /* frames in the timed part */
    int ctl[2];         /* reader -> writer: 'B' set up, 'G' go, 'D' done */
    int result_fd;      /* reader -> parent: one run_result_t */
    int data[2];        /* raw pipe(2) */
    mu_pipe_t *mr, *mw; /* ends made by mu_pipe_pair */
    char endpoint[256];
    void *zctx; /* raw libzmq context shared by the inproc threads */
} run_t;

typedef struct {
    double seconds;
    uint64_t frames;
    uint64_t checksum;
    int err;       /* 0 or a negative code */
    char what[96]; /* where it failed */
} run_result_t;

static char tmp_dir[128]; /* short: an ipc:// path must fit in sun_path */
static int endpoint_seq;

/* ---- small I/O helpers ------------------------------------------------------ */

static int
write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        len -= (size_t) k;
    }
    return 0;
}

static int
read_exact(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t k = read(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            return MU_ECLOSED;
        p += k;
        len -= (size_t) k;
    }
    return 0;
}

static int
ctl_put(int fd, char c)
{
    return write_all(fd, &c, 1);
}

static int
ctl_get(int fd, char want)
{
    char c = 0;
    int rc = read_exact(fd, &c, 1);
    return rc ? rc : c == want ? 0 : MU_EPROTO;
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench/pipe: out of memory (%zu bytes)\n", n);
        _exit(3);
    }
    return p;
}

static void
fail(run_result_t *res, int err, const char *what)
{
    if (res->err == 0) {
        res->err = err ? err : MU_EPROTO;
        snprintf(res->what, sizeof res->what, "%s", what);
    }
}

/*  One frame as it travels on a pipe: little-endian length, then payload. */
static void
put_frame(unsigned char *p, size_t size)
{
    for (int i = 0; i < HEADER_BYTES; i++)
        p[i] = (unsigned char) ((uint64_t) size >> (8 * i));
    memset(p + HEADER_BYTES, PATTERN, size);
}

/* ---- the reader: sets up, times N frames -------------------------------------- */

static void
reader_main(run_t *r)
{
    run_result_t res;
    memset(&res, 0, sizeof res);
    const size_t frame = r->size + HEADER_BYTES;
    uint64_t sum = 0;
    int64_t t0 = 0, t1 = 0;
    int rc;

    if (r->kind == P_FD_OURS || r->kind == P_ZMQ_OURS) {
        mu_pipe_t *p = r->mr;
        if (r->kind == P_ZMQ_OURS) {
            p = mu_pipe_new_zmq(r->endpoint, MU_PIPE_READER);
            if (!p) {
                fail(&res, -errno, "mu_pipe_new_zmq(READER)");
                goto out;
            }
        }
        const void *d;
        size_t sz;
        if ((rc = ctl_put(r->ctl[1], 'B')) != 0)
            fail(&res, rc, "ctl B");
        else if ((rc = mu_pipe_recv(p, &d, &sz)) != 0)
            fail(&res, rc, "mu_pipe_recv (warm-up)");
        else if ((t0 = bench_now_ns()), (rc = ctl_put(r->ctl[1], 'G')) != 0)
            fail(&res, rc, "ctl G");
        else {
            for (uint64_t i = 0; i < r->n; i++) {
                if ((rc = mu_pipe_recv(p, &d, &sz)) != 0) {
                    fail(&res, rc, "mu_pipe_recv");
                    break;
                }
                if (sz != r->size) {
                    fail(&res, MU_EPROTO, "mu_pipe_recv: wrong frame size");
                    break;
                }
                sum += ((const unsigned char *) d)[sz - 1];
                res.frames++;
            }
            t1 = bench_now_ns();
            ctl_put(r->ctl[1], 'D');
        }
        if (r->kind == P_ZMQ_OURS)
            mu_pipe_destroy(&p);
        else
            mu_pipe_destroy(&r->mr);
    } else if (r->kind == P_ZMQ_RAW) {
        void *ctx = r->transport == T_INPROC ? r->zctx : zmq_ctx_new();
        void *s = ctx ? zmq_socket(ctx, ZMQ_PULL) : NULL;
        unsigned char *buf = xmalloc(r->size);
        if (!s || zmq_bind(s, r->endpoint) != 0)
            fail(&res, -zmq_errno(), "zmq_bind");
        else if ((rc = ctl_put(r->ctl[1], 'B')) != 0)
            fail(&res, rc, "ctl B");
        else if (zmq_recv(s, buf, r->size, 0) != (int) r->size)
            fail(&res, -zmq_errno(), "zmq_recv (warm-up)");
        else if ((t0 = bench_now_ns()), (rc = ctl_put(r->ctl[1], 'G')) != 0)
            fail(&res, rc, "ctl G");
        else {
            for (uint64_t i = 0; i < r->n; i++) {
                int k = zmq_recv(s, buf, r->size, 0);
                if (k != (int) r->size) {
                    fail(&res, k < 0 ? -zmq_errno() : MU_EPROTO, "zmq_recv");
                    break;
                }
                sum += buf[r->size - 1];
                res.frames++;
            }
            t1 = bench_now_ns();
            ctl_put(r->ctl[1], 'D');
        }
        if (s)
            zmq_close(s);
        if (ctx && r->transport != T_INPROC)
            zmq_ctx_term(ctx);
        free(buf);
    } else { /* raw pipe(2): the same bytes, nothing parsed */
        size_t cap = r->kind == P_FD_RAW_WHOLE ? r->size : CHUNK;
        unsigned char *buf = xmalloc(cap);
        const uint64_t total = r->n * frame;
        uint64_t got = 0;
        if ((rc = ctl_put(r->ctl[1], 'B')) != 0)
            fail(&res, rc, "ctl B");
        else if ((rc = read_exact(r->data[0], buf, 1)) != 0)
            fail(&res, rc, "read (warm-up)");
        else if ((t0 = bench_now_ns()), (rc = ctl_put(r->ctl[1], 'G')) != 0)
            fail(&res, rc, "ctl G");
        else {
            while (got < total) {
                size_t want = total - got < cap ? (size_t) (total - got) : cap;
                ssize_t k = read(r->data[0], buf, want);
                if (k <= 0) {
                    if (k < 0 && errno == EINTR)
                        continue;
                    fail(&res, k < 0 ? -errno : MU_ETRUNCATED, "read");
                    break;
                }
                sum += buf[0];
                got += (uint64_t) k;
            }
            t1 = bench_now_ns();
            res.frames = got / frame;
            ctl_put(r->ctl[1], 'D');
        }
        close(r->data[0]);
        free(buf);
    }
out:
    close(r->ctl[1]); /* a writer still waiting for a signal sees EOF */
    res.seconds = (double) (t1 - t0) / 1e9;
    res.checksum = sum;
    if (write_all(r->result_fd, &res, sizeof res) != 0)
        fprintf(stderr, "bench/pipe: reader: cannot report its result\n");
    close(r->result_fd);
}

/* ---- the writer: sends a warm-up frame, then N frames on 'G' ------------------ */

static int
writer_error(const char *what, int rc)
{
    fprintf(stderr, "bench/pipe: writer: %s: %s (%s)\n", what, mu_strerror(rc), mu_errname(rc));
    return 1;
}

/*  Returns 0 or 1 (the writer's exit status). */
static int
writer_main(run_t *r)
{
    const size_t frame = r->size + HEADER_BYTES;
    int rc;

    if ((rc = ctl_get(r->ctl[0], 'B')) != 0)
        return writer_error("waiting for the reader", rc);

    if (r->kind == P_FD_OURS || r->kind == P_ZMQ_OURS) {
        unsigned char *payload = xmalloc(r->size);
        memset(payload, PATTERN, r->size);
        mu_pipe_t *p = r->mw;
        if (r->kind == P_ZMQ_OURS && !(p = mu_pipe_new_zmq(r->endpoint, MU_PIPE_WRITER)))
            return writer_error("mu_pipe_new_zmq(WRITER)", -errno);
        int flags = (r->kind == P_FD_OURS && r->size < CHUNK) ? MU_PIPE_MORE : 0;
        if ((rc = mu_pipe_send(p, payload, r->size, 0)) != 0)
            return writer_error("mu_pipe_send (warm-up)", rc);
        if ((rc = ctl_get(r->ctl[0], 'G')) != 0)
            return writer_error("waiting for go", rc);
        for (uint64_t i = 0; i < r->n; i++)
            if ((rc = mu_pipe_send(p, payload, r->size, flags)) != 0)
                return writer_error("mu_pipe_send", rc);
        if ((rc = mu_pipe_flush(p)) != 0)
            return writer_error("mu_pipe_flush", rc);
        if ((rc = ctl_get(r->ctl[0], 'D')) != 0)
            return writer_error("waiting for done", rc);
        mu_pipe_destroy(&p);
        r->mw = NULL;
        free(payload);
        return 0;
    }

    if (r->kind == P_ZMQ_RAW) {
        unsigned char *payload = xmalloc(r->size);
        memset(payload, PATTERN, r->size);
        void *ctx = r->transport == T_INPROC ? r->zctx : zmq_ctx_new();
        void *s = ctx ? zmq_socket(ctx, ZMQ_PUSH) : NULL;
        if (!s || zmq_connect(s, r->endpoint) != 0)
            return writer_error("zmq_connect", -zmq_errno());
        if (zmq_send(s, payload, r->size, 0) != (int) r->size)
            return writer_error("zmq_send (warm-up)", -zmq_errno());
        if ((rc = ctl_get(r->ctl[0], 'G')) != 0)
            return writer_error("waiting for go", rc);
        for (uint64_t i = 0; i < r->n; i++)
            if (zmq_send(s, payload, r->size, 0) != (int) r->size)
                return writer_error("zmq_send", -zmq_errno());
        if ((rc = ctl_get(r->ctl[0], 'D')) != 0)
            return writer_error("waiting for done", rc);
        zmq_close(s);
        if (r->transport != T_INPROC)
            zmq_ctx_term(ctx);
        free(payload);
        return 0;
    }

    /* raw pipe(2) */
    const int fd = r->data[1];
    unsigned char *buf;
    size_t buf_len;
    if (r->kind == P_FD_RAW_BATCHED) {
        /* Whole frames back to back, long enough that a 64 KiB chunk can
           start at any offset inside the first frame: the stream is periodic
           with the frame length, so chunk k starts at (k * 64 KiB) % frame. */
        size_t count = (CHUNK + frame - 1) / frame + 1;
        buf_len = count * frame;
        buf = xmalloc(buf_len);
        for (size_t i = 0; i < count; i++)
            put_frame(buf + i * frame, r->size);
    } else {
        buf_len = frame;
        buf = xmalloc(buf_len);
        put_frame(buf, r->size);
    }
    if ((rc = write_all(fd, "w", 1)) != 0)
        return writer_error("write (warm-up)", rc);
    if ((rc = ctl_get(r->ctl[0], 'G')) != 0)
        return writer_error("waiting for go", rc);
    if (r->kind == P_FD_RAW_BATCHED) {
        const uint64_t total = r->n * frame;
        for (uint64_t off = 0; off < total;) {
            size_t len = total - off < CHUNK ? (size_t) (total - off) : CHUNK;
            if ((rc = write_all(fd, buf + off % frame, len)) != 0)
                return writer_error("write", rc);
            off += len;
        }
    } else {
        for (uint64_t i = 0; i < r->n; i++)
            if ((rc = write_all(fd, buf, frame)) != 0)
                return writer_error("write", rc);
    }
    if ((rc = ctl_get(r->ctl[0], 'D')) != 0)
        return writer_error("waiting for done", rc);
    close(fd);
    free(buf);
    return 0;
}

static void *
writer_thread(void *arg)
{
    return (void *) (intptr_t) writer_main(arg);
}

/* ---- one timed run in fresh processes ----------------------------------------- */

static int
is_fd_kind(path_kind_t k)
{
    return k == P_FD_OURS || k == P_FD_RAW_BATCHED || k == P_FD_RAW_PER_FRAME
           || k == P_FD_RAW_WHOLE;
}

/*  Waits for a child until the deadline, then kills it. Returns its wait
    status, or -1 when it had to be killed. */
static int
reap(pid_t pid, int64_t deadline_ns)
{
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return st;
        if (w < 0 && errno != EINTR)
            return -1;
        if (bench_now_ns() > deadline_ns) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        usleep(1000);
    }
}

static pid_t
spawn(void)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0)
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
    return pid;
}

/*  Runs one measurement of n frames. Returns the seconds of the timed part,
    or NaN after printing why it failed. */
static double
run_once(path_kind_t kind, transport_t transport, size_t size, uint64_t n, double timeout_s)
{
    run_t r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.transport = transport;
    r.size = size;
    r.n = n;
    r.data[0] = r.data[1] = -1;
    int resp[2];
    if (pipe2(r.ctl, O_CLOEXEC) != 0 || pipe2(resp, O_CLOEXEC) != 0) {
        perror("bench/pipe: pipe2");
        return NAN;
    }
    if (kind == P_FD_OURS) {
        int rc = mu_pipe_pair(&r.mr, &r.mw);
        if (rc != 0) {
            fprintf(stderr, "bench/pipe: mu_pipe_pair: %s\n", mu_strerror(rc));
            return NAN;
        }
    } else if (is_fd_kind(kind)) {
        if (pipe2(r.data, O_CLOEXEC) != 0) {
            perror("bench/pipe: pipe2");
            return NAN;
        }
        if (fcntl(r.data[1], F_SETPIPE_SZ, PIPE_CAPACITY) < 0) {
            static int warned;
            if (!warned++)
                perror("bench/pipe: F_SETPIPE_SZ (raw baseline keeps the default capacity)");
        }
    } else if (transport == T_IPC) {
        snprintf(r.endpoint, sizeof r.endpoint, "ipc://%s/p%d", tmp_dir, ++endpoint_seq);
    } else {
        snprintf(r.endpoint, sizeof r.endpoint, "inproc://bench-pipe-%d", ++endpoint_seq);
    }

    pid_t pids[2] = { -1, -1 };
    if (transport == T_INPROC) {
        /* Both ends in one (fresh) process: inproc needs one context. */
        if ((pids[0] = spawn()) == 0) {
            close(resp[0]);
            r.result_fd = resp[1];
            if (kind == P_ZMQ_RAW && !(r.zctx = zmq_ctx_new()))
                _exit(1);
            pthread_t th;
            if (pthread_create(&th, NULL, writer_thread, &r) != 0)
                _exit(1);
            reader_main(&r);
            void *wrc = NULL;
            pthread_join(th, &wrc);
            close(r.ctl[0]);
            if (r.zctx)
                zmq_ctx_term(r.zctx);
            _exit(wrc ? 1 : 0);
        }
    } else {
        if ((pids[0] = spawn()) == 0) { /* reader */
            close(resp[0]);
            close(r.ctl[0]);
            r.result_fd = resp[1];
            if (kind == P_FD_OURS)
                mu_pipe_destroy(&r.mw);
            else if (r.data[1] >= 0)
                close(r.data[1]);
            reader_main(&r);
            _exit(0);
        }
        if (pids[0] > 0 && (pids[1] = spawn()) == 0) { /* writer */
            close(resp[0]);
            close(resp[1]);
            close(r.ctl[1]);
            if (kind == P_FD_OURS)
                mu_pipe_destroy(&r.mr);
            else if (r.data[0] >= 0)
                close(r.data[0]);
            _exit(writer_main(&r));
        }
    }
    /* The parent keeps only the result pipe's read end. */
    close(resp[1]);
    close(r.ctl[0]);
    close(r.ctl[1]);
    mu_pipe_destroy(&r.mr);
    mu_pipe_destroy(&r.mw);
    if (r.data[0] >= 0)
        close(r.data[0]);
    if (r.data[1] >= 0)
        close(r.data[1]);
    if (pids[0] < 0 || (transport != T_INPROC && pids[1] < 0)) {
        perror("bench/pipe: fork");
        close(resp[0]);
        for (int i = 0; i < 2; i++)
            if (pids[i] > 0)
                reap(pids[i], 0);
        return NAN;
    }

    const int64_t deadline = bench_now_ns() + (int64_t) (timeout_s * 1e9);
    run_result_t res;
    memset(&res, 0, sizeof res);
    struct pollfd pfd = { .fd = resp[0], .events = POLLIN };
    int pr;
    do
        pr = poll(&pfd, 1, (int) ((deadline - bench_now_ns()) / 1000000 + 1));
    while (pr < 0 && errno == EINTR);
    if (pr <= 0)
        fail(&res, MU_ETIMEDOUT, "no result before the time limit");
    else if (read_exact(resp[0], &res, sizeof res) != 0)
        fail(&res, MU_ECLOSED, "the reader died");
    close(resp[0]);

    /* Writers finish right after 'D'; one stuck past the limit is killed. */
    const int64_t reap_deadline = res.err ? 0 : bench_now_ns() + 10 * (int64_t) 1000000000;
    for (int i = 0; i < 2; i++) {
        if (pids[i] <= 0)
            continue;
        int st = reap(pids[i], reap_deadline);
        if (res.err == 0 && !(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
            fail(&res, MU_EPROTO, "a child failed or hung after the transfer");
    }

    if (res.err == 0 && res.frames != n)
        fail(&res, MU_EPROTO, "frame count");
    const int frames_checked = kind == P_FD_OURS || kind == P_ZMQ_OURS || kind == P_ZMQ_RAW;
    if (res.err == 0 && frames_checked && res.checksum != n * PATTERN)
        fail(&res, MU_EPROTO, "payload checksum");
    if (res.err) {
        fprintf(stderr, "bench/pipe: run failed: %s: %s (%s)\n", res.what, mu_strerror(res.err),
                mu_errname(res.err));
        return NAN;
    }
    return res.seconds > 0 ? res.seconds : 1e-9;
}

/* ---- cases ---------------------------------------------------------------------- */

typedef struct {
    path_kind_t kind;
    const char *name;
} path_t;

typedef struct {
    const char *name;
    transport_t transport;
    size_t size;
    int npaths; /* paths[0] is ours, the others are baselines */
    path_t paths[3];
    bench_bar_t bar_kind;
    double bar;
    int reps_factor; /* repetitions = --reps times this */
} case_t;

#define KiB 1024
#define MiB (1024 * 1024)

static const case_t cases[] = {
    { "fd-64B",
      T_PIPE,
      64,
      3,
      { { P_FD_OURS, "mu_pipe" },
        { P_FD_RAW_BATCHED, "raw-write-read" },
        { P_FD_RAW_PER_FRAME, "raw-write-per-frame" } },
      BENCH_BAR_MIN_VALUE,
      5e6,
      1 },
    { "fd-1KiB",
      T_PIPE,
      KiB,
      2,
      { { P_FD_OURS, "mu_pipe" }, { P_FD_RAW_BATCHED, "raw-write-read" } },
      BENCH_BAR_NONE,
      0,
      1 },
    { "fd-1MiB",
      T_PIPE,
      MiB,
      2,
      { { P_FD_OURS, "mu_pipe" }, { P_FD_RAW_WHOLE, "raw-write-read" } },
      BENCH_BAR_MIN_RATIO,
      0.80,
      1 },
    /* ipc between two processes (four threads with libzmq's I/O threads)
       on 2 cores: single runs of either path with the same N differ by up
       to 2x within a run and more between runs (doc/pipe.md), so three
       times the repetitions, as inproc below. */
    { "zmq-ipc-64B",
      T_IPC,
      64,
      2,
      { { P_ZMQ_OURS, "mu_pipe" }, { P_ZMQ_RAW, "raw-zmq-push-pull" } },
      BENCH_BAR_MIN_RATIO,
      0.90,
      3 },
    { "zmq-ipc-1KiB",
      T_IPC,
      KiB,
      2,
      { { P_ZMQ_OURS, "mu_pipe" }, { P_ZMQ_RAW, "raw-zmq-push-pull" } },
      BENCH_BAR_MIN_RATIO,
      0.90,
      3 },
    /* inproc between two threads on a 2-core machine swings between two
       regimes from run to run (the reader keeping up and sleeping on every
       message, or the writer filling the HWM and both running freely), by
       up to 3x for the same path and N: twice the repetitions keep the
       medians steady. */
    { "zmq-inproc-64B",
      T_INPROC,
      64,
      2,
      { { P_ZMQ_OURS, "mu_pipe" }, { P_ZMQ_RAW, "raw-zmq-push-pull" } },
      BENCH_BAR_MIN_RATIO,
      0.90,
      2 },
    { "zmq-inproc-1KiB",
      T_INPROC,
      KiB,
      2,
      { { P_ZMQ_OURS, "mu_pipe" }, { P_ZMQ_RAW, "raw-zmq-push-pull" } },
      BENCH_BAR_MIN_RATIO,
      0.90,
      2 },
};

/*  N for about opts->target_s from a measured run of n frames in t s. */
static uint64_t
scale_n(uint64_t n, double t, const bench_opts_t *opts)
{
    double want = (double) n * opts->target_s / (t > 1e-6 ? t : 1e-6);
    return want < 1 ? 1 : want > 4e9 ? (uint64_t) 4e9 : (uint64_t) want;
}

/*  Finds N so that one run takes about opts->target_s; 0 when the path
    fails. A pilot grows until it lasts long enough to extrapolate from; in
    full mode one more run at the extrapolated N (a warm-up as well) refines
    it. */
static uint64_t
calibrate(const case_t *c, const path_t *p, const bench_opts_t *opts, double timeout_s)
{
    const double pilot_s = opts->quick ? 0.02 : 0.1;
    uint64_t n = c->size >= MiB ? 16 : c->size >= KiB ? 5000 : 20000;
    for (int tries = 0; tries < 12; tries++) {
        double t = run_once(p->kind, c->transport, c->size, n, timeout_s);
        if (isnan(t))
            return 0;
        if (t >= pilot_s) {
            n = scale_n(n, t, opts);
            if (opts->quick)
                return n;
            t = run_once(p->kind, c->transport, c->size, n, timeout_s);
            return isnan(t) ? 0 : scale_n(n, t, opts);
        }
        double grow = 2 * pilot_s / t;
        n = (uint64_t) ((double) n * (grow < 2 ? 2 : grow > 100 ? 100 : grow));
    }
    return n;
}

static void
run_case(const case_t *c, const bench_opts_t *opts)
{
    const double timeout_s = opts->quick ? 10 : 60;
    uint64_t n[3] = { 0 };
    double rate[3][BENCH_MAX_REPS], secs_min[3], secs_max[3];
    int redone[3] = { 0 };
    int reps = opts->reps * (c->reps_factor > 1 ? c->reps_factor : 1);
    if (reps > BENCH_MAX_REPS)
        reps = BENCH_MAX_REPS;

    for (int i = 0; i < c->npaths; i++) {
        n[i] = calibrate(c, &c->paths[i], opts, timeout_s);
        secs_min[i] = INFINITY;
        secs_max[i] = 0;
    }
    for (int rep = 0; rep < reps; rep++) {
        for (int j = 0; j < c->npaths; j++) {
            int i = rep % 2 ? c->npaths - 1 - j : j; /* alternate the order */
            rate[i][rep] = NAN;
            for (int attempt = 0; attempt < 3 && n[i] > 0; attempt++) {
                double t = run_once(c->paths[i].kind, c->transport, c->size, n[i], timeout_s);
                if (isnan(t)) {
                    n[i] = 0; /* a failing path is not tried again */
                    break;
                }
                rate[i][rep] = (double) n[i] / t;
                if (opts->verbose)
                    fprintf(stderr, "#   %-16s %-20s rep %d: N=%llu %.3f s %.4g msg/s\n", c->name,
                            c->paths[i].name, rep, (unsigned long long) n[i], t, rate[i][rep]);
                if (t >= opts->min_s || attempt == 2) {
                    secs_min[i] = t < secs_min[i] ? t : secs_min[i];
                    secs_max[i] = t > secs_max[i] ? t : secs_max[i];
                    break;
                }
                n[i] = scale_n(n[i], t, opts); /* too short: redo with more frames */
                redone[i]++;
            }
        }
    }
    double med[3];
    for (int i = 0; i < c->npaths; i++) {
        med[i] = bench_median(rate[i], reps);
        fprintf(stderr, "# %-16s %-20s N=%-10llu %d runs %.3f..%.3f s%s  median %.4g msg/s\n",
                c->name, c->paths[i].name, (unsigned long long) n[i], reps,
                isfinite(secs_min[i]) ? secs_min[i] : 0, secs_max[i],
                redone[i] ? " (some redone longer)" : "", med[i]);
    }
    for (int i = 1; i < c->npaths; i++)
        bench_report("pipe", c->name, "msg/s", med[0], c->paths[i].name, med[i],
                     bench_paired_ratio(rate[0], rate[i], reps), (double) c->size, c->bar_kind,
                     c->bar);
}

static void
remove_tmp_dir(void)
{
    if (tmp_dir[0] && strcmp(tmp_dir, "/nonexistent") != 0)
        bench_remove_tree(tmp_dir);
}

int
main(int argc, char **argv)
{
    bench_opts_t opts;
    bench_parse_args(argc, argv, &opts);
    signal(SIGPIPE, SIG_IGN);

    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 64)
        tmp = "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/mu-bench-pipe-XXXXXX", tmp);
    if (!mkdtemp(tmp_dir)) {
        perror("bench/pipe: mkdtemp (the ipc cases will fail)");
        snprintf(tmp_dir, sizeof tmp_dir, "/nonexistent");
    }
    fprintf(stderr,
            "# bench/pipe: %s mode, %d repetitions of ~%.2f s (at least %.2f s) per path, "
            "medians\n",
            opts.quick ? "quick" : "full", opts.reps, opts.target_s, opts.min_s);

    const int64_t t0 = bench_now_ns();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (bench_selected(&opts, cases[i].name))
            run_case(&cases[i], &opts);
    remove_tmp_dir();

    int missed = bench_print_table();
    printf("\n%d bar(s) missed; msg/s = frames of payload per second, MB/s = 10^6 payload "
           "bytes per second; %.1f s in all\n",
           missed, (double) (bench_now_ns() - t0) / 1e9);
    return 0; /* a benchmark never fails */
}
