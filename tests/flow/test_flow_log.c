/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_log.c — the flow's processes log through mu_log: a runner's
    line reaches the file destination set before mu_flow_start, in the JSON
    format set there, with module "flow"; a forked process logs unbuffered
    (its lines are not lost when it ends with _exit), and the parent's
    buffered lines are written once (not again by a child). A runner fed
    nothing but malformed input counts every message as an error but logs
    at most one line a second about it; how many were not logged is said in
    a line once that second is over, or in the next line (function level: a
    runner's take and its tick's report). */
#include "mu_test.h"
#include "mutil.h"
#include "flow_test.h"
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int calls;

/*  One message, then fails (logged by the runner as "source failed"). */
static int
failing_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    if (calls++ == 0) {
        uint64_t id = 1;
        return mu_flow_emit(out, &id, sizeof id) == 0 ? MU_FLOW_MORE : MU_EIO;
    }
    return MU_EINVAL;
}

/*  Logs a line of its own from the runner (an error: flushed at once when
    buffered). */
static int
logging_worker(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) data;
    (void) out;
    mu_log(MU_LOG_ERROR, "test", "handler got %zu bytes", size);
    return 0;
}

/*  Counts the lines of text containing every one of the needles. */
static int
count_lines(const char *text, const char *a, const char *b, const char *c)
{
    int n = 0;
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen(line);
        char *copy = strndup(line, len);
        if (copy && strstr(copy, a) && (!b || strstr(copy, b)) && (!c || strstr(copy, c)))
            n++;
        free(copy);
        line += len + (end ? 1 : 0);
    }
    return n;
}

static void
test_runner_logs_json_to_file(void)
{
    char dir[256], path[300];
    MU_CHECK(mu_test_scratch_dir(dir, sizeof dir, "flowlog"));
    snprintf(path, sizeof path, "%s/log", dir);
    MU_CHECK_EQ(mu_log_set_file(path), 0);
    mu_log_set_format(MU_LOG_JSON);
    mu_log_set_level(MU_LOG_INFO);
    /* buffered in this process, with a flush interval far beyond the test */
    MU_CHECK_EQ(mu_log_set_buffering(65536, 3600000), 0);
    mu_log(MU_LOG_INFO, "test", "parent line before the flow");

    mu_flow_t *f = mu_flow_new("flog");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, failing_source, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 1, NULL, logging_worker, NULL), 0);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    mu_flow_destroy(&f);
    MU_CHECK_EQ(mu_log_flush(), 0);
    mu_log_reset();

    FILE *fp = fopen(path, "r");
    MU_CHECK(fp);
    static char text[65536];
    size_t len = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
    text[len] = 0;
    if (fp)
        fclose(fp);
    /* the runner's own warning, as JSON, module "flow", naming the runner */
    MU_CHECK_EQ(count_lines(text, "\"level\":\"warning\",\"module\":\"flow\"",
                            "mu_flow flog/src/0 (pid ", "source failed"),
                1);
    /* a handler's line from the worker runner */
    MU_CHECK_EQ(count_lines(text, "\"module\":\"test\"", "handler got 8 bytes", NULL), 1);
    /* the parent's buffered line, once: no child wrote it again */
    MU_CHECK_EQ(count_lines(text, "parent line before the flow", NULL, NULL), 1);
    /* every line is a JSON object */
    MU_CHECK_EQ(count_lines(text, "{\"time\":\"", NULL, NULL),
                count_lines(text, "\"}", NULL, NULL));
    if (mu_test_case_failed)
        printf("# log file:\n%s", text);
    mu_test_remove_scratch_dir(dir);
}

static int dropped_lines, dropped_lines_with_count, due_lines;

/*  The log callback: counts the runner's "malformed ... dropped" lines. */
static void
count_dropped(void *arg, mu_log_level_t level, const char *module, const char *message,
              const char *line)
{
    (void) arg;
    (void) level;
    (void) line;
    if (strcmp(module, "flow") == 0 && strstr(message, "malformed batch")) {
        dropped_lines++;
        dropped_lines_with_count += strstr(message, "999 more malformed inputs") != NULL;
    }
    if (strcmp(module, "flow") == 0 && strstr(message, "4 more malformed inputs dropped, not"))
        due_lines++;
}

static int
never_called(mu__runner_t *r, const void *data, size_t size, void *ctx)
{
    (void) r;
    (void) data;
    (void) size;
    (void) ctx;
    return MU_EIO;
}

static void
test_malformed_input_logged_once_a_second(void)
{
    mu_flow_t flow = { .name = "badlog" };
    mu__stage_t stage = { .name = "w", .kind = MU__ST_WORKER };
    mu__runner_t r = { .flow = &flow, .st = &stage, .in_batches = false };
    const uint8_t part[] = { 'B', 1, 0, 0, 0, 'x' }; /* framed, into an input without batches */
    mu_log_level_t level = mu_log_level();
    mu_log_set_level(MU_LOG_WARNING);
    mu_log_set_callback(count_dropped, NULL);
    for (int i = 0; i < 1000; i++)
        (void) mu__runner_take(&r, part, sizeof part, never_called, NULL);
    int within_a_second = dropped_lines;
    /* a second later (the runner's clock, not a sleep: the limit's own
       record of its last line moves back) the next one logs with the count */
    r.bad_input_log.last_ms -= 2 * MU__LOG_INTERVAL_MS;
    (void) mu__runner_take(&r, part, sizeof part, never_called, NULL);
    /* 4 more, then quiet: reported once their second is over */
    for (int i = 0; i < 4; i++)
        (void) mu__runner_take(&r, part, sizeof part, never_called, NULL);
    int64_t last = r.bad_input_log.last_ms;
    mu__runner_log_due(&r, last + MU__LOG_INTERVAL_MS / 2, false); /* not yet */
    int due_early = due_lines;
    mu__runner_log_due(&r, last + MU__LOG_INTERVAL_MS, false);
    mu__runner_log_due(&r, last + 3 * MU__LOG_INTERVAL_MS, true); /* nothing left */
    mu_log_set_callback(NULL, NULL);
    mu_log_set_level(level);
    MU_CHECK_EQ(r.stats.errors, 1005);
    MU_CHECK_EQ(r.stats.in, 0);
    MU_CHECK_EQ(within_a_second, 1);
    MU_CHECK_EQ(dropped_lines, 2);
    MU_CHECK_EQ(dropped_lines_with_count, 1);
    MU_CHECK_EQ(due_early, 0);
    MU_CHECK_EQ(due_lines, 1);
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_runner_logs_json_to_file);
    RUN(test_malformed_input_logged_once_a_second);
    MU_DONE();
}
