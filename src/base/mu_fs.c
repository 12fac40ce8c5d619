/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_fs.c — whole writes, durable renames, atomic replacement, the
    SIGXFSZ policy (mu_fs.h). */
#define _GNU_SOURCE /* mkostemp */
#include "base/mu_internal.h"
#include "base/mu_fs.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*  Writes all size bytes, with pwrite at offset when positioned, else
    with write; retries short writes and EINTR. */
static int
write_loop(int fd, const void *data, size_t size, bool positioned, uint64_t offset)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = positioned ? pwrite(fd, p, size, (off_t) offset) : write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        size -= (size_t) n;
        offset += (uint64_t) n;
    }
    return 0;
}

int
mu__write_all(int fd, const void *data, size_t size)
{
    return write_loop(fd, data, size, false, 0);
}

int
mu__pwrite_all(int fd, const void *data, size_t size, uint64_t offset)
{
    return write_loop(fd, data, size, true, offset);
}

int
mu__sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t) (slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int) (slash - path), path);
    else
        return -ENAMETOOLONG;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -errno;
    close(fd);
    return rc;
}

int
mu__atomic_write(const char *path, const void *data, size_t size, mode_t mode)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t) (slash - path) + 1 : 0;
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%.*s.%s.XXXXXX", (int) dir_len, path, path + dir_len);
    if (n < 0 || (size_t) n >= sizeof tmp)
        return MU_ENAMETOOLONG;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (mode != 0600 && fchmod(fd, mode) != 0)
        rc = -errno;
    if (rc == 0)
        rc = mu__write_all(fd, data, size);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    else
        rc = mu__sync_parent(path);
    return rc;
}

void
mu__ignore_sigxfsz(void)
{
    struct sigaction old;
    if (sigaction(SIGXFSZ, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO)
        && old.sa_handler == SIG_DFL) {
        struct sigaction ignore = { .sa_handler = SIG_IGN };
        sigemptyset(&ignore.sa_mask);
        (void) sigaction(SIGXFSZ, &ignore, NULL);
    }
}

bool
mu__fd_room(void)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    return errno != EMFILE && errno != ENFILE;
}
