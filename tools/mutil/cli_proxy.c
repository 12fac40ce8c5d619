/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_proxy.c — mutil proxy: a pub/sub proxy (mu_proxy) that connects
    upstream to a publisher (or another proxy) and binds downstream for
    subscribers, until SIGINT or SIGTERM.
      mutil proxy --upstream EP --bind EP [--hwm N] [--ws PORT [WS...]] KEYS
    KEYS: --secret-file F (both sides derive their keys from F), or --cert F
    with --allow DIR | --allow-any (downstream, as mutil serve) and
    --server-key K (upstream: the publisher's key, our key is F), or
    --insecure. --ws adds a WebSocket front (mu_proxy_set_ws). */
#include "cli.h"

#include <czmq.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *upstream, *bind;
    const char *secret_file, *cert, *allow_dir, *server_key;
    bool allow_any, insecure;
    int secret_flags;
    int hwm;
    bool ws_on;
    mu_proxy_ws_t ws;
} proxy_opts_t;

static const char *const WHO = "proxy";

/* A number value of option a (at most max); false after a message. */
static bool
ws_number(cli_args_t *a, const char *name, uint64_t max, uint64_t *n)
{
    const char *v;
    if (!cli_args_value(a, &v))
        return false;
    if (cli_parse_size(v, n) != 0 || *n > max) {
        cli_error(WHO, "%s: '%s' is not a number up to %llu", name, v, (unsigned long long) max);
        return false;
    }
    return true;
}

/* Parses one --ws* option. Returns CLI_EXIT_OK or CLI_EXIT_USAGE. */
static int
parse_ws(cli_args_t *a, proxy_opts_t *o)
{
    mu_proxy_ws_t *ws = &o->ws;
    uint64_t n;
    const char *v;
    bool ok = true;
    if (cli_args_is(a, "--ws")) {
        ok = ws_number(a, "--ws", 65535, &n);
        ws->port = (int) n;
        o->ws_on = true;
    } else if (cli_args_is(a, "--ws-host"))
        ok = cli_args_value(a, &ws->host);
    else if (cli_args_is(a, "--ws-cert"))
        ok = cli_args_value(a, &ws->cert_file);
    else if (cli_args_is(a, "--ws-key"))
        ok = cli_args_value(a, &ws->key_file);
    else if (cli_args_is(a, "--ws-origin"))
        ok = cli_args_value(a, &ws->origin);
    else if (cli_args_is(a, "--ws-max-message")) {
        ok = ws_number(a, "--ws-max-message", MU_PUBSUB_MAX_MESSAGE, &n);
        ws->max_message = (size_t) n;
    } else if (cli_args_is(a, "--ws-queue")) {
        ok = ws_number(a, "--ws-queue", (uint64_t) 1 << 40, &n);
        ws->queue_max = (size_t) n;
    } else if (cli_args_is(a, "--ws-max-clients")) {
        ok = ws_number(a, "--ws-max-clients", 1000000, &n);
        ws->max_clients = (int) n;
    } else if (cli_args_is(a, "--ws-ping")) {
        ok = ws_number(a, "--ws-ping", 86400000, &n);
        ws->ping_interval_ms = n ? (int) n : -1;
    } else if (cli_args_is(a, "--ws-overflow")) {
        ok = cli_args_value(a, &v);
        if (ok && strcmp(v, "drop") == 0)
            ws->overflow = MU_PROXY_WS_DROP_OLDEST;
        else if (ok && strcmp(v, "disconnect") == 0)
            ws->overflow = MU_PROXY_WS_DISCONNECT;
        else if (ok) {
            cli_error(WHO, "--ws-overflow: '%s' is not drop or disconnect", v);
            ok = false;
        }
    } else if (cli_args_is(a, "--ws-publish")) {
        ok = cli_args_flag(a);
        ws->allow_publish = true;
    } else {
        cli_args_unknown(a);
        ok = false;
    }
    return ok ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Parses the words; returns CLI_EXIT_OK to go on, or a status. */
static int
parse(const cli_command_t *self, proxy_opts_t *o, int argc, char **argv)
{
    cli_args_t a;
    cli_args_init(&a, WHO, argc, argv);
    const char *word;
    int kind;
    while ((kind = cli_args_next(&a, &word)) != CLI_ARGS_END) {
        const char **value = NULL;
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "", self);
            return -1;
        }
        if (kind == CLI_ARGS_OPERAND) {
            cli_error(WHO, "unexpected operand '%s'", word);
            return CLI_EXIT_USAGE;
        }
        if (cli_args_is(&a, "--upstream"))
            value = &o->upstream;
        else if (cli_args_is(&a, "--bind"))
            value = &o->bind;
        else if (cli_args_is(&a, "--secret-file"))
            value = &o->secret_file;
        else if (cli_args_is(&a, "--cert"))
            value = &o->cert;
        else if (cli_args_is(&a, "--allow"))
            value = &o->allow_dir;
        else if (cli_args_is(&a, "--server-key"))
            value = &o->server_key;
        else if (strncmp(a.option, "--ws", 4) == 0) {
            int rc = parse_ws(&a, o);
            if (rc != CLI_EXIT_OK)
                return rc;
            continue;
        } else if (cli_args_is(&a, "--hwm")) {
            const char *v;
            uint64_t n;
            if (!cli_args_value(&a, &v))
                return CLI_EXIT_USAGE;
            if (cli_parse_size(v, &n) != 0 || n > 1000000000) {
                cli_error(WHO, "--hwm: '%s' is not a number of messages", v);
                return CLI_EXIT_USAGE;
            }
            o->hwm = (int) n;
            continue;
        } else if (cli_args_is(&a, "--allow-any") || cli_args_is(&a, "--insecure")
                   || cli_args_is(&a, "--allow-insecure-secret")) {
            if (!cli_args_flag(&a))
                return CLI_EXIT_USAGE;
            if (cli_args_is(&a, "--allow-any"))
                o->allow_any = true;
            else if (cli_args_is(&a, "--insecure"))
                o->insecure = true;
            else
                o->secret_flags |= MU_KEYS_ALLOW_INSECURE;
            continue;
        } else {
            cli_args_unknown(&a);
            return CLI_EXIT_USAGE;
        }
        if (!cli_args_value(&a, value))
            return CLI_EXIT_USAGE;
    }
    const char *wrong = NULL;
    int choices = (o->secret_file != NULL) + (o->cert != NULL) + o->insecure;
    if (!o->upstream || !o->bind)
        wrong = "--upstream EP and --bind EP are required";
    else if (choices != 1)
        wrong = choices ? "choose one of --secret-file, --cert, --insecure"
                        : "no security chosen: --secret-file F, --cert F or --insecure";
    else if (o->cert && !o->allow_dir == !o->allow_any)
        wrong = "--cert needs --allow DIR (subscriber certs) or --allow-any";
    else if (o->cert && !o->server_key)
        wrong = "--cert needs --server-key (the upstream publisher's public key)";
    else if (!o->cert && (o->allow_dir || o->allow_any || o->server_key))
        wrong = "--allow, --allow-any and --server-key go with --cert";
    else if (!o->ws_on
             && (o->ws.host || o->ws.cert_file || o->ws.key_file || o->ws.origin
                 || o->ws.max_message || o->ws.queue_max || o->ws.max_clients
                 || o->ws.ping_interval_ms || o->ws.overflow || o->ws.allow_publish))
        wrong = "the --ws-* options go with --ws PORT";
    else if (!o->ws.cert_file != !o->ws.key_file)
        wrong = "--ws-cert and --ws-key go together";
    if (wrong) {
        cli_error(WHO, "%s", wrong);
        cli_print_usage(stderr, "", self);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static bool
secure_with_secret(const proxy_opts_t *o, mu_proxy_t *proxy)
{
    char *secret = NULL;
    size_t size = 0;
    if (!cli_load_secret(WHO, o->secret_file, o->secret_flags, &secret, &size))
        return false;
    int rc = mu_proxy_set_curve_secret(proxy, MU_PROXY_UPSTREAM, secret, size);
    if (rc == 0)
        rc = mu_proxy_set_curve_secret(proxy, MU_PROXY_DOWNSTREAM, secret, size);
    sodium_memzero(secret, size);
    free(secret);
    if (rc != 0)
        cli_error(WHO, "security set-up failed: %s", mu_strerror(rc));
    return rc == 0;
}

static mu_allow_t *
load_allow(const proxy_opts_t *o)
{
    if (o->allow_any)
        return mu_allow_new_any();
    mu_allow_t *allow = mu_allow_new();
    int n = allow ? mu_allow_load_dir(allow, o->allow_dir, NULL) : MU_ENOMEM;
    if (n < 0) {
        cli_error(WHO, "--allow %s: %s", o->allow_dir, mu_strerror(n));
        mu_allow_destroy(&allow);
    } else if (n == 0)
        fprintf(stderr, "mutil proxy: warning: %s holds no certs: no subscriber can connect\n",
                o->allow_dir);
    return allow;
}

static bool
secure_with_certs(const proxy_opts_t *o, mu_proxy_t *proxy)
{
    mu_keys_t *own = cli_load_cert(WHO, o->cert, o->secret_flags, true);
    mu_keys_t *server = own ? cli_load_server_key(WHO, o->server_key) : NULL;
    mu_allow_t *allow = server ? load_allow(o) : NULL;
    int rc = allow ? 0 : MU_EINVAL;
    if (rc == 0)
        rc = mu_proxy_set_curve(proxy, MU_PROXY_DOWNSTREAM, own, allow, NULL, NULL);
    if (rc == 0)
        rc = mu_proxy_set_curve(proxy, MU_PROXY_UPSTREAM, NULL, NULL, own, mu_keys_public(server));
    if (allow && rc != 0)
        cli_error(WHO, "security set-up failed: %s", mu_strerror(rc));
    mu_allow_destroy(&allow);
    mu_keys_destroy(&server);
    mu_keys_destroy(&own);
    return rc == 0;
}

static void
print_ws_totals(const mu_proxy_t *proxy)
{
    mu_proxy_ws_stats_t st = { .size = sizeof st };
    if (mu_proxy_ws_port(proxy) == 0 || mu_proxy_ws_stats(proxy, &st) != 0)
        return;
    fprintf(stderr,
            "mutil proxy: ws: %llu clients accepted, %llu refused (%llu origin), %llu frames "
            "out, %llu forwarded, %llu publishes, %llu errors, %llu dropped, %llu slow, "
            "%llu oversized, %llu missed, %llu duplicates, %llu accept failures\n",
            (unsigned long long) st.accepted, (unsigned long long) st.refused,
            (unsigned long long) st.refused_origin, (unsigned long long) st.messages_out,
            (unsigned long long) st.forwarded, (unsigned long long) st.publishes,
            (unsigned long long) st.errors, (unsigned long long) st.dropped,
            (unsigned long long) st.slow, (unsigned long long) st.oversized,
            (unsigned long long) st.missed, (unsigned long long) st.duplicates,
            (unsigned long long) st.accept_failures);
}

static void
print_totals(const mu_proxy_t *proxy)
{
    mu_proxy_stats_t st = { .size = sizeof st };
    if (mu_proxy_stats(proxy, &st) != 0)
        return;
    fprintf(stderr,
            "mutil proxy: %llu messages (%llu bytes) forwarded, %llu subscribes, "
            "%llu unsubscribes, %llu auth failures\n",
            (unsigned long long) st.messages, (unsigned long long) st.bytes,
            (unsigned long long) st.subscribes, (unsigned long long) st.unsubscribes,
            (unsigned long long) st.auth_failures);
    print_ws_totals(proxy);
}

static int
proxy_run(const cli_command_t *self, int argc, char **argv)
{
    proxy_opts_t o = { .hwm = -1 };
    int status = parse(self, &o, argc, argv);
    if (status != CLI_EXIT_OK)
        return status < 0 ? CLI_EXIT_OK : status;
    mu_proxy_t *proxy = mu_proxy_new();
    status = CLI_EXIT_FAIL;
    if (!proxy) {
        cli_error(WHO, "%s", mu_last_error());
        return status;
    }
    if (o.insecure)
        fprintf(stderr, "mutil proxy: warning: --insecure: traffic is plaintext and anybody "
                        "who can connect is let in\n");
    else if (!(o.secret_file ? secure_with_secret(&o, proxy) : secure_with_certs(&o, proxy)))
        goto done;
    int rc = o.hwm >= 0 ? mu_proxy_set_hwm(proxy, o.hwm) : 0;
    if (rc == 0 && (rc = mu_proxy_connect(proxy, MU_PROXY_UPSTREAM, o.upstream)) != 0)
        cli_error(WHO, "cannot connect upstream %s: %s", o.upstream, mu_last_error());
    if (rc == 0 && (rc = mu_proxy_bind(proxy, MU_PROXY_DOWNSTREAM, o.bind)) < 0)
        cli_error(WHO, "cannot bind %s: %s", o.bind, mu_last_error());
    if (rc >= 0 && o.ws_on && (rc = mu_proxy_set_ws(proxy, &o.ws)) < 0)
        cli_error(WHO, "cannot listen for WebSocket clients on port %d: %s", o.ws.port,
                  mu_last_error());
    if (rc < 0)
        goto done;
    cli_catch_interrupts();
    if ((rc = mu_proxy_start(proxy)) != 0) {
        cli_error(WHO, "%s", mu_last_error());
        goto done;
    }
    /* The bound endpoint on stdout, so that scripts learn the port; then
       the WebSocket front's URL. */
    printf("%s\n", mu_proxy_endpoint(proxy, MU_PROXY_DOWNSTREAM));
    if (o.ws_on)
        printf("%s://%s:%d/\n", o.ws.cert_file ? "wss" : "ws", o.ws.host ? o.ws.host : "127.0.0.1",
               mu_proxy_ws_port(proxy));
    fflush(stdout);
    while (!cli_interrupted())
        (void) poll(NULL, 0, 100); /* the handler only sets a flag */
    print_totals(proxy);
    status = CLI_EXIT_OK;
done:
    mu_proxy_destroy(&proxy);
    return status;
}

const cli_command_t cli_cmd_proxy = {
    "proxy",
    "--upstream EP --bind EP [--hwm N] [--ws PORT [WS OPTIONS]] KEYS",
    "forward topic pub/sub from a publisher to subscribers",
    "Connects upstream (an XSUB) to the publisher or proxy at --upstream and\n"
    "binds --bind (an XPUB) for subscribers; forwards messages down and the\n"
    "union of the subscribers' subscriptions up (the last unsubscribe of a\n"
    "prefix unsubscribes upstream). Prints the bound endpoint (and, with\n"
    "--ws, the WebSocket URL on a second line), runs until SIGINT or\n"
    "SIGTERM, then prints its totals on stderr and exits 0.\n\n"
    "Options:\n"
    "  --hwm N                messages queued per peer on each side before\n"
    "                         drops (default 1000; 0: no limit)\n\n"
    "WebSocket front (JSON subscribe/unsubscribe/publish, doc/pubsub.md):\n"
    "  --ws PORT              listen for ws clients on PORT (0: any free port)\n"
    "  --ws-host ADDR         address to listen on (default 127.0.0.1)\n"
    "  --ws-cert F --ws-key F wss://: certificate chain and key (PEM)\n"
    "  --ws-origin O          refuse clients whose Origin is not exactly O\n"
    "  --ws-max-message N     largest frame either way (default 1M; larger\n"
    "                         from a client: closed with code 1009)\n"
    "  --ws-queue N           bytes queued per client (default 1M)\n"
    "  --ws-overflow drop|disconnect  a client over its queue: drop its oldest\n"
    "                         messages or close it (default disconnect)\n"
    "  --ws-publish           let ws clients publish (else refused: MU_EACCES)\n"
    "  --ws-ping MS           ping idle clients every MS ms (0: never;\n"
    "                         default 20000)\n"
    "  --ws-max-clients N     clients at once (default 4096)\n\n"
    "Security (one of):\n"
    "  --secret-file F        a shared passphrase: both sides derive their\n"
    "                         keys from it, as the publisher and subscribers do\n"
    "  --cert F               our cert (F and F_secret), with --allow DIR (the\n"
    "                         subscribers' public certs) or --allow-any for the\n"
    "                         downstream side, and --server-key K (the\n"
    "                         publisher's public key, Z85 or a cert file)\n"
    "  --insecure             plaintext and unauthenticated (warned about)\n"
    "  --allow-insecure-secret  accept a secret file others may read\n",
    proxy_run,
    NULL,
};
