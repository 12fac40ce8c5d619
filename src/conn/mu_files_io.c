/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files_io.c — file helpers both ends of a transfer use (src/conn/mu_files_priv.h). */
#include "conn/mu_files_priv.h"
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <unistd.h>

int
mu__files_read_all(int fd, uint8_t *data, size_t size, uint64_t offset)
{
    while (size > 0) {
        ssize_t n = pread(fd, data, size, (off_t) offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return MU_EIO;
        data += n;
        size -= (size_t) n;
        offset += (uint64_t) n;
    }
    return 0;
}

void
mu__files_random_suffix(char *out, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[len] = '\0';
}

int
mu__files_rename(int old_dir, const char *old_name, int new_dir, const char *new_name,
                 bool overwrite)
{
    if (overwrite)
        return renameat(old_dir, old_name, new_dir, new_name) < 0 ? -errno : 0;
    if (renameat2(old_dir, old_name, new_dir, new_name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* The file system cannot rename without replacing: link + unlink. */
    if (linkat(old_dir, old_name, new_dir, new_name, 0) < 0)
        return -errno;
    unlinkat(old_dir, old_name, 0);
    return 0;
}

void
mu__files_writeback(int fd, uint64_t before, uint64_t after)
{
    if (before / MU__WRITEBACK_STEP != after / MU__WRITEBACK_STEP) {
        uint64_t end = after / MU__WRITEBACK_STEP * MU__WRITEBACK_STEP;
        (void) sync_file_range(fd, (off_t) (end - MU__WRITEBACK_STEP), MU__WRITEBACK_STEP,
                               SYNC_FILE_RANGE_WRITE);
    }
}
