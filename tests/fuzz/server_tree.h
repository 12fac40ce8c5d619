/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  server_tree.h — the scratch directory tree of fuzz_server.c and the
    checks made on it after every input. Included by that one target only.

        SENTINEL/             mkdtemp'ed in $TMPDIR, else /dev/shm, else /tmp
            outside.txt       a secret: rewritten with random bytes per input
            outside/secret    another one
            root/             the server's root, holding the fixtures below

    The fixtures are files, directories, a FIFO and symlinks that stay below
    the root or lead out of it (relative, absolute, dangling). After an
    input the server must have left everything outside the root as it was
    (tree_snapshot), left no "*.part-*" temporary file below the root
    (tree_reset counts them) and no file descriptor open (tree_fd_count).
    tree_reset then removes whatever the input created below the root and
    makes again every fixture it changed, so that each input starts from
    the same tree. Every failure here aborts: the tree is the harness's. */
#ifndef SERVER_TREE_H_INCLUDED
#define SERVER_TREE_H_INCLUDED

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TREE_SECRET_BYTES 24
#define TREE_BIG_BYTES (300 * 1000)

typedef struct {
    const char *path;    /* below the root */
    char type;           /* 'f' file, 'b' big file, 'd' directory, 'l' link, 'p' FIFO */
    const char *content; /* a file's bytes, a link's target ("@" + path: absolute) */
    struct stat st;      /* as made */
} tree_fixture_t;

static tree_fixture_t tree_fixtures[] = {
    { "small.txt", 'f', "hello, mutil\n", { 0 } },
    { "empty", 'f', "", { 0 } },
    { "big.bin", 'b', NULL, { 0 } },
    { "sub", 'd', NULL, { 0 } },
    { "sub/inner.txt", 'f', "inner\n", { 0 } },
    { "sub/deeper", 'd', NULL, { 0 } },
    { "fifo", 'p', NULL, { 0 } },
    { "link_in", 'l', "small.txt", { 0 } },
    { "link_sub", 'l', "sub", { 0 } },
    { "sub/link_up", 'l', "../small.txt", { 0 } },
    { "link_out", 'l', "../outside.txt", { 0 } },
    { "link_outdir", 'l', "../outside", { 0 } },
    { "link_dangling", 'l', "../outside/missing", { 0 } },
    { "link_abs", 'l', "@outside/secret", { 0 } },
    { "link_loop", 'l', "link_loop", { 0 } },
};
#define TREE_FIXTURES (sizeof tree_fixtures / sizeof tree_fixtures[0])

static char tree_sentinel[PATH_MAX], tree_root[PATH_MAX];
static uint8_t tree_secret[TREE_SECRET_BYTES];

static void tree_destroy(void);

/* Reports a broken invariant, removes the tree (once) and aborts. */
static void
tree_fail(const char *what, const char *detail)
{
    static bool failing;
    fprintf(stderr, "fuzz_server: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    if (!failing) {
        failing = true;
        tree_destroy();
    }
    abort();
}

/* SENTINEL/rel into buf. */
static const char *
tree_path(char *buf, size_t size, const char *base, const char *rel)
{
    if ((size_t) snprintf(buf, size, "%s/%s", base, rel) >= size)
        tree_fail("path too long", rel);
    return buf;
}

static void
tree_write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data, size) != (ssize_t) size || close(fd) != 0)
        tree_fail("cannot write", path);
}

/* Makes one fixture (its parent exists) and remembers its stat. */
static void
tree_make_fixture(tree_fixture_t *f)
{
    char path[PATH_MAX], target[PATH_MAX];
    tree_path(path, sizeof path, tree_root, f->path);
    int rc = 0;
    if (f->type == 'f') {
        tree_write_file(path, f->content, strlen(f->content));
    } else if (f->type == 'b') {
        uint8_t *big = malloc(TREE_BIG_BYTES);
        if (!big)
            tree_fail("out of memory", NULL);
        for (size_t i = 0; i < TREE_BIG_BYTES; i++)
            big[i] = (uint8_t) (i * 131 + (i >> 9));
        tree_write_file(path, big, TREE_BIG_BYTES);
        free(big);
    } else if (f->type == 'd') {
        rc = mkdir(path, 0755);
    } else if (f->type == 'p') {
        rc = mkfifo(path, 0644);
    } else {
        const char *to = f->content[0] == '@'
                             ? tree_path(target, sizeof target, tree_sentinel, f->content + 1)
                             : f->content;
        rc = symlink(to, path);
    }
    if (rc != 0 || lstat(path, &f->st) != 0)
        tree_fail("cannot make fixture", path);
}

/* A new random secret in both secret files (their size stays). */
static void
tree_new_secret(void)
{
    char path[PATH_MAX];
    randombytes_buf(tree_secret, sizeof tree_secret);
    tree_write_file(tree_path(path, sizeof path, tree_sentinel, "outside.txt"), tree_secret,
                    sizeof tree_secret);
    tree_write_file(tree_path(path, sizeof path, tree_sentinel, "outside/secret"), tree_secret,
                    sizeof tree_secret);
}

/* Makes the whole tree; returns the root. */
static const char *
tree_create(void)
{
    const char *tmp = getenv("TMPDIR");
    struct stat st;
    if (!tmp || !*tmp)
        tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    char path[PATH_MAX];
    if ((size_t) snprintf(tree_sentinel, sizeof tree_sentinel, "%s/fuzz_server.XXXXXX", tmp)
            >= sizeof tree_sentinel
        || !mkdtemp(tree_sentinel))
        tree_fail("cannot make the scratch directory", tmp);
    tree_path(tree_root, sizeof tree_root, tree_sentinel, "root");
    if (mkdir(tree_root, 0755) != 0
        || mkdir(tree_path(path, sizeof path, tree_sentinel, "outside"), 0755) != 0)
        tree_fail("cannot make the root", tree_root);
    tree_new_secret();
    for (size_t i = 0; i < TREE_FIXTURES; i++)
        tree_make_fixture(&tree_fixtures[i]);
    return tree_root;
}

/* ---- what may not change outside the root ---------------------------- */

/* Appends one line per entry below dir (sorted; not into the root) to
   *out (of *len bytes, *cap allocated). */
static void
tree_list(const char *dir, char **out, size_t *len, size_t *cap)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        tree_fail("cannot list", dir);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], line[PATH_MAX + 128];
        const char *name = names[i]->d_name;
        struct stat st;
        tree_path(path, sizeof path, dir, name);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || lstat(path, &st) != 0) {
            free(names[i]);
            continue;
        }
        bool root = strcmp(path, tree_root) == 0; /* changes inside are allowed */
        int n_line = snprintf(
            line, sizeof line, "%s %o %lu %lld %lld.%09ld\n", path, (unsigned) st.st_mode,
            root ? 0ul : (unsigned long) st.st_ino, root ? 0ll : (long long) st.st_size,
            root ? 0ll : (long long) st.st_mtim.tv_sec, root ? 0l : st.st_mtim.tv_nsec);
        if (*len + (size_t) n_line + 1 > *cap) {
            *cap = (*cap + (size_t) n_line + 1) * 2;
            if (!(*out = realloc(*out, *cap)))
                tree_fail("out of memory", NULL);
        }
        memcpy(*out + *len, line, (size_t) n_line + 1);
        *len += (size_t) n_line;
        if (S_ISDIR(st.st_mode) && !root)
            tree_list(path, out, len, cap);
        free(names[i]);
    }
    free(names);
}

/* The sentinel's tree except the root's contents, as a string (free it). */
static char *
tree_snapshot(void)
{
    size_t len = 0, cap = 1024;
    char *out = malloc(cap);
    if (!out)
        tree_fail("out of memory", NULL);
    out[0] = '\0';
    tree_list(tree_sentinel, &out, &len, &cap);
    return out;
}

/* Open file descriptors of the process. */
static int
tree_fd_count(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        tree_fail("cannot list /proc/self/fd", NULL);
    int count = 0;
    while (readdir(dir))
        count++;
    closedir(dir);
    return count;
}

/* True when data holds the current secret (a plain loop: the secret
   changes with every input, and this must not hand it to the fuzzer). */
static bool
tree_has_secret(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + TREE_SECRET_BYTES <= size; i++) {
        size_t j = 0;
        while (j < TREE_SECRET_BYTES && data[i + j] == tree_secret[j])
            j++;
        if (j == TREE_SECRET_BYTES)
            return true;
    }
    return false;
}

/* ---- back to the fixtures ------------------------------------------- */

static tree_fixture_t *
tree_fixture_find(const char *rel)
{
    for (size_t i = 0; i < TREE_FIXTURES; i++)
        if (strcmp(tree_fixtures[i].path, rel) == 0)
            return &tree_fixtures[i];
    return NULL;
}

static bool
tree_fixture_same(const tree_fixture_t *f, const struct stat *st)
{
    return st->st_ino == f->st.st_ino && st->st_mode == f->st.st_mode
           && (S_ISDIR(st->st_mode)
               || (st->st_size == f->st.st_size && st->st_mtim.tv_sec == f->st.st_mtim.tv_sec
                   && st->st_mtim.tv_nsec == f->st.st_mtim.tv_nsec));
}

/* Removes path, a directory with all it holds; counts the "*.part-*"
   names removed in *parts. */
static void
tree_rmrf(const char *path, int *parts)
{
    struct stat st;
    const char *slash = strrchr(path, '/');
    if (strstr(slash ? slash + 1 : path, ".part-"))
        ++*parts;
    if (lstat(path, &st) != 0)
        tree_fail("cannot stat", path);
    if (S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        if (n < 0)
            tree_fail("cannot list", path);
        for (int i = 0; i < n; i++) {
            char sub[PATH_MAX];
            if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
                tree_rmrf(tree_path(sub, sizeof sub, path, names[i]->d_name), parts);
            free(names[i]);
        }
        free(names);
        if (rmdir(path) != 0)
            tree_fail("cannot remove", path);
    } else if (unlink(path) != 0) {
        tree_fail("cannot remove", path);
    }
}

/* Goes through the directory rel below the root ("" for the root):
   counts "*.part-*" names in *parts and removes every entry that is not
   an unchanged fixture. */
static void
tree_clean(const char *rel, int *parts)
{
    char dir[PATH_MAX];
    if (*rel)
        tree_path(dir, sizeof dir, tree_root, rel);
    else
        snprintf(dir, sizeof dir, "%s", tree_root);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        tree_fail("cannot list", dir);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char sub[PATH_MAX], path[PATH_MAX];
        struct stat st;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            if (*rel)
                tree_path(sub, sizeof sub, rel, name);
            else
                snprintf(sub, sizeof sub, "%s", name);
            tree_path(path, sizeof path, tree_root, sub);
            const tree_fixture_t *f = tree_fixture_find(sub);
            if (lstat(path, &st) == 0 && f && tree_fixture_same(f, &st)) {
                if (S_ISDIR(st.st_mode))
                    tree_clean(sub, parts);
            } else {
                tree_rmrf(path, parts);
            }
        }
        free(names[i]);
    }
    free(names);
}

/* Brings the root back to the fixtures; returns the number of temporary
   upload files that were found there. */
static int
tree_reset(void)
{
    int parts = 0;
    tree_clean("", &parts);
    for (size_t i = 0; i < TREE_FIXTURES; i++) {
        char path[PATH_MAX];
        struct stat st;
        if (lstat(tree_path(path, sizeof path, tree_root, tree_fixtures[i].path), &st) != 0)
            tree_make_fixture(&tree_fixtures[i]);
    }
    return parts;
}

/* Removes the whole tree (at exit). */
static void
tree_destroy(void)
{
    int parts = 0;
    if (tree_sentinel[0])
        tree_rmrf(tree_sentinel, &parts);
    tree_sentinel[0] = '\0';
}

#endif
