/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_shard_files.c — mu_shard_open of a store whose files were damaged
    or replaced: a shard file that is another program's database, a newer
    format, garbage, a directory, a symbolic link to another shard, more
    shard files than the meta says. Each open is refused with a message
    naming the file, and leaves every file's bytes as they were. */
#include "shard_cases.h"

/*  Creates the database path (rollback journal, as another program's)
    with the statements sql. */
static bool
build(const char *path, const char *sql)
{
    unlink(path);
    sqlite3 *db;
    bool ok = sqlite3_open(path, &db) == SQLITE_OK
              && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

/*  Opens dir with o and checks the refusal: errno err, a message holding
    name, and the file path's bytes unchanged. */
static bool
refused(const char *dir, const mu_shard_opts_t *o, int err, const char *name, const char *path)
{
    size_t len0 = 0, len1 = 0;
    unsigned char *before = mu_test_slurp(path, &len0);
    errno = 0;
    mu_shard_t *st = mu_shard_open(dir, o);
    int got = errno;
    bool ok = st == NULL && got == err && strstr(mu_last_error(), name) != NULL;
    if (!ok)
        printf("# %s: %s, errno %d (want %d): %s\n", name, st ? "opened" : "refused", got, err,
               mu_last_error());
    mu_shard_destroy(&st);
    unsigned char *after = mu_test_slurp(path, &len1);
    if ((before == NULL) != (after == NULL) || len0 != len1
        || (before && memcmp(before, after, len0) != 0)) {
        printf("# %s: the file changed (%zu bytes before, %zu after)\n", path, len0, len1);
        ok = false;
    }
    free(before);
    free(after);
    return ok;
}

static void
new_store(char *dir, size_t cap, size_t shards)
{
    mu_shard_t *st = open_new3(dir, cap, shards);
    if (st) {
        size_t size;
        void *v = pack_value(1, "x", &size);
        mu_shard_elem_t key[3] = { mu_shard_str("IBM"), mu_shard_int(1), mu_shard_bytes("b", 1) };
        if (mu_shard_set(st, key, 3, v, size) != 0)
            printf("# set: %s\n", mu_last_error());
        free(v);
    }
    mu_shard_destroy(&st);
}

/*  A shard file replaced by another program's database, or by a copy of
    the store's own of a newer format: refused, not converted to WAL. */
static void
test_foreign_shard(void)
{
    char dir[256], path[512];
    mu_shard_opts_t o = opts3(3);
    o.create = false;
    for (size_t shard = 0; shard < 3; shard += 2) {
        new_store(dir, sizeof dir, 3);
        snprintf(path, sizeof path, "%s/shard-%04zu.db", dir, shard);
        MU_CHECK(build(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"));
        MU_CHECK(refused(dir, &o, EBADMSG, path, path));
        o.create = true; /* not given the store's tables either */
        MU_CHECK(refused(dir, &o, EBADMSG, path, path));
        o.create = false;
    }
    /* Creating a store where a shard file is there already: another
       program's database is not given the store's tables. */
    char fresh[256];
    new_dir(fresh, sizeof fresh);
    MU_CHECK_EQ(mkdir(fresh, 0777), 0);
    snprintf(path, sizeof path, "%s/shard-0001.db", fresh);
    MU_CHECK(build(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"));
    o.create = true;
    MU_CHECK(refused(fresh, &o, EBADMSG, path, path));
    o.create = false;
    /* Shard 1 from a newer library: ENOTSUP, and still in its journal mode. */
    new_store(dir, sizeof dir, 3);
    snprintf(path, sizeof path, "%s/shard-0001.db", dir);
    sqlite3 *db;
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db,
                             "PRAGMA journal_mode=DELETE;"
                             "UPDATE meta SET value = 2 WHERE name = 'format'",
                             NULL, NULL, NULL),
                SQLITE_OK);
    sqlite3_close(db);
    MU_CHECK(refused(dir, &o, ENOTSUP, path, path));
}

/*  A shard file that is garbage, a directory, or a link to another shard. */
static void
test_shard_file_kinds(void)
{
    char dir[256], path[512], target[512];
    mu_shard_opts_t o = opts3(3);
    o.create = false;
    new_store(dir, sizeof dir, 3);
    snprintf(path, sizeof path, "%s/shard-0002.db", dir);
    MU_CHECK_EQ(unlink(path), 0);
    FILE *f = fopen(path, "w");
    MU_CHECK(f != NULL);
    for (int i = 0; i < 100; i++)
        fputs("not a database, ", f);
    fclose(f);
    MU_CHECK(refused(dir, &o, EBADMSG, path, path));
    MU_CHECK_EQ(unlink(path), 0);
    MU_CHECK_EQ(mkdir(path, 0777), 0);
    errno = 0;
    mu_shard_t *st = mu_shard_open(dir, &o);
    MU_CHECK(st == NULL && errno != 0 && strstr(mu_last_error(), path) != NULL);
    MU_CHECK_EQ(rmdir(path), 0);
    snprintf(target, sizeof target, "%s/shard-0001.db", dir);
    MU_CHECK_EQ(symlink(target, path), 0);
    MU_CHECK(refused(dir, &o, EBADMSG, path, target));
}

/*  More shard files than the meta says: a store re-sharded by hand, or
    two stores mixed in one directory. */
static void
test_extra_shard_file(void)
{
    char dir[256], path[512], other[256], src[512];
    mu_shard_opts_t o = opts3(2);
    o.create = false;
    new_store(dir, sizeof dir, 2);
    new_store(other, sizeof other, 3);
    snprintf(src, sizeof src, "%s/shard-0002.db", other);
    snprintf(path, sizeof path, "%s/shard-0002.db", dir);
    MU_CHECK_EQ(rename(src, path), 0);
    MU_CHECK(refused(dir, &o, EBADMSG, path, path));
    o.k = 0; /* as stored */
    MU_CHECK(refused(dir, &o, EBADMSG, path, path));
}

/*  A row whose recorded size (vlen) lies about its stored bytes: the read
    is MU_ECORRUPT before a buffer of that size is asked for; before, a
    read into a small buffer was MU_EMSGSIZE with the lie as the size
    needed, so a caller following the contract allocated it and read
    again. */
static void
test_value_lengths(void)
{
    char dir[256], path[512];
    mu_shard_t *st = open_new3(dir, sizeof dir, 1);
    MU_CHECK(st != NULL);
    size_t size;
    void *big = pack_value(1, long_text(), &size);
    unsigned char small[] = { 0x93, 1, 2, 3 };
    mu_shard_elem_t k1[3] = { mu_shard_str("A"), mu_shard_int(1), mu_shard_bytes("b", 1) };
    mu_shard_elem_t k2[3] = { mu_shard_str("B"), mu_shard_int(2), mu_shard_bytes("b", 1) };
    bool stored = mu_shard_set(st, k1, 3, big, size) == 0               /* zstd */
                  && mu_shard_set(st, k2, 3, small, sizeof small) == 0; /* as it is */
    free(big);
    MU_CHECK(stored);
    mu_shard_destroy(&st);
    snprintf(path, sizeof path, "%s/shard-0000.db", dir);
    sqlite3 *db;
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db, "UPDATE entries SET vlen = 60000000", NULL, NULL, NULL),
                SQLITE_OK);
    sqlite3_close(db);
    mu_shard_opts_t o = opts3(1);
    st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    char buf[4096];
    size = 0;
    MU_CHECK_EQ(mu_shard_get_buf(st, k1, 3, buf, sizeof buf, &size), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "zstd") != NULL);
    MU_CHECK_EQ(mu_shard_get_buf(st, k2, 3, buf, sizeof buf, &size), MU_ECORRUPT);
    void *v = NULL;
    MU_CHECK_EQ(mu_shard_get(st, k2, 3, &v, &size), MU_ECORRUPT);
    MU_CHECK(v == NULL);
    mu_shard_destroy(&st);
    /* A forged zstd frame of 12 bytes that records the same 64 MiB - 1 as
       the row: more than 4 bytes a 128 KiB block can restore. */
    MU_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(db,
                             "UPDATE entries SET codec = 3, vlen = 67108863,"
                             " value = x'28b52ffda0ffffff03010000'",
                             NULL, NULL, NULL),
                SQLITE_OK);
    sqlite3_close(db);
    st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    MU_CHECK_EQ(mu_shard_get_buf(st, k1, 3, buf, sizeof buf, &size), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "too large") != NULL);
    mu_shard_destroy(&st);
}

int
main(void)
{
    if (!shard_suite_begin())
        return 1;
    MU_RUN(test_foreign_shard);
    MU_RUN(test_shard_file_kinds);
    MU_RUN(test_extra_shard_file);
    MU_RUN(test_value_lengths);
    shard_suite_end();
    MU_DONE();
}
