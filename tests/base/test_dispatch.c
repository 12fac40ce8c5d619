/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_dispatch.c — include/mu_dispatch.h (unique-prefix lookup, the
    messages, usage/help/list text) and include/mu_table.h (alignment,
    fitting, caption, repeated headers, every error). */
#include "mu_test.h"
#include "mutil.h"

static int
run_nothing(const mu_cmd_t *self, int argc, char **argv)
{
    (void) self, (void) argc, (void) argv;
    return 0;
}

static const mu_cmd_t c_get = { "get", "<key>", "read a key", NULL, run_nothing, NULL };
static const mu_cmd_t c_getall = { "getall", "", "read every key", NULL, run_nothing, NULL };
static const mu_cmd_t c_put = { "put",         "<key> <value>\n--file <path>",
                                "write a key", "Writes one key.\nSecond line.\n",
                                run_nothing,   NULL };
static const mu_cmd_t c_prune = { "prune", "", "", NULL, run_nothing, NULL };
static const mu_cmd_t *const table[] = { &c_get, &c_getall, &c_put, &c_prune };
static const mu_cmd_table_t subs = MU_CMD_TABLE("store DIR", table);
#define N (sizeof table / sizeof *table)

/* Output written by fn into a memory stream, compared to want. */
static bool
text_is(char *buf, size_t size, const char *want)
{
    if (strcmp(buf, want) == 0)
        return true;
    printf("# got:\n%s# want:\n%s", buf, want);
    (void) size;
    return false;
}

static void
test_find(void)
{
    MU_CHECK_EQ(subs.n, 4);
    MU_CHECK_EQ(mu_cmd_find("get", table, N), 0);  /* exact wins over getall */
    MU_CHECK_EQ(mu_cmd_find("geta", table, N), 1); /* unique prefix */
    MU_CHECK_EQ(mu_cmd_find("pu", table, N), 2);
    MU_CHECK_EQ(mu_cmd_find("g", table, N), MU_CMD_AMBIGUOUS);
    MU_CHECK_EQ(mu_cmd_find("p", table, N), MU_CMD_AMBIGUOUS);
    MU_CHECK_EQ(mu_cmd_find("x", table, N), MU_CMD_NONE);
    MU_CHECK_EQ(mu_cmd_find("gets", table, N), MU_CMD_NONE);
    MU_CHECK_EQ(mu_cmd_find("", table, N), MU_CMD_NONE);
    MU_CHECK_EQ(mu_cmd_find(NULL, table, N), MU_CMD_NONE);
    MU_CHECK_EQ(mu_cmd_find("get", NULL, 0), MU_CMD_NONE);
    MU_CHECK(MU_CMD_NONE < 0 && MU_CMD_AMBIGUOUS < 0 && MU_CMD_NONE != MU_CMD_AMBIGUOUS);
}

static void
test_resolve_messages(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *err = open_memstream(&buf, &size);
    MU_CHECK(err);
    MU_CHECK(mu_cmd_resolve(err, "tool", "store", "subcommand", "getal", table, N) == &c_getall);
    MU_CHECK(mu_cmd_resolve(err, "tool", "store", "subcommand", "p", table, N) == NULL);
    MU_CHECK(mu_cmd_resolve(err, "tool", "", "command", "zz", table, N) == NULL);
    fclose(err);
    bool ok = text_is(buf, size,
                      "tool store: 'p' is ambiguous: candidates put, prune\n"
                      "tool: unknown command 'zz'\n"
                      "run 'tool help' for the list of commands\n");
    free(buf);
    MU_CHECK(ok);
}

static void
test_usage_help_list(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    MU_CHECK(out);
    mu_cmd_print_usage(out, "tool", "", &c_prune);
    mu_cmd_print_help(out, "tool", subs.path, &c_put);
    mu_cmd_print_help(out, "tool", "", &c_get);
    mu_cmd_print_list(out, table, N);
    fclose(out);
    bool ok = text_is(buf, size,
                      "usage: tool prune\n"
                      "usage: tool store DIR put <key> <value>\n"
                      "       tool store DIR put --file <path>\n"
                      "\nWrite a key.\n"
                      "\nWrites one key.\nSecond line.\n"
                      "usage: tool get <key>\n"
                      "\nRead a key.\n"
                      "  get     read a key\n"
                      "  getall  read every key\n"
                      "  put     write a key\n"
                      "  prune   \n");
    free(buf);
    MU_CHECK(ok);
}

/* Prints t at width into a string (caller frees). */
static char *
printed(const mu_table_t *t, size_t width)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (!out)
        return NULL;
    int rc = mu_table_print(t, out, width);
    fclose(out);
    if (rc != 0)
        printf("# mu_table_print: %d\n", rc);
    return buf;
}

static void
test_table_layout(void)
{
    const char *head[] = { "name", "count", "note" };
    mu_table_t *t = mu_table_new(3, head);
    MU_CHECK(t);
    MU_CHECK_EQ(mu_table_rows(t), 0);
    const char *row[] = { "alpha", "7", NULL };
    MU_CHECK_EQ(mu_table_add(t, row), 0);
    MU_CHECK_EQ(mu_table_addf(t, "%s\t%d\t%s", "b", 12345, "a rather long note"), 0);
    MU_CHECK_EQ(mu_table_rows(t), 2);
    char *s = printed(t, 200);
    bool ok = s
              && text_is(s, 0,
                         "name   count  note\n"
                         "--------------------------------\n"
                         "alpha      7  \n"
                         "b      12345  a rather long note\n");
    free(s);
    MU_CHECK(ok);
    s = printed(t, 24); /* the widest column narrowed, cut with ~ */
    ok = s
         && text_is(s, 0,
                    "name   count  note\n"
                    "------------------------\n"
                    "alpha      7  \n"
                    "b      12345  a rather ~\n");
    free(s);
    MU_CHECK(ok);
    mu_table_destroy(&t);
    MU_CHECK(t == NULL);
}

static void
test_table_caption_repeat(void)
{
    const char *head[] = { "k", "v" };
    mu_table_t *t = mu_table_new(2, head);
    MU_CHECK(t);
    MU_CHECK_EQ(mu_table_set_caption(t, "five rows"), 0);
    mu_table_set_repeat(t, 2);
    for (int i = 1; i <= 5; i++)
        MU_CHECK_EQ(mu_table_addf(t, "r%d\t%d", i, i * 10), 0);
    char *s = printed(t, 0); /* a memory stream: no terminal, no limit */
    bool ok = s
              && text_is(s, 0,
                         "five rows\n"
                         "k    v\n------\nr1  10\nr2  20\n"
                         "k    v\n------\nr3  30\nr4  40\n"
                         "k    v\n------\nr5  50\n");
    free(s);
    MU_CHECK(ok);
    MU_CHECK_EQ(mu_table_set_caption(t, "a caption longer than the width"), 0);
    mu_table_set_repeat(t, 0);
    s = printed(t, 8);
    ok = s && strncmp(s, "a capti~\nk    v\n------\nr1  10\n", 30) == 0;
    free(s);
    MU_CHECK(ok);
    MU_CHECK_EQ(mu_table_set_caption(t, NULL), 0);
    s = printed(t, 0);
    ok = s && strncmp(s, "k    v\n", 7) == 0;
    free(s);
    MU_CHECK(ok);
    mu_table_destroy(&t);
}

static void
test_table_errors(void)
{
    const char *head[] = { "a", "b" };
    errno = 0;
    MU_CHECK(mu_table_new(0, head) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK(mu_table_new(MU_TABLE_MAX_COLUMNS + 1, head) == NULL);
    MU_CHECK_EQ(mu_last_code(), MU_EINVAL);
    MU_CHECK(mu_table_new(2, NULL) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    mu_table_t *t = mu_table_new(2, head);
    MU_CHECK(t);
    MU_CHECK_EQ(mu_table_addf(t, "only one"), MU_EINVAL);
    MU_CHECK_EQ(mu_table_addf(t, "1\t2\t3"), MU_EINVAL);
    MU_CHECK_EQ(mu_table_rows(t), 0);
    MU_CHECK_EQ(mu_table_addf(t, "1\t"), 0); /* an empty last cell counts */
    MU_CHECK_EQ(mu_table_rows(t), 1);
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        setvbuf(full, NULL, _IONBF, 0);
        MU_CHECK_EQ(mu_table_print(t, full, 80), MU_EIO);
        fclose(full);
    }
    int p[2];
    MU_CHECK(pipe(p) == 0);
    MU_CHECK_EQ(mu_terminal_width(p[1]), 0);
    MU_CHECK_EQ(mu_terminal_width(-1), 0);
    close(p[0]);
    close(p[1]);
    mu_table_destroy(&t);
    mu_table_destroy(&t);
    mu_table_destroy(NULL);
}

int
main(void)
{
    mu_test_start(30);
    MU_RUN(test_find);
    MU_RUN(test_resolve_messages);
    MU_RUN(test_usage_help_list);
    MU_RUN(test_table_layout);
    MU_RUN(test_table_caption_repeat);
    MU_RUN(test_table_errors);
    MU_DONE();
}
