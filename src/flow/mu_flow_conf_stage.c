/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_conf_stage.c — the stages of a flow file (doc/flow.md, "Stages"):
    sources (a command, a file, a descriptor), workers (a command or a
    function of a shared library), edges, and the settings of the link
    into each stage, translated into mu_flow calls. */
#include "flow/mu_flow_conf_int.h"
#include "flow/mu_flow_cmd.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD_MAX_FRAME (16u * 1024 * 1024)

/*  A stage being read: its name, where it is in the file, its width. */
typedef struct {
    mu__conf_ctx_t *c;
    json_t *obj;
    int index;
    const char *name;
    char where[96];
    int runners; /* total over the hosts */
    bool first;  /* the first stage of its pipeline: no link into it */
} stage_t;

/* ---- keyed links ---------------------------------------------------------------------- */

typedef struct {
    int kind; /* 0 whole, 1 bytes, 2 field */
    size_t off, len;
    unsigned char sep;
    long field;
} keyspec_t;

static uint64_t
fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static uint64_t
key_of(void *arg, const void *data, size_t size)
{
    const keyspec_t *k = arg;
    const unsigned char *p = data;
    if (k->kind == 1) {
        size_t off = k->off < size ? k->off : size;
        size_t len = size - off < k->len ? size - off : k->len;
        return fnv1a(p + off, len);
    }
    if (k->kind == 2) {
        size_t start = 0;
        for (long f = 0; f < k->field && start <= size; f++) {
            const unsigned char *sep = memchr(p + start, k->sep, size - start);
            start = sep ? (size_t) (sep - p) + 1 : size + 1;
        }
        if (start > size)
            return fnv1a(NULL, 0);
        const unsigned char *end = memchr(p + start, k->sep, size - start);
        return fnv1a(p + start, end ? (size_t) (end - p) - start : size - start);
    }
    return fnv1a(p, size);
}

/*  "whole", "bytes:OFFSET:LENGTH" or "field:SEP:N". */
static int
parse_key(stage_t *s, const char *text, keyspec_t *k)
{
    char sep, end;
    unsigned long a, b;
    if (strcmp(text, "whole") == 0)
        k->kind = 0;
    else if (sscanf(text, "bytes:%lu:%lu%c", &a, &b, &end) == 2 && b > 0) {
        k->kind = 1;
        k->off = a;
        k->len = b;
    } else if (sscanf(text, "field:%c:%lu%c", &sep, &a, &end) == 2 && a < 65536) {
        k->kind = 2;
        k->sep = (unsigned char) sep;
        k->field = (long) a;
    } else
        return mu__conf_bad(s->c, s->where, "key",
                            "'%s': needs \"whole\", \"bytes:OFFSET:LENGTH\" (LENGTH > 0) or "
                            "\"field:SEP:N\" (SEP one byte)",
                            text);
    return 0;
}

/* ---- runners and hosts ------------------------------------------------------------------- */

/*  "runners": a count, or {"HOST": n} (then placed after the stage exists). */
static int
read_runners(stage_t *s)
{
    json_t *r = json_object_get(s->obj, "runners");
    s->runners = 1;
    if (!r || json_is_integer(r)) {
        long n = 1;
        int rc = mu__conf_int(s->c, s->where, s->obj, "runners", 1, 256, &n);
        s->runners = (int) n;
        return rc;
    }
    if (!json_is_object(r))
        return mu__conf_bad(s->c, s->where, "runners",
                            "needs a count (1..256) or an object: host name -> count");
    if (!s->c->hosts)
        return mu__conf_bad(s->c, s->where, "runners", "runners per host need a hosts list");
    long total = 0;
    const char *host;
    json_t *v;
    json_object_foreach(r, host, v)
    {
        long n = -1;
        char where[160];
        snprintf(where, sizeof where, "%s.runners", s->where);
        int rc = mu__conf_int(s->c, where, r, host, 0, 256, &n);
        if (rc != 0)
            return rc;
        total += n;
    }
    if (total < 1 || total > 256)
        return mu__conf_bad(s->c, s->where, "runners", "the total must be 1..256, not %ld", total);
    s->runners = (int) total;
    return 0;
}

/*  After the stage was added: its runners' hosts. */
static int
place_runners(stage_t *s, const char *on)
{
    mu_flow_t *f = s->c->conf->flow;
    json_t *r = json_object_get(s->obj, "runners");
    int rc = 0;
    if (on) {
        if ((rc = mu_flow_set_runners_on(f, s->name, on, s->runners)) != 0)
            return mu__conf_refused(s->c, s->where, rc);
        return 0;
    }
    if (!json_is_object(r))
        return 0;
    const char *host;
    json_t *v;
    json_object_foreach(
        r, host, v) if ((rc = mu_flow_set_runners_on(f, s->name, host, (int) json_integer_value(v)))
                        != 0) return mu__conf_bad(s->c, s->where, "runners", "host '%s': %s", host,
                                                  mu_last_error());
    return 0;
}

/*  Whether the file's hosts list has a host named name (load_hosts read
    and checked it before the stages). */
static bool
host_listed(const mu__conf_ctx_t *c, const char *name)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(c->conf->root, "hosts"), i, h)
    {
        if (strcmp(json_string_value(json_object_get(h, "name")), name) == 0)
            return true;
    }
    return false;
}

/*  "on": the host of a stage that cannot be spread (default: the first). */
static int
read_on(stage_t *s, const char **on_p)
{
    const char *on = NULL;
    int rc = mu__conf_str(s->c, s->where, s->obj, "on", false, &on);
    if (rc != 0)
        return rc;
    if (on && !s->c->hosts)
        return mu__conf_bad(s->c, s->where, "on", "needs a hosts list");
    if (on && !host_listed(s->c, on))
        return mu__conf_bad(s->c, s->where, "on", "no host named '%s' in hosts", on);
    if (json_is_object(json_object_get(s->obj, "runners")))
        return mu__conf_bad(s->c, s->where, "runners", "this stage runs on one host: use \"on\"");
    *on_p = s->c->hosts ? (on ? on : s->c->first_host) : NULL;
    return 0;
}

/* ---- handlers ---------------------------------------------------------------------------- */

/*  A command stage's definition (kept with the conf). */
static int
read_command(stage_t *s, const char *command, mu__cmd_def_t **def_p)
{
    long timeout = 0, max_frame = CMD_MAX_FRAME;
    int rc;
    if ((rc = mu__conf_int(s->c, s->where, s->obj, "timeout_ms", 0, INT_MAX, &timeout)) != 0
        || (rc = mu__conf_int(s->c, s->where, s->obj, "max_frame", 1, 1L << 30, &max_frame)) != 0)
        return rc;
    mu__cmd_def_t *def = mu__conf_keep(s->c->conf, calloc(1, sizeof *def));
    if (!def)
        return MU_ENOMEM;
    def->command = command;
    def->dir = s->c->conf->dir;
    def->flow = json_string_value(json_object_get(s->c->conf->root, "flow"));
    def->stage = s->name;
    def->host = s->c->host;
    def->timeout_ms = (int) timeout;
    def->max_frame = (uint32_t) max_frame;
    *def_p = def;
    return 0;
}

/*  Looks up symbol in the library (NULL name: *fn_p stays NULL). */
static int
lookup(stage_t *s, void *dl, const char *key, const char *symbol, void **fn_p)
{
    if (!symbol)
        return 0;
    dlerror();
    *fn_p = dlsym(dl, symbol);
    if (!*fn_p)
        return mu__conf_bad(s->c, s->where, key, "no symbol '%s' in the library", symbol);
    return 0;
}

static int
add_library_worker(stage_t *s, const char *spec)
{
    mu_flow_conf_t *conf = s->c->conf;
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return mu__conf_bad(s->c, s->where, "library", "'%s': needs \"FILE.so:SYMBOL\"", spec);
    char *file = mu__conf_keep(conf, strndup(spec, (size_t) (colon - spec)));
    char *path = file ? mu__conf_path(conf, file) : NULL;
    if (!path)
        return MU_ENOMEM;
    if (conf->ndls == conf->capdls) {
        size_t cap = conf->capdls ? conf->capdls * 2 : 4;
        void **dls = realloc(conf->dls, cap * sizeof *dls);
        if (!dls)
            return MU_ENOMEM;
        conf->dls = dls;
        conf->capdls = cap;
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        return mu__conf_bad(s->c, s->where, "library", "cannot load: %s", dlerror());
    conf->dls[conf->ndls++] = dl;
    const char *startup = NULL, *teardown = NULL, *arg = NULL;
    void *handler_fn = NULL, *startup_fn = NULL, *teardown_fn = NULL;
    int rc;
    if ((rc = mu__conf_str(s->c, s->where, s->obj, "startup", false, &startup)) != 0
        || (rc = mu__conf_str(s->c, s->where, s->obj, "teardown", false, &teardown)) != 0
        || (rc = mu__conf_str(s->c, s->where, s->obj, "arg", false, &arg)) != 0
        || (rc = lookup(s, dl, "library", colon + 1, &handler_fn)) != 0
        || (rc = lookup(s, dl, "startup", startup, &startup_fn)) != 0
        || (rc = lookup(s, dl, "teardown", teardown, &teardown_fn)) != 0)
        return rc;
    mu_flow_handler_fn *handler;
    mu_flow_startup_fn *start;
    mu_flow_teardown_fn *down;
    /* POSIX: a data pointer from dlsym converts to a function pointer. */
    memcpy(&handler, &handler_fn, sizeof handler);
    memcpy(&start, &startup_fn, sizeof start);
    memcpy(&down, &teardown_fn, sizeof down);
    mu_flow_t *f = conf->flow;
    if ((rc = mu_flow_add_worker_stage(f, s->name, s->runners, start, handler, (void *) arg)) != 0
        || (down && (rc = mu_flow_set_teardown(f, s->name, down)) != 0))
        return mu__conf_refused(s->c, s->where, rc);
    return 0;
}

/*  A stage whose runners may spread over hosts (a worker, a command
    source) is placed with "runners", not "on". */
static int
refuse_on(stage_t *s)
{
    if (json_object_get(s->obj, "on"))
        return mu__conf_bad(s->c, s->where, "on", "use \"runners\": {\"HOST\": n} here");
    return 0;
}

static int
add_worker(stage_t *s)
{
    const char *command = NULL, *library = NULL;
    int rc;
    if ((rc = refuse_on(s)) != 0
        || (rc = mu__conf_str(s->c, s->where, s->obj, "command", false, &command)) != 0
        || (rc = mu__conf_str(s->c, s->where, s->obj, "library", false, &library)) != 0)
        return rc;
    if ((command != NULL) == (library != NULL))
        return mu__conf_bad(s->c, s->where, NULL, "a worker needs exactly one of command, library");
    if (library) {
        static const char *const no[] = { "timeout_ms", "max_frame", NULL };
        for (int i = 0; no[i]; i++)
            if (json_object_get(s->obj, no[i]))
                return mu__conf_bad(s->c, s->where, no[i], "applies to a command only");
        rc = add_library_worker(s, library);
    } else {
        static const char *const no[] = { "startup", "teardown", "arg", NULL };
        for (int i = 0; no[i]; i++)
            if (json_object_get(s->obj, no[i]))
                return mu__conf_bad(s->c, s->where, no[i], "applies to a library only");
        mu__cmd_def_t *def = NULL;
        mu_flow_t *f = s->c->conf->flow;
        if ((rc = read_command(s, command, &def)) != 0)
            return rc;
        if ((rc = mu_flow_add_worker_stage(f, s->name, s->runners, mu__cmd_startup, mu__cmd_handler,
                                           def))
                != 0
            || (rc = mu_flow_set_teardown(f, s->name, mu__cmd_teardown)) != 0)
            return mu__conf_refused(s->c, s->where, rc);
    }
    return rc != 0 ? rc : place_runners(s, NULL);
}

static int
add_source(stage_t *s)
{
    const char *command = NULL, *file = NULL, *on = NULL;
    long fd = -1;
    int rc;
    mu_flow_t *f = s->c->conf->flow;
    if ((rc = mu__conf_str(s->c, s->where, s->obj, "command", false, &command)) != 0
        || (rc = mu__conf_str(s->c, s->where, s->obj, "file", false, &file)) != 0
        || (rc = mu__conf_int(s->c, s->where, s->obj, "fd", 0, INT_MAX, &fd)) != 0)
        return rc;
    if ((command != NULL) + (file != NULL) + (fd >= 0) != 1)
        return mu__conf_bad(s->c, s->where, NULL,
                            "a source needs exactly one of command, file, fd");
    if (!s->first)
        return mu__conf_bad(s->c, s->where, "type", "only the first stage can be a source%s",
                            s->c->piped ? " (of its pipeline)" : "");
    if (command) {
        mu__cmd_def_t *def = NULL;
        if ((rc = refuse_on(s)) != 0)
            return rc;
        if (json_object_get(s->obj, "timeout_ms"))
            return mu__conf_bad(s->c, s->where, "timeout_ms", "applies to a worker command only");
        if ((rc = read_command(s, command, &def)) != 0)
            return rc;
        if ((rc = mu_flow_add_source(f, s->name, s->runners, mu__cmd_source, def)) != 0)
            return mu__conf_refused(s->c, s->where, rc);
        return place_runners(s, NULL);
    }
    if (json_object_get(s->obj, "runners") || json_object_get(s->obj, "max_frame"))
        return mu__conf_bad(s->c, s->where,
                            json_object_get(s->obj, "runners") ? "runners" : "max_frame",
                            "a file or fd source has one runner and reads mu_pipe frames");
    if ((rc = read_on(s, &on)) != 0)
        return rc;
    s->runners = 1;
    bool here = !on || strcmp(on, s->c->host) == 0;
    int d = -1;
    if (!here) /* read elsewhere: a placeholder */
        d = open("/dev/null", O_RDONLY | O_CLOEXEC);
    else if (file) {
        const char *path = mu__conf_path(s->c->conf, file);
        if (!path)
            return MU_ENOMEM;
        if ((d = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            return mu__conf_bad(s->c, s->where, "file", "%s: %s", path, strerror(errno));
    } else if ((d = fcntl((int) fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return mu__conf_bad(s->c, s->where, "fd", "descriptor %ld: %s", fd, strerror(errno));
    if ((rc = mu_flow_add_fd_source(f, s->name, &d, 1)) != 0) {
        close(d);
        return mu__conf_refused(s->c, s->where, rc);
    }
    return place_runners(s, on);
}

/* ---- edges ----------------------------------------------------------------------------------- */

static const char *const EDGE_KEYS[] = { "host",
                                         "port",
                                         "listen",
                                         "transport",
                                         "max_frame",
                                         "max_clients",
                                         "idle_timeout_ms",
                                         "queue_max",
                                         "overflow",
                                         "ws_path",
                                         "ws_origin",
                                         "ws_cert_file",
                                         "ws_key_file",
                                         "ws_tls",
                                         "ws_ca_file",
                                         "ws_tls_insecure",
                                         "ws_binary",
                                         "ws_ping_interval_ms",
                                         NULL };

/*  A file path of an edge (relative to the flow file), or NULL. */
static int
edge_file(stage_t *s, const char *where, json_t *e, const char *key, const char **v)
{
    const char *file = NULL;
    int rc = mu__conf_str(s->c, where, e, key, false, &file);
    if (rc == 0 && file && !(*v = mu__conf_path(s->c->conf, file)))
        rc = MU_ENOMEM;
    return rc;
}

static int
read_edge(stage_t *s, const char *where, json_t *e, mu_flow_edge_t *edge)
{
    long port = 0, max_frame = 0, max_clients = 0, idle = 0, queue_max = 0, ping = 0;
    const char *transport = "tcp", *overflow = "disconnect";
    int rc;
    if (!json_is_object(e))
        return mu__conf_bad(s->c, where, NULL, "needs an edge object");
    if ((rc = mu__conf_keys(s->c, where, e, EDGE_KEYS)) != 0
        || (rc = mu__conf_str(s->c, where, e, "host", true, &edge->host)) != 0
        || (rc = mu__conf_int(s->c, where, e, "port", 0, 65535, &port)) != 0
        || (rc = mu__conf_bool(s->c, where, e, "listen", &edge->listen)) != 0
        || (rc = mu__conf_str(s->c, where, e, "transport", false, &transport)) != 0
        || (rc = mu__conf_int(s->c, where, e, "max_frame", 0, UINT32_MAX, &max_frame)) != 0
        || (rc = mu__conf_int(s->c, where, e, "max_clients", 0, 65536, &max_clients)) != 0
        || (rc = mu__conf_int(s->c, where, e, "idle_timeout_ms", -1, INT_MAX, &idle)) != 0
        || (rc = mu__conf_int(s->c, where, e, "queue_max", 0, LONG_MAX, &queue_max)) != 0
        || (rc = mu__conf_str(s->c, where, e, "overflow", false, &overflow)) != 0
        || (rc = mu__conf_str(s->c, where, e, "ws_path", false, &edge->ws_path)) != 0
        || (rc = mu__conf_str(s->c, where, e, "ws_origin", false, &edge->ws_origin)) != 0
        || (rc = edge_file(s, where, e, "ws_cert_file", &edge->ws_cert_file)) != 0
        || (rc = edge_file(s, where, e, "ws_key_file", &edge->ws_key_file)) != 0
        || (rc = edge_file(s, where, e, "ws_ca_file", &edge->ws_ca_file)) != 0
        || (rc = mu__conf_bool(s->c, where, e, "ws_tls", &edge->ws_tls)) != 0
        || (rc = mu__conf_bool(s->c, where, e, "ws_tls_insecure", &edge->ws_tls_insecure)) != 0
        || (rc = mu__conf_bool(s->c, where, e, "ws_binary", &edge->ws_binary)) != 0
        || (rc = mu__conf_int(s->c, where, e, "ws_ping_interval_ms", -1, INT_MAX, &ping)) != 0)
        return rc;
    if (strcmp(transport, "tcp") != 0 && strcmp(transport, "ws") != 0)
        return mu__conf_bad(s->c, where, "transport", "'%s': needs \"tcp\" or \"ws\"", transport);
    if (strcmp(overflow, "disconnect") != 0 && strcmp(overflow, "drop_oldest") != 0)
        return mu__conf_bad(s->c, where, "overflow",
                            "'%s': needs \"disconnect\" or \"drop_oldest\"", overflow);
    edge->port = (int) port;
    edge->transport = transport[0] == 'w' ? MU_FLOW_EDGE_WS : MU_FLOW_EDGE_TCP;
    edge->overflow = overflow[0] == 'd' && overflow[1] == 'r' ? MU_FLOW_EDGE_DROP_OLDEST
                                                              : MU_FLOW_EDGE_DISCONNECT;
    edge->max_frame = (uint32_t) max_frame;
    edge->max_clients = (int) max_clients;
    edge->idle_timeout_ms = (int) idle;
    edge->queue_max = (size_t) queue_max;
    edge->ws_ping_interval_ms = (int) ping;
    return 0;
}

static int
add_edges(stage_t *s)
{
    json_t *edges = json_object_get(s->obj, "edges");
    const char *on = NULL;
    if (!json_is_array(edges) || json_array_size(edges) == 0 || json_array_size(edges) > 256)
        return mu__conf_bad(s->c, s->where, "edges", "needs a list of 1..256 edge objects");
    if (json_object_get(s->obj, "runners"))
        return mu__conf_bad(s->c, s->where, "runners", "an edge stage has one runner per edge");
    int rc = read_on(s, &on);
    if (rc != 0)
        return rc;
    size_t i;
    json_t *e;
    json_array_foreach(edges, i, e)
    {
        char where[160];
        snprintf(where, sizeof where, "%s.edges[%zu]", s->where, i);
        mu_flow_edge_t edge = { 0 };
        if ((rc = read_edge(s, where, e, &edge)) != 0)
            return rc;
        if ((rc = mu_flow_add_edge(s->c->conf->flow, s->name, &edge)) != 0)
            return mu__conf_refused(s->c, where, rc);
    }
    s->runners = (int) json_array_size(edges);
    return place_runners(s, on);
}

/* ---- a stage ---------------------------------------------------------------------------------- */

static const char *const STAGE_KEYS[] = {
    "name", "type",       "runners",   "on",    "link",     "key",     "at_least_once",
    "drop", "command",    "file",      "fd",    "library",  "startup", "teardown",
    "arg",  "timeout_ms", "max_frame", "edges", "pipeline", NULL
};

/*  "pipeline": the stage's pipeline, a new name starting it. Every stage
    names its pipeline or none does; a pipeline's stages are consecutive. */
static int
read_pipeline(stage_t *s)
{
    mu__conf_ctx_t *c = s->c;
    const char *name = NULL;
    int rc = mu__conf_str(c, s->where, s->obj, "pipeline", false, &name);
    s->first = s->index == 0;
    if (rc != 0)
        return rc;
    if (name ? c->piped != s->index : c->piped != 0)
        return mu__conf_bad(c, s->where, "pipeline",
                            "%s: every stage names its pipeline, or none does",
                            name ? "named" : "missing");
    if (!name)
        return 0;
    if (c->hosts)
        return mu__conf_bad(c, s->where, "pipeline", "named pipelines do not mix with hosts");
    c->piped++;
    if (c->pipe && strcmp(c->pipe, name) == 0)
        return 0;
    mu_flow_state_t state;
    if (c->pipe && mu_flow_pipeline_state(c->conf->flow, name, &state, NULL) == 0)
        return mu__conf_bad(c, s->where, "pipeline",
                            "'%s' has stages earlier: the stages of a pipeline are consecutive",
                            name);
    c->pipe = name;
    s->first = true;
    rc = mu_flow_add_pipeline(c->conf->flow, name);
    return rc != 0 ? mu__conf_refused(c, s->where, rc) : 0;
}

/*  link, key, at_least_once, drop: the link into the stage. */
static int
set_link(stage_t *s)
{
    mu__conf_ctx_t *c = s->c;
    mu_flow_t *f = c->conf->flow;
    const char *link = NULL, *key = NULL;
    bool alo = false, drop = false;
    int rc;
    if ((rc = mu__conf_str(c, s->where, s->obj, "link", false, &link)) != 0
        || (rc = mu__conf_str(c, s->where, s->obj, "key", false, &key)) != 0
        || (rc = mu__conf_bool(c, s->where, s->obj, "at_least_once", &alo)) != 0
        || (rc = mu__conf_bool(c, s->where, s->obj, "drop", &drop)) != 0)
        return rc;
    if (s->first && (link || key || alo))
        return mu__conf_bad(c, s->where,
                            link  ? "link"
                            : key ? "key"
                                  : "at_least_once",
                            "the first stage%s has no link into it",
                            c->piped ? " of a pipeline" : "");
    mu_flow_link_t kind = MU_FLOW_BALANCE;
    if (link && strcmp(link, "broadcast") == 0)
        kind = MU_FLOW_BROADCAST;
    else if (link && strcmp(link, "keyed") == 0)
        kind = MU_FLOW_KEYED;
    else if (link && strcmp(link, "balance") != 0)
        return mu__conf_bad(c, s->where, "link",
                            "'%s': needs \"balance\", \"broadcast\" or \"keyed\"", link);
    if ((kind == MU_FLOW_KEYED) != (key != NULL))
        return mu__conf_bad(c, s->where, key ? "key" : "link",
                            key ? "a key needs \"link\": \"keyed\"" : "a keyed link needs a key");
    if (alo && kind != MU_FLOW_BALANCE)
        return mu__conf_bad(c, s->where, "at_least_once", "needs a balanced link");
    keyspec_t *spec = NULL;
    if (key) {
        if (!(spec = mu__conf_keep(c->conf, calloc(1, sizeof *spec))))
            return MU_ENOMEM;
        if ((rc = parse_key(s, key, spec)) != 0)
            return rc;
    }
    if ((!s->first
         && (rc = mu_flow_set_link(f, s->name, kind, NULL, spec ? key_of : NULL, spec)) != 0)
        || (alo && (rc = mu_flow_set_at_least_once(f, s->name, true)) != 0)
        || (drop && (rc = mu_flow_set_drop(f, s->name, true)) != 0))
        return mu__conf_refused(c, s->where, rc);
    return 0;
}

int
mu__conf_stage(mu__conf_ctx_t *c, int i, json_t *obj)
{
    stage_t s = { .c = c, .obj = obj, .index = i };
    snprintf(s.where, sizeof s.where, "stages[%d]", i);
    if (!json_is_object(obj))
        return mu__conf_bad(c, s.where, NULL, "needs a stage object");
    const char *type = NULL;
    int rc;
    if ((rc = mu__conf_str(c, s.where, obj, "name", true, &s.name)) != 0)
        return rc;
    if (strlen(s.name) > 31)
        return mu__conf_bad(c, s.where, "name", "a name of at most 31 bytes");
    snprintf(s.where, sizeof s.where, "stages[%d] '%s'", i, s.name);
    /* Unique: mu_flow_add_edge would add an edge to an edge stage of the
       same name just before, merging the two. The earlier names were read. */
    json_t *stages = json_object_get(c->conf->root, "stages");
    for (int j = 0; j < i; j++) {
        json_t *other = json_object_get(json_array_get(stages, (size_t) j), "name");
        if (strcmp(json_string_value(other), s.name) == 0)
            return mu__conf_bad(c, s.where, "name", "taken by stages[%d]", j);
    }
    if ((rc = mu__conf_keys(c, s.where, obj, STAGE_KEYS)) != 0
        || (rc = mu__conf_str(c, s.where, obj, "type", true, &type)) != 0
        || (rc = read_pipeline(&s)) != 0)
        return rc;
    bool edge = strcmp(type, "edge") == 0;
    if (!edge && json_object_get(obj, "edges"))
        return mu__conf_bad(c, s.where, "edges", "only an edge stage has edges");
    if (strcmp(type, "worker") == 0 && (json_object_get(obj, "file") || json_object_get(obj, "fd")))
        return mu__conf_bad(c, s.where, json_object_get(obj, "file") ? "file" : "fd",
                            "only a source reads a file or descriptor");
    if (edge) {
        static const char *const no[] = { "command",  "file", "fd",         "library",   "startup",
                                          "teardown", "arg",  "timeout_ms", "max_frame", NULL };
        for (int k = 0; no[k]; k++)
            if (json_object_get(obj, no[k]))
                return mu__conf_bad(c, s.where, no[k], "not a setting of an edge stage");
        rc = add_edges(&s);
    } else if (strcmp(type, "worker") == 0 || strcmp(type, "source") == 0) {
        if (type[0] == 's' && (json_object_get(obj, "library") || json_object_get(obj, "startup")))
            return mu__conf_bad(c, s.where, "library", "a source is a command, a file or an fd");
        if ((rc = read_runners(&s)) != 0)
            return rc;
        rc = type[0] == 'w' ? add_worker(&s) : add_source(&s);
    } else
        return mu__conf_bad(c, s.where, "type", "'%s': needs \"source\", \"worker\" or \"edge\"",
                            type);
    return rc != 0 ? rc : set_link(&s);
}
