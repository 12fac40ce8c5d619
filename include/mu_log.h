/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_log.h — the library's one logger: levels, plain or JSON lines,
    optional buffering with a flush interval, and one destination (an fd, a
    file, or a callback). The setting is process-wide: every module of
    libmutil logs through it, and applications may too.

    A line: time (UTC, ms), level, the identity and pid when an identity is
    set, the module, the message. Plain:
        2026-12-04T21:47:29.123Z W net: mutil: refused CURVE handshake ...
        2026-12-04T21:47:29.123Z I myapp[4242] svc: all 2 services ready
    JSON (one object per line):
        {"time":"2026-12-04T21:47:29.123Z","level":"info","ident":"myapp",
         "pid":4242,"module":"svc","msg":"all 2 services ready"}
    Control characters of a message are escaped in both formats (a message
    is always one line); in JSON, bytes that are not UTF-8 become U+FFFD.

    Defaults: level MU_LOG_INFO, plain, fd 2 (stderr), unbuffered, no
    identity. The environment variables MU_LOG_LEVEL (quiet, error,
    warning, info, debug) and MU_LOG_FORMAT (plain, json), read once at the
    first call of any mu_log function, change those defaults; a setter
    called later wins.

    Threads: every function is thread-safe; lines from several threads
    never interleave. A log call made from inside a callback destination
    (on the same thread) is dropped rather than deadlocking.

    fork: a child process keeps the settings (level, format, identity,
    destination) but logs unbuffered: the parent's buffered lines stay
    the parent's, and the flusher thread does not survive fork (call
    mu_log_set_buffering in the child to buffer there). A fork waits for
    a line another thread is writing (a callback destination included),
    so a callback must not wait for the thread that forks. */
#ifndef MU_LOG_H_INCLUDED
#define MU_LOG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Levels: a line is written when its level is at most the set level. */
typedef enum {
    MU_LOG_QUIET = 0, /* as a setting: nothing */
    MU_LOG_ERROR,
    MU_LOG_WARNING,
    MU_LOG_INFO, /* the default setting */
    MU_LOG_DEBUG
} mu_log_level_t;

typedef enum {
    MU_LOG_PLAIN = 0, /* the default */
    MU_LOG_JSON = 1
} mu_log_format_t;

/*  A callback destination: gets each line's level, module, message (after
    formatting, before escaping) and the whole line in the set format
    (without newline). Runs on the logging thread, under the logger's lock:
    it should be quick. */
typedef void(mu_log_fn)(void *arg, mu_log_level_t level, const char *module, const char *message,
                        const char *line);

/*  Logs a line at level (not MU_LOG_QUIET) for module (a short name such as
    "net"; NULL: "app") when the set level lets it through. A message
    longer than 64 KiB is cut. */
MU_EXPORT void mu_log(mu_log_level_t level, const char *module, const char *fmt, ...)
    MU_PRINTF(3, 4);

/*  True when a line at level would be written (to skip costly formatting). */
MU_EXPORT bool mu_log_enabled(mu_log_level_t level);

/*  Sets the level (MU_LOG_QUIET .. MU_LOG_DEBUG). */
MU_EXPORT void mu_log_set_level(mu_log_level_t level);

/*  Returns the level set. */
MU_EXPORT mu_log_level_t mu_log_level(void);

/*  Parses a level name (quiet, error, warning, info, debug; case-insensitive)
    into *level_p. Returns 0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_log_level_parse(const char *name, mu_log_level_t *level_p);

/*  Sets the format of the lines. */
MU_EXPORT void mu_log_set_format(mu_log_format_t format);

/*  Sets the identity shown with the pid in each line (copied; NULL or ""
    removes it). Returns 0 or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_log_set_ident(const char *ident);

/*  Writes the lines to fd (>= 0; not closed by the logger; the caller
    keeps it open while it is set). Buffered lines go to the previous
    destination first. Returns 0 or MU_EINVAL (fd < 0). */
MU_EXPORT MU_NODISCARD int mu_log_set_fd(int fd);

/*  Appends the lines to the file at path (created 0644 if missing), opened
    now and closed when another destination is set. Returns 0 or the open
    error (-errno; mu_last_error names the path). */
MU_EXPORT MU_NODISCARD int mu_log_set_file(const char *path);

/*  Hands the lines to fn(arg, ...) instead of writing them (fn NULL: back
    to fd 2). Buffering does not apply to a callback. */
MU_EXPORT void mu_log_set_callback(mu_log_fn *fn, void *arg);

/*  Buffers up to bytes (0: no buffering, the default; else 256 .. 16 MiB)
    of lines for an fd or file destination, written when the buffer is
    full, when an error line is logged, by mu_log_flush, at exit, and every
    flush_ms (> 0) by a flusher thread. Returns 0, MU_EINVAL or MU_ENOMEM
    (or the thread's error). */
MU_EXPORT MU_NODISCARD int mu_log_set_buffering(size_t bytes, int flush_ms);

/*  Writes the buffered lines now. Returns 0 or the write error (-errno;
    the lines are dropped). */
MU_EXPORT MU_NODISCARD int mu_log_flush(void);

/*  Flushes, stops buffering, closes a file destination, and goes back to
    the defaults (the environment variables are not read again). */
MU_EXPORT void mu_log_reset(void);

#ifdef __cplusplus
}
#endif
#endif
