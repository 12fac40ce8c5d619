/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  shard_cases.c — see shard_cases.h. */
#include "shard_cases.h"

static char tmp_root[128];

static int dir_seq;

const char *
new_dir(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/s%d", tmp_root, dir_seq++);
    return buf;
}

static void
rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char sub[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

mu_shard_opts_t
opts3(size_t shards)
{
    mu_shard_opts_t o = { .k = 3,
                          .shards = shards,
                          .shardidx = 0,
                          .create = true,
                          .types = { MU_SHARD_STR, MU_SHARD_INT, MU_SHARD_BYTES } };
    return o;
}

mu_shard_t *
open_new3(char *dir, size_t cap, size_t shards)
{
    mu_shard_opts_t o = opts3(shards);
    return mu_shard_open(new_dir(dir, cap), &o);
}

void *
pack_value(int64_t n, const char *text, size_t *size_p)
{
    mu_pack_t *p = mu_pack_new();
    if (!p)
        return NULL;
    void *copy = NULL;
    if (mu_pack_map(p, 2) == 0 && mu_pack_cstr(p, "n") == 0 && mu_pack_int(p, n) == 0
        && mu_pack_cstr(p, "s") == 0 && mu_pack_cstr(p, text) == 0) {
        size_t size = 0;
        const void *data = mu_pack_data(p, &size);
        copy = data ? malloc(size) : NULL;
        if (copy) {
            memcpy(copy, data, size);
            *size_p = size;
        }
    }
    mu_pack_destroy(&p);
    return copy;
}

int64_t
value_n(const void *data, size_t size)
{
    mu_unpacked_t *root = NULL;
    const mu_unpacked_t *v = NULL;
    int64_t n = INT64_MIN;
    if (mu_unpack(data, size, NULL, &root, NULL) == 0 && mu_unpacked_get(root, "n", &v) == 0
        && mu_unpacked_int(v, &n) != 0)
        n = INT64_MIN;
    mu_unpacked_destroy(&root);
    return n;
}

const char *
long_text(void)
{
    static char text[2048];
    if (!text[0])
        for (size_t i = 0; i + 1 < sizeof text; i++)
            text[i] = "market data tick "[i % 17];
    return text;
}

bool
shard_suite_begin(void)
{
    mu_test_start(300);
    if (!mu_test_scratch_dir(tmp_root, sizeof tmp_root, "mu-test-shard")) {
        perror("mkdtemp");
        return false;
    }
    return true;
}

void
shard_suite_end(void)
{
    rm_tree(tmp_root);
    printf("# %d passed, %d failed\n", mu_test_count - mu_test_failed, mu_test_failed);
}
