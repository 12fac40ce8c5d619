/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_cache.c — `mutil cache get URL | stats | purge`: the TTL disk cache
    (mu_dcache) from the shell. The cache file is --db PATH, else
    $XDG_CACHE_HOME/mutil/dcache.db, else ~/.cache/mutil/dcache.db (its
    directories are made when missing). Concurrent invocations wait for
    each other's lock (up to 60 s). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_WAIT_MS 60000
#define DEFAULT_TTL_S 3600

#define CACHE_HELP                                                                  \
    "The cache is one SQLite file: --db PATH, else $XDG_CACHE_HOME/mutil/\n"        \
    "dcache.db, else ~/.cache/mutil/dcache.db. Subcommands may be abbreviated.\n\n" \
    "  get URL [--ttl S]  print URL's body on standard output: from the cache\n"    \
    "                     when fetched less than S seconds ago (default 3600),\n"   \
    "                     else fetched (http:// or https://) and kept for S s;\n"   \
    "                     an HTTP error status, a refused connection or a\n"        \
    "                     timeout is an error and nothing is kept\n"                \
    "  stats              entries, bytes and the size cap\n"                        \
    "  purge              remove the expired entries; prints how many\n\n"          \
    "Options: --db PATH, --max-bytes SIZE (the cap, K/M/G suffixes; kept in the\n"  \
    "file), --timeout S (get: whole transfer, default 30).\n\n"                     \
    "Exit status: 0 ok, 1 runtime error (HTTP error, unreachable, corrupt\n"        \
    "cache file, built without libcurl), 2 bad usage.\n"

typedef struct {
    const char *db;
    uint64_t max_bytes;
    uint64_t ttl_s;
    uint64_t timeout_s;
    const char *url;
    char who[32];
    char path[4096];
} cache_args_t;

/* The default cache file; makes its directories. */
static bool
default_path(cache_args_t *a)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache", home);
    else {
        cli_error(a->who, "no --db, and neither XDG_CACHE_HOME nor HOME is set");
        return false;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        cli_error(a->who, "cannot make %s: %s", dir, strerror(errno));
        return false;
    }
    size_t n = strlen(dir);
    snprintf(dir + n, sizeof dir - n, "/mutil");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        cli_error(a->who, "cannot make %s: %s", dir, strerror(errno));
        return false;
    }
    if ((size_t) snprintf(a->path, sizeof a->path, "%s/dcache.db", dir) >= sizeof a->path) {
        cli_error(a->who, "cache path too long");
        return false;
    }
    return true;
}

static int
usage(const cli_command_t *self, const char *who, const char *what)
{
    cli_error(who, "%s", what);
    cli_print_usage(stderr, "cache", self);
    return CLI_EXIT_USAGE;
}

/* Parses the options and at most one operand (the URL for get). Returns
   CLI_ARGS_OPERAND to go on, else an exit status. */
static int
parse(const cli_command_t *self, int argc, char **argv, cache_args_t *a, bool want_url)
{
    snprintf(a->who, sizeof a->who, "cache %s", self->name);
    a->ttl_s = DEFAULT_TTL_S;
    cli_args_t args;
    const char *word, *val;
    cli_args_init(&args, a->who, argc, argv);
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "cache", self);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND) {
            if (!want_url || a->url)
                return usage(self, a->who, "too many arguments");
            a->url = word;
            continue;
        }
        bool db = cli_args_is(&args, "--db"), ttl = cli_args_is(&args, "--ttl");
        bool cap = cli_args_is(&args, "--max-bytes"), to = cli_args_is(&args, "--timeout");
        if (!db && !ttl && !cap && !to) {
            cli_args_unknown(&args);
            cli_print_usage(stderr, "cache", self);
            return CLI_EXIT_USAGE;
        }
        if (!cli_args_value(&args, &val)) {
            cli_print_usage(stderr, "cache", self);
            return CLI_EXIT_USAGE;
        }
        if (db) {
            a->db = val;
            continue;
        }
        uint64_t *dst = ttl ? &a->ttl_s : cap ? &a->max_bytes : &a->timeout_s;
        if (cli_parse_size(val, dst) != 0 || *dst == 0 || (!cap && *dst > 100000000))
            return usage(self, a->who, "--ttl, --timeout and --max-bytes take a number > 0");
    }
    if (want_url && !a->url)
        return usage(self, a->who, "missing URL");
    if (a->db) {
        snprintf(a->path, sizeof a->path, "%s", a->db);
        return CLI_ARGS_OPERAND;
    }
    return default_path(a) ? CLI_ARGS_OPERAND : CLI_EXIT_FAIL;
}

static mu_dcache_t *
open_cache(cache_args_t *a)
{
    mu_dcache_options_t o = { .size = sizeof o,
                              .max_bytes = a->max_bytes,
                              .lock_timeout_ms = LOCK_WAIT_MS,
                              .fetch_timeout_ms = (int) (a->timeout_s * 1000) };
    mu_dcache_t *c = mu_dcache_open(a->path, &o);
    if (!c)
        cli_error(a->who, "%s", mu_last_error());
    return c;
}

/* parse with no URL, then open_cache: the cache, or NULL with *status the
   exit status to return (CLI_EXIT_OK after --help). */
static mu_dcache_t *
parse_and_open(const cli_command_t *self, int argc, char **argv, cache_args_t *a, int *status)
{
    *status = parse(self, argc, argv, a, false);
    if (*status != CLI_ARGS_OPERAND)
        return NULL;
    mu_dcache_t *c = open_cache(a);
    if (!c)
        *status = CLI_EXIT_FAIL;
    return c;
}

static int
cache_get_run(const cli_command_t *self, int argc, char **argv)
{
    cache_args_t a = { 0 };
    int status = parse(self, argc, argv, &a, true);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (!mu_dcache_can_fetch()) {
        cli_error(a.who, "this mutil was built without libcurl: no HTTP fetch "
                         "(install libcurl4-openssl-dev and rebuild)");
        return CLI_EXIT_FAIL;
    }
    mu_dcache_t *c = open_cache(&a);
    if (!c)
        return CLI_EXIT_FAIL;
    void *body = NULL;
    size_t len = 0;
    int rc = mu_dcache_fetch(c, a.url, (int64_t) a.ttl_s * 1000, &body, &len, NULL);
    if (rc != 0)
        cli_error(a.who, "%s", mu_last_error());
    mu_dcache_destroy(&c);
    if (rc != 0)
        return CLI_EXIT_FAIL;
    bool ok = fwrite(body, 1, len, stdout) == len && fflush(stdout) == 0;
    free(body);
    if (!ok) {
        cli_error(a.who, "writing the body: %s", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int
cache_stats_run(const cli_command_t *self, int argc, char **argv)
{
    cache_args_t a = { 0 };
    int status;
    mu_dcache_t *c = parse_and_open(self, argc, argv, &a, &status);
    if (!c)
        return status;
    mu_dcache_stats_t st = { .size = sizeof st };
    int rc = mu_dcache_stats(c, &st);
    mu_dcache_destroy(&c);
    if (rc != 0) {
        cli_error(a.who, "%s", mu_last_error());
        return CLI_EXIT_FAIL;
    }
    printf("file       %s\nentries    %llu\nbytes      %llu\nmax_bytes  %llu\n", a.path,
           (unsigned long long) st.count, (unsigned long long) st.bytes,
           (unsigned long long) st.max_bytes);
    return CLI_EXIT_OK;
}

static int
cache_purge_run(const cli_command_t *self, int argc, char **argv)
{
    cache_args_t a = { 0 };
    int status;
    mu_dcache_t *c = parse_and_open(self, argc, argv, &a, &status);
    if (!c)
        return status;
    int n = mu_dcache_purge_expired(c);
    if (n < 0)
        cli_error(a.who, "%s", mu_last_error());
    mu_dcache_destroy(&c);
    if (n < 0)
        return CLI_EXIT_FAIL;
    printf("removed %d expired entr%s\n", n, n == 1 ? "y" : "ies");
    return CLI_EXIT_OK;
}

static const cli_command_t cache_get = {
    "get",
    "URL [--ttl S] [--timeout S] [--db PATH] [--max-bytes SIZE]",
    "print URL's body, fetched at most once per TTL",
    NULL,
    cache_get_run,
    NULL
};
static const cli_command_t cache_purge = { "purge", "[--db PATH]",   "remove the expired entries",
                                           NULL,    cache_purge_run, NULL };
static const cli_command_t cache_stats = {
    "stats", "[--db PATH]", "print entries, bytes and the size cap", NULL, cache_stats_run, NULL
};

static const cli_command_t *const cache_subcommands[] = { &cache_get, &cache_purge, &cache_stats };
static const cli_subcommands_t cache_group = CLI_SUBCOMMANDS("cache", cache_subcommands);

static int
cache_run(const cli_command_t *self, int argc, char **argv)
{
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 0, NULL, &status);
    return sub ? sub->run(sub, argc - 1, argv + 1) : status;
}

const cli_command_t cli_cmd_cache = { "cache",
                                      "get URL [--ttl S] [--timeout S] [--db PATH]\n"
                                      "stats [--db PATH]\n"
                                      "purge [--db PATH]",
                                      "a TTL disk cache of HTTP bodies (mu_dcache)",
                                      CACHE_HELP,
                                      cache_run,
                                      &cache_group };
