/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_fs.c — base/mu_fs.h (white-box): atomic replacement (mode,
    replacing, a failed write leaves the old file and no temporary file),
    mu__sync_parent, whole writes. */
#include "mu_test.h"
#include "mutil.h"
#include "base/mu_internal.h"
#include "base/mu_fs.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char dir[PATH_MAX];

/*  Reads path into buf (NUL-terminated); returns its size or -1. */
static ssize_t
slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n >= 0)
        buf[n] = 0;
    return n;
}

/*  Counts the entries of dir other than . and .. */
static int
entries(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void
test_atomic_write_mode_and_replace(void)
{
    char path[PATH_MAX + 16], buf[64];
    snprintf(path, sizeof path, "%s/conf", dir);
    mode_t old_mask = umask(077); /* the mode is given, not masked */
    int rc = mu__atomic_write(path, "first", 5, 0644);
    umask(old_mask);
    MU_CHECK_EQ(rc, 0);
    struct stat st;
    MU_CHECK_EQ(stat(path, &st), 0);
    MU_CHECK_EQ(st.st_mode & 0777, 0644);
    MU_CHECK_EQ(slurp(path, buf, sizeof buf), 5);
    MU_CHECK_EQ(strcmp(buf, "first"), 0);
    MU_CHECK_EQ(mu__atomic_write(path, "second!", 7, 0600), 0);
    MU_CHECK_EQ(stat(path, &st), 0);
    MU_CHECK_EQ(st.st_mode & 0777, 0600);
    MU_CHECK_EQ(slurp(path, buf, sizeof buf), 7);
    MU_CHECK_EQ(strcmp(buf, "second!"), 0);
    MU_CHECK_EQ(mu__atomic_write(path, "", 0, 0600), 0); /* empty content */
    MU_CHECK_EQ(slurp(path, buf, sizeof buf), 0);
    MU_CHECK_EQ(entries(), 1); /* no temporary file left */
    MU_CHECK_EQ(unlink(path), 0);
}

/*  A write that fails half-way (past RLIMIT_FSIZE: EFBIG, SIGXFSZ being
    ignored) leaves the old file whole and removes the temporary file. */
static void
test_atomic_write_failure_keeps_old(void)
{
    char path[PATH_MAX + 16], buf[64];
    snprintf(path, sizeof path, "%s/data", dir);
    MU_CHECK_EQ(mu__atomic_write(path, "old", 3, 0600), 0);
    static char big[64 * 1024];
    memset(big, 'x', sizeof big);
    mu__ignore_sigxfsz();
    struct rlimit old;
    MU_CHECK_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit small = { 4096, old.rlim_max };
    MU_CHECK_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = mu__atomic_write(path, big, sizeof big, 0600);
    MU_CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
    MU_CHECK_EQ(rc, -EFBIG);
    MU_CHECK_EQ(slurp(path, buf, sizeof buf), 3);
    MU_CHECK_EQ(strcmp(buf, "old"), 0);
    MU_CHECK_EQ(entries(), 1);
    /* a directory where the file should be: the rename fails, the
       temporary file goes */
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    MU_CHECK_EQ(mkdir(sub, 0700), 0);
    MU_CHECK(mu__atomic_write(sub, "x", 1, 0600) < 0);
    MU_CHECK_EQ(entries(), 2);
    MU_CHECK_EQ(rmdir(sub), 0);
    /* a missing directory: nothing is made */
    snprintf(sub, sizeof sub, "%s/missing/file", dir);
    MU_CHECK_EQ(mu__atomic_write(sub, "x", 1, 0600), -ENOENT);
    MU_CHECK_EQ(entries(), 1);
    MU_CHECK_EQ(unlink(path), 0);
}

static void
test_atomic_write_name_too_long(void)
{
    char path[PATH_MAX + 16];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = 0;
    MU_CHECK_EQ(mu__atomic_write(path, "x", 1, 0600), MU_ENAMETOOLONG);
}

static void
test_sync_parent(void)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/anything", dir);
    MU_CHECK_EQ(mu__sync_parent(path), 0);        /* the file need not exist */
    MU_CHECK_EQ(mu__sync_parent("bare-name"), 0); /* "." */
    MU_CHECK_EQ(mu__sync_parent("/etc"), 0);      /* "/" */
    snprintf(path, sizeof path, "%s/no-such-dir/file", dir);
    MU_CHECK_EQ(mu__sync_parent(path), -ENOENT);
    snprintf(path, sizeof path, "%s/file", dir);
    MU_CHECK_EQ(mu__atomic_write(path, "x", 1, 0600), 0);
    snprintf(path, sizeof path, "%s/file/below", dir);
    MU_CHECK_EQ(mu__sync_parent(path), -ENOTDIR);
    snprintf(path, sizeof path, "%s/file", dir);
    MU_CHECK_EQ(unlink(path), 0);
}

static void
test_write_all_and_pwrite_all(void)
{
    char path[PATH_MAX + 16], buf[64];
    snprintf(path, sizeof path, "%s/w", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    MU_CHECK(fd >= 0);
    MU_CHECK_EQ(mu__write_all(fd, "hello world", 11), 0);
    MU_CHECK_EQ(mu__pwrite_all(fd, "W", 1, 6), 0);
    MU_CHECK_EQ(mu__pwrite_all(fd, "!!", 2, 11), 0); /* extends the file */
    MU_CHECK_EQ(mu__write_all(fd, "", 0), 0);
    close(fd);
    MU_CHECK_EQ(slurp(path, buf, sizeof buf), 13);
    MU_CHECK_EQ(strcmp(buf, "hello World!!"), 0);
    MU_CHECK_EQ(mu__write_all(-1, "x", 1), -EBADF);
    MU_CHECK_EQ(mu__pwrite_all(-1, "x", 1, 0), -EBADF);

    /* a short-writing fd: a pipe with less room than the data */
    int fds[2];
    MU_CHECK_EQ(pipe(fds), 0);
    static char big[256 * 1024];
    memset(big, 'y', sizeof big);
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        size_t total = 0;
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0)
            total += (size_t) n;
        _exit(total == sizeof big ? 0 : 1);
    }
    close(fds[0]);
    MU_CHECK_EQ(mu__write_all(fds[1], big, sizeof big), 0);
    close(fds[1]);
    MU_CHECK_EQ(mu_test_child_status(pid), 0);
    MU_CHECK_EQ(unlink(path), 0);
}

int
main(void)
{
    mu_test_start(30);
    if (!mu_test_scratch_dir(dir, sizeof dir, "test_fs")) {
        printf("Bail out! no scratch directory\n");
        return 1;
    }
    MU_RUN(test_atomic_write_mode_and_replace);
    MU_RUN(test_atomic_write_failure_keeps_old);
    MU_RUN(test_atomic_write_name_too_long);
    MU_RUN(test_sync_parent);
    MU_RUN(test_write_all_and_pwrite_all);
    rmdir(dir);
    MU_DONE();
}
