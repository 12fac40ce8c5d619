/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_fs.h — file helpers every module that writes files uses: whole
    writes, durable renames, atomic file replacement, the SIGXFSZ policy.
    Never installed. */
#ifndef MU_FS_H_INCLUDED
#define MU_FS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*  Writes all size bytes to fd, retrying short writes and EINTR. Returns 0
    or -errno. */
int mu__write_all(int fd, const void *data, size_t size);

/*  Writes all size bytes to fd at offset (pwrite), retrying short writes
    and EINTR. Returns 0 or -errno. */
int mu__pwrite_all(int fd, const void *data, size_t size, uint64_t offset);

/*  fsyncs the directory that holds path ("." for a bare name, "/" for a
    file in the root), so that a rename or a creation there survives a
    crash. A file system that cannot fsync directories (EINVAL) counts as
    success. Returns 0 or -errno. */
int mu__sync_parent(const char *path);

/*  Replaces path with size bytes of data, atomically: a hidden temporary
    file in the same directory, created 0600 and given mode before any byte
    is written, fsynced, renamed over path, then the directory fsynced. On
    failure path is untouched and the temporary file removed. Returns 0,
    MU_ENAMETOOLONG or another -errno. */
int mu__atomic_write(const char *path, const void *data, size_t size, mode_t mode);

/*  Makes SIGXFSZ ignored when its disposition is the default (which kills
    the process), so that a write past RLIMIT_FSIZE fails with EFBIG
    instead. A handler or SIG_IGN the application set is left alone. Called
    where the library writes files (a server's root, a client's download,
    the stores). */
void mu__ignore_sigxfsz(void);

/*  True when the process could open one more file descriptor now (false:
    EMFILE or ENFILE). Other threads may take or free one right after: for
    telling "no descriptor left" from other causes of a failure just seen. */
bool mu__fd_room(void);

#endif
