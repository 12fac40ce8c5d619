/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_lru_files.c — mu_lru_open of damaged files: files that are not an
    LRU (garbage, another program's SQLite database, a truncated file),
    meta rows and entry rows of the wrong type or out of range, duplicate
    and over-long keys, sizes whose sum overflows, seq values the counter
    cannot go past. Each open must be refused with MU_ECORRUPT (EBADMSG)
    and a message naming the file, and must leave the file's bytes as they
    were. Every file is built with the sqlite3 C API in a scratch directory
    removed at the end. */
#include "test_lru.h"

/* ---- helpers --------------------------------------------------------------- */

static const char SCHEMA[] =
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE entries(key BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    " level INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;";

/*  The same tables without the constraints a damaged or hand-made file may
    lack: no NOT NULL, no primary key on the keys. */
static const char LOOSE_SCHEMA[] = "CREATE TABLE meta(name TEXT, value);"
                                   "CREATE TABLE entries(key, size, level, seq);";

/*  Without NOT NULL and types, with the primary key the writer needs. */
static const char KEYED_SCHEMA[] = "CREATE TABLE meta(name TEXT PRIMARY KEY, value);"
                                   "CREATE TABLE entries(key PRIMARY KEY, size, level, seq);";

static const char META[] = "INSERT INTO meta VALUES ('format', 1), ('levels', 4),"
                           " ('capacity', 100), ('hits', 0), ('misses', 0), ('evictions', 0);";

/*  Creates DIR/NAME.lru (rollback journal: the mode a file made by another
    program has) with the statements sql. */
static bool
build(const char *dir, const char *name, const char *sql)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s.lru", dir, name);
    unlink(path);
    sqlite3 *db;
    bool ok = sqlite3_open(path, &db) == SQLITE_OK
              && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        printf("# building %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return ok;
}

/*  Opens DIR/NAME with flags and checks that the open is refused with
    code, errno, a message naming the file, and the file left as it was.
    Returns true when all holds (the failure is printed otherwise). */
static bool
refused(const char *dir, const char *name, int flags, int code, const char *what)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s.lru", dir, name);
    size_t len0 = 0, len1 = 0;
    unsigned char *before = mu_test_slurp(path, &len0);
    errno = 0;
    mu_lru_t *lru = mu_lru_open(dir, name, 0, 0, flags);
    int err = errno, got = mu_last_code();
    const char *msg = mu_last_error();
    bool ok = lru == NULL && got == code && err == mu_error_errno(code)
              && strstr(msg, path) != NULL;
    if (!ok)
        printf("# %s: open gave %s, code %d (want %d), errno %d: %s\n", what,
               lru ? "an LRU" : "NULL", got, code, err, msg);
    mu_lru_destroy(&lru);
    unsigned char *after = mu_test_slurp(path, &len1);
    if (before == NULL || after == NULL || len0 != len1 || memcmp(before, after, len0) != 0) {
        printf("# %s: the file changed (%zu bytes before, %zu after)\n", what, len0, len1);
        ok = false;
    }
    free(before);
    free(after);
    return ok;
}

/*  A valid file with the damage sql applied after the rows, refused by a
    writer and by a reader. */
static bool
damaged(const char *dir, const char *schema, const char *damage, const char *what)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "%s%s INSERT INTO entries VALUES (x'61', 1, 0, 1), (x'62', 2, 1, 2),"
             " (x'63', 3, 3, 3); %s",
             schema, META, damage);
    if (!build(dir, "d", sql))
        return false;
    return refused(dir, "d", 0, MU_ECORRUPT, what)
           && refused(dir, "d", MU_LRU_READONLY, MU_ECORRUPT, what);
}

/* ---- files that are not an LRU --------------------------------------------------- */

static void
test_not_an_lru(void)
{
    char dir[300], path[400];
    make_dir(dir, sizeof dir, "not");
    snprintf(path, sizeof path, "%s/junk.lru", dir);
    FILE *f = fopen(path, "w");
    MU_CHECK(f != NULL);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database ", f);
    fclose(f);
    MU_CHECK(refused(dir, "junk", 0, MU_ECORRUPT, "garbage"));
    MU_CHECK(refused(dir, "junk", MU_LRU_CREATE, MU_ECORRUPT, "garbage, create"));
    MU_CHECK(refused(dir, "junk", MU_LRU_READONLY, MU_ECORRUPT, "garbage, read-only"));

    /* Another program's database (rollback journal): not converted to WAL,
       not given our tables, even with MU_LRU_CREATE. */
    MU_CHECK(build(dir, "other", "CREATE TABLE t(x); INSERT INTO t VALUES (1);"));
    MU_CHECK(refused(dir, "other", 0, MU_ECORRUPT, "other program's"));
    MU_CHECK(refused(dir, "other", MU_LRU_CREATE, MU_ECORRUPT, "other program's, create"));

    /* Our tables but a newer format, or none: untouched too. */
    MU_CHECK(build(dir, "newer",
                   "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                   "CREATE TABLE entries(key BLOB PRIMARY KEY, size, level, seq);"
                   "INSERT INTO meta VALUES ('format', 2), ('levels', 4), ('capacity', 10);"));
    MU_CHECK(refused(dir, "newer", 0, MU_ECORRUPT, "format 2"));
    MU_CHECK(refused(dir, "newer", MU_LRU_CREATE, MU_ECORRUPT, "format 2, create"));

    /* A truncated LRU: made by the library, cut in half. */
    mu_lru_t *lru = mu_lru_open(dir, "cut", 1000000, 4, MU_LRU_CREATE);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_set_durability(lru, MU_LRU_AT_FLUSH, 0), 0);
    unsigned char key[64];
    for (uint32_t i = 0; i < 5000; i++)
        MU_CHECK_EQ(mu_lru_increment(lru, key, make_key(i, key), 1 + i % 7), 0);
    mu_lru_destroy(&lru);
    snprintf(path, sizeof path, "%s/cut.lru", dir);
    struct stat st;
    MU_CHECK_EQ(stat(path, &st), 0);
    MU_CHECK_EQ(truncate(path, st.st_size / 2), 0);
    MU_CHECK(refused(dir, "cut", 0, MU_ECORRUPT, "truncated"));
    MU_CHECK(refused(dir, "cut", MU_LRU_READONLY, MU_ECORRUPT, "truncated, read-only"));
}

/*  An earlier failure with the same code must not stand in for the
    open's own message. */
static void
test_message_not_stale(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "stale");
    MU_CHECK(build(dir, "lv",
                   "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                   "CREATE TABLE entries(key BLOB PRIMARY KEY, size, level, seq);"
                   "INSERT INTO meta VALUES ('format', 1), ('levels', 4),"
                   " ('capacity', 10);"
                   "INSERT INTO entries VALUES (x'61', 1, 7, 1);"));
    mu_lru_t *a = mu_lru_open(dir, "lv", 0, 0, 0);
    MU_CHECK(a == NULL && mu_last_code() == MU_ECORRUPT);
    char first[512];
    snprintf(first, sizeof first, "%s", mu_last_error());
    MU_CHECK(strstr(first, "level") != NULL); /* says what is wrong */
    MU_CHECK(refused(dir, "lv", 0, MU_ECORRUPT, "level 7, again"));
}

/* ---- meta rows ------------------------------------------------------------------- */

static void
test_meta_values(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "meta");
    static const char *const damage[] = {
        "DELETE FROM meta WHERE name = 'format'",
        "UPDATE meta SET value = 99 WHERE name = 'format'",
        "UPDATE meta SET value = '1' WHERE name = 'format'",
        "UPDATE meta SET value = 1.0 WHERE name = 'format'",
        "UPDATE meta SET value = 'garbage' WHERE name = 'format'",
        "UPDATE meta SET value = x'01' WHERE name = 'format'",
        "UPDATE meta SET value = NULL WHERE name = 'format'",
        "UPDATE meta SET value = '4 levels' WHERE name = 'levels'",
        "UPDATE meta SET value = 0 WHERE name = 'levels'",
        "UPDATE meta SET value = 65 WHERE name = 'levels'",
        "UPDATE meta SET value = 4.5 WHERE name = 'levels'",
        "DELETE FROM meta WHERE name = 'levels'",
        "UPDATE meta SET value = -1 WHERE name = 'capacity'",
        "UPDATE meta SET value = 0 WHERE name = 'capacity'",
        "UPDATE meta SET value = '100' WHERE name = 'capacity'",
        "UPDATE meta SET value = 1e300 WHERE name = 'capacity'",
        "UPDATE meta SET value = 'many' WHERE name = 'hits'",
        "UPDATE meta SET value = x'00' WHERE name = 'misses'",
        "UPDATE meta SET value = 2.5 WHERE name = 'evictions'",
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++)
        MU_CHECK(damaged(dir, KEYED_SCHEMA, damage[i], damage[i]));
    MU_CHECK(damaged(dir, LOOSE_SCHEMA, "INSERT INTO meta VALUES ('format', 1)", "two formats"));
    /* The undamaged file opens, also with the loose schema. */
    char sql[1024];
    snprintf(sql, sizeof sql, "%s%s INSERT INTO entries VALUES (x'61', 1, 0, 1);", KEYED_SCHEMA,
             META);
    MU_CHECK(build(dir, "d", sql));
    mu_lru_t *lru = mu_lru_open(dir, "d", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 1);
    mu_lru_destroy(&lru);
}

/*  Tables that are missing, lack a column, or lack the key's primary key
    (a writer cannot update rows in place: a reader can still look). */
static void
test_tables(void)
{
    char dir[300], sql[1024];
    make_dir(dir, sizeof dir, "tables");
    MU_CHECK(damaged(dir, KEYED_SCHEMA, "DROP TABLE entries", "no entries table"));
    MU_CHECK(build(dir, "col",
                   "CREATE TABLE meta(name TEXT PRIMARY KEY, value);"
                   "CREATE TABLE entries(key PRIMARY KEY, size, level);"
                   "INSERT INTO meta VALUES ('format', 1), ('levels', 4), ('capacity', 10);"));
    MU_CHECK(refused(dir, "col", 0, MU_ECORRUPT, "no seq column"));
    snprintf(sql, sizeof sql, "%s%s INSERT INTO entries VALUES (x'61', 1, 0, 1);", LOOSE_SCHEMA,
             META);
    MU_CHECK(build(dir, "nokey", sql));
    MU_CHECK(refused(dir, "nokey", 0, MU_ECORRUPT, "no primary key"));
    snprintf(sql, sizeof sql,
             "CREATE TABLE meta(name TEXT, value);"
             "CREATE TABLE entries(key PRIMARY KEY, size, level, seq);%s",
             META);
    MU_CHECK(build(dir, "nometakey", sql)); /* a flush would add rows, not replace them */
    MU_CHECK(refused(dir, "nometakey", 0, MU_ECORRUPT, "no primary key in meta"));
    mu_lru_t *lru = mu_lru_open(dir, "nokey", 0, 0, MU_LRU_READONLY);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(mu_lru_contains(lru, "a", 1), 1);
    mu_lru_destroy(&lru);
}

/* ---- entry rows ------------------------------------------------------------------ */

static void
test_entry_types(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "types");
    static const char *const damage[] = {
        "UPDATE entries SET size = 'abc' WHERE key = x'62'",
        "UPDATE entries SET size = '2' WHERE key = x'62'",
        "UPDATE entries SET size = NULL WHERE key = x'62'",
        "UPDATE entries SET size = 2.5 WHERE key = x'62'",
        "UPDATE entries SET size = x'0200000000000000' WHERE key = x'62'",
        "UPDATE entries SET level = '1' WHERE key = x'62'",
        "UPDATE entries SET level = NULL WHERE key = x'62'",
        "UPDATE entries SET level = 1.0 WHERE key = x'62'",
        "UPDATE entries SET seq = 'late' WHERE key = x'62'",
        "UPDATE entries SET seq = NULL WHERE key = x'62'",
        "UPDATE entries SET seq = 2.5 WHERE key = x'62'",
        "UPDATE entries SET key = NULL WHERE key = x'62'",
        "UPDATE entries SET key = 42 WHERE key = x'62'",
        "UPDATE entries SET key = 4.2 WHERE key = x'62'",
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++)
        MU_CHECK(damaged(dir, KEYED_SCHEMA, damage[i], damage[i]));
}

static void
test_entry_values(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "values");
    static const char *const damage[] = {
        "UPDATE entries SET level = 4 WHERE key = x'62'",
        "UPDATE entries SET level = -1 WHERE key = x'62'",
        "UPDATE entries SET level = 9223372036854775807 WHERE key = x'62'",
        "UPDATE entries SET seq = -1 WHERE key = x'62'",
        "UPDATE entries SET seq = 9223372036854775807 WHERE key = x'62'",
        /* sizes are uint64 stored as int64: -1 is 2^64 - 1, the sum overflows */
        "UPDATE entries SET size = -1 WHERE key = x'62'",
        "UPDATE entries SET size = -2 WHERE key = x'61'; UPDATE entries SET size = -2"
        " WHERE key = x'62'",
        "INSERT INTO entries VALUES (x'61', 5, 2, 9)",           /* a duplicate key */
        "INSERT INTO entries VALUES ('a', 5, 2, 9)",             /* the same bytes as text */
        "INSERT INTO entries VALUES (zeroblob(65537), 1, 0, 5)", /* longer than the longest */
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++)
        MU_CHECK(damaged(dir, LOOSE_SCHEMA, damage[i], damage[i]));
    /* Still allowed: the longest key, one size of 2^64 - 1 alone. */
    MU_CHECK(build(dir, "ok",
                   "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                   "CREATE TABLE entries(key BLOB PRIMARY KEY, size, level, seq);"
                   "INSERT INTO meta VALUES ('format', 1), ('levels', 2), ('capacity', 10);"
                   "INSERT INTO entries VALUES (x'74', -1, 1, 4), (zeroblob(65536), 0, 0, 3);"));
    mu_lru_t *lru = mu_lru_open(dir, "ok", 0, 0, 0);
    MU_CHECK(lru != NULL);
    uint64_t size = 0;
    int level = -1;
    MU_CHECK_EQ(mu_lru_peek(lru, "t", 1, &size, &level), 0);
    MU_CHECK(size == UINT64_MAX);
    MU_CHECK_EQ(STAT(lru, COUNT, -1), 2);
    mu_lru_destroy(&lru);
}

/*  A key stored as text (the sqlite3 shell's 'abc') is refused: the
    writer binds keys as blobs, which SQLite never finds equal to text, so
    the first flush that wrote the key added a blob row beside the text
    one (the next open refused the file for a duplicate key), and a delete
    or an eviction left the text row: the key came back at the next open. */
static void
test_text_key(void)
{
    char dir[300], sql[1024];
    make_dir(dir, sizeof dir, "text");
    snprintf(sql, sizeof sql, "%s%s INSERT INTO entries VALUES ('t', 1, 0, 1), (x'75', 1, 0, 2);",
             SCHEMA, META);
    MU_CHECK(build(dir, "t", sql));
    MU_CHECK(refused(dir, "t", 0, MU_ECORRUPT, "a text key"));
    MU_CHECK(refused(dir, "t", MU_LRU_READONLY, MU_ECORRUPT, "a text key, read-only"));
    MU_CHECK(strstr(mu_last_error(), "text") != NULL);
}

/*  A seq just below the largest the library accepts leaves the counter room:
    a new key after it lands at the head of level 0 after a reopen. */
static void
test_seq_counter(void)
{
    char dir[300];
    make_dir(dir, sizeof dir, "seq");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "%sINSERT INTO meta VALUES ('format', 1), ('levels', 2), ('capacity', 10);"
             "INSERT INTO entries VALUES (x'61', 1, 0, 9223090561878065141),"
             " (x'62', 1, 0, 9223090561878065140);",
             SCHEMA);
    MU_CHECK(build(dir, "s", sql));
    mu_lru_t *lru = mu_lru_open(dir, "s", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "c", 1), 0);
    MU_CHECK(strcmp(dump(lru), "1:|0:c,a,b") == 0);
    mu_lru_destroy(&lru);
    lru = mu_lru_open(dir, "s", 0, 0, 0);
    MU_CHECK(lru != NULL);
    MU_CHECK(strcmp(dump(lru), "1:|0:c,a,b") == 0);
    mu_lru_destroy(&lru);
    /* One more is past the limit. */
    MU_CHECK(build(dir, "s2",
                   "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                   "CREATE TABLE entries(key BLOB PRIMARY KEY, size, level, seq);"
                   "INSERT INTO meta VALUES ('format', 1), ('levels', 2), ('capacity', 10);"
                   "INSERT INTO entries VALUES (x'61', 1, 0, 9223090561878065152);"));
    MU_CHECK(refused(dir, "s2", 0, MU_ECORRUPT, "seq 2^63 - 2^48"));
}

/*  open_as_reader's status when nobody cannot reach the directory (a
    private TMPDIR): the case is skipped. */
#define NOBODY_CANNOT_REACH 20
static bool read_only_skipped;

/*  Opens DIR/ro.lru for writing and for reading as a user who may only
    read it: a child that became nobody (the tests often run as root,
    whom no file mode stops), in the directory so that the path it opens
    is relative. Returns the child's exit status: 0 when the writer got
    MU_EACCES naming the file and the reader opened. */
static int
open_as_reader(const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0 || (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)))
            _exit(10);
        if (access(dir, R_OK | W_OK | X_OK) != 0) /* SQLite opens the full path */
            _exit(NOBODY_CANNOT_REACH);
        mu_lru_t *lru = mu_lru_open(".", "ro", 0, 0, 0);
        if (lru != NULL || mu_last_code() != MU_EACCES || errno != EACCES
            || strstr(mu_last_error(), "./ro.lru") == NULL) {
            printf("# writer of a read-only file: %s\n", lru ? "opened" : mu_last_error());
            _exit(11);
        }
        lru = mu_lru_open(".", "ro", 0, 0, MU_LRU_READONLY);
        int ok = lru != NULL && mu_lru_contains(lru, "a", 1) == 1;
        if (!ok)
            printf("# reader of a read-only file: %s\n", lru ? "no key" : mu_last_error());
        mu_lru_destroy(&lru);
        _exit(ok ? 0 : 12);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void
test_read_only_file(void)
{
    char dir[300], path[400];
    make_dir(dir, sizeof dir, "ro");
    /* nobody may reach the directory (SQLite opens the full path) and make
       the lock and -shm files in it */
    MU_CHECK_EQ(chmod(tmp_root, 0711), 0);
    MU_CHECK_EQ(chmod(dir, 0777), 0);
    mu_lru_t *lru = mu_lru_open(dir, "ro", 10, 2, MU_LRU_CREATE);
    MU_CHECK(lru != NULL);
    MU_CHECK_EQ(inc(lru, "a", 1), 0);
    mu_lru_destroy(&lru);
    snprintf(path, sizeof path, "%s/ro.lru", dir);
    MU_CHECK_EQ(chmod(path, 0444), 0);
    size_t len0 = 0, len1 = 0;
    unsigned char *before = mu_test_slurp(path, &len0);
    fflush(stdout);
    int status = open_as_reader(dir);
    unsigned char *after = mu_test_slurp(path, &len1);
    bool same = before && after && len0 == len1 && memcmp(before, after, len0) == 0;
    free(before);
    free(after);
    read_only_skipped = status == NOBODY_CANNOT_REACH;
    if (read_only_skipped)
        return;
    MU_CHECK_EQ(status, 0);
    MU_CHECK(same);
}

int
main(void)
{
    if (!lru_tests_begin())
        return 1;
    MU_RUN(test_not_an_lru);
    MU_RUN(test_message_not_stale);
    MU_RUN(test_meta_values);
    MU_RUN(test_tables);
    MU_RUN(test_entry_types);
    MU_RUN(test_entry_values);
    MU_RUN(test_text_key);
    MU_RUN(test_seq_counter);
    MU_RUN_AS(test_read_only_file(),
              read_only_skipped ? "test_read_only_file # SKIP user nobody cannot reach $TMPDIR"
                                : "test_read_only_file");
    cleanup();
    MU_DONE();
}
