/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_conn.c — the connection commands of the mutil tool:
      mutil serve --bind EP [--bind EP...] [--root DIR]
                  [--peer-budget SIZE] [--server-budget SIZE] KEYS
      mutil get   EP REMOTE LOCAL [file options] KEYS
      mutil put   EP LOCAL REMOTE [file options] KEYS
      mutil call  EP [MSG] KEYS
    where KEYS chooses the security, the same way for all four:
      --secret-file F           both ends derive their keys from F's passphrase
      --cert F                  serve: the server's cert (F and F_secret);
                                clients: their own cert (optional; default a
                                fresh keypair)
      --allow DIR | --allow-any serve: the client keys let in (with --cert)
      --server-key KEY|FILE     clients: the server's public key (Z85 text or
                                a cert file), with --cert or alone
      --insecure                plaintext, no authentication (warned about)
      --allow-insecure-secret   accept a secret file others may read, or a link
    serve answers every request with the request's own bytes (an echo
    service, so `mutil call` can test a server) and serves files below
    --root. */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include <sodium.h>

#define CONN_KEYS_HELP                                                            \
    "Security (one of, the same choice at both ends):\n"                          \
    "  --secret-file F        a shared passphrase (file F, >= 8 bytes): both\n"   \
    "                         ends derive their keys from it\n"                   \
    "  --cert F               serve: the server's cert (F and F_secret, made\n"   \
    "                         by mutil keygen) with --allow DIR (a directory\n"   \
    "                         of client public certs) or --allow-any;\n"          \
    "                         clients: their own cert, with --server-key\n"       \
    "  --server-key K         clients: the server's public key, as Z85 text\n"    \
    "                         or a cert file\n"                                   \
    "  --insecure             plaintext and unauthenticated (a warning is\n"      \
    "                         printed)\n"                                         \
    "  --allow-insecure-secret  accept a secret file (--secret-file, F_secret)\n" \
    "                         that group or others may read, or a symbolic\n"     \
    "                         link to it (refused by default, as ssh does)\n"     \
    "  --timeout MS           give up after MS milliseconds (clients; default\n"  \
    "                         10000, files 60000)\n"

#define FILE_OPTS_HELP                                                            \
    "File options:\n"                                                             \
    "  --chunk SIZE           bytes per chunk (K/M suffixes; default 256K)\n"     \
    "  --window N             chunks in flight (default 64)\n"                    \
    "  --resume               continue LOCAL.partial from an earlier try (get)\n" \
    "  --force                replace an existing destination (get: and start\n"  \
    "                         an earlier LOCAL.partial over)\n"                   \
    "  --quiet                no progress bar (it is shown only on a terminal)\n" \
    "  --progress             show progress also when stderr is no terminal,\n"   \
    "                         as lines \"mutil get: DONE of TOTAL bytes\"\n"

/* The library's defaults (mu_server_set_transfer_budget), as serve's. */
#define SERVE_PEER_BUDGET ((uint64_t) 64 << 20)
#define SERVE_SERVER_BUDGET ((uint64_t) 512 << 20)

#define SERVE_BUDGET_HELP                                                      \
    "Memory:\n"                                                                \
    "  --peer-budget SIZE     file data queued for one client's downloads,\n"  \
    "                         at most (K/M/G suffixes, 1..1T; default 64M,\n"  \
    "                         or --server-budget when that is smaller)\n"      \
    "  --server-budget SIZE   the same for all clients together (default\n"    \
    "                         512M; not below --peer-budget). Past a budget\n" \
    "                         a download waits until its client reads; it\n"   \
    "                         does not fail\n\n"

#define EXIT_HELP "\nExit status: 0 ok, 1 runtime error, 2 bad usage.\n"

/*  Everything the options of one command set. */
typedef struct {
    const char *who;
    const char *binds[16];
    size_t nbinds;
    const char *root;
    uint64_t peer_budget, server_budget; /* serve; 0 = the library's default */
    const char *secret_file;
    const char *cert;
    const char *allow_dir;
    bool allow_any;
    const char *server_key;
    bool insecure;
    int secret_flags; /* MU_KEYS_ALLOW_INSECURE with --allow-insecure-secret */
    bool quiet, progress;
    int timeout_ms;
    mu_file_options_t file;
    const char *args[3];
    size_t nargs;
} conn_opts_t;

/* ---- option parsing ------------------------------------------------------- */

/*  Parses a positive int option value. */
static bool
parse_int(const conn_opts_t *o, const char *name, const char *text, int max, int *out)
{
    uint64_t v;
    if (cli_parse_size(text, &v) != 0 || v == 0 || v > (uint64_t) max) {
        cli_error(o->who, "%s: '%s' is not a number in 1..%d", name, text, max);
        return false;
    }
    *out = (int) v;
    return true;
}

/*  Sets a flag option; returns 1, or -1 when it came with a value. */
static int
set_flag(const cli_args_t *a, bool *flag)
{
    *flag = true;
    return cli_args_flag(a) ? 1 : -1;
}

/*  Takes a string option's value into *slot; returns 1 or -1. */
static int
take_value(cli_args_t *a, const char **slot)
{
    return cli_args_value(a, slot) ? 1 : -1;
}

/*  Handles the file options; returns 1 when the current option was one, 0
    when not, -1 on a bad value (printed). */
static int
parse_file_option(conn_opts_t *o, cli_args_t *a)
{
    const char *val;
    uint64_t v;
    int n;
    if (cli_args_is(a, "--resume") || cli_args_is(a, "--force")) {
        if (!cli_args_flag(a))
            return -1;
        o->file.flags |= cli_args_is(a, "--resume") ? MU_FILE_RESUME : MU_FILE_OVERWRITE;
        return 1;
    }
    if (cli_args_is(a, "--quiet"))
        return set_flag(a, &o->quiet);
    if (cli_args_is(a, "--progress"))
        return set_flag(a, &o->progress);
    if (cli_args_is(a, "--chunk")) {
        if (!cli_args_value(a, &val))
            return -1;
        if (cli_parse_size(val, &v) != 0 || v == 0 || v > 4u * 1024 * 1024) {
            cli_error(o->who, "--chunk: '%s' is not a size in 1..4M", val);
            return -1;
        }
        o->file.chunk_size = (size_t) v;
        return 1;
    }
    if (cli_args_is(a, "--window")) {
        if (!cli_args_value(a, &val) || !parse_int(o, "--window", val, 1024, &n))
            return -1;
        o->file.window = (unsigned) n;
        return 1;
    }
    return 0;
}

/*  Handles the security and common options; same returns. */
static int
parse_common_option(conn_opts_t *o, cli_args_t *a)
{
    if (cli_args_is(a, "--secret-file"))
        return take_value(a, &o->secret_file);
    if (cli_args_is(a, "--cert"))
        return take_value(a, &o->cert);
    if (cli_args_is(a, "--server-key"))
        return take_value(a, &o->server_key);
    if (cli_args_is(a, "--insecure"))
        return set_flag(a, &o->insecure);
    if (cli_args_is(a, "--allow-insecure-secret")) {
        bool allow = false;
        int rc = set_flag(a, &allow);
        if (allow)
            o->secret_flags = MU_KEYS_ALLOW_INSECURE;
        return rc;
    }
    if (cli_args_is(a, "--timeout")) {
        const char *val;
        if (!cli_args_value(a, &val)
            || !parse_int(o, "--timeout", val, 24 * 3600 * 1000, &o->timeout_ms))
            return -1;
        return 1;
    }
    return 0;
}

/*  Parses a budget option's size (1 byte .. 1 TiB) into *out. Returns 1 or
    -1 (printed). */
static int
parse_budget(conn_opts_t *o, cli_args_t *a, const char *name, uint64_t *out)
{
    const char *val;
    if (!cli_args_value(a, &val))
        return -1;
    uint64_t v;
    if (cli_parse_size(val, &v) != 0 || v == 0 || v > ((uint64_t) 1 << 40) || v > SIZE_MAX) {
        cli_error(o->who, "%s: '%s' is not a size in 1..1T", name, val);
        return -1;
    }
    *out = v;
    return 1;
}

/*  Handles serve's own options; same returns. */
static int
parse_serve_option(conn_opts_t *o, cli_args_t *a)
{
    if (cli_args_is(a, "--peer-budget"))
        return parse_budget(o, a, "--peer-budget", &o->peer_budget);
    if (cli_args_is(a, "--server-budget"))
        return parse_budget(o, a, "--server-budget", &o->server_budget);
    if (cli_args_is(a, "--allow-any"))
        return set_flag(a, &o->allow_any);
    if (cli_args_is(a, "--allow"))
        return take_value(a, &o->allow_dir);
    if (cli_args_is(a, "--root"))
        return take_value(a, &o->root);
    if (cli_args_is(a, "--bind")) {
        if (o->nbinds == sizeof o->binds / sizeof *o->binds) {
            cli_error(o->who, "too many --bind options");
            return -1;
        }
        return take_value(a, &o->binds[o->nbinds++]);
    }
    return 0;
}

/*  Fills in a budget not given: the default, but never over the server's
    given (peer) or under the peer's given (server). Two given must have
    the peer's not over the server's (printed when it is). */
static bool
budgets_ok(conn_opts_t *o)
{
    if (o->peer_budget && o->server_budget && o->peer_budget > o->server_budget) {
        cli_error(o->who, "--peer-budget (%llu bytes) is over --server-budget (%llu bytes)",
                  (unsigned long long) o->peer_budget, (unsigned long long) o->server_budget);
        return false;
    }
    if (o->peer_budget == 0)
        o->peer_budget = o->server_budget && o->server_budget < SERVE_PEER_BUDGET
                             ? o->server_budget
                             : SERVE_PEER_BUDGET;
    if (o->server_budget == 0)
        o->server_budget = o->peer_budget > SERVE_SERVER_BUDGET ? o->peer_budget
                                                                : SERVE_SERVER_BUDGET;
    return true;
}

/*  Checks that the security options go together (printed when not). */
static bool
security_ok(const conn_opts_t *o, bool serve)
{
    int choices = (o->secret_file != NULL) + o->insecure
                  + (o->cert != NULL || o->server_key != NULL);
    if (choices != 1) {
        cli_error(o->who, choices ? "choose one of --secret-file, --cert/--server-key, --insecure"
                                  : "no security chosen: --secret-file F, --cert F or --insecure");
        return false;
    }
    const char *wrong = NULL;
    if (serve && o->server_key)
        wrong = "serve takes --cert F, not --server-key";
    else if (serve && o->cert && !o->allow_dir && !o->allow_any)
        wrong = "--cert needs --allow DIR (client certs) or --allow-any";
    else if (serve && !o->cert && (o->allow_dir || o->allow_any))
        wrong = "--allow and --allow-any go with --cert";
    else if (!serve && o->cert && !o->server_key)
        wrong = "--cert needs --server-key (the server's public key)";
    if (wrong)
        cli_error(o->who, "%s", wrong);
    return wrong == NULL;
}

/*  Handles one option for a command of this file: true, or false after
    printing why not (unknown, bad value). */
static bool
parse_option(conn_opts_t *o, cli_args_t *a, bool serve, bool files)
{
    int r = parse_common_option(o, a);
    if (r == 0 && serve)
        r = parse_serve_option(o, a);
    if (r == 0 && files)
        r = parse_file_option(o, a);
    if (r == 0)
        cli_args_unknown(a);
    return r > 0;
}

/*  Parses a whole command line (cli_args.c conventions): nargs_min..nargs_max
    positional arguments. Returns CLI_EXIT_OK, CLI_ARGS_HELP (printed) or
    CLI_EXIT_USAGE (printed). */
static int
parse_args(const cli_command_t *self, conn_opts_t *o, int argc, char **argv, size_t nargs_min,
           size_t nargs_max, bool serve, bool files)
{
    cli_args_t a;
    cli_args_init(&a, o->who, argc, argv);
    const char *word;
    for (int kind; (kind = cli_args_next(&a, &word)) != CLI_ARGS_END;) {
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "", self);
            return CLI_ARGS_HELP;
        }
        if (kind == CLI_ARGS_OPTION) {
            if (!parse_option(o, &a, serve, files))
                goto usage;
        } else if (o->nargs == nargs_max) {
            cli_error(o->who, "unexpected argument '%s'", word);
            goto usage;
        } else
            o->args[o->nargs++] = word;
    }
    if (o->nargs < nargs_min) {
        cli_error(o->who, "missing arguments");
        goto usage;
    }
    if (serve && o->nbinds == 0) {
        cli_error(o->who, "--bind EP is required");
        goto usage;
    }
    if (serve && !budgets_ok(o))
        goto usage;
    if (security_ok(o, serve))
        return CLI_EXIT_OK;
usage:
    cli_print_usage(stderr, "", self);
    return CLI_EXIT_USAGE;
}

/*  The exit status of a parse_args result that stops the command. */
static int
parse_status(int status)
{
    return status == CLI_ARGS_HELP ? CLI_EXIT_OK : status;
}

/* ---- security set-up -------------------------------------------------------- */

/*  Loads the shared passphrase; prints the error. */
static bool
load_secret(const conn_opts_t *o, char **secret_p, size_t *size_p)
{
    return cli_load_secret(o->who, o->secret_file, o->secret_flags, secret_p, size_p);
}

static void
free_secret(char *secret, size_t size)
{
    if (secret) {
        sodium_memzero(secret, size);
        free(secret);
    }
}

static void
warn_insecure(const conn_opts_t *o)
{
    fprintf(stderr,
            "mutil %s: warning: --insecure: traffic is plaintext and anybody who can "
            "connect is let in\n",
            o->who);
}

/*  Loads --cert (with its secret key when need_secret); prints the error. */
static mu_keys_t *
load_cert(const conn_opts_t *o, bool need_secret)
{
    return cli_load_cert(o->who, o->cert, o->secret_flags, need_secret);
}

/*  The server's allow-list from --allow DIR or --allow-any. */
static mu_allow_t *
load_allow(const conn_opts_t *o)
{
    if (o->allow_any)
        return mu_allow_new_any();
    mu_allow_t *allow = mu_allow_new();
    int skipped = 0;
    int n = allow ? mu_allow_load_dir(allow, o->allow_dir, &skipped) : MU_ENOMEM;
    if (n < 0) {
        cli_error(o->who, "--allow %s: %s", o->allow_dir, mu_strerror(n));
        mu_allow_destroy(&allow);
    } else if (n == 0)
        fprintf(stderr, "mutil %s: warning: %s holds no client certs: nobody can connect\n", o->who,
                o->allow_dir);
    return allow;
}

/*  Applies the chosen security to a server. */
static bool
secure_server(const conn_opts_t *o, mu_server_t *server)
{
    int rc;
    if (o->insecure) {
        warn_insecure(o);
        rc = mu_server_set_insecure(server);
    } else if (o->secret_file) {
        char *secret = NULL;
        size_t size = 0;
        if (!load_secret(o, &secret, &size))
            return false;
        rc = mu_server_set_secret(server, secret, size);
        free_secret(secret, size);
    } else {
        mu_keys_t *keys = load_cert(o, true);
        mu_allow_t *allow = keys ? load_allow(o) : NULL;
        rc = allow ? mu_server_set_curve(server, keys, allow) : MU_EINVAL;
        bool loaded = allow != NULL;
        mu_allow_destroy(&allow);
        mu_keys_destroy(&keys);
        if (!loaded)
            return false;
    }
    if (rc != 0)
        cli_error(o->who, "security set-up failed: %s", mu_strerror(rc));
    return rc == 0;
}

/*  Applies the chosen security to a client. */
static bool
secure_client(const conn_opts_t *o, mu_client_t *client)
{
    int rc;
    if (o->insecure) {
        warn_insecure(o);
        rc = mu_client_set_insecure(client);
    } else if (o->secret_file) {
        char *secret = NULL;
        size_t size = 0;
        if (!load_secret(o, &secret, &size))
            return false;
        rc = mu_client_set_secret(client, secret, size);
        free_secret(secret, size);
    } else {
        mu_keys_t *server = cli_load_server_key(o->who, o->server_key);
        mu_keys_t *own = server && o->cert ? load_cert(o, true) : NULL;
        if (server == NULL || (o->cert && own == NULL)) {
            mu_keys_destroy(&server);
            return false;
        }
        rc = mu_client_set_curve(client, mu_keys_public(server), own);
        mu_keys_destroy(&own);
        mu_keys_destroy(&server);
    }
    if (rc != 0)
        cli_error(o->who, "security set-up failed: %s", mu_strerror(rc));
    return rc == 0;
}

/*  Makes a connected client, or prints why not. */
static mu_client_t *
open_client(const conn_opts_t *o, const char *endpoint)
{
    mu_client_t *client = mu_client_new();
    if (client == NULL) {
        cli_error(o->who, "%s", cli_why(mu_last_code()));
        return NULL;
    }
    if (!secure_client(o, client))
        goto fail;
    int rc = mu_client_connect(client, endpoint);
    if (rc != 0) {
        cli_error(o->who, "cannot connect to %s: %s", endpoint, cli_why(rc));
        goto fail;
    }
    return client;
fail:
    mu_client_destroy(&client);
    return NULL;
}

/*  What the user can do about a connection that cannot work (rc from a
    client call), or NULL when rc is no such failure. */
static const char *
connection_hint(const conn_opts_t *o, const char *endpoint, int rc)
{
    switch (rc) {
    case MU_ECONNREFUSED:
        return strncmp(endpoint, "ipc://", 6) == 0
                   ? "is the server running, bound to that path?"
                   : "is the server running, on that host and port?";
    case MU_ENOHOST:
        return "check the host name";
    case MU_EHANDSHAKE:
        return o->secret_file ? "the --secret-file differs from the server's, or the server "
                                "does not use --secret-file"
               : o->insecure  ? "the server is not --insecure"
                              : "--server-key is not this server's key, or the server does not "
                                "use --cert";
    case MU_EAUTH:
        return "the server does not allow our key: add our public cert to its --allow "
               "directory";
    default:
        return NULL;
    }
}

/*  Prints why a call failed when the connection is the cause (refused,
    unknown host, handshake, key refused, no answer). Returns false when
    rc is no such failure (nothing printed). */
static bool
connection_failed(const conn_opts_t *o, const char *endpoint, int rc)
{
    const char *hint = connection_hint(o, endpoint, rc);
    if (hint)
        cli_error(o->who, "cannot connect to %s: %s (%s)", endpoint, mu_strerror(rc), hint);
    else if (rc == MU_ETIMEDOUT)
        cli_error(o->who,
                  "no answer from %s within %d ms (the server is busy or frozen, or "
                  "the network drops the packets)",
                  endpoint, o->timeout_ms);
    return hint || rc == MU_ETIMEDOUT;
}

/*  Room for a peer's text in a log line (longer ones are cut, "...");
    the server's error messages are at most 255 bytes. */
#define PEER_TEXT_ROOM 512

/*  The server's message when the last failed call (code rc) failed with
    an error the server sent (mu_last_error holds "...: server: <text>"),
    escaped into buf (PEER_TEXT_ROOM bytes): it comes from the peer. "" for
    a local failure. */
static const char *
server_message(char *buf, int rc)
{
    const char *detail = mu_last_code() == rc ? strstr(mu_last_error(), ": server: ") : NULL;
    const char *message = detail ? detail + strlen(": server: ") : "";
    return mu_escape(buf, PEER_TEXT_ROOM, message, strlen(message));
}

/*  Prints a client call's error, with the server's message when it sent
    one. */
static int
client_failed(const conn_opts_t *o, const char *what, const char *endpoint, int rc)
{
    char buf[PEER_TEXT_ROOM];
    const char *remote = server_message(buf, rc);
    if (connection_failed(o, endpoint, rc))
        return CLI_EXIT_FAIL;
    if (remote[0])
        cli_error(o->who, "%s: %s (%s)", what, remote, cli_errname(rc));
    else
        cli_error(o->who, "%s: %s (%s)", what, mu_strerror(rc), cli_errname(rc));
    return CLI_EXIT_FAIL;
}

/* ---- serve ------------------------------------------------------------------ */

/*  Logs one event to stderr and answers requests with their own bytes. */
static void
serve_event(mu_server_t *server, mu_event_t *ev)
{
    size_t size;
    const void *data = mu_event_data(ev, &size);
    uint64_t peer = mu_event_peer(ev);
    switch (mu_event_kind(ev)) {
    case MU_SERVER_JOIN: {
        uint8_t key[MU_KEY_BYTES];
        char text[MU_KEY_TEXT] = "-";
        if (mu_server_peer_key(server, peer, key) == 0 && !sodium_is_zero(key, sizeof key))
            mu_key_to_txt(key, text);
        char name[PEER_TEXT_ROOM]; /* the client chose it: escaped */
        fprintf(stderr, "mutil serve: peer %llu joined (name '%s', key %s)\n",
                (unsigned long long) peer, mu_escape(name, sizeof name, data, size), text);
        break;
    }
    case MU_SERVER_LEAVE:
        fprintf(stderr, "mutil serve: peer %llu left\n", (unsigned long long) peer);
        break;
    case MU_SERVER_REQUEST:
        if (mu_server_reply(server, ev, data, size) != 0)
            fprintf(stderr, "mutil serve: peer %llu: reply not sent\n", (unsigned long long) peer);
        break;
    default:
        break;
    }
}

/*  Prints the server's totals (at exit). */
static void
print_server_totals(mu_server_t *server)
{
    mu_server_stats_t s = { .size = sizeof s };
    if (mu_server_stats(server, &s) != 0)
        return;
    fprintf(stderr,
            "mutil serve: %llu messages in, %llu out, %llu/%llu bytes, %llu files sent, "
            "%llu received, %llu auth failures, %llu protocol errors\n",
            (unsigned long long) s.msgs_in, (unsigned long long) s.msgs_out,
            (unsigned long long) s.bytes_in, (unsigned long long) s.bytes_out,
            (unsigned long long) s.files_sent, (unsigned long long) s.files_received,
            (unsigned long long) s.auth_failures, (unsigned long long) s.protocol_errors);
}

static int
serve_run(const cli_command_t *self, int argc, char **argv)
{
    conn_opts_t o = { .who = "serve" };
    int status = parse_args(self, &o, argc, argv, 0, 0, true, false);
    if (status != CLI_EXIT_OK)
        return parse_status(status);
    mu_server_t *server = mu_server_new();
    status = CLI_EXIT_FAIL;
    if (server == NULL || !secure_server(&o, server))
        goto done;
    int rc = o.root ? mu_server_set_root(server, o.root) : 0;
    if (rc != 0) {
        cli_error(o.who, "--root %s: %s", o.root, mu_strerror(rc));
        goto done;
    }
    rc = mu_server_set_transfer_budget(server, (size_t) o.peer_budget, (size_t) o.server_budget);
    if (rc != 0) { /* parse_args checked them: not expected */
        cli_error(o.who, "--peer-budget/--server-budget: %s", mu_strerror(rc));
        goto done;
    }
    for (size_t i = 0; i < o.nbinds; i++) {
        rc = mu_server_bind(server, o.binds[i]);
        if (rc < 0) {
            cli_error(o.who, "cannot bind %s: %s", o.binds[i], cli_why(rc));
            goto done;
        }
        /* The resolved endpoint on stdout, so scripts can learn a port. */
        printf("%s\n", mu_server_endpoint(server, i));
    }
    fflush(stdout);
    cli_catch_interrupts(); /* SIGINT/SIGTERM: MU_EINTR from mu_server_recv */
    while (true) {
        mu_event_t *ev = NULL;
        rc = mu_server_recv(server, &ev, 1000);
        if (rc == 0) {
            serve_event(server, ev);
            mu_event_destroy(&ev);
        } else if (rc != MU_ETIMEDOUT && rc != MU_EINTR) {
            cli_error(o.who, "%s", mu_strerror(rc));
            goto done;
        }
        if (rc == MU_EINTR || zsys_interrupted)
            break;
    }
    print_server_totals(server);
    status = CLI_EXIT_OK;
done:
    mu_server_destroy(&server);
    return status;
}

/* ---- call ------------------------------------------------------------------- */

/*  Reads all of stdin into a malloc'd buffer (at most 16 MiB). */
static char *
read_stdin(const conn_opts_t *o, size_t *size_p)
{
    size_t cap = 65536, size = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (size == cap) {
            char *bigger = cap < (16u << 20) ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL) {
                cli_error(o->who, "standard input larger than 16 MiB");
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(0, buf + size, cap - size);
        if (n == 0)
            break;
        if (n < 0 && errno != EINTR) {
            cli_error(o->who, "reading standard input: %s", strerror(errno));
            free(buf);
            return NULL;
        }
        size += n > 0 ? (size_t) n : 0;
    }
    *size_p = size;
    return buf;
}

static int
call_run(const cli_command_t *self, int argc, char **argv)
{
    conn_opts_t o = { .who = "call", .timeout_ms = 10000 };
    int status = parse_args(self, &o, argc, argv, 1, 2, false, false);
    if (status != CLI_EXIT_OK)
        return parse_status(status);
    size_t size = 0;
    char *owned = NULL;
    const char *msg = o.nargs == 2 ? o.args[1] : (owned = read_stdin(&o, &size));
    if (msg == NULL)
        return CLI_EXIT_FAIL;
    if (owned == NULL)
        size = strlen(msg);
    mu_client_t *client = open_client(&o, o.args[0]);
    status = CLI_EXIT_FAIL;
    if (client) {
        void *reply = NULL;
        size_t reply_size = 0;
        int rc = mu_client_request(client, msg, size, &reply, &reply_size, o.timeout_ms);
        if (rc == 0) {
            fwrite(reply, 1, reply_size, stdout);
            if (isatty(1) && (reply_size == 0 || ((char *) reply)[reply_size - 1] != '\n'))
                putchar('\n');
            status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        } else
            status = client_failed(&o, "request", o.args[0], rc);
        free(reply);
    }
    mu_client_destroy(&client);
    free(owned);
    return status;
}

/* ---- get / put -------------------------------------------------------------- */

/*  Prints why a transfer failed, naming the side that failed: the
    connection, REMOTE (the server sent an error), or the local file. */
static void
transfer_failed(const conn_opts_t *o, bool upload, const cli_local_t *local, int rc)
{
    const char *endpoint = o->args[0], *remote = upload ? o->args[2] : o->args[1];
    char buf[PEER_TEXT_ROOM];
    const char *message = server_message(buf, rc);
    if (connection_failed(o, endpoint, rc))
        return;
    if (message[0] && rc == MU_EEXIST)
        cli_error(o->who, "'%s' already exists on the server: add --force to replace it", remote);
    else if (message[0])
        cli_error(o->who, "'%s' on the server: %s (%s)", remote, message, cli_errname(rc));
    else if (rc == MU_EINTR && cli_interrupted()) {
        if (upload) /* a download says what it keeps (cli_get_local_close) */
            cli_error(o->who, "interrupted: the upload was cancelled, the server keeps nothing");
    } else if (rc == MU_EEXIST)
        cli_error(o->who, "'%s' already exists: add --force to replace it", local->name);
    else
        cli_error(o->who, "%s: %s (%s)", local->name, mu_strerror(rc), cli_errname(rc));
}

/*  Shared body of get and put. */
static int
transfer_run(const cli_command_t *self, int argc, char **argv, bool upload)
{
    conn_opts_t o = { .who = upload ? "put" : "get", .timeout_ms = 60000 };
    int status = parse_args(self, &o, argc, argv, 3, 3, false, true);
    if (status != CLI_EXIT_OK)
        return parse_status(status);
    cli_catch_interrupts();
    cli_local_t local;
    status = upload ? cli_put_local_open(&local, o.who, o.args[1])
                    : cli_get_local_open(&local, o.who, o.args[2], o.args[1], &o.file.flags);
    if (status != CLI_EXIT_OK) {
        cli_local_free(&local);
        if (status == CLI_EXIT_USAGE)
            cli_print_usage(stderr, "", self);
        cli_die_of_interrupt();
        return status;
    }
    cli_progress_t progress = { .lines = !isatty(2), .who = o.who };
    o.file.timeout_ms = o.timeout_ms;
    if (o.progress || (!o.quiet && isatty(2))) {
        o.file.progress = cli_progress_draw;
        o.file.progress_arg = &progress;
    }
    mu_client_t *client = open_client(&o, o.args[0]);
    int rc = MU_EINVAL;
    if (client)
        rc = upload ? mu_client_put(client, local.path, o.args[2], &o.file)
                    : mu_client_get(client, o.args[1], local.path, &o.file);
    if (client && rc != 0)
        transfer_failed(&o, upload, &local, rc);
    mu_client_destroy(&client);
    if (upload) {
        cli_local_free(&local);
        status = rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    } else
        status = cli_get_local_close(&local, rc);
    cli_die_of_interrupt();
    return status;
}

static int
get_run(const cli_command_t *self, int argc, char **argv)
{
    return transfer_run(self, argc, argv, false);
}

static int
put_run(const cli_command_t *self, int argc, char **argv)
{
    return transfer_run(self, argc, argv, true);
}

const cli_command_t cli_cmd_serve = {
    "serve",
    "--bind EP [--bind EP...] [--root DIR] [--peer-budget SIZE] [--server-budget SIZE] KEYS",
    "run a server: echo requests, serve files below --root",
    "Binds each EP (tcp://HOST:PORT, tcp://HOST:* for any port, ipc://PATH)\n"
    "and prints the bound endpoints, one per line. Requests are answered\n"
    "with their own bytes; with --root, clients may get and put files below\n"
    "DIR. Peers joining and leaving are logged on stderr. Ctrl-C stops it.\n\n"
    "KEYS is --secret-file F, --cert F (--allow DIR | --allow-any) or\n"
    "--insecure.\n\n" SERVE_BUDGET_HELP CONN_KEYS_HELP EXIT_HELP,
    serve_run,
    NULL
};

const cli_command_t cli_cmd_call = {
    "call",
    "EP [MSG] KEYS",
    "send one request to a server and print the reply",
    "Sends MSG (or standard input) as one request and writes the reply to\n"
    "standard output.\n\n" CONN_KEYS_HELP EXIT_HELP,
    call_run,
    NULL
};

const cli_command_t cli_cmd_get = {
    "get",
    "EP REMOTE LOCAL [--chunk SIZE] [--window N] [--resume] [--force] KEYS",
    "download a file from a server",
    "Downloads REMOTE (relative to the server's --root) to LOCAL, checking\n"
    "the XXH3-128 digest; LOCAL appears only when complete. LOCAL may be a\n"
    "directory (the file keeps REMOTE's name) or - (standard output, written\n"
    "once the digest checked). The bytes received go to LOCAL.partial, which\n"
    "is kept when the download fails or is interrupted (Ctrl-C): run the same\n"
    "command with --resume to continue it. A progress bar is drawn on a\n"
    "terminal.\n\n" CONN_KEYS_HELP FILE_OPTS_HELP EXIT_HELP,
    get_run,
    NULL
};

const cli_command_t cli_cmd_put = {
    "put",
    "EP LOCAL REMOTE [--chunk SIZE] [--window N] [--force] KEYS",
    "upload a file to a server",
    "Uploads LOCAL (- for standard input) to REMOTE (relative to the server's\n"
    "--root); the server checks the XXH3-128 digest before the file appears.\n\n" CONN_KEYS_HELP
        FILE_OPTS_HELP EXIT_HELP,
    put_run,
    NULL
};
