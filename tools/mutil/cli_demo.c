/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_demo.c — `mutil demo`: a parent and a forked child talk over mu_pipe
    and the parent prints what it measured. Every frame carries its sequence
    number and is checked, so the figures are for verified delivery. (The
    dataflow echo demo replaces this once mu_flow exists.) */
#include "cli.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*  Child side of the stream phases: count frames of size bytes, each
    starting with its 8-byte sequence number, batched. */
static int
child_stream(mu_pipe_t *writer, uint64_t count, size_t size)
{
    uint8_t *frame = calloc(1, size);
    if (!frame)
        return 1;
    int rc = 0;
    for (uint64_t seq = 0; seq < count && rc == 0; seq++) {
        memcpy(frame, &seq, sizeof seq);
        rc = mu_pipe_send(writer, frame, size, MU_PIPE_MORE);
    }
    if (rc == 0)
        rc = mu_pipe_flush(writer);
    free(frame);
    return rc == 0 ? 0 : 1;
}

/*  Parent side: receives count frames and checks size and sequence.
    Returns the elapsed seconds, or -1 with a message on a bad frame. */
static double
parent_stream(mu_pipe_t *reader, uint64_t count, size_t size)
{
    double start = now_seconds();
    for (uint64_t seq = 0; seq < count; seq++) {
        const void *data;
        size_t got;
        int rc = mu_pipe_recv(reader, &data, &got);
        uint64_t seen;
        if (rc == 0 && got == size)
            memcpy(&seen, data, sizeof seen);
        if (rc != 0 || got != size || seen != seq) {
            fprintf(stderr, "mutil demo: frame %llu: %s\n", (unsigned long long) seq,
                    rc ? mu_strerror(rc) : "wrong size or sequence");
            return -1;
        }
    }
    return now_seconds() - start;
}

/*  Child side of the ping-pong phase: echo every frame until EOF. */
static int
child_echo(mu_pipe_t *in, mu_pipe_t *out)
{
    const void *data;
    size_t size;
    int rc;
    while ((rc = mu_pipe_recv(in, &data, &size)) == 0)
        if (mu_pipe_send(out, data, size, 0) != 0)
            return 1;
    return rc == MU_ECLOSED ? 0 : 1;
}

static int
compare_doubles(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/*  Parent side of ping-pong: rounds round trips of 64 bytes; fills
    p50/p99 in microseconds. Returns 0 or -1. */
static int
parent_ping(mu_pipe_t *out, mu_pipe_t *in, int rounds, double *p50, double *p99)
{
    double *samples = malloc(sizeof *samples * (size_t) rounds);
    uint8_t frame[64] = { 0 };
    if (!samples)
        return -1;
    for (int i = 0; i < rounds; i++) {
        memcpy(frame, &i, sizeof i);
        double start = now_seconds();
        const void *data;
        size_t size;
        if (mu_pipe_send(out, frame, sizeof frame, 0) != 0
            || mu_pipe_recv(in, &data, &size) != 0 || size != sizeof frame
            || memcmp(data, &i, sizeof i) != 0) {
            free(samples);
            return -1;
        }
        samples[i] = (now_seconds() - start) * 1e6;
    }
    qsort(samples, (size_t) rounds, sizeof *samples, compare_doubles);
    *p50 = samples[rounds / 2];
    *p99 = samples[rounds * 99 / 100];
    free(samples);
    return 0;
}

typedef struct {
    const char *label;
    uint64_t count;
    size_t size;
} stream_phase_t;

static const stream_phase_t phases[] = {
    { "64 B frames", 4000000, 64 },
    { "1 KiB frames", 1000000, 1024 },
    { "1 MiB frames", 2000, 1024 * 1024 },
};
#define PHASES (sizeof phases / sizeof *phases)
#define PING_ROUNDS 20000

/*  The child: runs each phase in order, then echoes. */
static void
run_child(mu_pipe_t *down_r, mu_pipe_t *up_w)
{
    int failed = 0;
    for (size_t i = 0; i < PHASES && !failed; i++)
        failed = child_stream(up_w, phases[i].count, phases[i].size);
    if (!failed)
        failed = child_echo(down_r, up_w);
    mu_pipe_destroy(&down_r);
    mu_pipe_destroy(&up_w);
    _exit(failed);
}

static int
run_demo(const cli_command_t *self, int argc, char **argv)
{
    int status = cli_args_split(self, "", self->name, &argc, argv, NULL, NULL);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (argc > 0) {
        cli_error(self->name, "takes no arguments");
        cli_print_usage(stderr, "", self);
        return CLI_EXIT_USAGE;
    }
    mu_pipe_t *down_r, *down_w, *up_r, *up_w;
    if (mu_pipe_pair(&down_r, &down_w) != 0 || mu_pipe_pair(&up_r, &up_w) != 0) {
        fprintf(stderr, "mutil %s: cannot create pipes\n", self->name);
        return CLI_EXIT_FAIL;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("mutil demo: fork");
        return CLI_EXIT_FAIL;
    }
    if (pid == 0) {
        mu_pipe_destroy(&down_w);
        mu_pipe_destroy(&up_r);
        run_child(down_r, up_w);
    }
    mu_pipe_destroy(&down_r);
    mu_pipe_destroy(&up_w);
    mu_pipe_set_recv_timeout(up_r, 30000);
    printf("mutil demo: a parent and a forked child over mu_pipe (pipe(2), 4-byte headers)\n");
    printf("%-14s %12s %14s %12s\n", "phase", "frames", "frames/s", "MB/s");
    status = CLI_EXIT_OK;
    for (size_t i = 0; i < PHASES && status == CLI_EXIT_OK; i++) {
        double seconds = parent_stream(up_r, phases[i].count, phases[i].size);
        if (seconds < 0) {
            status = CLI_EXIT_FAIL;
            break;
        }
        double rate = (double) phases[i].count / seconds;
        printf("%-14s %12llu %14.0f %12.1f\n", phases[i].label,
               (unsigned long long) phases[i].count, rate, rate * (double) phases[i].size / 1e6);
    }
    double p50 = 0, p99 = 0;
    if (status == CLI_EXIT_OK && parent_ping(down_w, up_r, PING_ROUNDS, &p50, &p99) != 0)
        status = CLI_EXIT_FAIL;
    if (status == CLI_EXIT_OK)
        printf("round trip of 64 B (child echoes), %d rounds: p50 %.1f us, p99 %.1f us\n",
               PING_ROUNDS, p50, p99);
    mu_pipe_destroy(&down_w);
    mu_pipe_destroy(&up_r);
    int child;
    if (waitpid(pid, &child, 0) != pid || !WIFEXITED(child) || WEXITSTATUS(child) != 0)
        status = CLI_EXIT_FAIL;
    printf("every frame arrived once, in order: %s\n", status == CLI_EXIT_OK ? "yes" : "NO");
    return status;
}

const cli_command_t cli_cmd_demo = {
    "demo", "",
    "run the demo: a parent and a forked child stream frames over mu_pipe",
    "Streams 64 B, 1 KiB and 1 MiB frames from a forked child to its parent\n"
    "over a library-made pipe, checking every sequence number, then measures\n"
    "64 B round trips. Prints frames/s, MB/s and latency percentiles.\n",
    run_demo, NULL
};
