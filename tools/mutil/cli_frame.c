/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_frame.c — `mutil frame encode|decode`: convert between newline-
    separated records and mu_pipe's frame format, from INPUT to OUTPUT
    (standard input and output when absent or "-").

    encode reads records with its own growing buffer (bounded by the largest
    frame allowed) and sends them through mu_pipe_new_fd(-1, output) with
    MU_PIPE_MORE, flushing whenever the input would block and at the end.
    decode receives through mu_pipe_new_fd(input, -1) and writes each
    payload and a '\n' to the output. A reader of the output that goes away
    (EPIPE; the tool ignores SIGPIPE) ends the command quietly with status 0,
    like other Unix filters. Bad input is reported with the byte offset in the input
    where the offending record or frame starts, after everything before it
    has been written. */
#include "cli.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME_OPTIONS_HELP                                                        \
    "options:\n"                                                                  \
    "  -H N    length-prefix size in bytes, 1..8 (default 4)\n"                   \
    "  -m MAX  largest payload in bytes (default 64M); the suffixes K, M, G, T\n" \
    "          multiply by powers of 1024. A frame is also limited to what the\n" \
    "          prefix can express: 2^(8*N)-1 bytes.\n"                            \
    "  -r N    encode only: at most N frames per second (1..1000000), each\n"     \
    "          written out at once (mu_ratelimit token bucket, no burst)\n"

#define FRAME_FILES_HELP                                                            \
    "INPUT and OUTPUT are files; without them, or as \"-\", standard input and\n"   \
    "standard output. An OUTPUT file is created or truncated. When the reader of\n" \
    "the output leaves early (a pipe into head), the command ends quietly with\n"   \
    "status 0.\n"

#define FRAME_ENCODE_HELP                                                          \
    "encode reads newline-separated records from INPUT and writes one frame per\n" \
    "record to OUTPUT. The newline ending a record is not part of it, a last\n"    \
    "record without a newline still counts, and an empty line is an empty\n"       \
    "frame. Records may hold any byte except newline.\n"

#define FRAME_DECODE_HELP                                                      \
    "decode reads frames from INPUT and writes each payload, byte for byte,\n" \
    "followed by a newline to OUTPUT.\n"

#define FRAME_ERRORS_HELP                                                          \
    "Bad input (a record too long for a frame, a frame announcing more than the\n" \
    "maximum or than memory can hold, a stream ending inside a frame) is\n"        \
    "reported on standard error with the byte offset in the input where that\n"    \
    "record or frame starts; everything before it is still written. Exit\n"        \
    "status: 0 ok, 1 bad input or I/O error, 2 bad usage.\n"

enum { FRAME_HELP_SHOWN = -1 };  /* parse_options printed --help */
enum { READ_CHUNK = 64 * 1024 }; /* encode's initial input buffer */
enum { OUT_BUFFER = 64 * 1024 }; /* decode's output buffer */

/*  What both subcommands take from the command line. */
typedef struct {
    char who[32];       /* "frame encode": the prefix of messages */
    int header;         /* -H: length-prefix bytes, 1..8 */
    uint64_t max;       /* -m: largest payload */
    uint64_t rate;      /* -r: frames per second, 0 = no limit (encode) */
    const char *input;  /* INPUT, or NULL for standard input ("-" too) */
    const char *output; /* OUTPUT, or NULL for standard output ("-" too) */
} frame_options_t;

/*  The largest payload an H-byte prefix can express. */
static uint64_t
header_capacity(int header)
{
    return header >= 8 ? UINT64_MAX : ((uint64_t) 1 << (8 * header)) - 1;
}

/*  The largest payload allowed by both -m and -H. */
static uint64_t
frame_limit(const frame_options_t *opts)
{
    uint64_t cap = header_capacity(opts->header);
    return opts->max < cap ? opts->max : cap;
}

/*  Prints the subcommand's usage to stderr; returns CLI_EXIT_USAGE. */
static int
usage_failure(const cli_command_t *self)
{
    cli_print_usage(stderr, "frame", self);
    return CLI_EXIT_USAGE;
}

/*  Takes arg as INPUT, then OUTPUT ("-" stands for standard input/output).
    Returns 0, or CLI_EXIT_USAGE after printing why (a third file). */
static int
take_file_argument(const cli_command_t *self, frame_options_t *opts, const char *arg, int *files_p)
{
    if (*files_p == 2) {
        cli_error(opts->who, "unexpected argument '%s' (after INPUT and OUTPUT)", arg);
        return usage_failure(self);
    }
    const char *path = strcmp(arg, "-") == 0 ? NULL : arg;
    if ((*files_p)++ == 0)
        opts->input = path;
    else
        opts->output = path;
    return 0;
}

/*  Parses "-H N" / "-HN" and "-m MAX" / "-mMAX" into *opts (defaults 4 and
    64 MiB), then up to two files (INPUT, OUTPUT; "-" is standard input or
    output), "--" ending the options, "--help" / "-h" printing the help.
    Returns 0, FRAME_HELP_SHOWN, or CLI_EXIT_USAGE after printing why. */
static int
parse_options(const cli_command_t *self, int argc, char **argv, frame_options_t *opts)
{
    snprintf(opts->who, sizeof opts->who, "frame %s", self->name);
    opts->header = MU_PIPE_HEADER_DEFAULT;
    opts->max = MU_PIPE_MAX_FRAME_DEFAULT;
    opts->rate = 0;
    opts->input = opts->output = NULL;
    int files = 0;
    bool options_ended = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (options_ended || arg[0] != '-' || arg[1] == '\0') {
            if (take_file_argument(self, opts, arg, &files) != 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        if (cli_is_help(arg)) {
            cli_print_help(stdout, "frame", self);
            return FRAME_HELP_SHOWN;
        }
        if (strcmp(arg, "--") == 0) {
            options_ended = true;
            continue;
        }
        bool encode = strcmp(self->name, "encode") == 0;
        if (arg[1] != 'H' && arg[1] != 'm' && !(arg[1] == 'r' && encode)) {
            cli_error(opts->who, "unknown option '%s'", arg);
            return usage_failure(self);
        }
        const char *value = arg[2] ? arg + 2 : i + 1 < argc ? argv[++i] : NULL;
        if (value == NULL) {
            cli_error(opts->who, "option -%c needs a value", arg[1]);
            return usage_failure(self);
        }
        uint64_t number;
        bool valid = cli_parse_size(value, &number) == 0;
        if (arg[1] == 'H') {
            if (!valid || number < 1 || number > 8 || value[strspn(value, "0123456789")]) {
                cli_error(opts->who, "-H must be a number of bytes from 1 to 8, not '%s'", value);
                return usage_failure(self);
            }
            opts->header = (int) number;
        } else if (arg[1] == 'r') {
            if (!valid || number < 1 || number > MU_RATELIMIT_MAX_LIMIT
                || value[strspn(value, "0123456789")]) {
                cli_error(opts->who,
                          "-r must be a number of frames per second from 1 to %u, not '%s'",
                          MU_RATELIMIT_MAX_LIMIT, value);
                return usage_failure(self);
            }
            opts->rate = number;
        } else {
            if (!valid || number < 1) {
                cli_error(opts->who, "-m must be a positive size such as 1024 or 64M, not '%s'",
                          value);
                return usage_failure(self);
            }
            opts->max = number;
        }
    }
    return 0;
}

/* ---- file status flags --------------------------------------------------- */

/*  mu_pipe sets O_NONBLOCK on the descriptors it is given and closes them.
    The flag belongs to the open file description, which stdin and stdout
    share with the shell (a terminal stays non-blocking after we exit), so we
    keep a duplicate and put the original flags back at the end. */
typedef struct {
    int fd;    /* duplicate of the descriptor, or -1 */
    int flags; /* F_GETFL result before mu_pipe touched it */
} saved_flags_t;

static void
save_flags(saved_flags_t *saved, int fd)
{
    saved->flags = fcntl(fd, F_GETFL);
    saved->fd = saved->flags < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void
restore_flags(saved_flags_t *saved)
{
    if (saved->fd >= 0) {
        (void) fcntl(saved->fd, F_SETFL, saved->flags);
        close(saved->fd);
        saved->fd = -1;
    }
}

/*  Blocks until fd is ready for events (it may be O_NONBLOCK because it
    shares its open file description with a descriptor mu_pipe owns). */
static void
wait_fd(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    (void) poll(&p, 1, -1);
}

/* ---- files --------------------------------------------------------------- */

/*  How messages name the input and the output. */
static const char *
input_name(const frame_options_t *opts)
{
    return opts->input ? opts->input : "standard input";
}

static const char *
output_name(const frame_options_t *opts)
{
    return opts->output ? opts->output : "standard output";
}

/*  Closes fd unless it is the standard descriptor it stands in for. */
static void
close_file(int fd, int standard_fd)
{
    if (fd >= 0 && fd != standard_fd)
        close(fd);
}

/*  Opens INPUT and then OUTPUT (created or truncated); *in_fd_p and
    *out_fd_p get their descriptors, standard input and output when they
    were not named. Returns 0, or CLI_EXIT_FAIL after saying which file
    cannot be opened (nothing is left open). */
static int
open_files(const frame_options_t *opts, int *in_fd_p, int *out_fd_p)
{
    *in_fd_p = STDIN_FILENO;
    *out_fd_p = STDOUT_FILENO;
    if (opts->input && (*in_fd_p = open(opts->input, O_RDONLY | O_CLOEXEC)) < 0) {
        cli_error(opts->who, "cannot open input %s: %s", opts->input, mu_strerror(-errno));
        return CLI_EXIT_FAIL;
    }
    if (opts->output
        && (*out_fd_p = open(opts->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
        cli_error(opts->who, "cannot open output %s: %s", opts->output, mu_strerror(-errno));
        close_file(*in_fd_p, STDIN_FILENO);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/*  What encode and decode share once set up: the options, both
    descriptors, and the pipe that owns one of them (the input for decode,
    the output for encode) with that descriptor's flags saved. */
typedef struct {
    frame_options_t opts;
    int in_fd, out_fd;
    bool pipe_input; /* the pipe reads in_fd (decode), else writes out_fd */
    saved_flags_t saved;
    mu_pipe_t *pipe;
} frame_session_t;

/*  Parses the options, opens the files, saves the flags of the pipe side's
    descriptor and wraps it in a pipe that owns it from then on. Returns
    true with s ready for frame_session_end, or false with the exit status
    to return in *status: CLI_EXIT_OK after --help, CLI_EXIT_USAGE, or
    CLI_EXIT_FAIL after saying why (nothing is left open). */
static bool
frame_session_start(frame_session_t *s, bool pipe_input, const cli_command_t *self, int argc,
                    char **argv, int *status)
{
    int rc = parse_options(self, argc, argv, &s->opts);
    *status = rc == FRAME_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (rc != 0)
        return false;
    *status = CLI_EXIT_FAIL;
    if (open_files(&s->opts, &s->in_fd, &s->out_fd) != 0)
        return false;
    s->pipe_input = pipe_input;
    int fd = pipe_input ? s->in_fd : s->out_fd;
    save_flags(&s->saved, fd);
    s->pipe = pipe_input ? mu_pipe_new_fd(fd, -1) : mu_pipe_new_fd(-1, fd);
    if (s->pipe == NULL) {
        int err = errno;
        cli_error(s->opts.who, "%s: %s", pipe_input ? input_name(&s->opts) : output_name(&s->opts),
                  mu_strerror(-err));
        restore_flags(&s->saved);
        close_file(s->in_fd, STDIN_FILENO);
        close_file(s->out_fd, STDOUT_FILENO);
        return false;
    }
    return true;
}

/*  Destroys the pipe (closing its descriptor), puts the saved flags back
    and closes the other descriptor. */
static void
frame_session_end(frame_session_t *s)
{
    mu_pipe_destroy(&s->pipe);
    restore_flags(&s->saved);
    if (s->pipe_input)
        close_file(s->out_fd, STDOUT_FILENO);
    else
        close_file(s->in_fd, STDIN_FILENO);
}

/* ---- encode -------------------------------------------------------------- */

/*  Splits a descriptor's bytes into newline-terminated records. The buffer
    holds the unfinished record buf[start..end); scan is where the search
    for '\n' resumes. */
typedef struct {
    int fd;
    char *buf;
    size_t cap, start, scan, end;
    uint64_t offset;        /* input offset of buf[start] */
    uint64_t record_offset; /* input offset of the record last returned or refused */
    bool eof;
    mu_pipe_t *idle_flush; /* flushed before waiting for input */
    int write_error;       /* set when flushing idle_flush failed */
} reader_t;

/*  Sets up a reader on fd. Returns 0 or MU_ENOMEM. */
static int
reader_init(reader_t *r, int fd, mu_pipe_t *idle_flush)
{
    *r = (reader_t) { .fd = fd, .cap = READ_CHUNK, .idle_flush = idle_flush };
    r->buf = malloc(r->cap);
    return r->buf ? 0 : MU_ENOMEM;
}

static void
reader_fini(reader_t *r)
{
    free(r->buf);
    r->buf = NULL;
}

/*  Makes room after buf[end]: moves the unfinished record to the front, or
    doubles the buffer when it is all one record. Returns 0 or MU_ENOMEM. */
static int
reader_make_room(reader_t *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->scan -= r->start;
        r->start = 0;
    }
    if (r->end < r->cap)
        return 0;
    if (r->cap > SIZE_MAX / 2)
        return MU_ENOMEM;
    char *bigger = realloc(r->buf, r->cap * 2);
    if (bigger == NULL)
        return MU_ENOMEM;
    r->buf = bigger;
    r->cap *= 2;
    return 0;
}

/*  Reads more input into the buffer, or sets eof. When no input is ready it
    first flushes idle_flush, so frames reach a reader while we wait for a
    slow writer. Returns 0, MU_ENOMEM, -errno of read(2), or the flush error
    (then write_error is set too). */
static int
reader_fill(reader_t *r)
{
    int rc = reader_make_room(r);
    if (rc != 0)
        return rc;
    for (;;) {
        struct pollfd p = { .fd = r->fd, .events = POLLIN };
        if (poll(&p, 1, 0) == 0) {
            rc = mu_pipe_flush(r->idle_flush);
            if (rc != 0)
                return r->write_error = rc;
            wait_fd(r->fd, POLLIN);
        }
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n > 0) {
            r->end += (size_t) n;
            return 0;
        }
        if (n == 0) {
            r->eof = true;
            return 0;
        }
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
    }
}

/*  Returns the next record: 1 with *rec_p and *size_p set (valid until the next
    call), 0 at the end of input, MU_EMSGSIZE when the record is longer than
    limit, or an error of reader_fill. record_offset is where the record
    returned or refused starts in the input. */
static int
reader_next(reader_t *r, uint64_t limit, const char **rec_p, size_t *size_p)
{
    for (;;) {
        r->record_offset = r->offset;
        char *newline = memchr(r->buf + r->scan, '\n', r->end - r->scan);
        size_t stop = newline ? (size_t) (newline - r->buf) : r->end;
        size_t size = stop - r->start;
        if (size > limit)
            return MU_EMSGSIZE;
        if (newline || (r->eof && size > 0)) {
            size_t used = size + (newline ? 1 : 0);
            *rec_p = r->buf + r->start;
            *size_p = size;
            r->start += used;
            r->scan = r->start;
            r->offset += used;
            return 1;
        }
        if (r->eof)
            return 0;
        r->scan = r->end;
        int rc = reader_fill(r);
        if (rc != 0)
            return rc;
    }
}

/*  Applies -H and -m to a pipe. Returns 0 or the library's error. */
static int
configure_pipe(mu_pipe_t *pipe, const frame_options_t *opts)
{
    int rc = mu_pipe_set_header_size(pipe, opts->header);
    return rc != 0 ? rc : mu_pipe_set_max_frame(pipe, frame_limit(opts));
}

/*  Sends every record of r through out, each at once and at most at rl's
    rate when rl is not NULL (-r). Returns 0 at the end of input or
    the first error; record_offset then names the record, and *write_error_p
    tells whether writing (rather than reading or a too-long record) failed. */
static int
encode_records(reader_t *r, mu_pipe_t *out, uint64_t limit, mu_ratelimit_t *rl, bool *write_error_p)
{
    const char *record = NULL;
    size_t size = 0;
    int rc;
    *write_error_p = false;
    while ((rc = reader_next(r, limit, &record, &size)) == 1) {
        if (rl && (rc = mu_ratelimit_acquire(rl, 1, -1)) == 0) /* -r: paced, and out at once */
            rc = mu_pipe_send(out, record, size, 0);
        else if (!rl)
            rc = mu_pipe_send(out, record, size, MU_PIPE_MORE);
        if (rc != 0) {
            *write_error_p = rc != MU_EMSGSIZE;
            return rc;
        }
    }
    *write_error_p = r->write_error != 0;
    return rc;
}

/*  Prints what went wrong in encode: rc is the first error, write_error
    tells whether it came from writing. Returns CLI_EXIT_FAIL. */
static int
report_encode_error(const frame_options_t *opts, const reader_t *r, int rc, bool write_error)
{
    if (rc == MU_EMSGSIZE)
        cli_error(opts->who,
                  "record at byte offset %llu is longer than %llu bytes (-H %d, -m %llu): %s",
                  (unsigned long long) r->record_offset, (unsigned long long) frame_limit(opts),
                  opts->header, (unsigned long long) opts->max, mu_strerror(rc));
    else if (write_error)
        cli_error(opts->who, "writing frames to %s: %s", output_name(opts), mu_strerror(rc));
    else
        cli_error(opts->who, "reading %s at byte offset %llu: %s", input_name(opts),
                  (unsigned long long) r->offset, mu_strerror(rc));
    return CLI_EXIT_FAIL;
}

/*  `mutil frame encode [-H N] [-m MAX] [INPUT [OUTPUT]]`: records to
    frames. Returns CLI_EXIT_OK (also when the output's reader went away),
    CLI_EXIT_USAGE, or CLI_EXIT_FAIL after a too-long record (frames before
    it are written) or an I/O error. */
static int
frame_encode_run(const cli_command_t *self, int argc, char **argv)
{
    frame_session_t s;
    int status;
    if (!frame_session_start(&s, false, self, argc, argv, &status))
        return status;
    const frame_options_t *opts = &s.opts;
    mu_pipe_t *out = s.pipe;
    reader_t reader;
    status = CLI_EXIT_OK;
    mu_ratelimit_t *rl = NULL;
    if (opts->rate) {
        mu_ratelimit_opts_t ro = { .limit = (uint32_t) opts->rate, .period_ms = 1000, .burst = 1 };
        rl = mu_ratelimit_new(&ro);
    }
    int rc = opts->rate && !rl ? mu_last_code() : configure_pipe(out, opts);
    if (rc == 0)
        rc = reader_init(&reader, s.in_fd, out);
    if (rc != 0) {
        cli_error(opts->who, "setting up the output pipe: %s", mu_strerror(rc));
        status = CLI_EXIT_FAIL;
    } else {
        bool write_error;
        rc = encode_records(&reader, out, frame_limit(opts), rl, &write_error);
        /* Frames accepted before a bad record still go out. A reader
           that went away ends the command quietly. */
        int flush_rc = mu_pipe_flush(out);
        if (rc != 0 && !(write_error && rc == MU_EPIPE))
            status = report_encode_error(opts, &reader, rc, write_error);
        if (flush_rc != 0 && flush_rc != MU_EPIPE && !write_error)
            status = report_encode_error(opts, &reader, flush_rc, true);
        reader_fini(&reader);
    }
    mu_ratelimit_destroy(&rl);
    frame_session_end(&s);
    return status;
}

/* ---- decode -------------------------------------------------------------- */

enum { DECODE_WRITE_FAILED = 1 }; /* not a receive status: writing failed */

/*  Writes all of data to fd, waiting while fd is non-blocking and full.
    Returns 0 or -errno. */
static int
write_all(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n > 0) {
            data += n;
            size -= (size_t) n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_fd(fd, POLLOUT);
        } else if (n == 0 || errno != EINTR) {
            return n == 0 ? -EIO : -errno;
        }
    }
    return 0;
}

/*  A small output buffer on a descriptor. */
typedef struct {
    int fd;
    size_t used;
    char data[OUT_BUFFER];
} out_buffer_t;

/*  Writes out what the buffer holds. Returns 0 or -errno. */
static int
out_flush(out_buffer_t *out)
{
    int rc = write_all(out->fd, out->data, out->used);
    out->used = 0;
    return rc;
}

/*  Appends bytes, writing large ones straight through. Returns 0 or -errno. */
static int
out_write(out_buffer_t *out, const void *data, size_t size)
{
    if (size > sizeof out->data - out->used) {
        int rc = out_flush(out);
        if (rc != 0)
            return rc;
        if (size >= sizeof out->data)
            return write_all(out->fd, data, size);
    }
    memcpy(out->data + out->used, data, size);
    out->used += size;
    return 0;
}

/*  Receives the next frame from in. When none is ready, first writes out
    what out holds, so records reach a reader while we wait for a slow
    writer. in's receive timeout must be 0. Returns mu_pipe_recv's result,
    or DECODE_WRITE_FAILED after a write error, which is left in *write_rc. */
static int
recv_or_flush(mu_pipe_t *in, out_buffer_t *out, const void **payload_p, size_t *size_p,
              int *write_rc)
{
    int rc = mu_pipe_recv(in, payload_p, size_p);
    if (rc != MU_EAGAIN)
        return rc;
    *write_rc = out_flush(out);
    if (*write_rc != 0)
        return DECODE_WRITE_FAILED;
    mu_pipe_set_recv_timeout(in, -1);
    rc = mu_pipe_recv(in, payload_p, size_p);
    mu_pipe_set_recv_timeout(in, 0);
    return rc;
}

/*  Copies every frame's payload and a '\n' from in to out. Returns the
    receive status that ended the stream (MU_ECLOSED at a clean end), or
    DECODE_WRITE_FAILED after a write error, which is left in *write_rc. */
static int
decode_frames(mu_pipe_t *in, out_buffer_t *out, int *write_rc)
{
    mu_pipe_set_recv_timeout(in, 0);
    for (;;) {
        const void *payload;
        size_t size;
        int rc = recv_or_flush(in, out, &payload, &size, write_rc);
        if (rc != 0)
            return rc;
        *write_rc = out_write(out, payload, size);
        if (*write_rc == 0)
            *write_rc = out_write(out, "\n", 1);
        if (*write_rc != 0)
            return DECODE_WRITE_FAILED;
    }
}

/*  Prints why decoding stopped early; offsets come from the pipe's
    counters: whole frames received so far end where the bad one starts. */
static void
report_decode_error(const frame_options_t *opts, mu_pipe_t *in, int rc)
{
    mu_pipe_stats_t st = { .size = sizeof st };
    if (mu_pipe_stats(in, &st) != 0)
        st.frames_received = st.bytes_received = 0;
    unsigned long long offset = (unsigned long long) (st.frames_received * (uint64_t) opts->header
                                                      + st.bytes_received);
    if (rc == MU_ETRUNCATED)
        cli_error(opts->who, "truncated frame at byte offset %llu: %s", offset, mu_strerror(rc));
    else if (rc == MU_EPROTO)
        cli_error(opts->who, "frame at byte offset %llu is longer than %llu bytes: %s", offset,
                  (unsigned long long) frame_limit(opts), mu_strerror(rc));
    else if (rc == MU_EMSGSIZE)
        cli_error(opts->who, "frame at byte offset %llu is too large to hold in memory: %s", offset,
                  mu_strerror(rc));
    else
        cli_error(opts->who, "reading frames at byte offset %llu: %s", offset, mu_strerror(rc));
}

/*  `mutil frame decode [-H N] [-m MAX] [INPUT [OUTPUT]]`: frames to
    records. Returns CLI_EXIT_OK (also when the output's reader went away),
    CLI_EXIT_USAGE, or CLI_EXIT_FAIL after a truncated or oversized frame
    (records before it are written) or an I/O error. */
static int
frame_decode_run(const cli_command_t *self, int argc, char **argv)
{
    frame_session_t s;
    int status;
    if (!frame_session_start(&s, true, self, argc, argv, &status))
        return status;
    const frame_options_t *opts = &s.opts;
    mu_pipe_t *in = s.pipe;
    status = CLI_EXIT_FAIL;
    out_buffer_t *out = malloc(sizeof *out);
    int rc = out ? configure_pipe(in, opts) : MU_ENOMEM;
    if (rc != 0) {
        cli_error(opts->who, "setting up the input pipe: %s", mu_strerror(rc));
    } else {
        out->fd = s.out_fd;
        out->used = 0;
        int write_rc = 0;
        rc = decode_frames(in, out, &write_rc);
        if (write_rc == 0)
            write_rc = out_flush(out); /* frames before a bad one still go out */
        /* A reader that went away (EPIPE) ends the command quietly. */
        if (write_rc != 0 && write_rc != MU_EPIPE)
            cli_error(opts->who, "writing to %s: %s", output_name(opts), mu_strerror(write_rc));
        else if (rc != MU_ECLOSED && rc != DECODE_WRITE_FAILED)
            report_decode_error(opts, in, rc);
        else
            status = CLI_EXIT_OK;
    }
    free(out);
    frame_session_end(&s);
    return status;
}

/* ---- the command --------------------------------------------------------- */

static const cli_command_t frame_encode = { "encode",
                                            "[-H N] [-m MAX] [-r N] [INPUT [OUTPUT]]",
                                            "turn newline-separated records into frames",
                                            FRAME_ENCODE_HELP "\n" FRAME_FILES_HELP
                                                              "\n" FRAME_OPTIONS_HELP
                                                              "\n" FRAME_ERRORS_HELP,
                                            frame_encode_run,
                                            NULL };

static const cli_command_t frame_decode = { "decode",
                                            "[-H N] [-m MAX] [INPUT [OUTPUT]]",
                                            "turn frames into newline-terminated records",
                                            FRAME_DECODE_HELP "\n" FRAME_FILES_HELP
                                                              "\n" FRAME_OPTIONS_HELP
                                                              "\n" FRAME_ERRORS_HELP,
                                            frame_decode_run,
                                            NULL };

static const cli_command_t *const frame_subcommands[] = { &frame_decode, &frame_encode };
static const cli_subcommands_t frame_group = CLI_SUBCOMMANDS("frame", frame_subcommands);

/*  `mutil frame SUBCOMMAND ...`: dispatches to encode or decode (unique
    prefixes accepted, like top-level commands). */
static int
frame_run(const cli_command_t *self, int argc, char **argv)
{
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 0, NULL, &status);
    return sub ? sub->run(sub, argc - 1, argv + 1) : status;
}

const cli_command_t cli_cmd_frame = {
    "frame",
    "encode [-H N] [-m MAX] [-r N] [INPUT [OUTPUT]]\n"
    "decode [-H N] [-m MAX] [INPUT [OUTPUT]]",
    "convert between newline-separated records and length-prefixed frames",
    "A frame is a little-endian length of N bytes followed by that many payload\n"
    "bytes: the format of mu_pipe. Subcommands may be abbreviated (frame e).\n\n" FRAME_ENCODE_HELP
    "\n" FRAME_DECODE_HELP "\n" FRAME_FILES_HELP "\n" FRAME_OPTIONS_HELP "\n" FRAME_ERRORS_HELP,
    frame_run,
    &frame_group
};
