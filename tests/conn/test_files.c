/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_files.c — file transfer: mu_client_get / mu_client_put against a
    mu_server serving a root directory.

    Servers (and the client that runs under RLIMIT_FSIZE) are processes
    forked by a "manager" that main() forks before this process touches
    ZeroMQ, so every server starts from a clean, fork-safe state — also the
    ones restarted after a SIGKILL in the middle of a test. */
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <xxhash.h>

#define SECRET "test-files shared secret"
#define CHUNK (256 * 1024) /* the default chunk size */
#define MIB (1024 * 1024)
#define BIG (100 * MIB)

/* The wire kinds of mu_files.c, for the raw-protocol tests. */
enum {
    K_HELLO = 0x01,
    K_BYE = 0x02,
    K_REQ = 0x04,
    K_WELCOME = 0x21,
    K_REP = 0x23,
    K_ERR = 0x24,
    K_GET_OPEN = 0x40,
    K_GET_CREDIT = 0x41,
    K_GET_INFO = 0x50,
    K_GET_DATA = 0x51,
    K_GET_END = 0x52,
    K_PUT_OPEN = 0x43,
    K_PUT_DATA = 0x44,
    K_PUT_END = 0x45,
    K_PUT_READY = 0x53
};

static char tmpdir[64];
static char root[300], local_dir[300];
static int endpoint_seq;

/* ------------------------------------------------------------------ */
/* Files                                                               */

static uint8_t
pattern(uint64_t seed, uint64_t i)
{
    return (uint8_t) (seed * 131 + i * 7 + (i >> 9) + (i >> 17));
}

/* Writes size pattern bytes to path. */
static bool
make_file(const char *path, uint64_t size, uint64_t seed)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    static uint8_t buf[65536];
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < sizeof buf ? (size_t) (size - off) : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(seed, off + i);
        if (fwrite(buf, 1, n, f) != n) {
            fclose(f);
            return false;
        }
        off += n;
    }
    return fclose(f) == 0;
}

/* A sparse file of size bytes with a pattern block every 8 MiB. */
static bool
make_sparse(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t) size) < 0)
        return false;
    uint8_t block[4096];
    for (uint64_t off = 0; off + sizeof block <= size; off += 8 * MIB) {
        for (size_t i = 0; i < sizeof block; i++)
            block[i] = pattern(off, i);
        if (pwrite(fd, block, sizeof block, (off_t) off) != (ssize_t) sizeof block)
            return false;
    }
    return close(fd) == 0;
}

/* BLAKE2b-256 of a file; false when unreadable. */
static bool
file_digest(const char *path, uint8_t out[32], uint64_t *size_p)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    static uint8_t buf[1 << 20];
    uint64_t size = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        crypto_generichash_update(&st, buf, (size_t) n);
        size += (uint64_t) n;
    }
    close(fd);
    crypto_generichash_final(&st, out, 32);
    if (size_p)
        *size_p = size;
    return n == 0;
}

static bool
same_content(const char *a, const char *b)
{
    uint8_t da[32], db[32];
    uint64_t sa, sb;
    return file_digest(a, da, &sa) && file_digest(b, db, &sb) && sa == sb
           && memcmp(da, db, 32) == 0;
}

static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static off_t
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Counts the temporary files (".part-" / ".partial") in dir, removing
   them when remove is set (then counts those removed); -1 without dir. */
static int
temp_files(const char *dir, bool remove)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".part-") || strstr(e->d_name, ".partial"))
            count += !remove || unlinkat(dirfd(d), e->d_name, 0) == 0;
    closedir(d);
    return count;
}

static int
count_temp(const char *dir)
{
    return temp_files(dir, false);
}

static int
remove_temp(const char *dir)
{
    return temp_files(dir, true);
}

/* Waits up to ms (scaled) for dir to hold no temporary file. */
static bool
temp_gone(const char *dir, int ms)
{
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    while (count_temp(dir) != 0) {
        if (mu_test_now_ms() > deadline)
            return false;
        usleep(20000); /* a poll for the event, bounded above */
    }
    return true;
}

static const char *
in_root(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", root, name);
    return buf;
}

static const char *
in_local(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", local_dir, name);
    return buf;
}

/* ------------------------------------------------------------------ */
/* The manager: forks servers and client jobs on request               */

typedef enum { OP_SERVER = 1, OP_JOB_GET_FSIZE, OP_KILL, OP_WAIT, OP_QUIT } op_t;

typedef struct {
    op_t op;
    int secure, walk, sig;
    long fsize; /* RLIMIT_FSIZE for the child (0 = none) */
    pid_t pid;
    char endpoint[300], path_a[512], path_b[512];
} cmd_t;

static int manager_fd = -1;

/* Serves requests until the process is told to stop. Events: a request
   "stats" is answered "files_sent files_received protocol_errors", any
   other request is echoed. */
static void
server_loop(mu_server_t *server)
{
    for (;;) {
        mu_event_t *event = NULL;
        int rc = mu_server_recv(server, &event, 500);
        if (rc == MU_ETIMEDOUT)
            continue;
        if (rc != 0)
            return;
        if (mu_event_kind(event) == MU_SERVER_REQUEST) {
            size_t size;
            const char *data = mu_event_data(event, &size);
            if (size == 5 && memcmp(data, "stats", 5) == 0) {
                mu_server_stats_t st = { .size = sizeof st };
                char reply[128];
                if (mu_server_stats(server, &st) != 0)
                    memset(&st, 0, sizeof st);
                snprintf(reply, sizeof reply, "%llu %llu %llu", (unsigned long long) st.files_sent,
                         (unsigned long long) st.files_received,
                         (unsigned long long) st.protocol_errors);
                if (mu_server_reply(server, event, reply, strlen(reply)) != 0)
                    fprintf(stderr, "# server: reply failed\n");
            } else if (mu_server_reply(server, event, data, size) != 0) {
                fprintf(stderr, "# server: reply failed\n");
            }
        }
        mu_event_destroy(&event);
    }
}

/*  SIGXFSZ keeps its default disposition (death): the library must ignore
    it where it writes files, so that the write fails with EFBIG. */
static void
limit_file_size(long bytes)
{
    if (bytes > 0) {
        struct rlimit rl = { (rlim_t) bytes, (rlim_t) bytes };
        setrlimit(RLIMIT_FSIZE, &rl);
    }
}

/* Makes openat2 fail with ENOSYS in this process, as on kernels < 5.6. */
static bool
deny_openat2(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof filter / sizeof filter[0], filter };
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
           && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/* walk: 0 = openat2, 1 = MU_FILES_RESOLVE=walk, 2 = openat2 gives ENOSYS. */
static void
server_main(const cmd_t *c, int ready_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    limit_file_size(c->fsize);
    if (c->walk == 1)
        setenv("MU_FILES_RESOLVE", "walk", 1);
    if (c->walk == 2 && !deny_openat2())
        _exit(1);
    zsys_handler_set(NULL);
    mu_server_t *server = mu_server_new();
    int rc = server ? 0 : MU_ENOMEM;
    if (rc == 0)
        rc = c->secure ? mu_server_set_secret(server, SECRET, strlen(SECRET))
                       : mu_server_set_insecure(server);
    if (rc == 0)
        rc = mu_server_set_root(server, c->path_a);
    if (rc == 0)
        rc = mu_server_set_heartbeat(server, 100, 1000);
    if (rc == 0 && (rc = mu_server_bind(server, c->endpoint)) > 0)
        rc = 0; /* the bound port */
    char status = rc == 0 ? 'y' : 'n';
    if (write(ready_fd, &status, 1) != 1 || rc != 0)
        _exit(1);
    close(ready_fd);
    server_loop(server);
    mu_server_destroy(&server);
    zsys_shutdown();
    _exit(0);
}

static mu_client_t *client_open(const char *endpoint, int secure);

/* A client under RLIMIT_FSIZE downloads path_a to path_b: exits 0 when the
   call fails with MU_EFBIG and leaves no file behind. */
static void
job_get_fsize(const cmd_t *c)
{
    limit_file_size(c->fsize);
    mu_client_t *client = client_open(c->endpoint, c->secure);
    int rc = client ? mu_client_get(client, c->path_a, c->path_b, NULL) : -1;
    mu_client_destroy(&client);
    zsys_shutdown();
    if (rc != MU_EFBIG)
        _exit(2);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", c->path_b);
    *strrchr(dir, '/') = '\0';
    _exit(exists(c->path_b) || count_temp(dir) != 0 ? 3 : 0);
}

static pid_t
manager_start(const cmd_t *c)
{
    int ready[2];
    if (pipe(ready) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        if (c->op == OP_SERVER)
            server_main(c, ready[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        job_get_fsize(c);
    }
    close(ready[1]);
    char status = 'y';
    if (pid > 0 && c->op == OP_SERVER && (read(ready[0], &status, 1) != 1 || status != 'y')) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    close(ready[0]);
    return pid;
}

static int
wait_status(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void
manager_main(int fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    cmd_t c;
    while (read(fd, &c, sizeof c) == (ssize_t) sizeof c) {
        long answer = -1;
        if (c.op == OP_SERVER || c.op == OP_JOB_GET_FSIZE)
            answer = manager_start(&c);
        else if (c.op == OP_KILL) {
            kill(c.pid, c.sig);
            answer = wait_status(c.pid);
        } else if (c.op == OP_WAIT)
            answer = wait_status(c.pid);
        else if (c.op == OP_QUIT)
            break;
        if (write(fd, &answer, sizeof answer) != (ssize_t) sizeof answer)
            break;
    }
    _exit(0);
}

static long
manager_call(cmd_t *c)
{
    long answer = -1;
    if (write(manager_fd, c, sizeof *c) != (ssize_t) sizeof *c
        || read(manager_fd, &answer, sizeof answer) != (ssize_t) sizeof answer)
        return -1;
    return answer;
}

/* A fresh ipc endpoint in the test directory. */
static void
new_endpoint(char *buf, size_t cap)
{
    snprintf(buf, cap, "ipc://%s/ep%d", tmpdir, endpoint_seq++);
}

/* Starts a server on endpoint serving the test root. */
static pid_t
server_start(const char *endpoint, int secure, int walk, long fsize)
{
    cmd_t c = { .op = OP_SERVER, .secure = secure, .walk = walk, .fsize = fsize };
    snprintf(c.endpoint, sizeof c.endpoint, "%s", endpoint);
    snprintf(c.path_a, sizeof c.path_a, "%s", root);
    return (pid_t) manager_call(&c);
}

/* Stops a server (or job) with sig and returns its wait status. */
static long
child_kill(pid_t pid, int sig)
{
    cmd_t c = { .op = OP_KILL, .pid = pid, .sig = sig };
    return manager_call(&c);
}

static mu_client_t *
client_open(const char *endpoint, int secure)
{
    mu_client_t *client = mu_client_new();
    if (!client)
        return NULL;
    int rc = secure ? mu_client_set_secret(client, SECRET, strlen(SECRET))
                    : mu_client_set_insecure(client);
    if (rc == 0)
        rc = mu_client_set_reconnect(client, 50, 300);
    if (rc == 0)
        rc = mu_client_set_heartbeat(client, 100, 1000);
    if (rc == 0)
        rc = mu_client_connect(client, endpoint);
    if (rc == 0)
        rc = mu_client_wait_ready(client, 10000);
    if (rc != 0)
        mu_client_destroy(&client);
    return client;
}

/* A server and a client connected to it, for one test case. */
typedef struct {
    char endpoint[300];
    pid_t pid;
    mu_client_t *client;
} fixture_t;

static bool
fixture_open(fixture_t *f, int secure, int walk, long fsize)
{
    new_endpoint(f->endpoint, sizeof f->endpoint);
    f->pid = server_start(f->endpoint, secure, walk, fsize);
    f->client = f->pid > 0 ? client_open(f->endpoint, secure) : NULL;
    return f->client != NULL;
}

static void
fixture_close(fixture_t *f)
{
    mu_client_destroy(&f->client);
    if (f->pid > 0)
        child_kill(f->pid, SIGTERM);
    f->pid = -1;
}

/* The server's files_sent, files_received and protocol_errors. */
static bool
server_counts(mu_client_t *client, unsigned long long counts[3])
{
    void *reply = NULL;
    size_t size;
    if (mu_client_request(client, "stats", 5, &reply, &size, 5000) != 0)
        return false;
    int n = sscanf(reply, "%llu %llu %llu", &counts[0], &counts[1], &counts[2]);
    free(reply);
    return n == 3;
}

/* ------------------------------------------------------------------ */
/* Transfers of every size around the chunk                            */

static const uint64_t sizes[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void
test_get_sizes(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], name[64];
    for (size_t i = 0; i < NSIZES; i++) {
        snprintf(name, sizeof name, "get-%zu", i);
        MU_CHECK(make_file(in_root(src, name), sizes[i], i + 1));
        MU_CHECK_EQ(mu_client_get(f.client, name, in_local(dst, name), NULL), 0);
        MU_CHECK(same_content(src, dst));
    }
    unsigned long long counts[3];
    MU_CHECK(server_counts(f.client, counts));
    MU_CHECK_EQ(counts[0], NSIZES);
    MU_CHECK_EQ(counts[1], 0);
    MU_CHECK_EQ(count_temp(local_dir), 0);
    fixture_close(&f);
}

static void
test_put_sizes(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], name[64];
    for (size_t i = 0; i < NSIZES; i++) {
        snprintf(name, sizeof name, "put-%zu", i);
        MU_CHECK(make_file(in_local(src, name), sizes[i], i + 100));
        MU_CHECK_EQ(mu_client_put(f.client, src, name, NULL), 0);
        MU_CHECK(same_content(src, in_root(dst, name)));
    }
    /* Into a subdirectory, and with a small chunk and window. */
    MU_CHECK(mkdir(in_root(dst, "sub"), 0755) == 0);
    mu_file_options_t opts = { .chunk_size = 1000, .window = 1 };
    MU_CHECK_EQ(mu_client_put(f.client, src, "sub/x", &opts), 0);
    MU_CHECK(same_content(src, in_root(dst, "sub/x")));
    unsigned long long counts[3];
    MU_CHECK(server_counts(f.client, counts));
    MU_CHECK_EQ(counts[1], NSIZES + 1);
    MU_CHECK_EQ(count_temp(root), 0);
    fixture_close(&f);
}

/* 100 MiB both ways (sparse source; 4 MiB chunks keep it quick under
   ASan), then small chunks and a window of 1 in both directions. */
static void
test_big_and_options(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], back[512];
    MU_CHECK(make_sparse(in_root(src, "big"), BIG));
    /* The server lowers a window of 64 x 4 MiB (more than it lets a client
       have in flight); the download must still flow. */
    mu_file_options_t opts = { .chunk_size = 4 * MIB, .window = 64 };
    MU_CHECK_EQ(mu_client_get(f.client, "big", in_local(dst, "big"), &opts), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_put(f.client, dst, "big-back", &opts), 0);
    MU_CHECK(same_content(src, in_root(back, "big-back")));
    unlink(dst);
    unlink(back);
    unlink(src);

    MU_CHECK(make_file(in_root(src, "small-chunks"), 100000, 7));
    mu_file_options_t tiny = { .chunk_size = 999, .window = 1 };
    MU_CHECK_EQ(mu_client_get(f.client, "small-chunks", in_local(dst, "small-chunks"), &tiny), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_put(f.client, dst, "small-chunks-back", &tiny), 0);
    MU_CHECK(same_content(src, in_root(back, "small-chunks-back")));

    /* Options out of range are refused before anything is sent. */
    mu_file_options_t bad = { .chunk_size = 4 * MIB + 1 };
    MU_CHECK_EQ(mu_client_get(f.client, "small-chunks", in_local(dst, "never"), &bad), MU_EINVAL);
    MU_CHECK_EQ(mu_client_put(f.client, src, "never", &bad), MU_EINVAL);
    bad = (mu_file_options_t) { .flags = 64 };
    MU_CHECK_EQ(mu_client_get(f.client, "small-chunks", in_local(dst, "never"), &bad), MU_EINVAL);
    MU_CHECK(!exists(in_local(dst, "never")));
    fixture_close(&f);
}

/* The same over CURVE with a shared secret. */
static void
test_curve(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 1, 0, 0));
    char src[512], dst[512];
    MU_CHECK(make_file(in_root(src, "curve"), 3 * CHUNK + 5, 9));
    MU_CHECK_EQ(mu_client_get(f.client, "curve", in_local(dst, "curve"), NULL), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_put(f.client, dst, "curve-back", NULL), 0);
    MU_CHECK(same_content(src, in_root(dst, "curve-back")));
    fixture_close(&f);
}

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

static void
test_missing_and_directories(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char path[512], dst[512], src[512];
    MU_CHECK(make_file(in_local(src, "md"), 10, 1));
    MU_CHECK(mkdir(in_root(path, "adir"), 0755) == 0);
    MU_CHECK_EQ(mu_client_get(f.client, "no-such", in_local(dst, "x"), NULL), MU_ENOENT);
    MU_CHECK_EQ(mu_client_get(f.client, "no-dir/no-such", in_local(dst, "x"), NULL), MU_ENOENT);
    MU_CHECK_EQ(mu_client_get(f.client, "adir", in_local(dst, "x"), NULL), MU_EISDIR);
    MU_CHECK_EQ(mu_client_get(f.client, ".", in_local(dst, "x"), NULL), MU_EISDIR);
    MU_CHECK(!exists(dst));
    /* Not a regular file (a FIFO: opening it must not block either). */
    MU_CHECK(mkfifo(in_root(path, "fifo"), 0644) == 0);
    MU_CHECK_EQ(mu_client_get(f.client, "fifo", in_local(dst, "x"), NULL), MU_EACCES);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(mu_client_put(f.client, src, "adir", NULL), MU_EISDIR);
    MU_CHECK_EQ(mu_client_put(f.client, src, "adir/", NULL), MU_EISDIR);
    MU_CHECK_EQ(mu_client_put(f.client, src, "md-file/x", NULL), 0); /* made: md-file/ */
    MU_CHECK_EQ(mu_client_put(f.client, src, "md-file/x/y", NULL), MU_ENOTDIR);
    /* Local side: a missing source, a directory as source. */
    MU_CHECK_EQ(mu_client_put(f.client, in_local(path, "no-such"), "x", NULL), MU_ENOENT);
    MU_CHECK_EQ(mu_client_put(f.client, local_dir, "x", NULL), MU_EISDIR);
    MU_CHECK_EQ(count_temp(root), 0);
    fixture_close(&f);
}

static void
test_exists_and_overwrite(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], other[512];
    MU_CHECK(make_file(in_root(src, "ow"), 5000, 3));
    MU_CHECK(make_file(in_local(dst, "ow"), 10, 4));
    MU_CHECK_EQ(mu_client_get(f.client, "ow", dst, NULL), MU_EEXIST);
    MU_CHECK_EQ(file_size(dst), 10);
    mu_file_options_t ow = { .flags = MU_FILE_OVERWRITE };
    MU_CHECK_EQ(mu_client_get(f.client, "ow", dst, &ow), 0);
    MU_CHECK(same_content(src, dst));

    MU_CHECK(make_file(in_local(other, "ow-new"), 777, 5));
    MU_CHECK_EQ(mu_client_put(f.client, other, "ow", NULL), MU_EEXIST);
    MU_CHECK_EQ(file_size(src), 5000);
    MU_CHECK_EQ(mu_client_put(f.client, other, "ow", &ow), 0);
    MU_CHECK(same_content(other, src));
    MU_CHECK_EQ(count_temp(root), 0);
    MU_CHECK_EQ(count_temp(local_dir), 0);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Failing writes                                                      */

/* A client under RLIMIT_FSIZE: MU_EFBIG, nothing left (checked in the
   forked job); the server still serves this client afterwards. */
static void
test_client_write_fails(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    MU_CHECK(make_file(in_root(src, "fbig"), 3 * MIB, 11));
    cmd_t c = { .op = OP_JOB_GET_FSIZE, .fsize = MIB };
    snprintf(c.endpoint, sizeof c.endpoint, "%s", f.endpoint);
    snprintf(c.path_a, sizeof c.path_a, "fbig");
    snprintf(c.path_b, sizeof c.path_b, "%s", in_local(dst, "fbig"));
    long pid = manager_call(&c);
    MU_CHECK(pid > 0);
    cmd_t w = { .op = OP_WAIT, .pid = (pid_t) pid };
    MU_CHECK_EQ(manager_call(&w), 0);
    MU_CHECK_EQ(mu_client_get(f.client, "fbig", dst, NULL), 0);
    MU_CHECK(same_content(src, dst));
    fixture_close(&f);
}

/* A server under RLIMIT_FSIZE (SIGXFSZ left at its default, which kills):
   the upload fails with MU_EFBIG at once, its temp file is removed, and the
   server keeps serving. */
static void
test_server_write_fails(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, MIB));
    char src[512], small[512], dst[512];
    MU_CHECK(make_file(in_local(src, "sfbig"), 3 * MIB, 12));
    MU_CHECK(make_file(in_local(small, "sfsmall"), 100000, 13));
    mu_file_options_t quick = { .timeout_ms = mu_test_ms(15000) };
    MU_CHECK_EQ(mu_client_put(f.client, src, "sfbig", &quick), MU_EFBIG);
    MU_CHECK(!exists(in_root(dst, "sfbig")));
    MU_CHECK(temp_gone(root, 2000));
    MU_CHECK_EQ(mu_client_put(f.client, small, "sfsmall", NULL), 0);
    MU_CHECK(same_content(small, in_root(dst, "sfsmall")));
    MU_CHECK_EQ(mu_client_get(f.client, "sfsmall", in_local(dst, "sfsmall-back"), NULL), 0);
    MU_CHECK(same_content(small, dst));
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Resume                                                              */

typedef struct {
    uint64_t last, calls, first, total;
    bool decreased;
    uint64_t cancel_at;  /* cancel when done reaches this (0: never) */
    uint64_t restart_at; /* restart the server there (0: never) */
    bool restarted;
    fixture_t *fixture;
} progress_t;

static int
on_progress(void *arg, uint64_t done, uint64_t total)
{
    progress_t *p = arg;
    if (p->calls++ == 0)
        p->first = done;
    else if (done < p->last)
        p->decreased = true;
    p->last = done;
    p->total = total;
    if (p->restart_at && !p->restarted && done >= p->restart_at) {
        p->restarted = true;
        child_kill(p->fixture->pid, SIGKILL);
        p->fixture->pid = server_start(p->fixture->endpoint, 0, 0, 0);
    }
    return p->cancel_at && done >= p->cancel_at;
}

/* The server is SIGKILLed mid-download and restarted on the same
   endpoint: the call resumes from the bytes it has and the digest
   matches. */
static void
test_resume_after_server_restart(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    MU_CHECK(make_file(in_root(src, "restart"), 24 * MIB, 21));
    progress_t p = { .restart_at = 8 * MIB, .fixture = &f };
    mu_file_options_t opts = { .chunk_size = 64 * 1024,
                               .window = 4,
                               .timeout_ms = 30000,
                               .progress = on_progress,
                               .progress_arg = &p };
    MU_CHECK_EQ(mu_client_get(f.client, "restart", in_local(dst, "restart"), &opts), 0);
    MU_CHECK(p.restarted);
    MU_CHECK(f.pid > 0);
    MU_CHECK(!p.decreased); /* resumed, not started over */
    MU_CHECK_EQ(p.last, 24 * MIB);
    MU_CHECK(same_content(src, dst));
    mu_client_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_client_stats(f.client, &st), 0);
    MU_CHECK(st.reconnects >= 1);
    MU_CHECK_EQ(count_temp(local_dir), 0);

    /* An upload whose server restarts starts over and completes. */
    p = (progress_t) { .restart_at = 8 * MIB, .fixture = &f };
    MU_CHECK_EQ(mu_client_put(f.client, dst, "restart-up", &opts), 0);
    MU_CHECK(p.restarted);
    MU_CHECK(f.pid > 0);
    MU_CHECK_EQ(p.last, 24 * MIB);
    MU_CHECK(same_content(src, in_root(dst, "restart-up")));
    /* The killed server could not remove its temporary file; the new one
       does not know it. */
    MU_CHECK_EQ(remove_temp(root), 1);
    fixture_close(&f);
}

/* MU_FILE_RESUME: a cancelled call keeps LOCAL.partial; the next call
   continues it; a corrupt .partial gives MU_EDIGEST and keeps nothing. */
static void
test_resume_partial(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], partial[600];
    uint64_t size = 2 * MIB + 123;
    MU_CHECK(make_file(in_root(src, "part"), size, 22));
    in_local(dst, "part");
    snprintf(partial, sizeof partial, "%s.partial", dst);

    progress_t p = { .cancel_at = MIB };
    mu_file_options_t opts = { .chunk_size = 64 * 1024,
                               .flags = MU_FILE_RESUME,
                               .progress = on_progress,
                               .progress_arg = &p };
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), MU_EINTR);
    MU_CHECK(!exists(dst));
    MU_CHECK(file_size(partial) >= MIB);
    uint64_t had = (uint64_t) file_size(partial);

    p = (progress_t) { 0 };
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), 0);
    MU_CHECK_EQ(p.first, had); /* it started from the partial file */
    MU_CHECK_EQ(p.last, size);
    MU_CHECK(same_content(src, dst));
    MU_CHECK(!exists(partial));
    unlink(dst);

    /* A .partial written by hand, with one wrong byte. */
    int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    MU_CHECK(fd >= 0);
    uint8_t head[1000];
    for (size_t i = 0; i < sizeof head; i++)
        head[i] = pattern(22, i);
    head[500] ^= 1;
    MU_CHECK(write(fd, head, sizeof head) == (ssize_t) sizeof head);
    close(fd);
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), MU_EDIGEST);
    MU_CHECK(!exists(dst));
    MU_CHECK(!exists(partial));

    /* A failure before any byte arrived leaves no empty .partial. */
    MU_CHECK_EQ(mu_client_get(f.client, "no-such", dst, &opts), MU_ENOENT);
    MU_CHECK(!exists(partial));
    MU_CHECK(!exists(dst));

    /* A .partial longer than the remote file is refused and dropped. */
    MU_CHECK(make_file(partial, size + 10, 22));
    MU_CHECK_EQ(mu_client_get(f.client, "part", dst, &opts), MU_EINVAL);
    MU_CHECK(!exists(dst));
    MU_CHECK(!exists(partial));
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* The server's digest cache                                           */

/*  Progress callback that rewrites the served file once the first chunk
    has arrived (arg: the file's path). */
static int
change_file_midway(void *arg, uint64_t done, uint64_t total)
{
    static bool changed;
    if (done == 0)
        changed = false;
    if (!changed && done >= CHUNK) {
        int fd = open(arg, O_WRONLY);
        uint8_t byte = 0xee;
        if (fd >= 0) {
            if (pwrite(fd, &byte, 1, (off_t) (total - 1)) != 1)
                perror("pwrite");
            close(fd);
        }
        changed = true;
    }
    return 0;
}

/*  Downloads of a settled file are served from the digest cache; a file
    rewritten at the same size is hashed again (new content arrives); a
    cached file that changes during a download fails it with MU_EIO and
    leaves nothing behind; the next download is right again. */
static void
test_digest_cache(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    uint64_t size = 8 * CHUNK + 5;
    MU_CHECK(make_file(in_root(src, "cached"), size, 41));
    /* the subject: the file's mtime and ctime older than the cache's
       settling time (2 s; ctime cannot be set back). A lower bound only. */
    sleep(3);
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-1"), NULL), 0);
    MU_CHECK(same_content(src, dst));
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-2"), NULL), 0);
    MU_CHECK(same_content(src, dst));

    MU_CHECK(make_file(src, size, 42)); /* same size, other bytes */
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-3"), NULL), 0);
    MU_CHECK(same_content(src, dst));

    sleep(3); /* settled again (as above) */
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-4"), NULL), 0);
    mu_file_options_t opts = { .window = 1, .progress = change_file_midway, .progress_arg = src };
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-5"), &opts), MU_EIO);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(count_temp(local_dir), 0);
    MU_CHECK_EQ(mu_client_get(f.client, "cached", in_local(dst, "cached-6"), NULL), 0);
    MU_CHECK(same_content(src, dst));
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Progress, cancel, timeouts                                          */

static void
test_progress_and_cancel(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512];
    uint64_t size = 10 * CHUNK + 3;
    MU_CHECK(make_file(in_root(src, "prog"), size, 31));
    progress_t p = { 0 };
    mu_file_options_t opts = { .progress = on_progress, .progress_arg = &p };
    MU_CHECK_EQ(mu_client_get(f.client, "prog", in_local(dst, "prog"), &opts), 0);
    MU_CHECK(p.calls >= 11); /* at least once per chunk */
    MU_CHECK(!p.decreased);
    MU_CHECK_EQ(p.last, size);
    MU_CHECK_EQ(p.total, size);

    p = (progress_t) { 0 };
    MU_CHECK_EQ(mu_client_put(f.client, dst, "prog-up", &opts), 0);
    MU_CHECK(p.calls >= 11);
    MU_CHECK(!p.decreased);
    MU_CHECK_EQ(p.last, size);

    /* Cancel: MU_EINTR, nothing left on either side. */
    p = (progress_t) { .cancel_at = 3 * CHUNK };
    MU_CHECK_EQ(mu_client_get(f.client, "prog", in_local(dst, "prog-cancel"), &opts), MU_EINTR);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(count_temp(local_dir), 0);
    p = (progress_t) { .cancel_at = 3 * CHUNK };
    MU_CHECK_EQ(mu_client_put(f.client, src, "prog-cancel", &opts), MU_EINTR);
    MU_CHECK(temp_gone(root, 2000));
    MU_CHECK(!exists(in_root(dst, "prog-cancel")));
    /* The connection still works. */
    MU_CHECK_EQ(mu_client_get(f.client, "prog", in_local(dst, "prog-again"), NULL), 0);
    fixture_close(&f);
}

static void
test_timeout(void)
{
    char endpoint[300], dst[512], src[512];
    new_endpoint(endpoint, sizeof endpoint);
    mu_client_t *client = mu_client_new();
    MU_CHECK(client);
    MU_CHECK_EQ(mu_client_set_insecure(client), 0);
    MU_CHECK_EQ(mu_client_connect(client, endpoint), 0);
    mu_file_options_t opts = { .timeout_ms = 300 };
    MU_CHECK(make_file(in_local(src, "to"), 10, 1));
    /* nothing listens there: refused at once (tests/test_conn_fail.c) */
    MU_CHECK_EQ(mu_client_get(client, "x", in_local(dst, "to-x"), &opts), MU_ECONNREFUSED);
    MU_CHECK(!exists(dst));
    MU_CHECK_EQ(mu_client_put(client, src, "x", &opts), MU_ECONNREFUSED);
    MU_CHECK_EQ(count_temp(local_dir), 0);
    mu_client_destroy(&client);
}

/* ------------------------------------------------------------------ */
/* Fairness: two big downloads and a third client's requests           */

typedef struct {
    const char *endpoint, *remote;
    char local[512];
    int rc;
    volatile int done;
} big_job_t;

static void *
big_download(void *arg)
{
    big_job_t *job = arg;
    mu_client_t *client = client_open(job->endpoint, 0);
    job->rc = client ? mu_client_get(client, job->remote, job->local, NULL) : -1;
    mu_client_destroy(&client);
    __atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void
test_fairness(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512];
    MU_CHECK(make_sparse(in_root(src, "fair"), 48 * MIB));
    big_job_t jobs[2] = { { f.endpoint, "fair", "", 0, 0 }, { f.endpoint, "fair", "", 0, 0 } };
    in_local(jobs[0].local, "fair-1");
    in_local(jobs[1].local, "fair-2");
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        MU_CHECK(pthread_create(&threads[i], NULL, big_download, &jobs[i]) == 0);
    int64_t worst = 0, during = 0;
    while (!__atomic_load_n(&jobs[0].done, __ATOMIC_SEQ_CST)
           || !__atomic_load_n(&jobs[1].done, __ATOMIC_SEQ_CST)) {
        bool both = !__atomic_load_n(&jobs[0].done, __ATOMIC_SEQ_CST)
                    && !__atomic_load_n(&jobs[1].done, __ATOMIC_SEQ_CST);
        int64_t start = mu_test_now_ms();
        void *reply = NULL;
        size_t size;
        int rc = mu_client_request(f.client, "ping", 4, &reply, &size, 5000);
        int64_t ms = mu_test_now_ms() - start;
        free(reply);
        if (rc != 0)
            break;
        worst = ms > worst ? ms : worst;
        during += both;
        usleep(10000); /* pacing of the pings, not a synchronisation */
    }
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    printf("# fairness: %lld requests during both downloads, worst latency %lld ms\n",
           (long long) during, (long long) worst);
    MU_CHECK_EQ(jobs[0].rc, 0);
    MU_CHECK_EQ(jobs[1].rc, 0);
    MU_CHECK(during >= 5);
    MU_CHECK(worst < mu_test_ms(1000));
    MU_CHECK(same_content(src, jobs[0].local));
    MU_CHECK(same_content(src, jobs[1].local));
    unlink(jobs[0].local);
    unlink(jobs[1].local);
    unlink(src);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* The wire, spoken by hand                                            */

static void
hdr(uint8_t out[10], int kind, uint64_t id)
{
    out[0] = 2; /* protocol version: one frame, header + payload */
    out[1] = (uint8_t) kind;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t) (id >> (8 * i));
}

static bool
raw_send(void *sock, int kind, uint64_t id, const void *data, size_t size)
{
    uint8_t *frame = malloc(10 + size);
    if (!frame)
        return false;
    hdr(frame, kind, id);
    if (size)
        memcpy(frame + 10, data, size);
    bool ok = zmq_send(sock, frame, 10 + size, 0) == (int) (10 + size);
    free(frame);
    return ok;
}

/* Receives one message; returns its payload size (or -1 on timeout or a
   message shorter than a header); the payload goes to buf (truncated to
   cap). */
static int
raw_recv(void *sock, int *kind_p, uint64_t *id_p, uint8_t *buf, size_t cap)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n = zmq_msg_recv(&msg, sock, 0);
    if (n < 10) {
        zmq_msg_close(&msg);
        return -1;
    }
    const uint8_t *h = zmq_msg_data(&msg);
    *kind_p = h[1];
    *id_p = 0;
    for (int i = 7; i >= 0; i--)
        *id_p = (*id_p << 8) | h[2 + i];
    size_t size = (size_t) n - 10;
    memcpy(buf, h + 10, size < cap ? size : cap);
    zmq_msg_close(&msg);
    return (int) size;
}

/* Waits for the answer to id; returns the error code of an ERR, 1 for
   another kind (in *kind_p), 0 on timeout. */
static int
raw_answer(void *sock, uint64_t id, int *kind_p)
{
    for (;;) {
        uint8_t buf[512];
        uint64_t got;
        int n = raw_recv(sock, kind_p, &got, buf, sizeof buf);
        if (n < 0)
            return 0;
        if (got != id)
            continue;
        if (*kind_p != K_ERR)
            return 1;
        int32_t code = (int32_t) ((uint32_t) buf[0] | (uint32_t) buf[1] << 8
                                  | (uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24);
        return n >= 4 ? code : 0;
    }
}

static size_t
open_msg_alg(uint8_t *out, int put, uint64_t size_or_offset, const void *path, size_t len, int alg)
{
    memset(out, 0, 21);
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t) (size_or_offset >> (8 * i));
    out[9] = 1;  /* chunk 256 */
    out[12] = 4; /* window 4 */
    size_t head = put ? 21 : 17;
    out[head - 1] = (uint8_t) alg; /* the digest algorithm */
    memcpy(out + head, path, len);
    return head + len;
}

static size_t
open_msg(uint8_t *out, int put, uint64_t size_or_offset, const void *path, size_t len)
{
    return open_msg_alg(out, put, size_or_offset, path, len, MU_FILE_DIGEST_XXH3_128);
}

/* A DEALER socket (in a context of its own, *ctx_p) connected to f's server
   with a 5 s receive timeout and greeted: HELLO sent, WELCOME answered.
   False when any step fails. */
static bool
raw_greeted(const fixture_t *f, void **ctx_p, void **sock_p)
{
    *ctx_p = zmq_ctx_new();
    *sock_p = zmq_socket(*ctx_p, ZMQ_DEALER);
    int timeout = 5000, linger = 0, kind = 0;
    zmq_setsockopt(*sock_p, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(*sock_p, ZMQ_LINGER, &linger, sizeof linger);
    return zmq_connect(*sock_p, f->endpoint) == 0 && raw_send(*sock_p, K_HELLO, 0, "raw", 3)
           && raw_answer(*sock_p, 0, &kind) == 1 && kind == K_WELCOME;
}

/* Malformed and hostile messages get error answers; the connection stays;
   an upload with a wrong digest is refused with MU_EDIGEST and a peer that
   leaves mid-upload has its temp file removed. */
static void
test_raw_protocol(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char path[512];
    MU_CHECK(make_file(in_root(path, "raw"), 100, 1));
    void *ctx, *sock;
    int kind;
    MU_CHECK(raw_greeted(&f, &ctx, &sock));

    uint8_t msg[2000];
    size_t n = open_msg(msg, 0, 0, "raw\0x", 5); /* embedded NUL */
    MU_CHECK(raw_send(sock, K_GET_OPEN, 10, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 10, &kind), MU_EINVAL);
    char longpath[1025];
    memset(longpath, 'b', sizeof longpath);
    n = open_msg(msg, 0, 0, longpath, sizeof longpath);
    MU_CHECK(raw_send(sock, K_GET_OPEN, 11, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 11, &kind), MU_EINVAL);
    n = open_msg(msg, 1, 5, "raw\0", 4);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 12, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 12, &kind), MU_EINVAL);
    n = open_msg(msg, 0, 0, "raw", 3);
    msg[9] = 0; /* chunk size 0 */
    MU_CHECK(raw_send(sock, K_GET_OPEN, 13, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 13, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, K_GET_OPEN, 14, "short", 5));
    MU_CHECK_EQ(raw_answer(sock, 14, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 15, "short", 5));
    MU_CHECK_EQ(raw_answer(sock, 15, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, 0x5f, 16, NULL, 0));
    MU_CHECK_EQ(raw_answer(sock, 16, &kind), MU_EPROTO);
    MU_CHECK(raw_send(sock, K_GET_CREDIT, 17, "x", 1));
    MU_CHECK_EQ(raw_answer(sock, 17, &kind), MU_EPROTO);
    /* A download offset past the end. */
    n = open_msg(msg, 0, 101, "raw", 3);
    MU_CHECK(raw_send(sock, K_GET_OPEN, 18, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 18, &kind), MU_EINVAL);

    /* Upload with a wrong digest. */
    n = open_msg(msg, 1, 3, "wrong", 5);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 20, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 20, &kind), 1);
    MU_CHECK_EQ(kind, K_PUT_READY);
    uint8_t data[11] = { 0, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c' };
    MU_CHECK(raw_send(sock, K_PUT_DATA, 20, data, sizeof data));
    uint8_t digest[32] = { 0 };
    MU_CHECK(raw_send(sock, K_PUT_END, 20, digest, 16)); /* XXH3-128: 16 bytes */
    MU_CHECK_EQ(raw_answer(sock, 20, &kind), MU_EDIGEST);
    MU_CHECK(!exists(in_root(path, "wrong")));
    MU_CHECK_EQ(count_temp(root), 0);
    /* A chunk out of place. */
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 21, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 21, &kind), 1);
    data[0] = 1;
    MU_CHECK(raw_send(sock, K_PUT_DATA, 21, data, sizeof data));
    MU_CHECK_EQ(raw_answer(sock, 21, &kind), MU_EPROTO);
    MU_CHECK_EQ(count_temp(root), 0);
    /* Messages for transfers the server does not know are ignored: the
       next request is the next thing answered. */
    MU_CHECK(raw_send(sock, K_PUT_DATA, 99, data, sizeof data));
    MU_CHECK(raw_send(sock, K_GET_CREDIT, 99, "\1\0\0\0", 4));
    MU_CHECK(raw_send(sock, K_REQ, 30, "stats", 5));
    uint8_t buf[512];
    uint64_t id;
    int len = raw_recv(sock, &kind, &id, buf, sizeof buf - 1);
    MU_CHECK(len > 0);
    MU_CHECK_EQ(kind, K_REP);
    MU_CHECK_EQ(id, 30);
    buf[len] = 0;
    unsigned long long counts[3];
    MU_CHECK(sscanf((char *) buf, "%llu %llu %llu", &counts[0], &counts[1], &counts[2]) == 3);
    MU_CHECK_EQ(counts[2], 6); /* 13, 14, 15, 16, 17 and 21 */

    /* 32 uploads at once per peer; the 33rd is refused with MU_EAGAIN. */
    data[0] = 0;
    for (int i = 0; i < 32; i++) {
        char name[16];
        snprintf(name, sizeof name, "left-%d", i);
        n = open_msg(msg, 1, 1000, name, strlen(name));
        MU_CHECK(raw_send(sock, K_PUT_OPEN, 100 + (uint64_t) i, msg, n));
        MU_CHECK_EQ(raw_answer(sock, 100 + (uint64_t) i, &kind), 1);
        MU_CHECK(raw_send(sock, K_PUT_DATA, 100 + (uint64_t) i, data, sizeof data));
    }
    n = open_msg(msg, 1, 1000, "left-x", 6);
    MU_CHECK(raw_send(sock, K_PUT_OPEN, 200, msg, n));
    MU_CHECK_EQ(raw_answer(sock, 200, &kind), MU_EAGAIN);
    MU_CHECK(raw_send(sock, K_REQ, 41, "ping", 4));
    MU_CHECK_EQ(raw_answer(sock, 41, &kind), 1);
    MU_CHECK_EQ(count_temp(root), 32);
    /* The peer leaves in the middle of its uploads: temp files removed. */
    MU_CHECK(raw_send(sock, K_BYE, 0, NULL, 0));
    MU_CHECK(temp_gone(root, 3000));
    MU_CHECK(!exists(in_root(path, "left-0")));
    zmq_close(sock);
    zmq_ctx_term(ctx);
    fixture_close(&f);
}

/* ------------------------------------------------------------------ */
/* Transfer digests                                                    */

/*  Both algorithms (and the default) move files both ways, plain and
    with CURVE; an unknown digest option is MU_EINVAL; a corrupt
    LOCAL.partial is caught with each algorithm (MU_EDIGEST, nothing
    kept). */
static void
test_digest_algorithms(void)
{
    const int algs[] = { 0, MU_FILE_DIGEST_XXH3_128, MU_FILE_DIGEST_BLAKE2B };
    for (int secure = 0; secure < 2; secure++) {
        fixture_t f;
        MU_CHECK(fixture_open(&f, secure, 0, 0));
        char src[512], dst[512], back[512], name[64];
        for (size_t i = 0; i < 3; i++) {
            mu_file_options_t opts = { .digest = algs[i], .flags = MU_FILE_OVERWRITE };
            snprintf(name, sizeof name, "alg-%d-%zu", secure, i);
            MU_CHECK(make_file(in_root(src, name), 3 * CHUNK + 17, 30 + i));
            MU_CHECK_EQ(mu_client_get(f.client, name, in_local(dst, name), &opts), 0);
            MU_CHECK(same_content(src, dst));
            snprintf(name, sizeof name, "alg-back-%d-%zu", secure, i);
            MU_CHECK_EQ(mu_client_put(f.client, dst, name, &opts), 0);
            MU_CHECK(same_content(src, in_root(back, name)));
        }
        mu_file_options_t bad = { .digest = 3 };
        MU_CHECK_EQ(mu_client_get(f.client, "alg-0-0", in_local(dst, "bad"), &bad), MU_EINVAL);
        bad.digest = -1;
        MU_CHECK_EQ(mu_client_put(f.client, src, "bad", &bad), MU_EINVAL);
        fixture_close(&f);
    }

    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char src[512], dst[512], partial[600];
    MU_CHECK(make_file(in_root(src, "corrupt"), MIB + 99, 23));
    in_local(dst, "corrupt");
    snprintf(partial, sizeof partial, "%s.partial", dst);
    for (size_t i = 1; i < 3; i++) {
        /* A .partial with one wrong byte: every later byte is right, so
           only the digest can tell. */
        int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        MU_CHECK(fd >= 0);
        uint8_t head[3000];
        for (size_t j = 0; j < sizeof head; j++)
            head[j] = pattern(23, j);
        head[1234] ^= 0x40;
        MU_CHECK(write(fd, head, sizeof head) == (ssize_t) sizeof head);
        close(fd);
        mu_file_options_t opts = { .digest = algs[i], .flags = MU_FILE_RESUME };
        MU_CHECK_EQ(mu_client_get(f.client, "corrupt", dst, &opts), MU_EDIGEST);
        MU_CHECK(!exists(dst));
        MU_CHECK(!exists(partial));
        /* Without the damage the same call succeeds. */
        MU_CHECK_EQ(mu_client_get(f.client, "corrupt", dst, &opts), 0);
        MU_CHECK(same_content(src, dst));
        unlink(dst);
    }
    fixture_close(&f);
}

/* The digest of data with alg (wire id); returns its length. */
static size_t
expected_digest(int alg, const uint8_t *data, size_t size, uint8_t out[32])
{
    if (alg == MU_FILE_DIGEST_BLAKE2B) {
        crypto_generichash(out, 32, data, size, NULL, 0);
        return 32;
    }
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data, size));
    memcpy(out, c.digest, 16);
    return 16;
}

/*  Downloads path (size bytes, at most one 256-byte chunk) over the raw
    protocol with alg: GET_INFO names alg, GET_END carries its digest of
    the data. Returns true when all of that holds. */
static bool
raw_get_checks(void *sock, uint64_t id, const char *path, size_t size, int alg)
{
    uint8_t msg[600], buf[600], data[256], want[32];
    size_t n = open_msg_alg(msg, 0, 0, path, strlen(path), alg);
    if (!raw_send(sock, K_GET_OPEN, id, msg, n))
        return false;
    size_t got = 0;
    bool info_ok = false;
    for (;;) {
        int kind;
        uint64_t mid;
        int len = raw_recv(sock, &kind, &mid, buf, sizeof buf);
        if (len < 0)
            return false;
        if (mid != id)
            continue;
        if (kind == K_GET_INFO)
            info_ok = len == 13 && buf[12] == alg;
        else if (kind == K_GET_DATA && len > 8 && got + (size_t) len - 8 <= sizeof data) {
            memcpy(data + got, buf + 8, (size_t) len - 8);
            got += (size_t) len - 8;
        } else if (kind == K_GET_END) {
            size_t want_len = expected_digest(alg, data, got, want);
            return info_ok && got == size && (size_t) len == want_len
                   && memcmp(buf, want, want_len) == 0;
        } else
            return false;
    }
}

/*  The digest algorithm on the wire: the server hashes with the one the
    request names (GET_INFO echoes it, GET_END is its digest); an upload's
    PUT_END of the other algorithm's length is a protocol error, a wrong
    digest of either MU_EDIGEST; an unknown algorithm id (0, 3, 0x61: an
    older client whose path starts there) is refused with MU_ENOTSUP and
    the connection stays. */
static void
test_raw_digests(void)
{
    fixture_t f;
    MU_CHECK(fixture_open(&f, 0, 0, 0));
    char path[512];
    MU_CHECK(make_file(in_root(path, "rawd"), 200, 5));
    void *ctx, *sock;
    int kind;
    MU_CHECK(raw_greeted(&f, &ctx, &sock));

    MU_CHECK(raw_get_checks(sock, 10, "rawd", 200, MU_FILE_DIGEST_XXH3_128));
    MU_CHECK(raw_get_checks(sock, 11, "rawd", 200, MU_FILE_DIGEST_BLAKE2B));
    MU_CHECK(raw_get_checks(sock, 12, "rawd", 200, MU_FILE_DIGEST_XXH3_128));
    MU_CHECK(raw_get_checks(sock, 13, "rawd", 200, MU_FILE_DIGEST_BLAKE2B));

    uint8_t msg[600];
    const int unknown[] = { 0, 3, 0x61 };
    for (size_t i = 0; i < 3; i++) {
        size_t n = open_msg_alg(msg, 0, 0, "rawd", 4, unknown[i]);
        MU_CHECK(raw_send(sock, K_GET_OPEN, 20 + i, msg, n));
        MU_CHECK_EQ(raw_answer(sock, 20 + i, &kind), MU_ENOTSUP);
        n = open_msg_alg(msg, 1, 3, "rawd-up", 7, unknown[i]);
        MU_CHECK(raw_send(sock, K_PUT_OPEN, 30 + i, msg, n));
        MU_CHECK_EQ(raw_answer(sock, 30 + i, &kind), MU_ENOTSUP);
    }

    /* Uploads: the right digest of each algorithm lands the file; the
       wrong one is MU_EDIGEST, the other length MU_EPROTO. */
    const int algs[] = { MU_FILE_DIGEST_XXH3_128, MU_FILE_DIGEST_BLAKE2B };
    uint8_t data[11] = { 0, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c' };
    for (size_t i = 0; i < 2; i++) {
        uint8_t digest[32];
        size_t len = expected_digest(algs[i], data + 8, 3, digest);
        for (int round = 0; round < 3; round++) {
            uint64_t id = 40 + 10 * i + (uint64_t) round;
            char name[32];
            snprintf(name, sizeof name, "up-%zu-%d", i, round);
            size_t n = open_msg_alg(msg, 1, 3, name, strlen(name), algs[i]);
            MU_CHECK(raw_send(sock, K_PUT_OPEN, id, msg, n));
            MU_CHECK_EQ(raw_answer(sock, id, &kind), 1);
            MU_CHECK_EQ(kind, K_PUT_READY);
            MU_CHECK(raw_send(sock, K_PUT_DATA, id, data, sizeof data));
            uint8_t sent[32];
            memcpy(sent, digest, sizeof sent);
            size_t sent_len = len;
            if (round == 1)
                sent[len - 1] ^= 1; /* corrupted */
            if (round == 2)
                sent_len = len == 16 ? 32 : 16; /* the other algorithm's length */
            MU_CHECK(raw_send(sock, K_PUT_END, id, sent, sent_len));
            int want = round == 0 ? 1 : round == 1 ? MU_EDIGEST : MU_EPROTO;
            MU_CHECK_EQ(raw_answer(sock, id, &kind), want);
            MU_CHECK_EQ(exists(in_root(path, name)), round == 0);
        }
    }
    MU_CHECK_EQ(count_temp(root), 0);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    fixture_close(&f);
}

int
main(void)
{
    mu_test_start(300); /* about 40 s when idle; scaled by MU_TEST_SCALE */
    signal(SIGPIPE, SIG_IGN);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_files"))
        return 1;
    snprintf(root, sizeof root, "%s/root", tmpdir);
    snprintf(local_dir, sizeof local_dir, "%s/local", tmpdir);
    if (mkdir(root, 0755) < 0 || mkdir(local_dir, 0755) < 0 || sodium_init() < 0)
        return 1;
    /* Fork the manager before this process touches ZeroMQ. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 1;
    pid_t manager = fork();
    if (manager == 0) {
        close(sv[0]);
        manager_main(sv[1]);
    }
    close(sv[1]);
    manager_fd = sv[0];
    zsys_handler_set(NULL);

    MU_RUN(test_get_sizes);
    MU_RUN(test_put_sizes);
    MU_RUN(test_big_and_options);
    MU_RUN(test_curve);
    MU_RUN(test_digest_cache);
    MU_RUN(test_path_escapes);
    MU_RUN(test_path_escapes_walk);
    MU_RUN(test_path_escapes_no_openat2);
    MU_RUN(test_missing_and_directories);
    MU_RUN(test_put_makes_dirs);
    MU_RUN(test_put_makes_dirs_walk);
    MU_RUN(test_put_makes_dirs_no_openat2);
    MU_RUN(test_exists_and_overwrite);
    MU_RUN(test_client_write_fails);
    MU_RUN(test_server_write_fails);
    MU_RUN(test_resume_after_server_restart);
    MU_RUN(test_resume_partial);
    MU_RUN(test_progress_and_cancel);
    MU_RUN(test_timeout);
    MU_RUN(test_fairness);
    MU_RUN(test_raw_protocol);
    MU_RUN(test_digest_algorithms);
    MU_RUN(test_raw_digests);

    cmd_t quit = { .op = OP_QUIT };
    if (write(manager_fd, &quit, sizeof quit) == (ssize_t) sizeof quit)
        waitpid(manager, NULL, 0);
    zsys_shutdown();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    MU_DONE();
}
