/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  files_cases.c — see files_cases.h. */
#include "files_cases.h"

char tmpdir[64];

char root[300], local_dir[300];

static int endpoint_seq;

uint8_t
pattern(uint64_t seed, uint64_t i)
{
    return (uint8_t) (seed * 131 + i * 7 + (i >> 9) + (i >> 17));
}

bool
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

bool
same_content(const char *a, const char *b)
{
    uint8_t da[32], db[32];
    uint64_t sa, sb;
    return file_digest(a, da, &sa) && file_digest(b, db, &sb) && sa == sb
           && memcmp(da, db, 32) == 0;
}

bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

off_t
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

int
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

int
count_temp(const char *dir)
{
    return temp_files(dir, false);
}

bool
temp_gone(const char *dir, int ms)
{
    int watch = mu_test_watch_dir(dir); /* before looking: no removal missed */
    if (watch < 0)
        return false;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(ms);
    int count;
    while ((count = count_temp(dir)) != 0 && mu_test_now_ms() <= deadline
           && mu_test_wait_change(watch, ms)) {
    } /* the directory changed: look again */
    close(watch);
    return count == 0;
}

const char *
in_root(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", root, name);
    return buf;
}

const char *
in_local(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", local_dir, name);
    return buf;
}

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

long
manager_call(cmd_t *c)
{
    long answer = -1;
    if (write(manager_fd, c, sizeof *c) != (ssize_t) sizeof *c
        || read(manager_fd, &answer, sizeof answer) != (ssize_t) sizeof answer)
        return -1;
    return answer;
}

void
new_endpoint(char *buf, size_t cap)
{
    snprintf(buf, cap, "ipc://%s/ep%d", tmpdir, endpoint_seq++);
}

pid_t
server_start(const char *endpoint, int secure, int walk, long fsize)
{
    cmd_t c = { .op = OP_SERVER, .secure = secure, .walk = walk, .fsize = fsize };
    snprintf(c.endpoint, sizeof c.endpoint, "%s", endpoint);
    snprintf(c.path_a, sizeof c.path_a, "%s", root);
    return (pid_t) manager_call(&c);
}

long
child_kill(pid_t pid, int sig)
{
    cmd_t c = { .op = OP_KILL, .pid = pid, .sig = sig };
    return manager_call(&c);
}

mu_client_t *
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

bool
fixture_open(fixture_t *f, int secure, int walk, long fsize)
{
    new_endpoint(f->endpoint, sizeof f->endpoint);
    f->pid = server_start(f->endpoint, secure, walk, fsize);
    f->client = f->pid > 0 ? client_open(f->endpoint, secure) : NULL;
    return f->client != NULL;
}

void
fixture_close(fixture_t *f)
{
    mu_client_destroy(&f->client);
    if (f->pid > 0)
        child_kill(f->pid, SIGTERM);
    f->pid = -1;
}

static pid_t manager_pid = -1;

bool
files_suite_begin(void)
{
    mu_test_start(300); /* about 40 s when idle; scaled by MU_TEST_SCALE */
    signal(SIGPIPE, SIG_IGN);
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_files"))
        return false;
    snprintf(root, sizeof root, "%s/root", tmpdir);
    snprintf(local_dir, sizeof local_dir, "%s/local", tmpdir);
    if (mkdir(root, 0755) < 0 || mkdir(local_dir, 0755) < 0 || sodium_init() < 0)
        return false;
    /* Fork the manager before this process touches ZeroMQ. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return false;
    manager_pid = fork();
    if (manager_pid == 0) {
        close(sv[0]);
        manager_main(sv[1]);
    }
    close(sv[1]);
    manager_fd = sv[0];
    zsys_handler_set(NULL);
    return true;
}

void
files_suite_end(void)
{
    cmd_t quit = { .op = OP_QUIT };
    if (write(manager_fd, &quit, sizeof quit) == (ssize_t) sizeof quit)
        waitpid(manager_pid, NULL, 0);
    zsys_shutdown();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
}
