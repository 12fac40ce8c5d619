/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_log.c — the process-wide logger: formatting (plain, JSON), the
    destination (fd, file, callback) and the buffer with its flusher
    thread. The contract is in include/mu_log.h. */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include "base/mu_utf8.h"
#include "mu_log.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE_MAX 65536
#define LINE_STACK 1024
#define BUFFER_MIN 256
#define BUFFER_MAX (16u * 1024 * 1024)

static struct {
    pthread_mutex_t mutex;
    bool ready; /* env read, cond made */
    atomic_int level;
    mu_log_format_t format;
    int fd;
    bool own_fd; /* opened by mu_log_set_file */
    mu_log_fn *fn;
    void *fn_arg;
    char *ident;
    char *buf; /* buffered lines, len of cap bytes */
    size_t len, cap;
    int flush_ms;
    pthread_cond_t cv; /* wakes the flusher (stop) */
    pthread_t flusher;
    bool flusher_live, flusher_stop;
    bool flusher_started; /* its start routine runs (the thread's set-up is over) */
    bool atexit_set;
} L = { .mutex = PTHREAD_MUTEX_INITIALIZER, .level = MU_LOG_INFO, .fd = 2 };

static _Thread_local bool t_in_log; /* inside a callback: drop nested lines */

static const char *const s_names[] = { "quiet", "error", "warning", "info", "debug" };
static const char s_letters[] = "QEWID";

/*  The level named name, or -1. */
static int
level_of(const char *name)
{
    for (int i = 0; i <= MU_LOG_DEBUG; i++)
        if (!strcasecmp(name, s_names[i]))
            return i;
    return -1;
}

int
mu_log_level_parse(const char *name, mu_log_level_t *level_p)
{
    assert(name && level_p);
    int level = level_of(name);
    if (level >= 0) {
        *level_p = (mu_log_level_t) level;
        return 0;
    }
    return mu__fail(MU_EINVAL, "log level '%s' (quiet, error, warning, info or debug)", name);
}

/*  fork: the prepare handler takes the mutex so that no other thread holds
    it at the fork; the parent releases it. The child, where only the
    forking thread lives on, gets a fresh mutex and logs unbuffered: the
    buffered lines are the parent's to write (kept, they would be written
    twice), the flusher thread did not survive, and a child that ends
    with _exit would never flush. */
static void
fork_prepare(void)
{
    pthread_mutex_lock(&L.mutex);
}

static void
fork_parent(void)
{
    pthread_mutex_unlock(&L.mutex);
}

static void
fork_child(void)
{
    pthread_mutex_init(&L.mutex, NULL);
    free(L.buf);
    L.buf = NULL;
    L.len = L.cap = 0;
    L.flusher_live = false;
    L.flusher_stop = false;
    L.flusher_started = false;
    mu__cond_init(&L.cv);
}

/*  Reads the environment once; under the mutex. */
static void
ensure_ready(void)
{
    if (L.ready)
        return;
    L.ready = true;
    mu__cond_init(&L.cv);
    (void) pthread_atfork(fork_prepare, fork_parent, fork_child);
    const char *level = getenv("MU_LOG_LEVEL");
    if (level && level_of(level) >= 0)
        atomic_store(&L.level, level_of(level));
    const char *format = getenv("MU_LOG_FORMAT");
    if (format && !strcasecmp(format, "json"))
        L.format = MU_LOG_JSON;
}

static void
lock(void)
{
    pthread_mutex_lock(&L.mutex);
    ensure_ready();
}

static void
unlock(void)
{
    pthread_mutex_unlock(&L.mutex);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/*  Writes size bytes to fd whole; returns 0 or -errno. */
static int
write_all(int fd, const char *p, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : MU_EIO;
        p += n;
        size -= (size_t) n;
    }
    return 0;
}

/*  Writes the buffer out; under the mutex. */
static int
flush_locked(void)
{
    int rc = L.len ? write_all(L.fd, L.buf, L.len) : 0;
    L.len = 0;
    return rc;
}

static void
emit_locked(mu_log_level_t level, const char *module, const char *message, const char *line,
            size_t len)
{
    if (L.fn) {
        t_in_log = true;
        char *copy = strndup(line, len - 1); /* without the newline */
        L.fn(L.fn_arg, level, module, message, copy ? copy : "");
        free(copy);
        t_in_log = false;
        return;
    }
    if (!L.buf) {
        (void) write_all(L.fd, line, len);
        return;
    }
    if (L.len + len > L.cap)
        (void) flush_locked();
    if (len > L.cap)
        (void) write_all(L.fd, line, len);
    else {
        memcpy(L.buf + L.len, line, len);
        L.len += len;
    }
    if (level == MU_LOG_ERROR)
        (void) flush_locked();
}

/* ------------------------------------------------------------------ */
/* Formatting                                                          */

typedef struct {
    char *p;
    size_t len, cap;
    char stack[LINE_STACK];
    bool heap;
} text_t;

static void
put(text_t *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = t->heap ? realloc(t->p, cap) : malloc(cap);
        if (!grown)
            return; /* out of memory: the line is cut */
        if (!t->heap)
            memcpy(grown, t->p, t->len);
        t->p = grown;
        t->cap = cap;
        t->heap = true;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

static void
puts_(text_t *t, const char *s)
{
    put(t, s, strlen(s));
}

/*  Appends s escaped: control characters always; in JSON also quotes,
    backslashes, and bytes that are not UTF-8 (as U+FFFD). */
static void
put_escaped(text_t *t, const char *s, bool json)
{
    const uint8_t *p = (const uint8_t *) s;
    size_t n = strlen(s);
    while (n > 0) {
        char piece[8];
        uint32_t cp;
        size_t seq = *p >= 0x80 ? mu__utf8_sequence(p, n, &cp) : 0;
        if (seq > 0) {
            put(t, (const char *) p, seq);
            p += seq, n -= seq;
            continue;
        }
        uint8_t c = *p++;
        n--;
        if (c == '\n')
            puts_(t, "\\n");
        else if (c == '\r')
            puts_(t, "\\r");
        else if (c == '\t')
            puts_(t, json ? "\\t" : "\t");
        else if (json && (c == '"' || c == '\\')) {
            piece[0] = '\\', piece[1] = (char) c;
            put(t, piece, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(piece, sizeof piece, json ? "\\u%04x" : "\\x%02x", c);
            puts_(t, piece);
        } else if (c >= 0x80) {
            puts_(t, json ? "\\ufffd" : "?");
        } else {
            put(t, (const char *) &c, 1);
        }
    }
}

static void
put_time(text_t *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[40];
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000);
    puts_(t, stamp);
}

/*  Builds the line for message in the set format (with newline). */
static void
format_line(text_t *t, mu_log_level_t level, const char *module, const char *message)
{
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int) getpid());
    if (L.format == MU_LOG_JSON) {
        puts_(t, "{\"time\":\"");
        put_time(t);
        puts_(t, "\",\"level\":\"");
        puts_(t, s_names[level]);
        if (L.ident) {
            puts_(t, "\",\"ident\":\"");
            put_escaped(t, L.ident, true);
            puts_(t, "\",\"pid\":");
            puts_(t, pid);
            puts_(t, ",\"module\":\"");
        } else {
            puts_(t, "\",\"module\":\"");
        }
        put_escaped(t, module, true);
        puts_(t, "\",\"msg\":\"");
        put_escaped(t, message, true);
        puts_(t, "\"}\n");
        return;
    }
    put_time(t);
    char head[4] = { ' ', s_letters[level], ' ', 0 };
    puts_(t, head);
    if (L.ident) {
        put_escaped(t, L.ident, false);
        puts_(t, "[");
        puts_(t, pid);
        puts_(t, "] ");
    }
    put_escaped(t, module, false);
    puts_(t, ": ");
    put_escaped(t, message, false);
    puts_(t, "\n");
}

bool
mu_log_enabled(mu_log_level_t level)
{
    if (!L.ready) {
        lock();
        unlock();
    }
    return level != MU_LOG_QUIET && (int) level <= atomic_load(&L.level);
}

static void
logv(mu_log_level_t level, const char *module, const char *fmt, va_list ap)
{
    assert(fmt && (int) level > MU_LOG_QUIET && level <= MU_LOG_DEBUG);
    if (t_in_log || !mu_log_enabled(level))
        return;
    char small[LINE_STACK];
    char *message = small;
    va_list copy;
    va_copy(copy, ap);
    int need = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (need >= (int) sizeof small) {
        size_t size = (size_t) need < MESSAGE_MAX ? (size_t) need + 1 : MESSAGE_MAX;
        char *big = malloc(size);
        if (big) {
            vsnprintf(big, size, fmt, ap);
            message = big;
        }
    }
    text_t t = { .p = NULL, .len = 0, .cap = LINE_STACK };
    t.p = t.stack;
    t.p[0] = 0;
    lock();
    format_line(&t, level, module ? module : "app", message);
    emit_locked(level, module ? module : "app", message, t.p, t.len);
    unlock();
    if (t.heap)
        free(t.p);
    if (message != small)
        free(message);
}

void
mu_log(mu_log_level_t level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    logv(level, module, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Settings                                                            */

void
mu_log_set_level(mu_log_level_t level)
{
    assert((int) level >= MU_LOG_QUIET && level <= MU_LOG_DEBUG);
    lock();
    atomic_store(&L.level, level);
    unlock();
}

mu_log_level_t
mu_log_level(void)
{
    lock();
    mu_log_level_t level = (mu_log_level_t) atomic_load(&L.level);
    unlock();
    return level;
}

void
mu_log_set_format(mu_log_format_t format)
{
    assert(format == MU_LOG_PLAIN || format == MU_LOG_JSON);
    lock();
    L.format = format;
    unlock();
}

int
mu_log_set_ident(const char *ident)
{
    char *copy = NULL;
    if (ident && *ident && !(copy = strdup(ident)))
        return mu__fail(MU_ENOMEM, "log identity");
    lock();
    free(L.ident);
    L.ident = copy;
    unlock();
    return 0;
}

/*  Switches the destination to fd (own: close it later); under the mutex. */
static void
set_destination(int fd, bool own, mu_log_fn *fn, void *arg)
{
    (void) flush_locked();
    if (L.own_fd)
        close(L.fd);
    L.fd = fd;
    L.own_fd = own;
    L.fn = fn;
    L.fn_arg = arg;
}

int
mu_log_set_fd(int fd)
{
    if (fd < 0)
        return mu__fail(MU_EINVAL, "log fd %d", fd);
    lock();
    set_destination(fd, false, NULL, NULL);
    unlock();
    return 0;
}

int
mu_log_set_file(const char *path)
{
    assert(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return mu__fail(-errno, "log file '%s'", path);
    lock();
    set_destination(fd, true, NULL, NULL);
    unlock();
    return 0;
}

void
mu_log_set_callback(mu_log_fn *fn, void *arg)
{
    lock();
    set_destination(2, false, fn, arg);
    unlock();
}

static void *
flusher_main(void *arg)
{
    (void) arg;
    pthread_mutex_lock(&L.mutex);
    L.flusher_started = true;
    pthread_cond_broadcast(&L.cv);
    while (!L.flusher_stop) {
        int64_t deadline = mu__deadline_ms(L.flush_ms);
        while (!L.flusher_stop && mu__cond_wait_until(&L.cv, &L.mutex, deadline)) {
        }
        (void) flush_locked();
    }
    pthread_mutex_unlock(&L.mutex);
    return NULL;
}

/*  Stops the flusher thread, if any; called without the mutex. */
static void
stop_flusher(void)
{
    pthread_mutex_lock(&L.mutex);
    bool live = L.flusher_live;
    L.flusher_stop = true;
    pthread_cond_broadcast(&L.cv);
    pthread_mutex_unlock(&L.mutex);
    if (live)
        pthread_join(L.flusher, NULL);
    pthread_mutex_lock(&L.mutex);
    L.flusher_live = false;
    L.flusher_stop = false;
    L.flusher_started = false;
    pthread_mutex_unlock(&L.mutex);
}

static void
flush_at_exit(void)
{
    pthread_mutex_lock(&L.mutex);
    (void) flush_locked();
    pthread_mutex_unlock(&L.mutex);
}

int
mu_log_set_buffering(size_t bytes, int flush_ms)
{
    if (bytes != 0 && (bytes < BUFFER_MIN || bytes > BUFFER_MAX))
        return mu__fail(MU_EINVAL, "log buffer of %zu bytes (0, or %d to %u)", bytes, BUFFER_MIN,
                        BUFFER_MAX);
    if (bytes != 0 && flush_ms <= 0)
        return mu__fail(MU_EINVAL, "log flush interval %d ms (must be > 0)", flush_ms);
    char *buf = bytes ? malloc(bytes) : NULL;
    if (bytes && !buf)
        return mu__fail(MU_ENOMEM, "log buffer");
    stop_flusher();
    lock();
    (void) flush_locked();
    free(L.buf);
    L.buf = buf;
    L.cap = bytes;
    L.flush_ms = flush_ms;
    int err = 0;
    if (buf) {
        err = pthread_create(&L.flusher, NULL, flusher_main, NULL);
        L.flusher_live = err == 0;
        /* Return only once the thread runs: a fork right after this call
           (mu_flow_start) must not copy a thread still being set up, whose
           set-up may hold locks of the allocator (ASan's does) that the
           child would then never see released. */
        while (L.flusher_live && !L.flusher_started)
            pthread_cond_wait(&L.cv, &L.mutex);
        if (!L.atexit_set)
            L.atexit_set = atexit(flush_at_exit) == 0;
    }
    unlock();
    return err ? mu__fail(-err, "log flusher thread") : 0;
}

int
mu_log_flush(void)
{
    lock();
    int rc = flush_locked();
    unlock();
    return rc < 0 ? mu__fail(rc, "log flush") : 0;
}

void
mu_log_reset(void)
{
    if (mu_log_set_buffering(0, 0) != 0) {
        /* cannot fail without a buffer */
    }
    lock();
    set_destination(2, false, NULL, NULL);
    atomic_store(&L.level, MU_LOG_INFO);
    L.format = MU_LOG_PLAIN;
    free(L.ident);
    L.ident = NULL;
    unlock();
}
