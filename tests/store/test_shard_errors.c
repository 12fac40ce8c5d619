/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_shard_errors.c — mu_shard's documented errors: opening, keys and
    values, the key format, corrupt values, a busy store's timeout, the
    schema check, and caller bugs that assert. */
#include "shard_cases.h"

/*  Runs one SQL statement on a shard file. */
static int
sql_on(const char *dir, size_t shard, const char *sql)
{
    char path[512];
    snprintf(path, sizeof path, "%s/shard-%04zu.db", dir, shard);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/*  Whether opening dir with o fails with errno err (and opens no store). */
static bool
open_fails(const char *dir, const mu_shard_opts_t *o, int err)
{
    errno = 0;
    mu_shard_t *st = mu_shard_open(dir, o);
    if (st) {
        printf("# opened, expected errno %d\n", err);
        mu_shard_destroy(&st);
        return false;
    }
    if (errno != err)
        printf("# errno %d, expected %d\n", errno, err);
    return errno == err;
}

static void
test_open_errors(void)
{
    char dir[256];
    mu_shard_opts_t o = opts3(4);
    new_dir(dir, sizeof dir);
    /* Each field out of range, one at a time. */
    mu_shard_opts_t bad = o;
    bad.k = MU_SHARD_MAX_K + 1;
    MU_CHECK(open_fails(dir, &bad, EINVAL));
    bad = o;
    bad.shards = 0;
    MU_CHECK(open_fails(dir, &bad, EINVAL));
    bad = o;
    bad.shards = MU_SHARD_MAX_SHARDS + 1;
    MU_CHECK(open_fails(dir, &bad, EINVAL));
    bad = o;
    bad.shardidx = 3;
    MU_CHECK(open_fails(dir, &bad, EINVAL));
    bad = o;
    bad.types[1] = 0;
    MU_CHECK(open_fails(dir, &bad, EINVAL));
    bad = o;
    bad.codec = 9;
    MU_CHECK(open_fails(dir, &bad, EINVAL));
    bad = o;
    bad.threads = 33;
    MU_CHECK(open_fails(dir, &bad, EINVAL));
    bad = o;
    bad.create = false;
    MU_CHECK(open_fails(dir, &bad, ENOENT));
    mu_shard_opts_t zero = { .create = true };
    MU_CHECK(open_fails(dir, &zero, EINVAL));
    MU_CHECK(access(dir, F_OK) != 0); /* nothing was created by the failures */

    mu_shard_t *st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    /* A newer format version. */
    MU_CHECK_EQ(sql_on(dir, 0, "UPDATE meta SET value = 2 WHERE name = 'format'"), SQLITE_OK);
    MU_CHECK(mu_shard_open(dir, &o) == NULL);
    MU_CHECK_EQ(errno, ENOTSUP);
    MU_CHECK(strstr(mu_last_error(), "format version 2") != NULL);
    MU_CHECK_EQ(sql_on(dir, 0, "UPDATE meta SET value = 1 WHERE name = 'format'"), SQLITE_OK);
    /* A shard whose meta disagrees. */
    MU_CHECK_EQ(sql_on(dir, 2, "UPDATE meta SET value = 3 WHERE name = 'shard'"), SQLITE_OK);
    MU_CHECK(mu_shard_open(dir, &o) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
    MU_CHECK(strstr(mu_last_error(), "shard-0002.db") != NULL);
    MU_CHECK_EQ(sql_on(dir, 2, "UPDATE meta SET value = 2 WHERE name = 'shard'"), SQLITE_OK);
    st = mu_shard_open(dir, &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    /* A missing shard file. */
    char path[512], moved[512];
    snprintf(path, sizeof path, "%s/shard-0003.db", dir);
    snprintf(moved, sizeof moved, "%s/moved.db", dir);
    MU_CHECK_EQ(rename(path, moved), 0);
    MU_CHECK(mu_shard_open(dir, &o) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
    MU_CHECK(strstr(mu_last_error(), "shard file missing") != NULL);
    MU_CHECK(access(path, F_OK) != 0); /* not silently re-created */
    MU_CHECK_EQ(rename(moved, path), 0);
    /* Not a store at all. */
    char other[256];
    new_dir(other, sizeof other);
    MU_CHECK_EQ(mkdir(other, 0777), 0);
    snprintf(path, sizeof path, "%s/shard-0000.db", other);
    FILE *f = fopen(path, "w");
    MU_CHECK(f != NULL);
    fputs("this is not a database, just some text that is long enough to be a header...", f);
    fclose(f);
    MU_CHECK(mu_shard_open(other, &o) == NULL);
    MU_CHECK_EQ(errno, EBADMSG);
}

static void
test_key_and_value_errors(void)
{
    char dir[256];
    mu_shard_t *st = open_new3(dir, sizeof dir, 2);
    MU_CHECK(st != NULL);
    unsigned char nil = 0xc0;
    mu_shard_elem_t key[3] = { mu_shard_str("a"), mu_shard_int(1), mu_shard_bytes("b", 1) };
    /* Wrong arity. */
    MU_CHECK_EQ(mu_shard_set(st, key, 2, &nil, 1), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "2 elements") != NULL);
    MU_CHECK_EQ(mu_shard_set(st, key, 4, &nil, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_contains(st, key, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_delete(st, key, 0), MU_EINVAL);
    /* Wrong element types: str where int is declared, bytes vs str. */
    mu_shard_elem_t wrong[3] = { mu_shard_str("a"), mu_shard_str("1"), mu_shard_bytes("b", 1) };
    MU_CHECK_EQ(mu_shard_set(st, wrong, 3, &nil, 1), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "element 1 is str") != NULL);
    wrong[1] = mu_shard_int(1);
    wrong[0] = mu_shard_bytes("a", 1);
    void *v;
    size_t size;
    MU_CHECK_EQ(mu_shard_get(st, wrong, 3, &v, &size), MU_EINVAL);
    wrong[0] = (mu_shard_elem_t) { .type = MU_SHARD_STR, .ptr = NULL, .len = 3 };
    MU_CHECK_EQ(mu_shard_contains(st, wrong, 3), MU_EINVAL);
    /* Values that are not exactly one MessagePack value. */
    static const unsigned char c1[] = { 0xc1 }, two[] = { 0x01, 0x02 }, trunc[] = { 0x92, 0x01 };
    MU_CHECK_EQ(mu_shard_set(st, key, 3, c1, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, two, 2), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, trunc, 2), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "MessagePack") != NULL);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, &nil, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_contains(st, key, 3), 0); /* nothing stored by the failures */
    /* get_buf too small: the size needed comes back. */
    size_t vs;
    void *val = pack_value(1, long_text(), &vs);
    MU_CHECK_EQ(mu_shard_set(st, key, 3, val, vs), 0);
    char small[16];
    MU_CHECK_EQ(mu_shard_get_buf(st, key, 3, small, sizeof small, &size), MU_EMSGSIZE);
    MU_CHECK_EQ(size, vs);
    free(val);
    /* Batches check the same way. */
    mu_shard_batch_t *b = mu_shard_batch_new(st);
    MU_CHECK(b != NULL);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 2, &nil, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 3, c1, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_batch_delete(b, wrong, 3), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_batch_size(b), 0);
    mu_shard_batch_destroy(&b);
    /* All-shard and walk argument errors. */
    uint64_t counts[3], n;
    MU_CHECK_EQ(mu_shard_len_each(st, counts, 3), MU_EINVAL);
    mu_shard_elem_t lo = mu_shard_str("x");
    MU_CHECK_EQ(mu_shard_count_range(st, 3, NULL, NULL, &n), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_count_range(st, 1, &lo, NULL, &n),
                MU_EINVAL); /* str bound on an int element */
    MU_CHECK_EQ(mu_shard_prune(st, 1, NULL, &lo, &n), MU_EINVAL);
    MU_CHECK_EQ(mu_shard_check(st), 0);
    mu_shard_destroy(&st);
}

static void
test_key_format(void)
{
    static const unsigned char b[] = { 0x00, 0xff };
    mu_shard_elem_t key[3] = { mu_shard_int(-12), mu_shard_str("a\"b\n"), mu_shard_bytes(b, 2) };
    char buf[64];
    MU_CHECK(strcmp(mu_shard_key_format(key, 3, buf, sizeof buf), "(-12, \"a\\\"b\\x0a\", x'00ff')")
             == 0);
    char tiny[10];
    mu_shard_key_format(key, 3, tiny, sizeof tiny);
    MU_CHECK(strcmp(tiny, "(-12, ...") == 0);
}

/* ---- faults --------------------------------------------------------------- */

static int
corrupt_visit(void *arg, const mu_shard_elem_t *key, const void *value, size_t size)
{
    (void) key, (void) value, (void) size;
    (*(int *) arg)++;
    return 0;
}

static void
test_corrupt_value(void)
{
    char dir[256];
    mu_shard_opts_t o = { .k = 2,
                          .shards = 1,
                          .create = true,
                          .types = { MU_SHARD_STR, MU_SHARD_INT } };
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    size_t size;
    void *big = pack_value(1, long_text(), &size);
    mu_shard_elem_t k1[2] = { mu_shard_str("IBM"), mu_shard_int(77) };
    mu_shard_elem_t k2[2] = { mu_shard_str("MSFT"), mu_shard_int(78) };
    mu_shard_elem_t k3[2] = { mu_shard_str("ORCL"), mu_shard_int(79) };
    unsigned char small[] = { 0x93, 1, 2, 3 };
    MU_CHECK_EQ(mu_shard_set(st, k1, 2, big, size), 0); /* zstd */
    MU_CHECK_EQ(mu_shard_set(st, k2, 2, small, 4), 0);  /* stored as is */
    MU_CHECK_EQ(mu_shard_set(st, k3, 2, big, size), 0);
    free(big);
    /* Overwrite blobs behind the store's back, as a disk fault would. */
    MU_CHECK_EQ(sql_on(dir, 0,
                       "UPDATE entries SET value = randomblob(length(value)) WHERE k0 = 'IBM';"
                       "UPDATE entries SET value = x'930102c1' WHERE k0 = 'MSFT';"
                       "UPDATE entries SET vlen = vlen + 1 WHERE k0 = 'ORCL';"),
                SQLITE_OK);
    void *v = NULL;
    MU_CHECK_EQ(mu_shard_get(st, k1, 2, &v, &size), MU_ECORRUPT);
    MU_CHECK(v == NULL);
    MU_CHECK(strstr(mu_last_error(), "(\"IBM\", 77)") != NULL);
    MU_CHECK(strstr(mu_last_error(), "corrupt") != NULL);
    MU_CHECK_EQ(mu_shard_get(st, k2, 2, &v, &size), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "(\"MSFT\", 78)") != NULL);
    MU_CHECK(strstr(mu_last_error(), "MessagePack") != NULL);
    char buf[4096];
    MU_CHECK_EQ(mu_shard_get_buf(st, k3, 2, buf, sizeof buf, &size), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "(\"ORCL\", 79)") != NULL);
    /* A walk stops at the first damaged value and names it. */
    int seen = 0;
    MU_CHECK_EQ(mu_shard_iterate(st, corrupt_visit, &seen), MU_ECORRUPT);
    MU_CHECK(strstr(mu_last_error(), "(\"IBM\", 77)") != NULL);
    MU_CHECK_EQ(seen, 0);
    /* The store keeps working: overwrite and delete the damaged keys. */
    MU_CHECK_EQ(mu_shard_set(st, k1, 2, small, 4), 0);
    MU_CHECK_EQ(mu_shard_get_buf(st, k1, 2, buf, sizeof buf, &size), 0);
    MU_CHECK_EQ(size, 4);
    MU_CHECK_EQ(mu_shard_delete(st, k2, 2), 0);
    MU_CHECK_EQ(mu_shard_check(st), 0); /* SQLite's own structure is fine */
    /* A key column of another type than declared (written by hand). */
    MU_CHECK_EQ(sql_on(dir, 0, "UPDATE entries SET k1 = 'seventy-nine' WHERE k0 = 'ORCL'"),
                SQLITE_OK);
    seen = 0;
    MU_CHECK_EQ(mu_shard_iterate(st, corrupt_visit, &seen), MU_ECORRUPT);
    MU_CHECK_EQ(seen, 1);
    mu_shard_destroy(&st);
}

static void
test_busy_timeout(void)
{
    char dir[256];
    mu_shard_opts_t o = { .k = 1,
                          .shards = 1,
                          .create = true,
                          .types = { MU_SHARD_INT },
                          .busy_timeout_ms = 50 };
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/shard-0000.db", dir);
    sqlite3 *other = NULL;
    MU_CHECK_EQ(sqlite3_open(path, &other), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    unsigned char nil = 0xc0;
    mu_shard_elem_t key[1] = { mu_shard_int(1) };
    MU_CHECK_EQ(mu_shard_set(st, key, 1, &nil, 1), MU_ETIMEDOUT);
    MU_CHECK_EQ(mu_shard_contains(st, key, 1), 0); /* readers are not blocked (WAL) */
    mu_shard_batch_t *b = mu_shard_batch_new(st);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 1, &nil, 1), 0);
    MU_CHECK_EQ(mu_shard_batch_commit(b), MU_ETIMEDOUT);
    MU_CHECK_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    MU_CHECK_EQ(mu_shard_set(st, key, 1, &nil, 1), 0);
    MU_CHECK_EQ(mu_shard_batch_set(b, key, 1, &nil, 1), 0);
    MU_CHECK_EQ(mu_shard_batch_commit(b), 0);
    mu_shard_batch_destroy(&b);
    mu_shard_destroy(&st);
}

/*  Checks the schema a user sees with plain SQLite. */
static void
test_schema(void)
{
    char dir[256];
    mu_shard_opts_t o = opts3(3);
    o.shardidx = 2;
    mu_shard_t *st = mu_shard_open(new_dir(dir, sizeof dir), &o);
    MU_CHECK(st != NULL);
    mu_shard_destroy(&st);
    char path[512];
    snprintf(path, sizeof path, "%s/shard-0002.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    MU_CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_prepare_v2(db,
                                   "SELECT group_concat(name || '=' || value, ' ') FROM "
                                   "(SELECT * FROM meta ORDER BY name)",
                                   -1, &q, NULL),
                SQLITE_OK);
    MU_CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    MU_CHECK(strcmp((const char *) sqlite3_column_text(q, 0),
                    "codec=zstd format=1 hash=fnv1a64-fmix64 index_mask=7 k=3 shard=2 shardidx=2 "
                    "shards=3 types=str,int,bytes")
             == 0);
    sqlite3_finalize(q);
    MU_CHECK_EQ(sqlite3_prepare_v2(db,
                                   "SELECT group_concat(name || ':' || type, ' ') FROM "
                                   "pragma_table_info('entries')",
                                   -1, &q, NULL),
                SQLITE_OK);
    MU_CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    MU_CHECK(strcmp((const char *) sqlite3_column_text(q, 0),
                    "k0:TEXT k1:INTEGER k2:BLOB codec:INTEGER vlen:INTEGER value:BLOB")
             == 0);
    sqlite3_finalize(q);
    MU_CHECK_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    MU_CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    MU_CHECK(strcmp((const char *) sqlite3_column_text(q, 0), "wal") == 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/*  A caller bug (a NULL store) aborts: asserted. */
static void
s_child_null_store(const char *arg, int fd)
{
    (void) arg;
    (void) fd;
    uint64_t n;
    (void) !mu_shard_len(NULL, &n);
}

static void
test_caller_bug_asserts(void)
{
    MU_CHECK(mu_test_child_aborts(s_child_null_store, NULL));
}

int
main(void)
{
    if (!shard_suite_begin())
        return 1;
    MU_RUN(test_open_errors);
    MU_RUN(test_key_and_value_errors);
    MU_RUN(test_key_format);
    MU_RUN(test_corrupt_value);
    MU_RUN(test_busy_timeout);
    MU_RUN(test_schema);
    MU_RUN(test_caller_bug_asserts);
    shard_suite_end();
    MU_DONE();
}
