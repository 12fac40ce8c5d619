/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_conf.c — the flow file loader (include/mu_flow_conf.h; the
    format: doc/flow.md, "Flow files"): the file, the top level, hosts,
    keys and settings. The stages are in mu_flow_conf_stage.c, the checked
    getters in mu_flow_conf_util.c. */
#include "flow/mu_flow_conf_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- top level -------------------------------------------------------------------- */

static const char *const TOP_KEYS[] = {
    "flow",   "hosts",     "keys", "heartbeat", "stage_deadline", "restart", "drain_timeout_ms",
    "stages", "pipelines", NULL
};

/*  The hosts: added to the flow, this host found. */
static int
load_hosts(mu__conf_ctx_t *c, json_t *hosts)
{
    mu_flow_t *f = c->conf->flow;
    if (!json_is_array(hosts) || json_array_size(hosts) == 0)
        return mu__conf_bad(c, "", "hosts", "needs a non-empty list of host objects");
    bool found = false;
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h)
    {
        char where[64];
        snprintf(where, sizeof where, "hosts[%zu]", i);
        static const char *const keys[] = { "name", "address", "base_port", NULL };
        const char *name = NULL, *address = NULL;
        long port = 0;
        int rc;
        if (!json_is_object(h))
            return mu__conf_bad(c, where, NULL, "needs an object");
        if ((rc = mu__conf_keys(c, where, h, keys)) != 0
            || (rc = mu__conf_str(c, where, h, "name", true, &name)) != 0
            || (rc = mu__conf_str(c, where, h, "address", true, &address)) != 0
            || (rc = mu__conf_int(c, where, h, "base_port", 1, 65535, &port)) != 0)
            return rc;
        if (port == 0)
            return mu__conf_bad(c, where, "base_port", "missing (required)");
        if ((rc = mu_flow_add_host(f, name, address, (int) port)) != 0)
            return mu__conf_refused(c, where, rc);
        if (i == 0)
            c->first_host = name;
        found = found || (c->host && strcmp(c->host, name) == 0);
    }
    if (!c->host)
        return mu__conf_bad(c, "", "hosts",
                            "the file lists hosts: say which one this is "
                            "(--host NAME)");
    if (!found)
        return mu__conf_bad(c, "", "hosts", "no host named '%s'", c->host);
    int rc = mu_flow_set_self(f, c->host);
    return rc ? mu__conf_refused(c, "hosts", rc) : 0;
}

/*  Shared passphrase: both keypairs derived from it. */
static int
load_secret(mu__conf_ctx_t *c, const char *secret, size_t size, const char *key)
{
    mu_keys_t *server = mu_keys_from_secret(secret, size, MU_KEYS_SERVER);
    mu_keys_t *client = server ? mu_keys_from_secret(secret, size, MU_KEYS_CLIENT) : NULL;
    int rc = 0;
    if (!server || !client)
        rc = mu__conf_bad(c, "keys", key, "cannot derive keys: %s", mu_last_error());
    else if ((rc = mu_flow_set_curve(c->conf->flow, server, client)) != 0)
        rc = mu__conf_refused(c, "keys", rc);
    mu_keys_destroy(&server);
    mu_keys_destroy(&client);
    return rc;
}

/*  Per-host certificates: this host's with its secret, the others' public. */
static int
load_host_keys(mu__conf_ctx_t *c, json_t *hosts)
{
    if (!c->hosts)
        return mu__conf_bad(c, "keys", "hosts", "per-host keys need a hosts list");
    if (!json_is_object(hosts))
        return mu__conf_bad(c, "keys", "hosts", "needs an object: host name -> certificate file");
    const char *name;
    json_t *v;
    json_object_foreach(hosts, name, v)
    {
        if (name[0] == '_')
            continue;
        char where[96];
        snprintf(where, sizeof where, "keys.hosts");
        const char *file = NULL;
        int rc = mu__conf_str(c, where, hosts, name, true, &file);
        char *path = rc == 0 ? mu__conf_path(c->conf, file) : NULL;
        if (rc != 0)
            return rc;
        if (!path)
            return MU_ENOMEM;
        bool self = strcmp(name, c->host) == 0;
        mu_keys_t *keys = mu_keys_load(path, self ? 0 : MU_KEYS_PUBLIC_ONLY);
        if (!keys)
            return mu__conf_bad(c, where, name, "%s", mu_last_error());
        rc = mu_flow_set_host_keys(c->conf->flow, name, keys);
        mu_keys_destroy(&keys);
        if (rc != 0)
            return mu__conf_refused(c, "keys.hosts", rc);
    }
    return 0;
}

static int
load_keys(mu__conf_ctx_t *c, json_t *keys)
{
    static const char *const allowed[] = { "secret", "secret_file", "hosts", NULL };
    const char *secret = NULL, *file = NULL;
    int rc;
    if (!json_is_object(keys))
        return mu__conf_bad(c, "", "keys", "needs an object");
    if ((rc = mu__conf_keys(c, "keys", keys, allowed)) != 0
        || (rc = mu__conf_str(c, "keys", keys, "secret", false, &secret)) != 0
        || (rc = mu__conf_str(c, "keys", keys, "secret_file", false, &file)) != 0)
        return rc;
    json_t *hosts = json_object_get(keys, "hosts");
    if ((secret != NULL) + (file != NULL) + (hosts != NULL) != 1)
        return mu__conf_bad(c, "", "keys", "needs exactly one of secret, secret_file, hosts");
    if (hosts)
        return load_host_keys(c, hosts);
    if (secret)
        return load_secret(c, secret, strlen(secret), "secret");
    char *path = mu__conf_path(c->conf, file), *text = NULL;
    size_t size = 0;
    if (!path)
        return MU_ENOMEM;
    if ((rc = mu_keys_read_secret_file(path, 0, &text, &size)) != 0)
        return mu__conf_bad(c, "keys", "secret_file", "%s", mu_last_error());
    rc = load_secret(c, text, size, "secret_file");
    explicit_bzero(text, size);
    free(text);
    return rc;
}

/*  heartbeat, stage_deadline, restart, drain_timeout_ms. */
static int
load_settings(mu__conf_ctx_t *c, json_t *root)
{
    mu_flow_t *f = c->conf->flow;
    int rc;
    json_t *o;
    if ((o = json_object_get(root, "heartbeat")) != NULL) {
        static const char *const k[] = { "interval_ms", "timeout_ms", NULL };
        long interval = 1000, timeout = 3000;
        if (!json_is_object(o))
            return mu__conf_bad(c, "", "heartbeat", "needs an object");
        if ((rc = mu__conf_keys(c, "heartbeat", o, k)) != 0
            || (rc = mu__conf_int(c, "heartbeat", o, "interval_ms", 1, INT_MAX, &interval)) != 0
            || (rc = mu__conf_int(c, "heartbeat", o, "timeout_ms", 1, INT_MAX, &timeout)) != 0)
            return rc;
        if ((rc = mu_flow_set_heartbeat(f, (int) interval, (int) timeout)) != 0)
            return mu__conf_refused(c, "heartbeat", rc);
    }
    if ((o = json_object_get(root, "stage_deadline")) != NULL) {
        static const char *const k[] = { "ms", "fail", NULL };
        long ms = 30000;
        bool fail = true;
        if (!json_is_object(o))
            return mu__conf_bad(c, "", "stage_deadline", "needs an object");
        if ((rc = mu__conf_keys(c, "stage_deadline", o, k)) != 0
            || (rc = mu__conf_int(c, "stage_deadline", o, "ms", 1, INT_MAX, &ms)) != 0
            || (rc = mu__conf_bool(c, "stage_deadline", o, "fail", &fail)) != 0)
            return rc;
        if ((rc = mu_flow_set_stage_deadline(f, (int) ms, fail)) != 0)
            return mu__conf_refused(c, "stage_deadline", rc);
    }
    if ((o = json_object_get(root, "restart")) != NULL) {
        static const char *const k[] = { "max", "window_ms", NULL };
        long max = 5, window = 5000;
        if (!json_is_object(o))
            return mu__conf_bad(c, "", "restart", "needs an object");
        if ((rc = mu__conf_keys(c, "restart", o, k)) != 0
            || (rc = mu__conf_int(c, "restart", o, "max", 0, INT_MAX, &max)) != 0
            || (rc = mu__conf_int(c, "restart", o, "window_ms", 1, INT_MAX, &window)) != 0)
            return rc;
        if ((rc = mu_flow_set_restart_limit(f, (int) max, (int) window)) != 0)
            return mu__conf_refused(c, "restart", rc);
    }
    long drain = 0;
    if ((rc = mu__conf_int(c, "", root, "drain_timeout_ms", 1, INT_MAX, &drain)) != 0)
        return rc;
    if (drain > 0 && (rc = mu_flow_set_drain_timeout(f, (int) drain)) != 0)
        return mu__conf_refused(c, "drain_timeout_ms", rc);
    return 0;
}

/*  "pipelines": {"NAME": {"on_failure": "isolate" | "fail_flow"}}, for
    pipelines the stages name. */
static int
load_pipelines(mu__conf_ctx_t *c, json_t *pipes)
{
    static const char *const keys[] = { "on_failure", NULL };
    if (!json_is_object(pipes))
        return mu__conf_bad(c, "", "pipelines", "needs an object: pipeline name -> settings");
    const char *name;
    json_t *v;
    json_object_foreach(pipes, name, v)
    {
        char where[64];
        const char *how = "isolate";
        int rc;
        snprintf(where, sizeof where, "pipelines.%s", name);
        if (!json_is_object(v))
            return mu__conf_bad(c, where, NULL, "needs an object (on_failure)");
        if ((rc = mu__conf_keys(c, where, v, keys)) != 0
            || (rc = mu__conf_str(c, where, v, "on_failure", false, &how)) != 0)
            return rc;
        bool fail = strcmp(how, "fail_flow") == 0;
        if (!fail && strcmp(how, "isolate") != 0)
            return mu__conf_bad(c, where, "on_failure", "'%s': needs \"isolate\" or \"fail_flow\"",
                                how);
        if (mu_flow_set_pipeline_policy(
                c->conf->flow, name, fail ? MU_FLOW_PIPELINE_FAIL_FLOW : MU_FLOW_PIPELINE_ISOLATE)
            != 0)
            return mu__conf_bad(c, where, NULL, "no stage names pipeline '%s'", name);
    }
    return 0;
}

static int
load_root(mu__conf_ctx_t *c, json_t *root)
{
    const char *name = NULL;
    int rc;
    if (!json_is_object(root))
        return mu__conf_bad(c, "", NULL, "the file needs a JSON object at its top");
    if ((rc = mu__conf_keys(c, "", root, TOP_KEYS)) != 0
        || (rc = mu__conf_str(c, "", root, "flow", true, &name)) != 0)
        return rc;
    if (strlen(name) > 31)
        return mu__conf_bad(c, "", "flow", "a name of at most 31 bytes");
    json_t *stages = json_object_get(root, "stages");
    if (!json_is_array(stages) || json_array_size(stages) == 0)
        return mu__conf_bad(c, "", "stages", "needs a non-empty list of stage objects");
    c->conf->flow = mu_flow_new(name);
    if (!c->conf->flow)
        return MU_ENOMEM;
    json_t *hosts = json_object_get(root, "hosts");
    c->hosts = hosts != NULL;
    if (!hosts && c->host)
        return mu__conf_bad(c, "", "hosts", "the file lists no hosts, but host '%s' was given",
                            c->host);
    if (hosts && (rc = load_hosts(c, hosts)) != 0)
        return rc;
    if ((rc = load_settings(c, root)) != 0)
        return rc;
    json_t *keys = json_object_get(root, "keys");
    if (keys && (rc = load_keys(c, keys)) != 0)
        return rc;
    size_t i;
    json_t *s;
    json_array_foreach(stages, i, s) if ((rc = mu__conf_stage(c, (int) i, s)) != 0) return rc;
    json_t *pipes = json_object_get(root, "pipelines");
    return pipes ? load_pipelines(c, pipes) : 0;
}

/*  The file's directory, absolute. */
static char *
file_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *slash = strrchr(copy, '/');
    const char *dir = slash ? (slash == copy ? "/" : (*slash = '\0', copy)) : ".";
    char *abs = realpath(dir, NULL);
    free(copy);
    return abs;
}

mu_flow_conf_t *
mu_flow_conf_load(const char *path, const char *host)
{
    assert(path);
    mu_flow_conf_t *conf = calloc(1, sizeof *conf);
    if (!conf || !(conf->path = strdup(path))) {
        free(conf);
        return mu__fail_null(MU_ENOMEM, "flow file %s: out of memory", path);
    }
    FILE *fp = fopen(path, "re");
    if (!fp) {
        int err = errno;
        mu_flow_conf_destroy(&conf);
        return mu__fail_null(-err, "flow file %s: %s", path, strerror(err));
    }
    json_error_t jerr;
    conf->root = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
    fclose(fp);
    conf->dir = file_dir(path);
    int rc = 0;
    if (!conf->root)
        rc = mu__fail(MU_EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    else if (!conf->dir)
        rc = mu__fail(-errno, "flow file %s: its directory: %s", path, strerror(errno));
    else {
        /* The caller's string may be argv, which runners overwrite with their
           process titles: the conf keeps its own copy (MUFLOW_HOST, logs). */
        const char *self = host ? mu__conf_keep(conf, strdup(host)) : NULL;
        mu__conf_ctx_t c = { .conf = conf, .host = self };
        rc = host && !self ? MU_ENOMEM : load_root(&c, conf->root);
    }
    if (rc != 0) {
        char detail[600];
        snprintf(detail, sizeof detail, "%s", mu__last_detail()); /* without the code's text */
        mu_flow_conf_destroy(&conf);
        return mu__fail_null(rc == MU_ENOMEM ? MU_ENOMEM : rc, "%s", detail);
    }
    return conf;
}

mu_flow_t *
mu_flow_conf_flow(const mu_flow_conf_t *self)
{
    assert(self);
    return self->flow;
}

void
mu_flow_conf_destroy(mu_flow_conf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_flow_conf_t *self = *self_p;
    mu_flow_destroy(&self->flow);
    for (size_t i = 0; i < self->nblocks; i++)
        free(self->blocks[i]);
    free(self->blocks);
    for (size_t i = 0; i < self->ndls; i++)
        dlclose(self->dls[i]);
    free(self->dls);
    json_decref(self->root);
    free(self->path);
    free(self->dir);
    free(self);
    *self_p = NULL;
}
