/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_sqlite.h — private SQLite helpers shared by the stores: one mapping of
    SQLite result codes to library errors, and crash-safe creation of a
    database file. Never installed. */
#ifndef MU_SQLITE_H_INCLUDED
#define MU_SQLITE_H_INCLUDED

#include <sqlite3.h>
#include <stdbool.h>

/*  Maps an SQLite result code (primary or extended) to 0 (OK, DONE, ROW)
    or a library error: MU_ENOMEM, MU_EACCES (read-only, permission, cannot
    open), -EMFILE (cannot open, errno EMFILE or ENFILE: read errno right
    after the failed call), MU_ECORRUPT (corrupt, not a database, schema),
    MU_EAGAIN (busy, locked), -ENOSPC (full), -EIO for anything else. */
int mu__sqlite_error(int rc);

/*  True when RC, the failure of the last call on DB, is a write past
    RLIMIT_FSIZE (or the file system's largest file): SQLite 3.40 reports it
    as an I/O error (SQLITE_IOERR_WRITE for the database or WAL file,
    SQLITE_IOERR_SHMSIZE for the WAL index, SQLITE_IOERR_TRUNCATE for a
    file grown by ftruncate) whose errno is EFBIG. SQLite does not record
    the errno of a failure met while committing (sqlite3_system_errno stays
    0), so errno itself is read as well: call this right after the failed
    call, with no system call in between. */
bool mu__sqlite_is_efbig(sqlite3 *db, int rc);

/*  mu__sqlite_error of RC, the failure of the last call on DB, except that
    a write past the file size limit (mu__sqlite_is_efbig) is MU_EFBIG and
    a file not opened for want of a descriptor is -EMFILE (recorded). */
int mu__sqlite_db_error(sqlite3 *db, int rc);

/*  The text for a failure of the last call on DB mapped to CODE: for
    MU_EFBIG, a sentence naming the file size limit (SQLite's own says
    "disk I/O error"), otherwise sqlite3_errmsg(db). Never NULL. */
const char *mu__sqlite_errmsg(sqlite3 *db, int code);

/*  Runs SQL (one or more statements) on db; returns mu__sqlite_db_error of
    the result. */
int mu__sqlite_exec(sqlite3 *db, const char *sql);

/*  Removes the database file PATH and its journal, WAL and shared-memory
    files (PATH-journal, PATH-wal, PATH-shm), ignoring the ones that do not
    exist. */
void mu__sqlite_remove(const char *path);

/*  Creates the database PATH in directory DIR so that no process, and no
    crash, ever sees it half made: SQL (the schema and first rows, one
    transaction) runs in TMP, a file name in DIR that no other opener uses
    (a file of that name left by a crash is removed first); TMP is then
    synced, renamed to PATH (replacing any file there) and DIR synced.
    The caller serialises creators (holds a lock). Sets SIGXFSZ to SIG_IGN
    when it has its default action (mu__ignore_sigxfsz), so a file past
    RLIMIT_FSIZE fails with MU_EFBIG. Returns 0 or a library error
    (mu__sqlite_db_error of SQLite's failure, or -errno of the sync or
    rename); on failure TMP is removed and PATH is untouched. */
int mu__sqlite_create_atomic(const char *dir, const char *path, const char *tmp, const char *sql);

#endif
