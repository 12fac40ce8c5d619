/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_log.c — the process-wide logger: levels, plain and JSON lines
    (escaping), buffering with flush (on demand, when full, on error lines,
    by interval), the callback, a file, threads, the environment. */
#include "mu_test.h"
#include "mutil.h"
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* A callback that keeps the last line                                 */

static struct {
    int count;
    mu_log_level_t level;
    char module[32], message[256], line[1024];
} last;

static void
keep(void *arg, mu_log_level_t level, const char *module, const char *message, const char *line)
{
    (void) arg;
    last.count++;
    last.level = level;
    snprintf(last.module, sizeof last.module, "%s", module);
    snprintf(last.message, sizeof last.message, "%s", message);
    snprintf(last.line, sizeof last.line, "%s", line);
    mu_log(MU_LOG_ERROR, "nested", "dropped, not deadlocked");
}

static void
capture(void)
{
    mu_log_reset();
    memset(&last, 0, sizeof last);
    mu_log_set_callback(keep, NULL);
}

/*  Reads what is waiting on fd (non-blocking after the first poll). */
static size_t
read_ready(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;
    struct pollfd item = { .fd = fd, .events = POLLIN };
    while (len + 1 < cap && poll(&item, 1, len ? 0 : timeout_ms) == 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t) n;
    }
    buf[len] = 0;
    return len;
}

static void
test_levels(void)
{
    capture();
    MU_CHECK_EQ(mu_log_level(), MU_LOG_INFO);
    mu_log(MU_LOG_DEBUG, "t", "hidden");
    MU_CHECK_EQ(last.count, 0);
    mu_log(MU_LOG_INFO, "t", "shown %d", 1);
    MU_CHECK_EQ(last.count, 1); /* the nested line was dropped */
    MU_CHECK_EQ(last.level, MU_LOG_INFO);
    MU_CHECK_EQ(strcmp(last.module, "t"), 0);
    MU_CHECK_EQ(strcmp(last.message, "shown 1"), 0);
    mu_log_set_level(MU_LOG_WARNING);
    MU_CHECK(!mu_log_enabled(MU_LOG_INFO));
    MU_CHECK(mu_log_enabled(MU_LOG_WARNING) && mu_log_enabled(MU_LOG_ERROR));
    mu_log(MU_LOG_INFO, "t", "hidden");
    mu_log(MU_LOG_WARNING, NULL, "w");
    MU_CHECK_EQ(last.count, 2);
    MU_CHECK_EQ(strcmp(last.module, "app"), 0);
    mu_log_set_level(MU_LOG_QUIET);
    mu_log(MU_LOG_ERROR, "t", "hidden");
    MU_CHECK_EQ(last.count, 2);
    MU_CHECK(!mu_log_enabled(MU_LOG_QUIET));
    mu_log_level_t level;
    MU_CHECK_EQ(mu_log_level_parse("DEBUG", &level), 0);
    MU_CHECK_EQ(level, MU_LOG_DEBUG);
    MU_CHECK_EQ(mu_log_level_parse("loud", &level), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "log level 'loud'"));
    mu_log_reset();
}

static void
test_plain_line(void)
{
    capture();
    mu_log(MU_LOG_WARNING, "net", "two\nlines\x01 and\ttab");
    /* 2026-12-04T21:47:29.123Z W net: two\nlines\x01 and<TAB>tab */
    MU_CHECK_EQ(strlen(last.line) > 24 ? last.line[23] : 0, 'Z');
    MU_CHECK_EQ(strcmp(last.line + 24, " W net: two\\nlines\\x01 and\ttab"), 0);
    MU_CHECK_EQ(mu_log_set_ident("app"), 0);
    mu_log(MU_LOG_ERROR, "svc", "x");
    char want[64];
    snprintf(want, sizeof want, " E app[%d] svc: x", (int) getpid());
    MU_CHECK_EQ(strcmp(last.line + 24, want), 0);
    MU_CHECK_EQ(mu_log_set_ident(""), 0);
    mu_log(MU_LOG_ERROR, "svc", "y");
    MU_CHECK_EQ(strcmp(last.line + 24, " E svc: y"), 0);
    mu_log_reset();
}

static void
test_json_escaping(void)
{
    capture();
    mu_log_set_format(MU_LOG_JSON);
    mu_log(MU_LOG_INFO, "co\"dec", "q\"b\\s/n\nc\x01\x7f e\xc3\xa9 bad\xff\xc3 end");
    const char *tail = strstr(last.line, "\",\"level\"");
    MU_CHECK(!strncmp(last.line, "{\"time\":\"", 9) && tail && tail - last.line == 9 + 24);
    MU_CHECK_EQ(strcmp(tail, "\",\"level\":\"info\",\"module\":\"co\\\"dec\","
                             "\"msg\":\"q\\\"b\\\\s/n\\nc\\u0001\\u007f e\xc3\xa9 bad\\ufffd"
                             "\\ufffd end\"}"),
                0);
    MU_CHECK_EQ(strcmp(last.message, "q\"b\\s/n\nc\x01\x7f e\xc3\xa9 bad\xff\xc3 end"), 0);
    MU_CHECK_EQ(mu_log_set_ident("my \"app\""), 0);
    mu_log(MU_LOG_DEBUG, "x", "hidden");
    mu_log(MU_LOG_ERROR, "x", "%s", "");
    char want[128];
    snprintf(want, sizeof want,
             "\",\"level\":\"error\",\"ident\":\"my \\\"app\\\"\",\"pid\":%d,"
             "\"module\":\"x\",\"msg\":\"\"}",
             (int) getpid());
    tail = strstr(last.line, "\",\"level\"");
    MU_CHECK(tail && !strcmp(tail, want));
    mu_log_reset();
}

/*  A message over the stack buffer, and one over the 64 KiB cap. */
static void
test_long_message(void)
{
    capture();
    mu_log_set_callback(NULL, NULL); /* back to fd 2 */
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    MU_CHECK_EQ(mu_log_set_fd(fds[1]), 0);
    char *big = malloc(3000);
    MU_CHECK(big);
    memset(big, 'a', 2999);
    big[2999] = 0;
    mu_log(MU_LOG_INFO, "t", "%s!", big);
    char buf[8192];
    size_t n = read_ready(fds[0], buf, sizeof buf, 5000);
    MU_CHECK(n > 3000 && buf[n - 1] == '\n' && buf[n - 2] == '!');
    free(big);
    MU_CHECK_EQ(mu_log_set_fd(-1), MU_EINVAL);
    mu_log_reset();
    close(fds[0]);
    close(fds[1]);
}

static void
test_buffering_and_flush(void)
{
    mu_log_reset();
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    MU_CHECK_EQ(mu_log_set_fd(fds[1]), 0);
    MU_CHECK_EQ(mu_log_set_buffering(4096, 600000), 0); /* no interval flush here */
    mu_log(MU_LOG_INFO, "t", "one");
    mu_log(MU_LOG_WARNING, "t", "two");
    char buf[8192];
    MU_CHECK_EQ(read_ready(fds[0], buf, sizeof buf, 0), 0); /* held */
    MU_CHECK_EQ(mu_log_flush(), 0);
    MU_CHECK(read_ready(fds[0], buf, sizeof buf, 0) > 0);
    MU_CHECK(strstr(buf, " I t: one\n") && strstr(buf, " W t: two\n"));
    /* an error line flushes what is held, and itself */
    mu_log(MU_LOG_INFO, "t", "three");
    mu_log(MU_LOG_ERROR, "t", "four");
    read_ready(fds[0], buf, sizeof buf, 0);
    MU_CHECK(strstr(buf, "three\n") && strstr(buf, "four\n"));
    /* a full buffer is written out */
    MU_CHECK_EQ(mu_log_set_buffering(256, 600000), 0);
    for (int i = 0; i < 10; i++)
        mu_log(MU_LOG_INFO, "t", "line %d of a buffer that fills", i);
    MU_CHECK(read_ready(fds[0], buf, sizeof buf, 0) > 0);
    MU_CHECK(strstr(buf, "line 0 of"));
    MU_CHECK_EQ(mu_log_flush(), 0);
    read_ready(fds[0], buf, sizeof buf, 0);
    MU_CHECK(strstr(buf, "line 9 of"));
    /* the flusher writes within its interval, with no other call */
    MU_CHECK_EQ(mu_log_set_buffering(4096, 20), 0);
    mu_log(MU_LOG_INFO, "t", "by interval");
    MU_CHECK(read_ready(fds[0], buf, sizeof buf, 5000) > 0);
    MU_CHECK(strstr(buf, "by interval\n"));
    /* bad settings */
    MU_CHECK_EQ(mu_log_set_buffering(100, 20), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "log buffer of 100 bytes"));
    MU_CHECK_EQ(mu_log_set_buffering(4096, 0), MU_EINVAL);
    mu_log_reset(); /* flushes and stops the flusher */
    close(fds[0]);
    close(fds[1]);
}

typedef struct {
    int index;
} writer_t;

static void *
writer(void *arg)
{
    writer_t *w = arg;
    for (int i = 0; i < 200; i++)
        mu_log(MU_LOG_INFO, "thr", "writer %d line %03d end", w->index, i);
    return NULL;
}

/*  Four threads into one buffered file: every line whole. */
static void
test_file_and_threads(void)
{
    char dir[256], path[300];
    MU_CHECK(mu_test_scratch_dir(dir, sizeof dir, "log"));
    snprintf(path, sizeof path, "%s/nope/x.log", dir);
    MU_CHECK_EQ(mu_log_set_file(path), -ENOENT);
    MU_CHECK(strstr(mu_last_error(), "nope/x.log"));
    snprintf(path, sizeof path, "%s/x.log", dir);
    mu_log_reset();
    MU_CHECK_EQ(mu_log_set_file(path), 0);
    MU_CHECK_EQ(mu_log_set_buffering(1024, 10), 0);
    pthread_t threads[4];
    writer_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i].index = i;
        MU_CHECK_EQ(pthread_create(&threads[i], NULL, writer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    mu_log_reset(); /* flushes, closes the file */
    FILE *f = fopen(path, "r");
    MU_CHECK(f);
    char line[256];
    int whole = 0, lines = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        whole += strstr(line, " I thr: writer ") && strstr(line, " end\n") ? 1 : 0;
    }
    if (f)
        fclose(f);
    MU_CHECK_EQ(lines, 800);
    MU_CHECK_EQ(whole, 800);
    mu_test_remove_scratch_dir(dir);
}

/*  Child: the environment sets the defaults at the first call. */
static void
env_child(void)
{
    setenv("MU_LOG_LEVEL", "debug", 1);
    setenv("MU_LOG_FORMAT", "json", 1);
    bool ok = mu_log_level() == MU_LOG_DEBUG;
    mu_log_set_callback(keep, NULL);
    mu_log(MU_LOG_DEBUG, "env", "d");
    ok = ok && last.count == 1 && !strncmp(last.line, "{\"time\"", 7);
    mu_log_set_level(MU_LOG_ERROR); /* a setter wins */
    ok = ok && mu_log_level() == MU_LOG_ERROR;
    _exit(ok ? 0 : 1);
}

static void
test_environment(void)
{
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0)
        env_child();
    int status = 0;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_environment); /* first: before this process logs */
    MU_RUN(test_levels);
    MU_RUN(test_plain_line);
    MU_RUN(test_json_escaping);
    MU_RUN(test_long_message);
    MU_RUN(test_buffering_and_flush);
    MU_RUN(test_file_and_threads);
    MU_DONE();
}
