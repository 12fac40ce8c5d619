/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_conf.c — mu_flow_conf_load (include/mu_flow_conf.h) on flow
    files found wrong while writing the fuzz target tests/fuzz/
    fuzz_flow_conf.c: each is refused with MU_EINVAL and a message naming
    the key, or loads as the flow it describes. The documented errors of
    flow files and flows run from them: tests/tool/test_flow_file.sh. */
#include "mu_test.h"
#include "mutil.h"

static char dir[256];

/*  Writes json to DIR/flow.json and loads it as host (NULL: none). */
static mu_flow_conf_t *
load_as(const char *json, const char *host, char *path, size_t size)
{
    snprintf(path, size, "%s/flow.json", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return NULL;
    fputs(json, fp);
    fclose(fp);
    return mu_flow_conf_load(path, host);
}

static mu_flow_conf_t *
load(const char *json, char *path, size_t size)
{
    return load_as(json, NULL, path, size);
}

/*  Loading json as host fails with MU_EINVAL and an error holding
    expected. */
static bool
refused_as(const char *json, const char *host, const char *expected)
{
    char path[512];
    mu_flow_conf_t *conf = load_as(json, host, path, sizeof path);
    bool ok = !conf && mu_last_code() == MU_EINVAL && strstr(mu_last_error(), path)
              && strstr(mu_last_error(), expected);
    if (!ok)
        printf("# %s: %s\n", conf ? "loaded" : "refused", conf ? json : mu_last_error());
    mu_flow_conf_destroy(&conf);
    return ok;
}

static bool
refused(const char *json, const char *expected)
{
    return refused_as(json, NULL, expected);
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

#define HOSTS                                                                          \
    "\"hosts\": [{\"name\": \"A\", \"address\": \"127.0.0.1\", \"base_port\": 7000}, " \
    "{\"name\": \"B\", \"address\": \"127.0.0.1\", \"base_port\": 7100}]"
#define WORKER "{\"name\": \"w\", \"type\": \"worker\", \"command\": \"cat\"}"

/*  A file source placed with "on" (doc/flow.md: fd and file sources and
    edges run on one host): every source with "on" was refused with "use
    runners here", and "runners" per host on a file source with "has one
    runner", so a file source could only run on the first host. An "on"
    naming no host of the list is refused naming the key. */
static void
test_file_source_on_a_host(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/in.txt", dir);
    FILE *fp = fopen(path, "w");
    MU_CHECK(fp != NULL);
    if (fp)
        fclose(fp);
    const char *json = "{\"flow\": \"x\", " HOSTS ", \"stages\": [{\"name\": \"s\", \"type\": "
                       "\"source\", \"file\": \"in.txt\", \"on\": \"B\"}, " WORKER "]}";
    const char *hosts[] = { "A", "B" };
    for (int i = 0; i < 2; i++) { /* A: read elsewhere; B: opened here */
        mu_flow_conf_t *conf = load_as(json, hosts[i], path, sizeof path);
        if (!conf)
            printf("# as %s: %s\n", hosts[i], mu_last_error());
        MU_CHECK(conf != NULL);
        mu_flow_conf_destroy(&conf);
    }
    MU_CHECK(refused_as("{\"flow\": \"x\", " HOSTS ", \"stages\": [{\"name\": \"s\", \"type\": "
                        "\"source\", \"file\": \"in.txt\", \"on\": \"C\"}, " WORKER "]}",
                        "A", "stages[0] 's'.on: no host named 'C' in hosts"));
    MU_CHECK(refused_as("{\"flow\": \"x\", " HOSTS ", \"stages\": [{\"name\": \"s\", \"type\": "
                        "\"source\", \"file\": \"in.txt\", \"runners\": {\"B\": 1}}, " WORKER "]}",
                        "A", "a file or fd source has one runner"));
}

/*  A worker or a command source spreads over hosts: "on" is refused and
    points to "runners". */
static void
test_on_refused_where_runners_spread(void)
{
    MU_CHECK(refused_as("{\"flow\": \"x\", " HOSTS ", \"stages\": [" SRC
                        ", {\"name\": \"w\", \"type\": \"worker\", \"command\": \"cat\", "
                        "\"on\": \"B\"}]}",
                        "A", "stages[1] 'w'.on: use \"runners\""));
    MU_CHECK(refused_as("{\"flow\": \"x\", " HOSTS ", \"stages\": [{\"name\": \"s\", \"type\": "
                        "\"source\", \"command\": \"true\", \"on\": \"B\"}, " WORKER "]}",
                        "A", "stages[0] 's'.on: use \"runners\""));
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
    MU_RUN(test_file_source_on_a_host);
    MU_RUN(test_on_refused_where_runners_spread);
    mu_test_remove_scratch_dir(dir);
    MU_DONE();
}
