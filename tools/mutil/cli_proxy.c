/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_proxy.c — mutil proxy: a pub/sub proxy (mu_proxy) that connects
    upstream to a publisher (or another proxy) and binds downstream for
    subscribers, until SIGINT or SIGTERM.
      mutil proxy --upstream EP --bind EP [--hwm N] KEYS
    KEYS: --secret-file F (both sides derive their keys from F), or --cert F
    with --allow DIR | --allow-any (downstream, as mutil serve) and
    --server-key K (upstream: the publisher's key, our key is F), or
    --insecure. */
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
} proxy_opts_t;

static const char *const WHO = "proxy";

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
        else if (cli_args_is(&a, "--hwm")) {
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
    if (rc < 0)
        goto done;
    cli_catch_interrupts();
    if ((rc = mu_proxy_start(proxy)) != 0) {
        cli_error(WHO, "%s", mu_last_error());
        goto done;
    }
    /* The bound endpoint on stdout, so that scripts learn the port. */
    printf("%s\n", mu_proxy_endpoint(proxy, MU_PROXY_DOWNSTREAM));
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
    "--upstream EP --bind EP [--hwm N] KEYS",
    "forward topic pub/sub from a publisher to subscribers",
    "Connects upstream (an XSUB) to the publisher or proxy at --upstream and\n"
    "binds --bind (an XPUB) for subscribers; forwards messages down and the\n"
    "union of the subscribers' subscriptions up (the last unsubscribe of a\n"
    "prefix unsubscribes upstream). Prints the bound endpoint, runs until\n"
    "SIGINT or SIGTERM, then prints its totals on stderr and exits 0.\n\n"
    "Options:\n"
    "  --hwm N                messages queued per peer on each side before\n"
    "                         drops (default 1000; 0: no limit)\n\n"
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
