/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  keys_cases.c — see keys_cases.h. */
#include "keys_cases.h"

char tmpdir[64];

const char *
tmp_path(const char *name)
{
    static char paths[4][256];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", tmpdir, name);
    return p;
}

int
write_text(const char *path, const char *text, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, size);
    int rc = fchmod(fd, 0600);
    return close(fd) == 0 && rc == 0 && n == (ssize_t) size ? 0 : -1;
}

int
write_str(const char *path, const char *text)
{
    return write_text(path, text, strlen(text));
}

int
without_root(int (*fn)(const char *), const char *path)
{
    if (geteuid() != 0)
        return fn(path);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(255);
        _exit(fn(path) & 0xff);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

zsock_t *
make_server(const mu_keys_t *keys, const mu__zap_domain_t *domain, int *port_p)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    if (router == NULL)
        return NULL;
    zsock_set_linger(router, 0);
    if (mu__zap_setup_server(zsock_resolve(router), keys, domain) != 0
        || (*port_p = zsock_bind(router, "tcp://127.0.0.1:*")) <= 0)
        zsock_destroy(&router);
    return router;
}

zsock_t *
make_client(const mu_keys_t *keys, const uint8_t *server_public, int port)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    if (dealer == NULL)
        return NULL;
    zsock_set_linger(dealer, 0);
    if ((keys && mu__zap_setup_client(zsock_resolve(dealer), keys, server_public) != 0)
        || zsock_connect(dealer, "tcp://127.0.0.1:%d", port) != 0
        || zstr_send(dealer, "hello") != 0)
        zsock_destroy(&dealer);
    return dealer;
}

int
receive_hello(zsock_t *router, int timeout_ms, char *user_id, size_t cap)
{
    zmq_pollitem_t item = { zsock_resolve(router), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, mu_test_ms(timeout_ms)) <= 0)
        return 0;
    zframe_t *identity = zframe_recv(router);
    zframe_t *payload = identity ? zframe_recv(router) : NULL;
    int ok = payload && zframe_streq(payload, "hello");
    const char *meta = payload ? zframe_meta(payload, "User-Id") : NULL;
    snprintf(user_id, cap, "%s", meta ? meta : "(none)");
    zframe_destroy(&identity);
    zframe_destroy(&payload);
    return ok;
}

bool
keys_suite_begin(void)
{
    mu_test_start(120);
    zsys_handler_set(NULL);
    /* 0755 so that the "nobody" children of without_root reach the files
       (the secret files themselves stay 0600). */
    if (!mu_test_scratch_dir(tmpdir, sizeof tmpdir, "test_keys") || chmod(tmpdir, 0755) != 0) {
        printf("Bail out! mkdtemp\n");
        return false;
    }
    return true;
}

void
keys_suite_end(void)
{
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", tmpdir);
    if (system(command) != 0)
        printf("# could not remove %s\n", tmpdir);
}
