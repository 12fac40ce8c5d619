/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws_listen.c — a listening WebSocket endpoint's own listening socket:
    bound and listening before libwebsockets' context exists, handed to lws
    as a raw descriptor so that its service thread polls it, and accepted
    from here. lws's own listener retries a failed accept at once, so a
    process out of descriptors spun a core on a readable listener; here the
    listener rests instead (doc/ws.md, "Out of descriptors"). */
#include "base/mu_internal.h"
#include "base/mu_accept.h"
#include "net/mu_ws_int.h"
#include "mu_log.h"
#include <czmq.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*  Connections taken per readable callback: the others wait for the next
    round, so that a flood of connections does not hold up the clients. */
#define ACCEPTS_PER_ROUND 64

/*  The address to bind: numeric (an IPv4 literal when ipv4) and port. */
static socklen_t
bind_address(struct sockaddr_storage *ss, const char *numeric, bool ipv4, int port)
{
    memset(ss, 0, sizeof *ss);
    if (ipv4) {
        struct sockaddr_in *sin = (struct sockaddr_in *) ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t) port);
        inet_pton(AF_INET, numeric, &sin->sin_addr);
        return sizeof *sin;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t) port);
    inet_pton(AF_INET6, numeric, &sin6->sin6_addr);
    return sizeof *sin6;
}

/*  The port fd is bound to, or -1. */
static int
bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *) &ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *) &ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
}

int
mu__ws_listen_open(mu__ws_t *self, const char *numeric, bool ipv4)
{
    const mu__ws_config_t *config = &self->config;
    struct sockaddr_storage ss;
    socklen_t len = bind_address(&ss, numeric, ipv4, config->port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return mu__fail(MU_EIO, "WebSocket listen on %s:%d: socket: %s", config->host, config->port,
                        strerror(errno));
    int one = 1;
    /* SO_REUSEADDR: a restarted flow edge binds the port its supervisor
       keeps bound (doc/flow.md, "Ports"), as lws's listener did. */
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *) &ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        return mu__fail(err == EADDRINUSE ? MU_EADDRINUSE : MU_EIO, "WebSocket listen on %s:%d: %s",
                        config->host, config->port, strerror(err));
    }
    self->listen_fd = fd;
    self->port = bound_port(fd);
    return 0;
}

int
mu__ws_listen_adopt(mu__ws_t *self)
{
    lws_sock_file_fd_type desc = { .filefd = self->listen_fd };
    self->listener = lws_adopt_descriptor_vhost(self->vhost, LWS_ADOPT_RAW_FILE_DESC, desc,
                                                self->protocols[0].name, NULL);
    if (!self->listener)
        return mu__fail(MU_EIO, "WebSocket listen on %s:%d: libwebsockets refused the listener",
                        self->config.host, self->port);
    self->listen_fd = -1; /* lws's now: it closes it with the context */
    return 0;
}

/*  The pause is over: poll the listener again. */
static void
resume_accepting(lws_sorted_usec_list_t *sul)
{
    mu__ws_t *self = lws_container_of(sul, mu__ws_t, accept_pause);
    if (self->listener)
        lws_rx_flow_control(self->listener, 1);
}

/*  accept4 failed with err (mu__accept_out_of_resources): the listener
    rests for MU__ACCEPT_PAUSE_MS (the waiting connections stay in the
    kernel's backlog). The first failure of a burst (failures with no accept
    between them) is counted in accept_failures and logged, at most a line
    a second, with the process's open-file limit. */
static void
pause_accepting(mu__ws_t *self, int err)
{
    lws_rx_flow_control(self->listener, 0);
    lws_sul_schedule(self->context, 0, &self->accept_pause, resume_accepting,
                     (lws_usec_t) MU__ACCEPT_PAUSE_MS * LWS_US_PER_MS);
    if (self->accept_starved)
        return;
    self->accept_starved = true;
    pthread_mutex_lock(&self->lock);
    self->stats.accept_failures++;
    pthread_mutex_unlock(&self->lock);
    uint64_t before = 0;
    if (!mu__log_limit_admit(&self->accept_log, mu__now_ms(), &before))
        return;
    char text[256];
    mu__accept_warning(text, sizeof text, err, before);
    mu_log(MU_LOG_WARNING, "net", "mu_ws: port %d %s", self->port, text);
}

int
mu__ws_listen_accept(mu__ws_t *self)
{
    int lfd = lws_get_socket_fd(self->listener);
    for (int n = 0; n < ACCEPTS_PER_ROUND; n++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (mu__accept_out_of_resources(errno))
                pause_accepting(self, errno);
            return 0; /* EAGAIN, or an aborted connection: this round is over */
        }
        self->accept_starved = false;
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* lws serves it from here (HTTP, the upgrade, TLS when the vhost
           has it); on failure it has closed fd. */
        if (!lws_adopt_socket_vhost(self->vhost, fd))
            mu_log(MU_LOG_DEBUG, "net", "mu_ws: port %d: libwebsockets refused a connection",
                   self->port);
    }
    return 0;
}
