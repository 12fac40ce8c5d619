/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_dir.c — the flow's private directory and the reaping of the
    directories of flows that were killed (doc/flow.md, "Temporary
    directories").

    A flow's directory is BASE/muflow-XXXXXX with a file "lock" in it,
    flock()ed (exclusive) by mu_flow_start before it forks: the supervisor
    and the runners inherit that open file description, so the lock stays
    held while any process of the flow lives, and the kernel drops it when
    the last of them dies, SIGKILL included. A directory whose lock can be
    taken is therefore stale; mu_flow_start removes such directories of the
    same user before it makes its own. A directory without a lock file is
    one being made (or made by an older version): it counts as stale only
    once it is older than STALE_UNLOCKED_S.

    mkdtemp makes the directory 0700: no other user reaches the sockets of
    the local links in it. The flow's link token, drawn here too, keeps out
    the same user's other processes (mu_flow_ulink.h). */
#include "flow/mu_flow_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "muflow-"
#define STALE_UNLOCKED_S 60
/*  Room left in self->dir for an endpoint's file name ("/s255-255"). */
#define ENDPOINT_ROOM 12

/*  Whether base is usable: an absolute path to a directory we may write to,
    short enough that base/muflow-XXXXXX/s255-255 fits self->dir. */
static bool
usable_base(const char *base, size_t cap)
{
    struct stat st;
    return base && base[0] == '/' && strlen(base) + sizeof PREFIX + 7 + ENDPOINT_ROOM < cap
           && stat(base, &st) == 0 && S_ISDIR(st.st_mode) && access(base, W_OK | X_OK) == 0;
}

const char *
mu__flow_dir_base(void)
{
    const char *candidates[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR") };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (usable_base(candidates[i], sizeof((mu_flow_t *) 0)->dir))
            return candidates[i];
    return "/tmp";
}

/*  Whether the flow directory path (a directory of ours) is stale. */
static bool
is_stale(const char *path, const struct stat *st)
{
    char lock[600];
    snprintf(lock, sizeof lock, "%s/lock", path);
    int fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT && time(NULL) - st->st_mtime > STALE_UNLOCKED_S;
    bool stale = flock(fd, LOCK_EX | LOCK_NB) == 0; /* nobody holds it */
    close(fd);                                      /* drops the lock we took */
    return stale;
}

/*  Removes the stale flow directories of this user in base. */
static void
reap(const char *base)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, PREFIX, sizeof PREFIX - 1) != 0)
            continue;
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", base, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        if (is_stale(path, &st))
            mu__flow_remove_dir(path);
    }
    closedir(d);
}

int
mu__flow_make_dir(mu_flow_t *self)
{
    const char *base = mu__flow_dir_base();
    reap(base);
    snprintf(self->dir, sizeof self->dir, "%s/" PREFIX "XXXXXX", base);
    if (!mkdtemp(self->dir)) {
        int err = errno;
        self->dir[0] = '\0';
        return mu__fail(-err, "flow '%s': mkdtemp in %s: %s", self->name, base, strerror(err));
    }
    /* The lock file appears under its name already locked (made under
       another name, locked, then renamed): a flow starting at the same
       time must never find it unlocked and reap a directory being made. */
    char lock[sizeof self->dir + 8], fresh[sizeof self->dir + 12];
    snprintf(lock, sizeof lock, "%s/lock", self->dir);
    snprintf(fresh, sizeof fresh, "%s/lock.new", self->dir);
    int fd = open(fresh, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 || rename(fresh, lock) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        mu__flow_remove_dir(self->dir);
        self->dir[0] = '\0';
        return mu__fail(-err, "flow '%s': lock file in its directory: %s", self->name,
                        strerror(err));
    }
    self->dir_lock = fd;
    if (getrandom(self->link_token, sizeof self->link_token, 0)
        != (ssize_t) sizeof self->link_token) {
        int err = errno;
        mu__flow_drop_dir(self);
        return mu__fail(-err, "flow '%s': getrandom: %s", self->name, strerror(err));
    }
    return 0;
}

void
mu__flow_drop_dir(mu_flow_t *self)
{
    if (self->dir[0])
        mu__flow_remove_dir(self->dir);
    self->dir[0] = '\0';
    if (self->dir_lock >= 0)
        close(self->dir_lock);
    self->dir_lock = -1;
}
