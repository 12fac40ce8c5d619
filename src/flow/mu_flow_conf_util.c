/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_conf_util.c — the flow file loader's checked getters and error
    messages ("FILE: KEY.PATH: message"), and what the conf keeps for the
    flow's lifetime (mu_flow_conf_int.h). Calls nothing of the loader. */
#include "flow/mu_flow_conf_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers -------------------------------------------------------------------- */

int
mu__conf_bad(mu__conf_ctx_t *c, const char *where, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mu__fail(MU_EINVAL, "%s: %s%s%s: %s", c->conf->path, where, key && *where ? "." : "",
                    key ? key : "", msg);
}

int
mu__conf_refused(mu__conf_ctx_t *c, const char *where, int rc)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", mu_last_error());
    return mu__conf_bad(c, where, NULL, "%s (%s)", detail, mu_errname(rc));
}

int
mu__conf_keys(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        bool known = key[0] == '_';
        for (int i = 0; !known && allowed[i]; i++)
            known = strcmp(allowed[i], key) == 0;
        if (!known)
            return mu__conf_bad(c, where, key, "unknown key");
    }
    return 0;
}

int
mu__conf_int(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *key, long min, long max,
             long *v)
{
    json_t *j = json_object_get(obj, key);
    if (!j)
        return 0;
    if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > max)
        return mu__conf_bad(c, where, key, "needs an integer from %ld to %ld", min, max);
    *v = (long) json_integer_value(j);
    return 0;
}

int
mu__conf_bool(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *key, bool *v)
{
    json_t *j = json_object_get(obj, key);
    if (!j)
        return 0;
    if (!json_is_boolean(j))
        return mu__conf_bad(c, where, key, "needs true or false");
    *v = json_is_true(j);
    return 0;
}

int
mu__conf_str(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *key, bool required,
             const char **v)
{
    json_t *j = json_object_get(obj, key);
    if (!j && required)
        return mu__conf_bad(c, where, key, "missing (required)");
    if (!j)
        return 0;
    if (!json_is_string(j) || json_string_length(j) == 0
        || strlen(json_string_value(j)) != json_string_length(j))
        return mu__conf_bad(c, where, key, "needs a non-empty string (without NUL bytes)");
    *v = json_string_value(j);
    return 0;
}

void *
mu__conf_keep(mu_flow_conf_t *conf, void *block)
{
    if (!block)
        return NULL;
    if (conf->nblocks == conf->capblocks) {
        size_t cap = conf->capblocks ? conf->capblocks * 2 : 16;
        void **blocks = realloc(conf->blocks, cap * sizeof *blocks);
        if (!blocks) {
            free(block);
            return NULL;
        }
        conf->blocks = blocks;
        conf->capblocks = cap;
    }
    conf->blocks[conf->nblocks++] = block;
    return block;
}

char *
mu__conf_path(mu_flow_conf_t *conf, const char *path)
{
    if (path[0] == '/')
        return mu__conf_keep(conf, strdup(path));
    size_t n = strlen(conf->dir) + strlen(path) + 2;
    char *full = malloc(n);
    if (full)
        snprintf(full, n, "%s/%s", conf->dir, path);
    return mu__conf_keep(conf, full);
}
