/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_zsocket.c — libzmq sockets on czmq's context, opened without the
    abort of zsock_new (net/mu_zsocket.h). */
#include "net/mu_zsocket.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
mu__zsocket_refusal(const char *what)
{
    int err = zmq_errno();
    if (err == EMFILE)
        return mu__fail(-EMFILE,
                        "%s: libzmq refused a socket: too many sockets (ZMQ_MAX_SOCKETS %d) or "
                        "open files",
                        what, zmq_ctx_get(zsys_init(), ZMQ_MAX_SOCKETS));
    return mu__fail(err == ENOMEM ? MU_ENOMEM : MU_EIO, "%s: libzmq refused a socket: %s", what,
                    zmq_strerror(err));
}

int
mu__zsocket_attach_code(int err)
{
    return err == EADDRINUSE ? MU_EADDRINUSE : err == EMFILE || err == ENFILE ? -EMFILE : MU_EINVAL;
}

const char *
mu__zsocket_why(int rc)
{
    static _Thread_local char why[300];
    snprintf(why, sizeof why, "%s%s", rc == -EMFILE ? ": " : "",
             rc == -EMFILE ? mu__last_detail() : "");
    return why;
}

void *
mu__zsocket_open_at(int type, const char *what, const char *file, size_t line)
{
    void *handle = zsys_socket(type, file, line);
    if (handle)
        return handle;
    errno = mu_error_errno(mu__zsocket_refusal(what));
    return NULL;
}

int
mu__zsocket_bind(void *handle, const char *endpoint)
{
    if (strncmp(endpoint, "tcp://", 6) == 0 && !mu__fd_room()) {
        errno = EMFILE;
        return -1;
    }
    return zmq_bind(handle, endpoint);
}

int
mu__zsocket_fd(void *handle)
{
    int fd = -1;
    size_t size = sizeof fd;
    return zmq_getsockopt(handle, ZMQ_FD, &fd, &size) == 0 ? fd : -1;
}

void
mu__zsocket_close(void **handle_p)
{
    if (*handle_p) {
        zsys_close(*handle_p, NULL, 0);
        *handle_p = NULL;
    }
}

int
mu__zsocket_attach(void *handle, const char *list, bool serverish)
{
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        bool bind = *p == '@' ? true : *p == '>' ? false : serverish;
        size_t skip = *p == '@' || *p == '>';
        char *one = strndup(p + skip, len - skip);
        if (one == NULL) {
            errno = ENOMEM;
            return -1;
        }
        int rc = bind ? mu__zsocket_bind(handle, one) : zmq_connect(handle, one);
        free(one);
        if (rc != 0)
            return -1;
        p += len;
        if (*p == '\0')
            return 0;
        p++;
    }
}

int
mu__zsocket_pair(void **bound_p, void **connected_p, const char *what)
{
    static uint64_t serial; /* inproc names are never reused */
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://mu-pair-%d-%llu", (int) getpid(),
             (unsigned long long) __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
    *bound_p = mu__zsocket_open(ZMQ_PAIR, what);
    *connected_p = *bound_p ? mu__zsocket_open(ZMQ_PAIR, what) : NULL;
    if (*connected_p && zmq_bind(*bound_p, endpoint) == 0
        && zmq_connect(*connected_p, endpoint) == 0)
        return 0;
    int rc = *connected_p ? mu__fail(MU_EIO, "%s: control pipe %s: %s", what, endpoint,
                                     zmq_strerror(zmq_errno()))
                          : mu_last_code();
    mu__zsocket_close(connected_p);
    mu__zsocket_close(bound_p);
    return rc;
}
