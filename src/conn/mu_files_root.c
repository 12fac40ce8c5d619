/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_files_root.c — paths below a server's root (src/conn/mu_files_priv.h).
    Paths are opened with openat2(RESOLVE_BENEATH) below an O_PATH fd of
    the root; where openat2 is missing (ENOSYS, or no <linux/openat2.h> at
    build time) the path is walked component by component with O_NOFOLLOW,
    which refuses every symlink. MU_FILES_RESOLVE=walk in the environment
    forces the walk (a testing aid). */
#include "conn/mu_files_priv.h"
#include <fcntl.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Server: paths below the root                                        */
/*  Checks a requested path: MU_EINVAL for empty, too long or an embedded
    NUL; MU_EACCES for absolute or a ".." component. */
int
mu__files_path_check(const uint8_t *path, size_t len)
{
    if (len == 0 || len > MU__PATH_MAX_BYTES || memchr(path, '\0', len))
        return MU_EINVAL;
    if (path[0] == '/')
        return MU_EACCES;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (j - i == 2 && path[i] == '.' && path[i + 1] == '.')
            return MU_EACCES;
        i = j + 1;
    }
    return 0;
}

/* Maps a resolution errno to a code: leaving the root or a refused link is
   MU_EACCES. */
static int
resolve_error(int err)
{
    return err == EXDEV || err == ELOOP ? MU_EACCES : -err;
}

/*  Fallback without openat2: opens path component by component with
    O_NOFOLLOW, so every symlink is refused (stricter than RESOLVE_BENEATH,
    which allows links that stay below the root). */
static int
walk_open(int root_fd, const char *path, int flags, mode_t mode)
{
    char *copy = strdup(path);
    if (!copy)
        return MU_ENOMEM;
    int cur = root_fd, rc = 0;
    char *save = NULL, *comp = strtok_r(copy, "/", &save);
    while (comp && strcmp(comp, ".") == 0)
        comp = strtok_r(NULL, "/", &save);
    while (comp) {
        char *next = strtok_r(NULL, "/", &save);
        while (next && strcmp(next, ".") == 0)
            next = strtok_r(NULL, "/", &save);
        struct stat st;
        if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            rc = MU_EACCES;
            break;
        }
        int fd = next ? openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                      : openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
            rc = resolve_error(errno);
            break;
        }
        if (cur != root_fd)
            close(cur);
        cur = fd;
        comp = next;
    }
    free(copy);
    if (rc < 0) {
        if (cur != root_fd)
            close(cur);
        return rc;
    }
    if (cur == root_fd) { /* the path named the root itself */
        cur = openat(root_fd, ".", flags | O_CLOEXEC, mode);
        if (cur < 0)
            return -errno;
    }
    return cur;
}

/*  Opens path below the root with flags, never leaving it. Returns the fd
    or a negative code. */
int
mu__files_root_open(mu__files_root_t *self, const char *path, int flags)
{
#ifdef HAVE_OPENAT2
    if (!self->walk) {
        struct open_how how = {
            .flags = (uint64_t) (flags | O_CLOEXEC),
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, self->fd, path, &how, sizeof how);
        if (fd >= 0)
            return (int) fd;
        if (errno != ENOSYS)
            return resolve_error(errno);
        self->walk = true;
    }
#endif
    return walk_open(self->fd, path, flags, 0);
}

/*  Opens the existing directory dir/comp below the root (the path rules of
    root_open apply), or, when it does not exist, creates comp in parent_fd
    and opens it with O_NOFOLLOW, so a symlink swapped in meanwhile is
    refused. *created_p says it was created: then every later component is
    new too, and root_open is skipped. Returns the fd or a negative code. */
static int
dir_step(mu__files_root_t *self, int parent_fd, const char *prefix, const char *comp,
         bool *created_p)
{
    if (!*created_p) {
        int fd = mu__files_root_open(self, prefix, O_RDONLY | O_DIRECTORY);
        if (fd != MU_ENOENT)
            return fd;
    }
    if (mkdirat(parent_fd, comp, 0755) < 0 && errno != EEXIST)
        return -errno;
    *created_p = true;
    (void) fsync(parent_fd); /* the new entry survives a crash with the file */
    int fd = openat(parent_fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? resolve_error(errno) : fd;
}

/*  Opens the directory dir below the root, creating its missing
    components (mode 0755) the way mkdir -p does. dir has passed
    path_check (no ".." component, not absolute); existing components
    follow root_open's rules, created ones are opened relative to their
    parent's fd. Returns the fd or a negative code: MU_ENOTDIR when a
    component is not a directory, MU_EACCES when one leaves the root. */
int
mu__files_root_open_dirs(mu__files_root_t *self, const char *dir)
{
    int fd = mu__files_root_open(self, dir, O_RDONLY | O_DIRECTORY);
    if (fd != MU_ENOENT)
        return fd;
    char *prefix = strdup(dir);
    if (!prefix)
        return MU_ENOMEM;
    int cur = mu__files_root_open(self, ".", O_RDONLY | O_DIRECTORY);
    bool created = false;
    for (size_t i = 0, len = strlen(dir); cur >= 0 && i < len;) {
        size_t j = i;
        while (j < len && dir[j] != '/')
            j++;
        char comp[256];
        if (j - i >= sizeof comp) {
            close(cur);
            cur = MU_ENAMETOOLONG;
            break;
        }
        memcpy(comp, dir + i, j - i);
        comp[j - i] = '\0';
        prefix[j] = '\0';
        if (comp[0] != '\0' && strcmp(comp, ".") != 0) {
            int next = dir_step(self, cur, prefix, comp, &created);
            close(cur);
            cur = next;
        }
        if (j < len)
            prefix[j] = '/';
        i = j + 1;
    }
    free(prefix);
    return cur;
}

int
mu__files_root_init(mu__files_root_t *self, const char *root)
{
    self->fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (self->fd < 0)
        return -errno;
    /* Testing aid: MU_FILES_RESOLVE=walk uses the pre-openat2 fallback. */
    const char *mode = getenv("MU_FILES_RESOLVE");
    self->walk = mode && strcmp(mode, "walk") == 0;
    return 0;
}
