/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_conf.c — mu_flow_conf_load (include/mu_flow_conf.h) on flow
    files that the fuzz target tests/fuzz/fuzz_flow_conf.c found wrong:
    each is refused with MU_EINVAL and a message naming the key, or loads
    as the flow it describes. The documented errors of flow files and flows
    run from them: tests/tool/test_flow_file.sh. */
#include "mu_test.h"
#include "mutil.h"

static char dir[256];

/*  Writes json to DIR/flow.json and loads it (host NULL). */
static mu_flow_conf_t *
load(const char *json, char *path, size_t size)
{
    snprintf(path, size, "%s/flow.json", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return NULL;
    fputs(json, fp);
    fclose(fp);
    return mu_flow_conf_load(path, NULL);
}

/*  Loading json fails with MU_EINVAL and an error holding expected. */
static bool
refused(const char *json, const char *expected)
{
    char path[512];
    mu_flow_conf_t *conf = load(json, path, sizeof path);
    bool ok = !conf && mu_last_code() == MU_EINVAL && strstr(mu_last_error(), path)
              && strstr(mu_last_error(), expected);
    if (!ok)
        printf("# %s: %s\n", conf ? "loaded" : "refused", conf ? json : mu_last_error());
    mu_flow_conf_destroy(&conf);
    return ok;
}

#define SRC "{\"name\": \"s\", \"type\": \"source\", \"command\": \"true\"}"
#define EDGE(name)       \
    "{\"name\": \"" name \
    "\", \"type\": \"edge\", \"edges\": [{\"host\": \"127.0.0.1\", \"listen\": true}]}"

/*  Two edge stages of one name, one after the other: mu_flow_add_edge
    gave the second's edge to the first stage, and the file loaded as a
    flow of two stages where it lists three. */
static void
test_edge_stages_of_one_name_refused(void)
{
    MU_CHECK(refused("{\"flow\": \"x\", \"stages\": [" SRC ", " EDGE("e") ", " EDGE("e") "]}",
                     "stages[2] 'e'.name: taken by stages[1]"));
    char path[512];
    mu_flow_conf_t *conf = load("{\"flow\": \"x\", \"stages\": [" SRC
                                ", " EDGE("e") ", " EDGE("f") "]}",
                                path, sizeof path);
    MU_CHECK(conf != NULL);
    mu_flow_conf_destroy(&conf);
}

/*  Any two stages of one name: the same message, whatever their types. */
static void
test_stages_of_one_name_refused(void)
{
    MU_CHECK(refused("{\"flow\": \"x\", \"stages\": [" SRC ", " EDGE("s") "]}",
                     "stages[1] 's'.name: taken by stages[0]"));
    MU_CHECK(refused("{\"flow\": \"x\", \"stages\": [" SRC
                     ", {\"name\": \"w\", \"type\": \"worker\", \"command\": \"cat\"}, "
                     "{\"name\": \"w\", \"type\": \"worker\", \"command\": \"cat\"}]}",
                     "stages[2] 'w'.name: taken by stages[1]"));
}

int
main(void)
{
    mu_test_start(60);
    if (!mu_test_scratch_dir(dir, sizeof dir, "flowconf")) {
        printf("Bail out! no scratch directory\n");
        return 1;
    }
    MU_RUN(test_edge_stages_of_one_name_refused);
    MU_RUN(test_stages_of_one_name_refused);
    mu_test_remove_scratch_dir(dir);
    MU_DONE();
}
