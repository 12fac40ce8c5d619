/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_dcache_files.c — mu_dcache_open of a damaged or foreign file:
    another program's SQLite database, a newer format, rows of the wrong
    type, a recency stamp the counter cannot go past. Each open is refused
    with MU_ECORRUPT and a message naming the file, and leaves the file's
    bytes as they were. */
#include "mu_test.h"
#include "mutil.h"

#include <errno.h>
#include <sqlite3.h>
#include <sys/stat.h>

static char tmp_root[256];

static void
path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s.db", tmp_root, name);
}

/*  Creates the database path (rollback journal) with the statements sql. */
static bool
build(const char *path, const char *sql)
{
    unlink(path);
    sqlite3 *db;
    bool ok = sqlite3_open(path, &db) == SQLITE_OK
              && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        printf("# building %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return ok;
}

static bool
refused(const char *path, const char *what)
{
    size_t len0 = 0, len1 = 0;
    unsigned char *before = mu_test_slurp(path, &len0);
    errno = 0;
    mu_dcache_t *c = mu_dcache_open(path, NULL);
    bool ok = c == NULL && mu_last_code() == MU_ECORRUPT && errno == EBADMSG
              && strstr(mu_last_error(), path) != NULL;
    if (!ok)
        printf("# %s: %s, code %d: %s\n", what, c ? "opened" : "refused", mu_last_code(),
               mu_last_error());
    mu_dcache_destroy(&c);
    unsigned char *after = mu_test_slurp(path, &len1);
    if (!before || !after || len0 != len1 || memcmp(before, after, len0) != 0) {
        printf("# %s: the file changed (%zu bytes before, %zu after)\n", what, len0, len1);
        ok = false;
    }
    free(before);
    free(after);
    return ok;
}

static const char CACHE[] =
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE entries(key BLOB PRIMARY KEY, value BLOB NOT NULL,"
    " expires INTEGER NOT NULL, used INTEGER NOT NULL);"
    "CREATE INDEX entries_expires ON entries(expires);"
    "INSERT INTO meta VALUES('format', 1), ('max_bytes', 1000000);"
    "INSERT INTO entries VALUES (x'6b31', x'7631', 9223372036854775807, 1), (x'6b32', x'7632', "
    "9223372036854775807, 2);";

static void
test_foreign_file(void)
{
    char path[400], sql[1024];
    path_of(path, sizeof path, "other");
    MU_CHECK(build(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"));
    MU_CHECK(refused(path, "another program's database"));
    path_of(path, sizeof path, "newer");
    snprintf(sql, sizeof sql, "%s UPDATE meta SET value = 2 WHERE name = 'format';", CACHE);
    MU_CHECK(build(path, sql));
    MU_CHECK(refused(path, "format 2"));
    /* The undamaged file opens. */
    path_of(path, sizeof path, "good");
    MU_CHECK(build(path, CACHE));
    mu_dcache_t *c = mu_dcache_open(path, NULL);
    MU_CHECK(c != NULL);
    void *v = NULL;
    size_t n = 0;
    MU_CHECK_EQ(mu_dcache_get(c, "k2", 2, &v, &n), 0);
    MU_CHECK(n == 2 && memcmp(v, "v2", 2) == 0);
    free(v);
    mu_dcache_destroy(&c);
}

static void
test_bad_rows(void)
{
    static const char *const damage[] = {
        "UPDATE entries SET used = 9223372036854775807 WHERE key = x'6b32'",
        "UPDATE entries SET used = -1 WHERE key = x'6b32'",
        "UPDATE entries SET used = 'late' WHERE key = x'6b32'",
        "UPDATE entries SET used = NULL WHERE key = x'6b32'",
        "UPDATE entries SET expires = 'soon' WHERE key = x'6b32'",
        "UPDATE entries SET key = 'k2' WHERE key = x'6b32'", /* text: never found by a get */
        "UPDATE entries SET key = 7 WHERE key = x'6b32'",
        "UPDATE entries SET value = 'v2' WHERE key = x'6b32'",
        "UPDATE entries SET value = NULL WHERE key = x'6b32'",
        "UPDATE meta SET value = '1000000' WHERE name = 'max_bytes'",
        "UPDATE meta SET value = 1.5 WHERE name = 'format'",
    };
    char path[400], sql[1024];
    path_of(path, sizeof path, "rows");
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        /* No types and no NOT NULL, so that the damage stays as written. */
        snprintf(sql, sizeof sql,
                 "CREATE TABLE meta(name TEXT PRIMARY KEY, value) WITHOUT ROWID;"
                 "CREATE TABLE entries(key PRIMARY KEY, value, expires, used);"
                 "CREATE INDEX entries_expires ON entries(expires);"
                 "INSERT INTO meta VALUES('format', 1), ('max_bytes', 1000000);"
                 "INSERT INTO entries VALUES (x'6b31', x'7631', 9223372036854775807, 1), (x'6b32', "
                 "x'7632', 9223372036854775807, 2);"
                 "%s;",
                 damage[i]);
        MU_CHECK(build(path, sql));
        MU_CHECK(refused(path, damage[i]));
    }
}

int
main(void)
{
    mu_test_start(120);
    if (!mu_test_scratch_dir(tmp_root, sizeof tmp_root, "test-dcache-files")) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    MU_RUN(test_foreign_file);
    MU_RUN(test_bad_rows);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp_root);
    MU_DONE();
}
