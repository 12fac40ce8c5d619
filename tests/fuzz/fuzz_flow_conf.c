/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_flow_conf.c — libFuzzer target for the flow file loader,
    mu_flow_conf_load (include/mu_flow_conf.h, src/flow/mu_flow_conf*.c;
    the format: doc/flow.md, "Flow files").

    The input is written to flow.json in a private temporary directory and
    loaded twice: without a host, and as host "A". Checked: a NULL conf
    comes with mu_last_code() MU_EINVAL, MU_ENOMEM or -errno and an error
    recorded by this load that names the file and says more; a conf has the
    file's flow (its name; one stage per stage object, with its name, in
    order; the hosts listed, this one picked) not started and no child
    process; destroying it frees everything (LeakSanitizer) and closes every
    descriptor the load opened. FUZZ_FLOW_CONF_TRACE=1 prints each load's
    result.

    Safety: the loader opens files (sources, keys, certificates) and
    dlopens libraries named in the file, relative to its directory.
    Inputs in which a string could hold a '/' (the byte, or the escape
    \u002f) are skipped, so that every such name is one component of the
    temporary directory, which holds only the fixtures: flow.json itself
    (JSON: never an ELF object, dlopen refuses it), lib.so (a symbolic
    link to the libjansson this process has already loaded: dlopen runs
    nothing new, dlsym finds its symbols, nothing calls them), and the
    certificates A.cert (with A.cert_secret) and B.cert of fixed keys;
    or "." and "..", or nothing. The loader starts no process (commands
    only run when the flow starts), which the list of this process's
    children, the same after a load as before, confirms.
    A "fd" source duplicates a descriptor of this process; the conf closes
    it. */
#include "flow/mu_flow_conf_int.h"
#include "flow/mu_flow_int.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[512]; /* $TMPDIR (or /tmp)/fuzz_flow_conf.XXXXXX */
static char path[540];
static bool trace; /* FUZZ_FLOW_CONF_TRACE=1: print what each load gave */

/*  The fixtures besides flow.json, each a name in dir. */
static const char *const FIXTURES[] = { "lib.so", "A.cert", "A.cert_secret", "B.cert", NULL };

static void cleanup(void);

static void
fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_flow_conf: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    cleanup();
    abort();
}

static void
cleanup(void)
{
    char name[600];
    for (int i = 0; FIXTURES[i]; i++) {
        snprintf(name, sizeof name, "%s/%s", dir, FIXTURES[i]);
        unlink(name);
    }
    unlink(path);
    rmdir(dir);
}

/*  lib.so -> the libjansson already loaded; host certificates A and B. */
static void
make_fixtures(void)
{
    char name[600];
    Dl_info info;
    if (!dladdr((void *) json_loads, &info) || !info.dli_fname || info.dli_fname[0] != '/')
        fail("cannot find libjansson", NULL);
    snprintf(name, sizeof name, "%s/lib.so", dir);
    if (symlink(info.dli_fname, name) != 0)
        fail("symlink", strerror(errno));
    for (int h = 0; h < 2; h++) {
        uint8_t seed[crypto_box_SEEDBYTES] = { (uint8_t) h }, pub[32], sec[32];
        if (crypto_box_seed_keypair(pub, sec, seed) != 0)
            fail("crypto_box_seed_keypair", NULL);
        mu_keys_t *keys = mu_keys_new_from(pub, h == 0 ? sec : NULL);
        snprintf(name, sizeof name, "%s/%c.cert", dir, 'A' + h);
        if (!keys || mu_keys_save(keys, name) != 0)
            fail("cannot write a certificate", mu_last_error());
        mu_keys_destroy(&keys);
    }
}

/*  Descriptors open in this process (with the one listing them). */
static int
open_fds(void)
{
    struct dirent **names;
    int n = scandir("/proc/self/fd", &names, NULL, NULL);
    if (n < 0)
        fail("cannot list /proc/self/fd", strerror(errno));
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return n;
}

/*  True when a JSON string of the input could hold a '/'. */
static bool
may_hold_slash(const uint8_t *data, size_t size)
{
    if (memchr(data, '/', size))
        return true;
    for (size_t i = 0; i + 4 <= size; i++)
        if (memcmp(data + i, "002f", 4) == 0 || memcmp(data + i, "002F", 4) == 0)
            return true;
    return false;
}

/*  The loaded conf against its file (conf->root, parsed by the loader). */
static void
check_conf(mu_flow_conf_t *conf, const char *host)
{
    mu_flow_t *f = mu_flow_conf_flow(conf);
    if (!f || f != conf->flow)
        fail("a conf without its flow", NULL);
    if (mu_flow_state(f, NULL) != MU_FLOW_IDLE || f->started || mu_flow_pid(f) > 0)
        fail("a loaded flow is not idle", NULL);
    const char *name = json_string_value(json_object_get(conf->root, "flow"));
    if (!name || strcmp(name, f->name) != 0)
        fail("the flow's name is not the file's", name);
    json_t *stages = json_object_get(conf->root, "stages");
    if (f->nstages < 0 || json_array_size(stages) != (size_t) f->nstages)
        fail("the flow's stages are not the file's stage objects", NULL);
    for (int i = 0; i < f->nstages; i++) {
        const char *stage = json_string_value(json_object_get(json_array_get(stages, i), "name"));
        if (!stage || strcmp(stage, f->stages[i].name) != 0)
            fail("a stage's name is not the file's", stage);
    }
    json_t *hosts = json_object_get(conf->root, "hosts");
    if (json_array_size(hosts) != (size_t) f->nhosts)
        fail("the flow's hosts are not the file's", NULL);
    if ((host != NULL) != (hosts != NULL))
        fail("hosts accepted with no host given, or a host given without hosts", host);
    if (host && (f->self_host < 0 || strcmp(f->hosts[f->self_host].name, host) != 0))
        fail("this host is not the one given", host);
}

/*  This process's children, as the kernel lists them (a stopped or
    zombie one too): a symbolizer libFuzzer started may be one. */
static void
children(char *buf, size_t size)
{
    char name[64];
    snprintf(name, sizeof name, "/proc/self/task/%d/children", (int) getpid());
    FILE *fp = fopen(name, "re");
    if (!fp)
        fail("cannot read", name);
    size_t n = fread(buf, 1, size - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

static void
load(const char *host)
{
    char before[256], after[256];
    mu__fail(MU_EIO, "fuzz_flow_conf: before the load");
    int fds = open_fds();
    children(before, sizeof before);
    mu_flow_conf_t *conf = mu_flow_conf_load(path, host);
    children(after, sizeof after);
    if (strcmp(before, after) != 0)
        fail("the load started a process", after);
    if (trace)
        fprintf(stderr, "host %s: %s\n", host ? host : "(none)", conf ? "loaded" : mu_last_error());
    if (conf) {
        check_conf(conf, host);
        mu_flow_conf_destroy(&conf);
        if (conf)
            fail("destroy left the conf", NULL);
    } else {
        int code = mu_last_code();
        const char *error = mu__last_detail();
        if (code != MU_EINVAL && code != MU_ENOMEM && (code >= 0 || code < -4095))
            fail("a refusal with an unexpected code", mu_last_error());
        if (!strstr(error, path))
            fail("a refusal that does not name the file", mu_last_error());
        if (strlen(error) < strlen(path) + 4)
            fail("a refusal that does not say what is wrong", mu_last_error());
    }
    if (open_fds() != fds)
        fail("file descriptors leaked", host);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    trace = getenv("FUZZ_FLOW_CONF_TRACE") != NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fuzz_flow_conf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fail("mkdtemp", strerror(errno));
    snprintf(path, sizeof path, "%s/flow.json", dir);
    atexit(cleanup);
    if (sodium_init() < 0)
        fail("sodium_init", NULL);
    make_fixtures();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (may_hold_slash(data, size))
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size) || close(fd) != 0)
        fail("cannot write the flow file", strerror(errno));
    load(NULL);
    load("A");
    return 0;
}
