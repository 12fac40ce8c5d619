/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_conf_int.h — shared by the flow file loader's parts: the conf
    object, the parse context, the checked getters (mu_flow_conf_util.c),
    and the stages (mu_flow_conf_stage.c); the top level is mu_flow_conf.c. Never installed. */
#ifndef MU_FLOW_CONF_INT_H_INCLUDED
#define MU_FLOW_CONF_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "mu_flow_conf.h"
#include <jansson.h>
#include <stdbool.h>

struct mu_flow_conf_t {
    mu_flow_t *flow;
    json_t *root;
    char *path, *dir; /* the file, and its directory (absolute) */
    void **blocks;    /* malloc'd blocks the flow's handlers use */
    size_t nblocks, capblocks;
    void **dls; /* dlopen handles */
    size_t ndls, capdls;
};

/*  The state of one load. */
typedef struct {
    mu_flow_conf_t *conf;
    const char *host; /* this host, or NULL */
    bool hosts;       /* the file lists hosts */
    const char *first_host;
    int piped;        /* stages so far that name their pipeline */
    const char *pipe; /* the previous stage's pipeline, or NULL */
} mu__conf_ctx_t;

/*  Records MU_EINVAL as "FILE: WHERE.KEY: message" (key may be NULL). */
int mu__conf_bad(mu__conf_ctx_t *c, const char *where, const char *key, const char *fmt, ...)
    MU_PRINTF(4, 5);

/*  MU_EINVAL for any key of obj not in allowed (NULL-terminated) and not
    starting with '_'. */
int mu__conf_keys(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *const *allowed);

/*  Optional values: absent leaves *v; a wrong type or range is MU_EINVAL. */
int mu__conf_int(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *key, long min,
                 long max, long *v);
int mu__conf_bool(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *key, bool *v);
int mu__conf_str(mu__conf_ctx_t *c, const char *where, json_t *obj, const char *key, bool required,
                 const char **v);

/*  Keeps a malloc'd block for the conf's lifetime; returns it, or NULL
    (freed) when out of memory. */
void *mu__conf_keep(mu_flow_conf_t *conf, void *block);

/*  path made absolute against the file's directory (kept); NULL: ENOMEM. */
char *mu__conf_path(mu_flow_conf_t *conf, const char *path);

/*  MU_EINVAL naming where, with the flow's own refusal (mu_last_error). */
int mu__conf_refused(mu__conf_ctx_t *c, const char *where, int rc);

/*  Adds stage i (obj) of the file to the flow. */
int mu__conf_stage(mu__conf_ctx_t *c, int i, json_t *obj);

#endif
