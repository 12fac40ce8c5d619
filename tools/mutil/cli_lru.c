/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_lru.c — `mutil lru DIR NAME SUBCOMMAND ...`: create, inspect and
    change a persistent mu_lru (the file DIR/NAME.lru).

    Subcommands that only read (stats, list, evict --dry-run) open the LRU
    with MU_LRU_READONLY, so they work while a service holds it, and show
    its last flushed state. The others take the writer's lock and fail with
    a clear message when another process holds it. Keys are given and shown
    as text; bytes outside printable ASCII are shown as \xNN. */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LRU_HELP                                                                  \
    "DIR/NAME.lru is an SQLite database (schema in mu_lru.h). Subcommands may\n"  \
    "be abbreviated. Sizes and capacities take the suffixes K, M, G, T (powers\n" \
    "of 1024).\n\n"                                                               \
    "  create CAPACITY [LEVELS]  create the LRU (LEVELS 1..64, default 4)\n"      \
    "  add KEY SIZE              record an access: a hit promotes KEY, a new\n"   \
    "                            key enters level 0; prints 'hit' or 'new'\n"     \
    "  delete KEY                forget KEY\n"                                    \
    "  resize CAPACITY           change the capacity (levels re-divided)\n"       \
    "  stats                     per-level keys, size and capacity; hits,\n"      \
    "                            misses, evictions\n"                             \
    "  list                      every key: top level first, head to tail\n"      \
    "                            (the last line is evicted first)\n"              \
    "  evict [--dry-run]         remove keys from level 0's tail until the\n"     \
    "                            total fits the capacity; prints them\n\n"        \
    "Exit status: 0 ok, 1 runtime error (no such LRU, in use, I/O), 2 bad\n"      \
    "usage.\n"

typedef struct {
    const char *dir, *name;
    char who[160];
    unsigned flags; /* the subcommand's flags given (bit 0: the first) */
} lru_target_t;

/* The target of the running subcommand (set by lru_run). */
static lru_target_t target;

static int
usage_failure(const cli_command_t *sub)
{
    cli_print_usage(stderr, "lru DIR NAME", sub);
    return CLI_EXIT_USAGE;
}

/*  A subcommand got the wrong number of arguments. */
static int
count_failure(const cli_command_t *sub)
{
    cli_error(target.who, "wrong number of arguments");
    cli_print_usage(stderr, "lru DIR NAME", sub);
    return CLI_EXIT_USAGE;
}

/*  mu_strerror, naming the limit for MU_EFBIG (a write past `ulimit -f`). */
static const char *
lru_strerror(int rc)
{
    return rc == MU_EFBIG ? "file too large: the file size limit (ulimit -f) is reached"
                          : mu_strerror(rc);
}

/*  Opens the target; prints why on failure. */
static mu_lru_t *
open_target(int flags, uint64_t capacity, int levels)
{
    mu_lru_t *lru = mu_lru_open(target.dir, target.name, capacity, levels, flags);
    if (lru != NULL)
        return lru;
    int err = errno;
    if (err == ENOENT)
        cli_error(target.who, "no such LRU (create it with 'mutil lru %s %s create CAPACITY')",
                  target.dir, target.name);
    else if (err == EAGAIN)
        cli_error(target.who, "in use by another process (it holds the writer's lock)");
    else if (err == EEXIST)
        cli_error(target.who, "exists with other parameters");
    else if (err == EINVAL)
        cli_error(target.who, "invalid name or parameters (names: 1-128 of A-Z a-z 0-9 . _ -, "
                              "not starting with '.')");
    else
        cli_error(target.who, "cannot open: %s", lru_strerror(mu_last_code()));
    return NULL;
}

/*  Closes the target, flushing first; returns status, or CLI_EXIT_FAIL when
    the flush fails. */
static int
close_target(mu_lru_t **lru_p, int status)
{
    int rc = mu_lru_flush(*lru_p);
    if (rc != 0) {
        cli_error(target.who, "writing changes: %s", lru_strerror(rc));
        status = CLI_EXIT_FAIL;
    }
    mu_lru_destroy(lru_p);
    return status;
}

/*  Parses a size argument; prints why on failure. */
static bool
parse_number(const char *what, const char *text, uint64_t *value_p)
{
    if (cli_parse_size(text, value_p) == 0)
        return true;
    cli_error(target.who, "%s must be a number such as 100 or 64M, not '%s'", what, text);
    return false;
}

/*  The start of add and resize: checks that there are want operands,
    parses text as the number `what` (at least min, at most INT64_MAX when
    capped) and opens the target. Returns the LRU, or NULL with the exit
    status in *status. */
static mu_lru_t *
open_with_number(const cli_command_t *self, int argc, int want, const char *what, const char *text,
                 bool capped, uint64_t *value_p, int *status)
{
    *status = CLI_EXIT_FAIL;
    if (argc != want) {
        *status = count_failure(self);
        return NULL;
    }
    if (!parse_number(what, text, value_p)) {
        *status = usage_failure(self);
        return NULL;
    }
    if (capped && (*value_p == 0 || *value_p > INT64_MAX)) {
        cli_error(target.who, "%s must be 1..2^63-1", what);
        *status = usage_failure(self);
        return NULL;
    }
    return open_target(0, 0, 0);
}

/*  Writes key to buf as text, escaping bytes outside printable ASCII. */
static const char *
show_key(const void *key, size_t len, char *buf, size_t cap)
{
    const unsigned char *p = key;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            buf[o++] = (char) p[i];
        else
            o += (size_t) snprintf(buf + o, cap - o, "\\x%02x", p[i]);
    }
    buf[o] = '\0';
    return buf;
}

/* ---- create, add, delete, resize ---------------------------------------- */

static int
lru_create_run(const cli_command_t *self, int argc, char **argv)
{
    uint64_t capacity, levels = MU_LRU_LEVELS_DEFAULT;
    if (argc < 1 || argc > 2)
        return count_failure(self);
    if (!parse_number("CAPACITY", argv[0], &capacity)
        || (argc == 2 && !parse_number("LEVELS", argv[1], &levels)))
        return usage_failure(self);
    if (capacity == 0 || capacity > INT64_MAX || levels < 1 || levels > MU_LRU_MAX_LEVELS) {
        cli_error(target.who, "CAPACITY must be 1..2^63-1 and LEVELS 1..%d", MU_LRU_MAX_LEVELS);
        return usage_failure(self);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.lru", target.dir, target.name);
    if (access(path, F_OK) == 0) {
        cli_error(target.who, "already exists");
        return CLI_EXIT_FAIL;
    }
    mu_lru_t *lru = open_target(MU_LRU_CREATE, capacity, (int) levels);
    if (lru == NULL)
        return CLI_EXIT_FAIL;
    printf("created %s with capacity %llu in %d levels\n", path, (unsigned long long) capacity,
           mu_lru_levels(lru));
    return close_target(&lru, CLI_EXIT_OK);
}

static int
lru_add_run(const cli_command_t *self, int argc, char **argv)
{
    uint64_t size;
    int status;
    mu_lru_t *lru = open_with_number(self, argc, 2, "SIZE", argc == 2 ? argv[1] : "", false, &size,
                                     &status);
    if (lru == NULL)
        return status;
    int rc = mu_lru_increment(lru, argv[0], strlen(argv[0]), size);
    if (rc < 0) {
        cli_error(target.who, "adding '%s': %s", argv[0], lru_strerror(rc));
        return close_target(&lru, CLI_EXIT_FAIL);
    }
    int level = 0;
    if (mu_lru_peek(lru, argv[0], strlen(argv[0]), NULL, &level) != 0)
        level = -1; /* cannot happen: the key was just added */
    uint64_t over = mu_lru_over(lru);
    printf("%s, level %d", rc == 1 ? "hit" : "new", level);
    if (over > 0)
        printf("; %llu over capacity (run evict)", (unsigned long long) over);
    printf("\n");
    return close_target(&lru, CLI_EXIT_OK);
}

static int
lru_delete_run(const cli_command_t *self, int argc, char **argv)
{
    if (argc != 1)
        return count_failure(self);
    mu_lru_t *lru = open_target(0, 0, 0);
    if (lru == NULL)
        return CLI_EXIT_FAIL;
    int rc = mu_lru_delete(lru, argv[0], strlen(argv[0]));
    if (rc != 0)
        cli_error(target.who, "deleting '%s': %s", argv[0],
                  rc == MU_ENOENT ? "no such key" : lru_strerror(rc));
    return close_target(&lru, rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL);
}

static int
lru_resize_run(const cli_command_t *self, int argc, char **argv)
{
    uint64_t capacity;
    int status;
    mu_lru_t *lru = open_with_number(self, argc, 1, "CAPACITY", argc == 1 ? argv[0] : "", true,
                                     &capacity, &status);
    if (lru == NULL)
        return status;
    int rc = mu_lru_resize(lru, capacity);
    if (rc != 0) {
        cli_error(target.who, "resize: %s", lru_strerror(rc));
        return close_target(&lru, CLI_EXIT_FAIL);
    }
    printf("capacity %llu; %llu over capacity\n", (unsigned long long) capacity,
           (unsigned long long) mu_lru_over(lru));
    return close_target(&lru, CLI_EXIT_OK);
}

/* ---- stats, list, evict ---------------------------------------------------- */

static int
print_stats(mu_lru_t *lru)
{
    static const char *const headers[] = { "level", "keys", "size", "capacity", "used%" };
    mu_lru_stats_t st = { .size = sizeof st };
    int rc = mu_lru_stats(lru, &st);
    cli_table_t *t = rc == 0 ? cli_table_new(5, headers) : NULL;
    if (rc == 0 && t == NULL)
        rc = MU_ENOMEM;
    for (int lv = st.levels - 1; lv >= -1 && rc == 0; lv--) {
        uint64_t count = lv < 0 ? st.count : st.level_count[lv];
        uint64_t size = lv < 0 ? st.total : st.level_total[lv];
        uint64_t cap = lv < 0 ? st.capacity : st.level_capacity[lv];
        char level[16];
        snprintf(level, sizeof level, lv < 0 ? "total" : "%d", lv);
        rc = cli_table_addf(t, "%s\t%llu\t%llu\t%llu\t%.1f", level, (unsigned long long) count,
                            (unsigned long long) size, (unsigned long long) cap,
                            cap ? 100.0 * (double) size / (double) cap : 0.0);
    }
    if (rc == 0)
        cli_table_print(t, stdout, 0);
    cli_table_destroy(&t);
    if (rc != 0)
        return rc;
    printf("\nhits %llu, misses %llu, hit ratio %.3f, evictions %llu\n",
           (unsigned long long) st.hits, (unsigned long long) st.misses,
           st.hits + st.misses ? (double) st.hits / (double) (st.hits + st.misses) : 0.0,
           (unsigned long long) st.evictions);
    return 0;
}

/*  The body of stats and list: checks that there are no operands, opens
    the target read-only, runs show on it (0 or an error code, which is
    printed) and closes it. Returns the exit status. */
static int
run_readonly(const cli_command_t *self, int argc, int (*show)(mu_lru_t *lru))
{
    if (argc != 0)
        return count_failure(self);
    mu_lru_t *lru = open_target(MU_LRU_READONLY, 0, 0);
    if (lru == NULL)
        return CLI_EXIT_FAIL;
    int rc = show(lru);
    if (rc != 0)
        cli_error(target.who, "%s", lru_strerror(rc));
    mu_lru_destroy(&lru);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int
lru_stats_run(const cli_command_t *self, int argc, char **argv)
{
    (void) argv;
    return run_readonly(self, argc, print_stats);
}

typedef struct {
    cli_table_t *table;
    int rc;
    int level;
    uint64_t position;
} rows_t;

static int
list_row(void *arg, const void *key, size_t len, uint64_t size, int level)
{
    rows_t *rows = arg;
    char text[512];
    if (level != rows->level) {
        rows->level = level;
        rows->position = 0;
    }
    rows->rc = cli_table_addf(rows->table, "%d\t%llu\t%llu\t%s", level,
                              (unsigned long long) rows->position++, (unsigned long long) size,
                              show_key(key, len, text, sizeof text));
    return rows->rc;
}

/*  Prints every entry, level by level. Returns 0 or an error code. */
static int
print_list(mu_lru_t *lru)
{
    static const char *const headers[] = { "level", "pos", "size", "key" };
    rows_t rows = { cli_table_new(4, headers), 0, -1, 0 };
    if (rows.table == NULL)
        rows.rc = MU_ENOMEM;
    else
        (void) mu_lru_foreach(lru, list_row, &rows);
    if (rows.rc == 0)
        cli_table_print(rows.table, stdout, 0);
    cli_table_destroy(&rows.table);
    return rows.rc;
}

static int
lru_list_run(const cli_command_t *self, int argc, char **argv)
{
    (void) argv;
    return run_readonly(self, argc, print_list);
}

typedef struct {
    cli_table_t *table;
    int rc;
    uint64_t size;
} evicted_rows_t;

static void
evict_row(void *arg, const void *key, size_t len, uint64_t size)
{
    evicted_rows_t *rows = arg;
    char text[512];
    rows->size += size;
    if (rows->rc == 0)
        rows->rc = cli_table_addf(rows->table, "%llu\t%s", (unsigned long long) size,
                                  show_key(key, len, text, sizeof text));
}

static int
lru_evict_run(const cli_command_t *self, int argc, char **argv)
{
    static const char *const headers[] = { "size", "key" };
    bool dry = target.flags & 1; /* --dry-run */
    if (argc != 0) {
        cli_error(target.who, "unexpected argument '%s'", argv[0]);
        return usage_failure(self);
    }
    mu_lru_t *lru = open_target(dry ? MU_LRU_READONLY : 0, 0, 0);
    if (lru == NULL)
        return CLI_EXIT_FAIL;
    evicted_rows_t rows = { cli_table_new(2, headers), 0, 0 };
    int n = rows.table ? mu_lru_evict(lru, dry ? MU_LRU_DRY_RUN : 0, evict_row, &rows) : MU_ENOMEM;
    int rc = n < 0 ? n : rows.rc;
    if (rc == 0) {
        if (n > 0)
            cli_table_print(rows.table, stdout, 0);
        printf("%s%d key(s), %llu size units%s\n", n > 0 ? "\n" : "", n,
               (unsigned long long) rows.size, dry ? " would be evicted (dry run)" : " evicted");
    } else {
        cli_error(target.who, "evict: %s", lru_strerror(rc));
    }
    cli_table_destroy(&rows.table);
    if (dry) {
        mu_lru_destroy(&lru);
        return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    return close_target(&lru, rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL);
}

/* ---- the command ----------------------------------------------------------- */

static const cli_command_t lru_add = { "add", "KEY SIZE",  "record an access to KEY of SIZE units",
                                       NULL,  lru_add_run, NULL };
static const cli_command_t lru_create = { "create", "CAPACITY [LEVELS]", "create the LRU",
                                          NULL,     lru_create_run,      NULL };
static const cli_command_t lru_delete = {
    "delete", "KEY", "forget KEY", NULL, lru_delete_run, NULL
};
static const cli_command_t lru_evict = {
    "evict", "[--dry-run]", "evict from level 0's tail until the LRU fits; print the keys",
    NULL,    lru_evict_run, NULL
};
static const cli_command_t lru_list = {
    "list", "", "print every key by level, head to tail", NULL, lru_list_run, NULL
};
static const cli_command_t lru_resize = { "resize", "CAPACITY",     "change the capacity",
                                          NULL,     lru_resize_run, NULL };
static const cli_command_t lru_stats = {
    "stats",       "",  "print per-level keys, sizes and capacities, hits and misses", NULL,
    lru_stats_run, NULL
};

static const cli_command_t *const lru_subcommands[] = { &lru_add,   &lru_create, &lru_delete,
                                                        &lru_evict, &lru_list,   &lru_resize,
                                                        &lru_stats };
static const cli_subcommands_t lru_group = CLI_SUBCOMMANDS("lru DIR NAME", lru_subcommands);

/*  `mutil lru DIR NAME SUBCOMMAND ...`: the subcommand gets its operands;
    its flags (evict --dry-run) are in target.flags. */
static int
lru_run(const cli_command_t *self, int argc, char **argv)
{
    static const char *const evict_flags[] = { "--dry-run", NULL };
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 2, "DIR and NAME", &status);
    if (sub == NULL)
        return status;
    target.dir = argv[0];
    target.name = argv[1];
    snprintf(target.who, sizeof target.who, "lru %s", sub->name);
    argc -= 3;
    argv += 3;
    status = cli_args_split(sub, lru_group.path, target.who, &argc, argv,
                            sub == &lru_evict ? evict_flags : NULL, &target.flags);
    return status == CLI_ARGS_OPERAND ? sub->run(sub, argc, argv) : status;
}

const cli_command_t cli_cmd_lru = { "lru",
                                    "DIR NAME create CAPACITY [LEVELS]\n"
                                    "DIR NAME add KEY SIZE\n"
                                    "DIR NAME delete KEY\n"
                                    "DIR NAME resize CAPACITY\n"
                                    "DIR NAME stats\n"
                                    "DIR NAME list\n"
                                    "DIR NAME evict [--dry-run]",
                                    "inspect and change a persistent segmented LRU (S4LRU)",
                                    LRU_HELP,
                                    lru_run,
                                    &lru_group };
