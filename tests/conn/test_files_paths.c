/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_files_paths.c — file transfer paths: escapes out of the root
    refused (with openat2, with the component walk, and with openat2 denied
    by seccomp), and puts that make directories (the same three ways). */
#include "files_cases.h"

/* ------------------------------------------------------------------ */
/* Paths                                                               */

static void
check_escapes(int walk)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, walk, 0));
    char path[512], dst[512], src[512];
    MU_CHECK(make_file(in_local(src, "up"), 10, 1));
    MU_CHECK(make_file(in_root(path, "inside"), 10, 1));
    /* Links planted below the root. */
    MU_CHECK(symlink("/etc", in_root(path, "etc-link")) == 0);
    MU_CHECK(symlink("/etc/passwd", in_root(path, "passwd-link")) == 0);
    MU_CHECK(symlink("inside", in_root(path, "inside-link")) == 0);
    const char *refused[] = { "../x",        "a/../../x", "..", "/etc/passwd", "etc-link/passwd",
                              "passwd-link", "./../x" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        MU_CHECK_EQ(mu_client_get(f.client, refused[i], in_local(dst, "esc"), NULL), MU_EACCES);
        MU_CHECK(!exists(dst));
        MU_CHECK_EQ(mu_client_put(f.client, src, refused[i], NULL), MU_EACCES);
    }
    /* Uploading through a link that leaves the root. */
    MU_CHECK_EQ(mu_client_put(f.client, src, "etc-link/mu-test", NULL), MU_EACCES);
    /* A link that stays below the root: followed with openat2, refused by
       the component walk (which refuses every link). */
    MU_CHECK_EQ(mu_client_get(f.client, "inside-link", in_local(dst, "in"), NULL),
                walk ? MU_EACCES : 0);
    unlink(dst);
    /* Empty and over-long paths. */
    char longpath[1100];
    memset(longpath, 'a', 1025);
    longpath[1025] = '\0';
    MU_CHECK_EQ(mu_client_get(f.client, "", in_local(dst, "esc"), NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_client_get(f.client, longpath, in_local(dst, "esc"), NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_client_put(f.client, src, longpath, NULL), MU_EINVAL);
    /* 1024 bytes is allowed (the name is too long for the file system). */
    longpath[1024] = '\0';
    MU_CHECK_EQ(mu_client_get(f.client, longpath, in_local(dst, "esc"), NULL), MU_ENAMETOOLONG);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(count_temp(local_dir), 0);
    MU_CHECK_EQ(count_temp(root), 0);
    unlink(in_root(path, "etc-link"));
    unlink(in_root(path, "passwd-link"));
    unlink(in_root(path, "inside-link"));
    fixture_close(&f);
}

static void
test_path_escapes(void)
{
    check_escapes(0);
}

static void
test_path_escapes_walk(void)
{
    check_escapes(1);
}

static void
test_path_escapes_no_openat2(void)
{
    check_escapes(2);
}

/*  An upload into directories that do not exist creates them below the
    root, never outside it (walk: as in check_escapes). */
static void
check_make_dirs(int walk)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, walk, 0));
    char path[512], src[512], outside[512], probe[600];
    const char *w = walk == 0 ? "o" : walk == 1 ? "w" : "n"; /* names per mode */
    char name[128];
    MU_CHECK(make_file(in_local(src, "mkd"), 5000, 21));
    /* Nested new directories, a partly existing path, "." and "//". */
    snprintf(name, sizeof name, "mk-%s/a/b/c/file", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), 0);
    MU_CHECK(same_content(src, in_root(path, name)));
    snprintf(name, sizeof name, "mk-%s/a/b2/file", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), 0);
    MU_CHECK(same_content(src, in_root(path, name)));
    snprintf(name, sizeof name, "./mk-%s//d/./e/file", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), 0);
    snprintf(name, sizeof name, "mk-%s/d/e/file", w);
    MU_CHECK(same_content(src, in_root(path, name)));
    /* A component that is a file: MU_ENOTDIR, nothing made below it. */
    snprintf(name, sizeof name, "mk-%s/a/b/c/file/new/x", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), MU_ENOTDIR);
    snprintf(name, sizeof name, "mk-%s/a/b/c/file/x", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), MU_ENOTDIR);
    MU_CHECK(strstr(mu_last_error(), "server: a component of the path is a file, not a directory")
             != NULL);
    /* Escapes: refused with the error they always had, nothing made. */
    snprintf(outside, sizeof outside, "%s/outside-%s", tmpdir, w);
    MU_CHECK(mkdir(outside, 0755) == 0);
    snprintf(name, sizeof name, "out-link-%s", w);
    MU_CHECK(symlink(outside, in_root(path, name)) == 0);
    snprintf(name, sizeof name, "out-link-%s/new/x", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), MU_EACCES);
    snprintf(name, sizeof name, "esc-%s/../../x", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), MU_EACCES);
    snprintf(name, sizeof name, "esc-%s", w);
    MU_CHECK(!exists(in_root(path, name)));
    snprintf(probe, sizeof probe, "%s/new", outside);
    MU_CHECK(!exists(probe));
    snprintf(probe, sizeof probe, "%s/x", tmpdir);
    MU_CHECK(!exists(probe));
    /* A link to a directory inside the root: followed with openat2,
       refused by the component walk, as for downloads. */
    snprintf(name, sizeof name, "in-link-%s", w);
    snprintf(path, sizeof path, "mk-%s/a", w);
    MU_CHECK(symlink(path, in_root(outside, name)) == 0);
    snprintf(name, sizeof name, "in-link-%s/made/x", w);
    MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), walk ? MU_EACCES : 0);
    snprintf(name, sizeof name, "mk-%s/a/made/x", w);
    MU_CHECK(walk ? !exists(in_root(path, name)) : same_content(src, in_root(path, name)));
    MU_CHECK_EQ(count_temp(root), 0);
    fixture_close(&f);
}

static void
test_put_makes_dirs(void)
{
    check_make_dirs(0);
}

static void
test_put_makes_dirs_walk(void)
{
    check_make_dirs(1);
}

static void
test_put_makes_dirs_no_openat2(void)
{
    check_make_dirs(2);
}

int
main(void)
{
    if (!files_suite_begin())
        return 1;

    MU_RUN(test_path_escapes);
    MU_RUN(test_path_escapes_walk);
    MU_RUN(test_path_escapes_no_openat2);
    MU_RUN(test_put_makes_dirs);
    MU_RUN(test_put_makes_dirs_walk);
    MU_RUN(test_put_makes_dirs_no_openat2);

    files_suite_end();
    MU_DONE();
}
