/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_shard.c — `mutil shard DIR create|info|set|get|delete|len|prune|check`:
    look at and change a mu_shard store from the shell.

    Keys are written as their elements separated by commas, each read by
    the type the store declares for its position: int in decimal, str as
    text ("\," is a comma and "\\" a backslash inside it), bytes as hex
    digits. Values: set stores its text argument as a MessagePack str, with
    --json the MessagePack of the JSON it holds (mu_json), with --hex the
    hex-given MessagePack bytes as they are; get prints a str value as its
    text and any other value as JSON (mu_json's mapping, integer map keys as
    text), with --json every value as JSON that set --json takes back, with
    --hex the MessagePack bytes in hex. */
#include "cli.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SHARD_HELP                                                                  \
    "DIR is the store's directory; the subcommands other than create open an\n"     \
    "existing store with its recorded parameters. Subcommands may be\n"             \
    "abbreviated (shard DIR g).\n\n"                                                \
    "create makes a store: --k elements per key, --shards files, --types the\n"     \
    "type of each element (int, str or bytes, comma-separated), --shardidx the\n"   \
    "element whose hash picks the shard (default 0), --codec zstd (default),\n"     \
    "zlib or none. Creating a store that exists with the same parameters is\n"      \
    "not an error; other parameters are.\n\n"                                       \
    "KEY is the key's elements separated by commas, read by the types of the\n"     \
    "store: int in decimal, str as text (\\, for a comma, \\\\ for a\n"             \
    "backslash), bytes as hex digits (an empty element is an empty str or\n"        \
    "bytes). set stores VALUE as a MessagePack str; with --json VALUE is JSON,\n"   \
    "stored as MessagePack (bin as {\"$bin\": base64}, see doc/json.md), and\n"     \
    "bad JSON stores nothing (exit 2); with --hex VALUE is hex of MessagePack\n"    \
    "bytes, stored as they are after a check. get prints a str value as its\n"      \
    "text and other values as JSON; with --json every value as JSON (a str as\n"    \
    "a JSON string), the form set --json takes back; with --hex the stored\n"       \
    "MessagePack bytes in hex.\n\n"                                                 \
    "len prints the entries of each shard and the size of its files; info the\n"    \
    "store's parameters; prune ELEM LO HI deletes every entry whose element\n"      \
    "number ELEM (from 0) lies in [LO, HI] (\"-\" leaves a side open) and prints\n" \
    "how many; check runs SQLite's integrity_check on every shard.\n\n"             \
    "Exit status: 0 ok, 1 runtime error (no such key, corrupt value, a store\n"     \
    "with other parameters), 2 bad usage.\n"

/*  What every subcommand gets: the command word path for messages, the
    store's directory and the arguments after the subcommand. */
typedef struct {
    const char *dir;
    char who[48];
    unsigned flags; /* the subcommand's flags given (set, get: S_HEX, S_JSON) */
} shard_ctx_t;

static shard_ctx_t ctx;

#define S_HEX 1u  /* --hex */
#define S_JSON 2u /* --json */

static int
usage(const cli_command_t *sub, const char *fmt, const char *arg)
{
    cli_error(ctx.who, fmt, arg);
    cli_print_usage(stderr, "shard DIR", sub);
    return CLI_EXIT_USAGE;
}

/*  Opens the existing store in ctx.dir with its own parameters. */
static mu_shard_t *
open_store(void)
{
    mu_shard_opts_t o = { 0 };
    mu_shard_t *s = mu_shard_open(ctx.dir, &o);
    if (s == NULL)
        cli_error(ctx.who, "%s", mu_last_error());
    return s;
}

/*  Reports a failed library call and returns CLI_EXIT_FAIL. */
static int
failed(int rc)
{
    const char *msg = mu_last_code() == rc ? mu_last_error() : "";
    cli_error(ctx.who, "%s (%s)", msg[0] ? msg : mu_strerror(rc), mu_errname(rc));
    return CLI_EXIT_FAIL;
}

/* ---- parsing ---------------------------------------------------------------- */

static int
hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/*  Decodes hex text of len chars in place into bytes; returns the byte count
    or -1. */
static long
unhex(char *text, size_t len)
{
    if (len % 2)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        text[i / 2] = (char) (hi * 16 + lo);
    }
    return (long) (len / 2);
}

/*  Parses one element of type t from text (len chars, modified in place). */
static bool
parse_elem(mu_shard_type_t t, char *text, size_t len, mu_shard_elem_t *e)
{
    if (t == MU_SHARD_STR) {
        *e = mu_shard_strn(text, len);
        return true;
    }
    if (t == MU_SHARD_BYTES) {
        long n = unhex(text, len);
        *e = mu_shard_bytes(text, n < 0 ? 0 : (size_t) n);
        return n >= 0;
    }
    char *end = NULL;
    text[len] = '\0';
    errno = 0;
    long long v = strtoll(text, &end, 10);
    *e = mu_shard_int(v);
    return len > 0 && errno == 0 && *end == '\0';
}

/*  Splits text at unescaped commas into key elements typed by the store.
    text is modified; the elements point into it. Returns the element count,
    or -1 after printing why. */
static int
parse_key(const mu_shard_opts_t *info, char *text, mu_shard_elem_t *key)
{
    size_t n = 0;
    char *out = text, *start = text;
    for (char *p = text;; p++) {
        if (*p == '\\' && (p[1] == ',' || p[1] == '\\')) {
            *out++ = *++p;
            continue;
        }
        if (*p != ',' && *p != '\0') {
            *out++ = *p;
            continue;
        }
        bool end = *p == '\0';
        if (n == info->k) {
            cli_error(ctx.who, "the key has more than %zu elements", info->k);
            return -1;
        }
        if (!parse_elem(info->types[n], start, (size_t) (out - start), &key[n])) {
            cli_error(ctx.who, "key element %zu is not a valid %s", n,
                      info->types[n] == MU_SHARD_INT ? "int (decimal)" : "bytes (hex digits)");
            return -1;
        }
        n++;
        start = out = p + 1;
        if (end)
            break;
    }
    if (n != info->k) {
        cli_error(ctx.who, "the key has %zu elements, the store's keys have %zu", n, info->k);
        return -1;
    }
    return (int) n;
}

/* ---- printing values ---------------------------------------------------------------- */

static void
print_hex(FILE *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        fprintf(out, "%02x", p[i]);
}

/*  Prints a stored value: a str as its text (unless json), anything else
    as JSON (integer map keys as text, unless json: then exactly what set
    --json takes back). */
static int
print_value(const void *data, size_t size, bool json)
{
    mu_unpacked_t *root = NULL;
    int rc = mu_unpack(data, size, NULL, &root, NULL);
    if (rc != 0) {
        cli_error(ctx.who, "value does not decode: %s", mu_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    const char *s;
    size_t len;
    char *text = NULL;
    if (!json && mu_unpacked_type(root) == MU_PACK_STR && mu_unpacked_str(root, &s, &len) == 0)
        fwrite(s, 1, len, stdout);
    else if ((rc = mu_json_from_unpacked(root, json ? 0 : MU_JSON_INT_KEYS, &text, &len)) == 0)
        fwrite(text, 1, len, stdout);
    free(text);
    mu_unpacked_destroy(&root);
    if (rc != 0) {
        cli_error(ctx.who, "%s (%s); --hex prints its bytes", mu_last_error(), mu_errname(rc));
        return CLI_EXIT_FAIL;
    }
    fputc('\n', stdout);
    return CLI_EXIT_OK;
}

/* ---- options ---------------------------------------------------------------------------- */

static bool
parse_count(const char *text, size_t *out)
{
    uint64_t v;
    if (cli_parse_size(text, &v) != 0 || text[strspn(text, "0123456789")] != '\0' || v > INT_MAX)
        return false;
    *out = (size_t) v;
    return true;
}

static bool
parse_types(const char *text, mu_shard_opts_t *o)
{
    size_t n = 0;
    for (const char *p = text; *p && n < MU_SHARD_MAX_K; n++) {
        size_t len = strcspn(p, ",");
        o->types[n] = len == 3 && !strncmp(p, "int", 3)     ? MU_SHARD_INT
                      : len == 3 && !strncmp(p, "str", 3)   ? MU_SHARD_STR
                      : len == 5 && !strncmp(p, "bytes", 5) ? MU_SHARD_BYTES
                                                            : 0;
        if (o->types[n] == 0)
            return false;
        p += len + (p[len] == ',');
    }
    return n == o->k;
}

/*  Takes one of create's options (the current one of args) into o;
    returns false when it is unknown or its value is bad (not printed). */
static bool
create_option(cli_args_t *args, const char *val, mu_shard_opts_t *o, const char **types,
              bool *have_k, bool *have_n)
{
    if (cli_args_is(args, "--k"))
        return (*have_k = parse_count(val, &o->k));
    if (cli_args_is(args, "--shards"))
        return (*have_n = parse_count(val, &o->shards));
    if (cli_args_is(args, "--shardidx"))
        return parse_count(val, &o->shardidx);
    if (cli_args_is(args, "--types")) {
        *types = val;
        return true;
    }
    if (!cli_args_is(args, "--codec")
        || (strcmp(val, "zstd") != 0 && strcmp(val, "zlib") != 0 && strcmp(val, "none") != 0))
        return false;
    o->codec = val[0] == 'z' ? (val[1] == 's' ? MU_SHARD_CODEC_ZSTD : MU_SHARD_CODEC_ZLIB)
                             : MU_SHARD_CODEC_NONE;
    return true;
}

/*  Parses create's options into o. Returns CLI_ARGS_OPERAND to go on, else
    the exit status (help or usage printed). */
static int
parse_create(const cli_command_t *self, int argc, char **argv, mu_shard_opts_t *o)
{
    const char *types = NULL, *word, *val;
    bool have_k = false, have_n = false;
    cli_args_t args;
    cli_args_init(&args, ctx.who, argc, argv);
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "shard DIR", self);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND)
            return usage(self, "unexpected argument '%s'", word);
        if (!cli_args_value(&args, &val)) {
            cli_print_usage(stderr, "shard DIR", self);
            return CLI_EXIT_USAGE;
        }
        if (!create_option(&args, val, o, &types, &have_k, &have_n))
            return usage(self, "bad option or value '%s'", args.option);
    }
    if (!have_k || !have_n || types == NULL)
        return usage(self, "%s", "create needs --k, --shards and --types");
    if (o->k < 1 || o->k > MU_SHARD_MAX_K || !parse_types(types, o))
        return usage(self, "--types must name exactly --k types among int, str, bytes, not '%s'",
                     types);
    return CLI_ARGS_OPERAND;
}

/* ---- subcommands --------------------------------------------------------------------------- */

static int
shard_create(const cli_command_t *self, int argc, char **argv)
{
    mu_shard_opts_t o = { .create = true };
    int rc = parse_create(self, argc, argv, &o);
    if (rc != CLI_ARGS_OPERAND)
        return rc;
    mu_shard_t *s = mu_shard_open(ctx.dir, &o);
    if (s == NULL) {
        cli_error(ctx.who, "%s", mu_last_error());
        return CLI_EXIT_FAIL;
    }
    printf("store %s: k=%zu shards=%zu shardidx=%zu\n", ctx.dir, o.k, o.shards, o.shardidx);
    mu_shard_destroy(&s);
    return CLI_EXIT_OK;
}

static const char *
type_word(mu_shard_type_t t)
{
    return t == MU_SHARD_INT ? "int" : t == MU_SHARD_STR ? "str" : "bytes";
}

/*  The start of info, len and check: no operands (else a usage error),
    then the store, whose parameters go to *o unless o is NULL. Returns it,
    or NULL with the exit status in *status. */
static mu_shard_t *
open_without_operands(const cli_command_t *self, int argc, char **argv, mu_shard_opts_t *o,
                      int *status)
{
    if (argc != 0) {
        *status = usage(self, "unexpected argument '%s'", argv[0]);
        return NULL;
    }
    *status = CLI_EXIT_FAIL;
    mu_shard_t *s = open_store();
    if (s != NULL && o != NULL)
        mu_shard_info(s, o);
    return s;
}

static int
shard_info(const cli_command_t *self, int argc, char **argv)
{
    int status;
    mu_shard_opts_t o;
    mu_shard_t *s = open_without_operands(self, argc, argv, &o, &status);
    if (s == NULL)
        return status;
    char types[MU_SHARD_MAX_K * 6 + 1] = "";
    for (size_t j = 0; j < o.k; j++) {
        strcat(types, j ? "," : "");
        strcat(types, type_word(o.types[j]));
    }
    static const char *const head[] = { "parameter", "value" };
    cli_table_t *t = cli_table_new(2, head);
    int rc = t ? 0 : MU_ENOMEM;
    if (rc == 0)
        rc = cli_table_addf(t, "k\t%zu", o.k) | cli_table_addf(t, "shards\t%zu", o.shards)
             | cli_table_addf(t, "shardidx\t%zu", o.shardidx)
             | cli_table_addf(t, "types\t%s", types)
             | cli_table_addf(t, "codec\t%s",
                              o.codec == MU_SHARD_CODEC_ZLIB   ? "zlib"
                              : o.codec == MU_SHARD_CODEC_NONE ? "none"
                                                               : "zstd")
             | cli_table_addf(t, "index_mask\t%u", o.index_mask);
    if (rc == 0)
        cli_table_print(t, stdout, 0);
    cli_table_destroy(&t);
    mu_shard_destroy(&s);
    return rc == 0 ? CLI_EXIT_OK : failed(MU_ENOMEM);
}

/*  A key operand and what opening the store for it gave. */
typedef struct {
    mu_shard_elem_t key[MU_SHARD_MAX_K];
    size_t k;
    int status;
} key_arg_t;

/*  The start of set, get and delete: checks that there are want operands
    (else usage with the message need), opens the store and parses argv[0]
    as a key of ka->k elements into ka->key. Returns the store, or NULL with
    the exit status in ka->status. */
static mu_shard_t *
open_with_key(const cli_command_t *self, int argc, int want, const char *need, char **argv,
              key_arg_t *ka)
{
    mu_shard_elem_t *key = ka->key;
    size_t *k_p = &ka->k;
    int *status = &ka->status;
    if (argc != want) {
        *status = usage(self, "%s", need);
        return NULL;
    }
    char *text = argv[0];
    mu_shard_t *s = open_store();
    *status = CLI_EXIT_FAIL;
    if (s == NULL)
        return NULL;
    mu_shard_opts_t o;
    mu_shard_info(s, &o);
    *k_p = o.k;
    if (parse_key(&o, text, key) < 0) {
        mu_shard_destroy(&s);
        *status = CLI_EXIT_USAGE;
    }
    return s;
}

/*  Builds the msgpack of set's VALUE into *p (flags: S_HEX, S_JSON).
    Returns the bytes or NULL. */
static const void *
set_value(char *text, unsigned flags, mu_pack_t *p, size_t *size)
{
    if (flags & S_HEX) {
        long n = unhex(text, strlen(text));
        *size = n < 0 ? 0 : (size_t) n;
        return n < 0 ? NULL : text;
    }
    int rc = flags & S_JSON ? mu_json_to_pack(text, strlen(text), NULL, p) : mu_pack_cstr(p, text);
    return rc == 0 ? mu_pack_data(p, size) : NULL;
}

/*  What set, get and delete do on the store open_with_key gave; argv
    holds the operands (argv[0] the key). Returns the exit status. */
typedef int (*key_action_fn)(mu_shard_t *s, const key_arg_t *ka, char **argv);

/*  Runs a key command: open_with_key (want operands, else usage with
    need), then action, then closes the store. Returns open_with_key's
    failure status or action's. */
static int
run_with_key(const cli_command_t *self, int argc, char **argv, int want, const char *need,
             key_action_fn action)
{
    key_arg_t ka;
    mu_shard_t *s = open_with_key(self, argc, want, need, argv, &ka);
    if (s == NULL)
        return ka.status;
    int status = action(s, &ka, argv);
    mu_shard_destroy(&s);
    return status;
}

static int
set_action(mu_shard_t *s, const key_arg_t *ka, char **argv)
{
    int status;
    mu_pack_t *p = mu_pack_new();
    size_t size = 0;
    const void *value = p ? set_value(argv[1], ctx.flags, p, &size) : NULL;
    if (value == NULL && (ctx.flags & S_JSON)) {
        cli_error(ctx.who, "VALUE is not valid JSON: %s (%s)", mu_last_error(),
                  mu_errname(mu_last_code()));
        status = CLI_EXIT_USAGE;
    } else if (value == NULL) {
        cli_error(ctx.who, "VALUE is not valid %s", ctx.flags & S_HEX ? "hex" : "text");
        status = CLI_EXIT_USAGE;
    } else {
        int rc = mu_shard_set(s, ka->key, ka->k, value, size);
        status = rc == 0 ? CLI_EXIT_OK : failed(rc);
    }
    mu_pack_destroy(&p);
    return status;
}

static int
get_action(mu_shard_t *s, const key_arg_t *ka, char **argv)
{
    (void) argv;
    int status;
    void *value = NULL;
    size_t size = 0;
    int rc = mu_shard_get(s, ka->key, ka->k, &value, &size);
    if (rc != 0) {
        status = failed(rc);
    } else if (ctx.flags & S_HEX) {
        print_hex(stdout, value, size);
        fputc('\n', stdout);
        status = CLI_EXIT_OK;
    } else {
        status = print_value(value, size, ctx.flags & S_JSON);
    }
    free(value);
    return status;
}

static int
delete_action(mu_shard_t *s, const key_arg_t *ka, char **argv)
{
    (void) argv;
    int rc = mu_shard_delete(s, ka->key, ka->k);
    return rc == 0 ? CLI_EXIT_OK : failed(rc);
}

static int
shard_set(const cli_command_t *self, int argc, char **argv)
{
    return run_with_key(self, argc, argv, 2, "set needs KEY and VALUE", set_action);
}

static int
shard_get(const cli_command_t *self, int argc, char **argv)
{
    return run_with_key(self, argc, argv, 1, "get needs KEY", get_action);
}

static int
shard_delete(const cli_command_t *self, int argc, char **argv)
{
    return run_with_key(self, argc, argv, 1, "delete needs KEY", delete_action);
}

/*  Bytes of a shard's database file and its WAL. */
static unsigned long long
file_bytes(size_t i)
{
    char path[PATH_MAX];
    struct stat st;
    unsigned long long total = 0;
    snprintf(path, sizeof path, "%s/shard-%04zu.db", ctx.dir, i);
    if (stat(path, &st) == 0)
        total += (unsigned long long) st.st_size;
    strncat(path, "-wal", sizeof path - strlen(path) - 1);
    if (stat(path, &st) == 0)
        total += (unsigned long long) st.st_size;
    return total;
}

static int
len_table(const uint64_t *counts, size_t n)
{
    static const char *const head[] = { "shard", "file", "entries", "bytes" };
    cli_table_t *t = cli_table_new(4, head);
    int rc = t ? 0 : MU_ENOMEM;
    uint64_t total = 0;
    unsigned long long bytes = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned long long b = file_bytes(i);
        rc = cli_table_addf(t, "%zu\tshard-%04zu.db\t%llu\t%llu", i, i,
                            (unsigned long long) counts[i], b);
        total += counts[i];
        bytes += b;
    }
    if (rc == 0)
        rc = cli_table_addf(t, "all\t\t%llu\t%llu", (unsigned long long) total, bytes);
    if (rc == 0)
        cli_table_print(t, stdout, 0);
    cli_table_destroy(&t);
    return rc == 0 ? CLI_EXIT_OK : failed(MU_ENOMEM);
}

static int
shard_len(const cli_command_t *self, int argc, char **argv)
{
    int status;
    mu_shard_opts_t o;
    mu_shard_t *s = open_without_operands(self, argc, argv, &o, &status);
    if (s == NULL)
        return status;
    uint64_t *counts = calloc(o.shards, sizeof *counts);
    int rc = counts ? mu_shard_len_each(s, counts, o.shards) : MU_ENOMEM;
    status = rc == 0 ? len_table(counts, o.shards) : failed(rc);
    free(counts);
    mu_shard_destroy(&s);
    return status;
}

/*  Parses a prune bound; "-" is open (*bound_p NULL). */
static bool
parse_bound(mu_shard_type_t t, char *text, mu_shard_elem_t *e, mu_shard_elem_t **bound_p)
{
    *bound_p = NULL;
    if (strcmp(text, "-") == 0)
        return true;
    *bound_p = e;
    return parse_elem(t, text, strlen(text), e);
}

static int
shard_prune(const cli_command_t *self, int argc, char **argv)
{
    size_t elem;
    if (argc != 3 || !parse_count(argv[0], &elem))
        return usage(self, "%s", "prune needs ELEM (a number), LO and HI");
    mu_shard_t *s = open_store();
    if (s == NULL)
        return CLI_EXIT_FAIL;
    mu_shard_opts_t o;
    mu_shard_info(s, &o);
    mu_shard_elem_t lo, hi, *lop, *hip;
    int status = CLI_EXIT_OK;
    if (elem >= o.k) {
        cli_error(ctx.who, "ELEM must be below k = %zu", o.k);
        status = CLI_EXIT_USAGE;
    } else if (!parse_bound(o.types[elem], argv[1], &lo, &lop)
               || !parse_bound(o.types[elem], argv[2], &hi, &hip)) {
        cli_error(ctx.who, "LO and HI must be %s values or '-'", type_word(o.types[elem]));
        status = CLI_EXIT_USAGE;
    } else {
        uint64_t n = 0;
        int rc = mu_shard_prune(s, elem, lop, hip, &n);
        if (rc == 0)
            printf("pruned %llu\n", (unsigned long long) n);
        else
            status = failed(rc);
    }
    mu_shard_destroy(&s);
    return status;
}

static int
shard_check(const cli_command_t *self, int argc, char **argv)
{
    int status;
    mu_shard_t *s = open_without_operands(self, argc, argv, NULL, &status);
    if (s == NULL)
        return status;
    int rc = mu_shard_check(s);
    mu_shard_destroy(&s);
    if (rc != 0)
        return failed(rc);
    printf("ok\n");
    return CLI_EXIT_OK;
}

static const cli_command_t sub_create = {
    "create",         "--k K --shards N --types T,... [--shardidx I] [--codec zstd|zlib|none]",
    "create a store", NULL,
    shard_create,     NULL
};
static const cli_command_t sub_info = { "info", "",         "print the store's parameters",
                                        NULL,   shard_info, NULL };
static const cli_command_t sub_set = { "set",           "KEY VALUE [--json | --hex]",
                                       "store a value", NULL,
                                       shard_set,       NULL };
static const cli_command_t sub_get = { "get",           "KEY [--json | --hex]",
                                       "print a value", NULL,
                                       shard_get,       NULL };
static const cli_command_t sub_delete = {
    "delete", "KEY", "delete a key", NULL, shard_delete, NULL
};
static const cli_command_t sub_len = { "len", "",        "entries and bytes per shard",
                                       NULL,  shard_len, NULL };
static const cli_command_t sub_prune = { "prune", "ELEM LO HI", "delete a range of one element",
                                         NULL,    shard_prune,  NULL };
static const cli_command_t sub_check = { "check", "",          "integrity_check every shard",
                                         NULL,    shard_check, NULL };
static const cli_command_t *const shard_subcommands[] = { &sub_check, &sub_create, &sub_delete,
                                                          &sub_get,   &sub_info,   &sub_len,
                                                          &sub_prune, &sub_set };

static const cli_subcommands_t shard_group = CLI_SUBCOMMANDS("shard DIR", shard_subcommands);

/*  `mutil shard DIR SUBCOMMAND ...`: create parses its own options; the
    other subcommands get their operands, and their flags (--hex, --json)
    in ctx.flags. */
static int
shard_run(const cli_command_t *self, int argc, char **argv)
{
    static const char *const value_flags[] = { "--hex", "--json", NULL }; /* S_HEX, S_JSON */
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 1, "DIR", &status);
    if (sub == NULL)
        return status;
    ctx.dir = argv[0];
    snprintf(ctx.who, sizeof ctx.who, "shard %s", sub->name);
    argc -= 2;
    argv += 2;
    if (sub == &sub_create)
        return sub->run(sub, argc, argv);
    status = cli_args_split(sub, shard_group.path, ctx.who, &argc, argv,
                            sub == &sub_set || sub == &sub_get ? value_flags : NULL, &ctx.flags);
    if (status == CLI_ARGS_OPERAND && ctx.flags == (S_HEX | S_JSON))
        return usage(sub, "%s", "--hex and --json exclude each other");
    return status == CLI_ARGS_OPERAND ? sub->run(sub, argc, argv) : status;
}

const cli_command_t cli_cmd_shard = {
    "shard",
    "DIR create --k K --shards N --types T,... [--shardidx I] [--codec C]\n"
    "DIR info | len | check\n"
    "DIR set KEY VALUE [--json | --hex]\n"
    "DIR get KEY [--json | --hex]\n"
    "DIR delete KEY\n"
    "DIR prune ELEM LO HI",
    "look at and change a sharded SQLite store (mu_shard)",
    SHARD_HELP,
    shard_run,
    &shard_group
};
