/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sqlite.c — private SQLite helpers (see mu_sqlite.h). */
#include "base/mu_internal.h"
#include "store/mu_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int
mu__sqlite_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return MU_ENOMEM;
    case SQLITE_CANTOPEN: /* errno: read right after the failed call */
        return errno == EMFILE || errno == ENFILE ? -EMFILE : MU_EACCES;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return MU_EACCES;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
    case SQLITE_SCHEMA:
        return MU_ECORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return MU_EAGAIN;
    case SQLITE_FULL:
        return -ENOSPC;
    default:
        return -EIO;
    }
}

bool
mu__sqlite_is_efbig(sqlite3 *db, int rc)
{
    int err = errno; /* first: anything below may change it */
    if ((rc & 0xff) != SQLITE_IOERR || rc == SQLITE_IOERR_NOMEM)
        return false;
    return err == EFBIG || (db != NULL && sqlite3_system_errno(db) == EFBIG);
}

/*  True when RC, the failure of the last call on DB, is a file SQLite
    could not open because the process has no descriptor left. */
static bool
is_emfile(sqlite3 *db, int rc)
{
    int err = errno; /* first: anything below may change it */
    int sys = db != NULL ? sqlite3_system_errno(db) : 0;
    return (rc & 0xff) == SQLITE_CANTOPEN
           && (err == EMFILE || err == ENFILE || sys == EMFILE || sys == ENFILE);
}

int
mu__sqlite_db_error(sqlite3 *db, int rc)
{
    int code = mu__sqlite_is_efbig(db, rc) ? MU_EFBIG
               : is_emfile(db, rc)         ? -EMFILE
                                           : mu__sqlite_error(rc);
    return mu__fail(code, "sqlite: %s", mu__sqlite_errmsg(db, code));
}

const char *
mu__sqlite_errmsg(sqlite3 *db, int code)
{
    if (code == MU_EFBIG)
        return "file too large: the file size limit (RLIMIT_FSIZE, ulimit -f) is reached";
    if (code == -EMFILE)
        return "no file descriptor left: the open-file limit (RLIMIT_NOFILE, ulimit -n) is "
               "reached";
    return db != NULL ? sqlite3_errmsg(db) : mu_strerror(code);
}

int
mu__sqlite_exec(sqlite3 *db, const char *sql)
{
    return mu__sqlite_db_error(db, sqlite3_exec(db, sql, NULL, NULL, NULL));
}

void
mu__sqlite_remove(const char *path)
{
    static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[PATH_MAX];
        if ((size_t) snprintf(name, sizeof name, "%s%s", path, suffixes[i]) < sizeof name)
            (void) unlink(name);
    }
}

/*  fsync of a file or directory by name; returns 0 or -errno (EINVAL, a
    file system that cannot sync, counts as done). */
static int
sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -errno;
    close(fd);
    return rc;
}

/*  Runs SQL in a new database file TMP (rollback journal, synchronous=FULL:
    the commit is on disk when it returns). */
static int
fill_new_file(const char *tmp, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = mu__sqlite_error(sqlite3_open_v2(
        tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL));
    if (rc == 0)
        rc = mu__sqlite_exec(db, sql);
    if (sqlite3_close(db) != SQLITE_OK && rc == 0)
        rc = -EIO;
    return rc;
}

int
mu__sqlite_create_atomic(const char *dir, const char *path, const char *tmp, const char *sql)
{
    mu__ignore_sigxfsz();
    mu__sqlite_remove(tmp);
    int rc = fill_new_file(tmp, sql);
    if (rc == 0)
        rc = sync_path(tmp, O_RDONLY);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc == 0)
        return sync_path(dir, O_RDONLY | O_DIRECTORY);
    mu__sqlite_remove(tmp);
    return rc;
}
