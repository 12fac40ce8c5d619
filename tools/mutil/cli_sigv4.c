/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_sigv4.c — `mutil sigv4 METHOD URL ...`: prints the headers that sign
    a request with AWS Signature Version 4 (mu_sigv4), or a presigned URL.
    Credentials come from the environment (AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), never from the command line,
    where other users could read them. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS 64
#define MAX_PAYLOAD (64u << 20)

#define SIGV4_HELP                                                               \
    "Prints the request headers to add, one 'Name: value' per line (for\n"       \
    "curl -H), or with --presign the URL carrying the signature. The\n"          \
    "credentials are read from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"   \
    "AWS_SESSION_TOKEN (optional). A Host header is added from URL unless\n"     \
    "given. URL's path and query are signed as they are written.\n\n"            \
    "  --region R, --service S  the credential scope (required)\n"               \
    "  -H 'Name: value'         a header to sign (repeatable)\n"                 \
    "  --data-file F            the body to hash ('-': standard input)\n"        \
    "  --unsigned-payload       sign UNSIGNED-PAYLOAD instead of a body hash\n"  \
    "  --s3                     S3 rules: path as given, x-amz-content-sha256\n" \
    "  --time T                 the signing time, Unix seconds (default now)\n"  \
    "  --presign SECONDS        print a presigned URL valid that long\n"         \
    "  --verbose                also print the canonical request and the\n"      \
    "                           string to sign on standard error\n\n"            \
    "Exit status: 0 ok, 1 missing credentials or unreadable body, 2 bad usage.\n"

typedef struct {
    const char *method, *url, *region, *service, *data_file;
    mu_sigv4_header_t headers[MAX_HEADERS];
    char *header_text[MAX_HEADERS];
    size_t n_headers;
    bool unsigned_payload, s3, verbose;
    uint64_t time, presign;
} sigv4_args_t;

static int
usage(const cli_command_t *self, const char *fmt, const char *arg)
{
    cli_error("sigv4", fmt, arg);
    cli_print_usage(stderr, "", self);
    return CLI_EXIT_USAGE;
}

/* Splits "Name: value" into a header (a copy owned by a). */
static bool
add_header(sigv4_args_t *a, const char *text)
{
    const char *colon = strchr(text, ':');
    if (!colon || colon == text || a->n_headers == MAX_HEADERS)
        return false;
    char *copy = strdup(text);
    if (!copy)
        return false;
    copy[colon - text] = '\0';
    a->header_text[a->n_headers] = copy;
    a->headers[a->n_headers++] = (mu_sigv4_header_t) { copy, copy + (colon - text) + 1 };
    return true;
}

static void
free_args(sigv4_args_t *a)
{
    for (size_t i = 0; i < a->n_headers; i++)
        free(a->header_text[i]);
}

static int
parse_option(const cli_command_t *self, cli_args_t *args, sigv4_args_t *a)
{
    const char *val;
    if (cli_args_is(args, "--unsigned-payload") || cli_args_is(args, "--s3")
        || cli_args_is(args, "--verbose")) {
        if (!cli_args_flag(args))
            return usage(self, "%s takes no value", args->option);
        a->unsigned_payload |= cli_args_is(args, "--unsigned-payload");
        a->s3 |= cli_args_is(args, "--s3");
        a->verbose |= cli_args_is(args, "--verbose");
        return CLI_ARGS_OPTION;
    }
    bool known = cli_args_is(args, "--region") || cli_args_is(args, "--service")
                 || cli_args_is(args, "-H") || cli_args_is(args, "--data-file")
                 || cli_args_is(args, "--time") || cli_args_is(args, "--presign");
    if (!known) {
        cli_args_unknown(args);
        cli_print_usage(stderr, "", self);
        return CLI_EXIT_USAGE;
    }
    if (!cli_args_value(args, &val)) {
        cli_print_usage(stderr, "", self);
        return CLI_EXIT_USAGE;
    }
    if (cli_args_is(args, "--region"))
        a->region = val;
    else if (cli_args_is(args, "--service"))
        a->service = val;
    else if (cli_args_is(args, "--data-file"))
        a->data_file = val;
    else if (cli_args_is(args, "-H")) {
        if (!add_header(a, val))
            return usage(self, "-H takes 'Name: value' (at most 64), not '%s'", val);
    } else if (cli_parse_size(val, cli_args_is(args, "--time") ? &a->time : &a->presign) != 0)
        return usage(self, "%s takes a number", args->option);
    return CLI_ARGS_OPTION;
}

static int
parse(const cli_command_t *self, int argc, char **argv, sigv4_args_t *a)
{
    cli_args_t args;
    const char *word;
    cli_args_init(&args, "sigv4", argc, argv);
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "", self);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND) {
            if (a->url)
                return usage(self, "unexpected argument '%s'", word);
            *(a->method ? &a->url : &a->method) = word;
            continue;
        }
        int rc = parse_option(self, &args, a);
        if (rc != CLI_ARGS_OPTION)
            return rc;
    }
    if (!a->url)
        return usage(self, "%s", "missing METHOD and URL");
    if (!a->region || !a->service)
        return usage(self, "%s", "--region and --service are required");
    if (a->unsigned_payload && a->data_file)
        return usage(self, "%s", "--data-file and --unsigned-payload exclude each other");
    return CLI_ARGS_OPERAND;
}

/* Reads the body (at most MAX_PAYLOAD bytes). */
static bool
read_body(const char *path, char **data_p, size_t *len_p)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error("sigv4", "%s: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 65536, len = 0;
    char *data = malloc(cap);
    while (data) {
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
        if (cap >= MAX_PAYLOAD) {
            cli_error("sigv4", "%s: larger than %u bytes", path, MAX_PAYLOAD);
            free(data);
            data = NULL;
            break;
        }
        char *more = realloc(data, cap * 2);
        if (!more)
            free(data);
        data = more;
        cap *= 2;
    }
    bool ok = data && !ferror(f);
    if (data && ferror(f))
        cli_error("sigv4", "%s: %s", path, strerror(errno));
    if (f != stdin)
        fclose(f);
    if (!ok) {
        free(data);
        return false;
    }
    *data_p = data;
    *len_p = len;
    return true;
}

/* Splits URL into host[:port], path and query (pointers into buf). */
static bool
split_url(const char *url, char *buf, size_t cap, const char **host, const char **path,
          const char **query, size_t *prefix_len)
{
    const char *p = strstr(url, "://");
    if (!p || (strncasecmp(url, "http", 4) != 0) || strlen(url) + 2 > cap)
        return false;
    p += 3;
    size_t hl = strcspn(p, "/?#");
    if (hl == 0)
        return false;
    *prefix_len = (size_t) (p - url) + hl;
    memcpy(buf, p, hl);
    buf[hl] = '\0';
    *host = buf;
    char *rest = buf + hl + 1;
    snprintf(rest, cap - hl - 1, "%s", p[hl] == '/' ? p + hl : "/");
    if (p[hl] == '?')
        snprintf(rest, cap - hl - 1, "/%s", p + hl);
    rest[strcspn(rest, "#")] = '\0';
    char *q = strchr(rest, '?');
    *query = NULL;
    if (q) {
        *q = '\0';
        *query = q + 1;
    }
    *path = rest;
    return true;
}

static void
print_result(const sigv4_args_t *a, const mu_sigv4_t *sig, const char *url, size_t prefix_len,
             const char *path)
{
    if (a->verbose)
        fprintf(stderr, "--- canonical request\n%s\n--- string to sign\n%s\n",
                sig->canonical_request, sig->string_to_sign);
    if (a->presign) {
        printf("%.*s%s?%s\n", (int) prefix_len, url, path, sig->query);
        return;
    }
    if (sig->add_date)
        printf("X-Amz-Date: %s\n", sig->add_date);
    if (sig->add_token)
        printf("X-Amz-Security-Token: %s\n", sig->add_token);
    if (sig->add_content_sha256)
        printf("x-amz-content-sha256: %s\n", sig->add_content_sha256);
    printf("Authorization: %s\n", sig->authorization);
}

static int
sign(sigv4_args_t *a)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    if (!ak || !*ak || !sk || !*sk) {
        cli_error("sigv4", "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
        return CLI_EXIT_FAIL;
    }
    static char buf[65536];
    const char *host, *path, *query;
    size_t prefix_len;
    if (!split_url(a->url, buf, sizeof buf, &host, &path, &query, &prefix_len)) {
        cli_error("sigv4", "URL must be http(s)://HOST[:PORT][/PATH][?QUERY], not '%s'", a->url);
        return CLI_EXIT_USAGE;
    }
    bool has_host = false;
    for (size_t i = 0; i < a->n_headers; i++)
        has_host |= strcasecmp(a->headers[i].name, "host") == 0;
    if (!has_host && a->n_headers < MAX_HEADERS)
        a->headers[a->n_headers++] = (mu_sigv4_header_t) { "Host", host };
    char *body = NULL;
    size_t len = 0;
    if (a->data_file && !read_body(a->data_file, &body, &len))
        return CLI_EXIT_FAIL;
    const char *token = getenv("AWS_SESSION_TOKEN");
    mu_sigv4_request_t req = { .method = a->method,
                               .path = path,
                               .query = query,
                               .headers = a->headers,
                               .n_headers = a->n_headers,
                               .payload = body,
                               .payload_len = len,
                               .payload_hash = a->unsigned_payload ? "UNSIGNED-PAYLOAD" : NULL,
                               .region = a->region,
                               .service = a->service,
                               .access_key = ak,
                               .secret_key = sk,
                               .session_token = token && *token ? token : NULL,
                               .time = (int64_t) a->time,
                               .flags = a->s3 ? MU_SIGV4_S3 : 0 };
    mu_sigv4_t sig = { 0 };
    int rc = a->presign
                 ? mu_sigv4_presign(&req, a->presign > 604801 ? 604801 : (int) a->presign, &sig)
                 : mu_sigv4_sign(&req, &sig);
    free(body);
    if (rc != 0) {
        cli_error("sigv4", "%s", mu_last_error());
        return CLI_EXIT_USAGE;
    }
    print_result(a, &sig, a->url, prefix_len, path);
    mu_sigv4_clear(&sig);
    return CLI_EXIT_OK;
}

static int
sigv4_run(const cli_command_t *self, int argc, char **argv)
{
    sigv4_args_t a = { 0 };
    int status = parse(self, argc, argv, &a);
    if (status == CLI_ARGS_OPERAND)
        status = sign(&a);
    free_args(&a);
    return status;
}

const cli_command_t cli_cmd_sigv4 = {
    "sigv4",
    "METHOD URL --region R --service S [-H 'Name: value']... [OPTIONS]",
    "sign an HTTP request with AWS Signature Version 4 (credentials from the environment)",
    SIGV4_HELP,
    sigv4_run,
    NULL
};
