/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws_lws.c — the WebSocket endpoint's libwebsockets context: its
    settings (listen address, TLS, keepalive, limits), the service thread
    that runs lws_service, the owner's wake-up (lws_cancel_service, at most
    one in flight) and the quiet, rate-limited logging of lws. */
#include "base/mu_internal.h"
#include "base/mu_log_limit.h"
#include "net/mu_ws_int.h"
#include "mu_log.h"
#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- logging ------------------------------------------------------------ */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static mu__log_limit_t log_limit;

/*  lws's errors and warnings, at most one line a second (a peer can make
    lws warn: a refused handshake logs "User code denied connection"). */
static void
log_line(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    uint64_t before = 0;
    pthread_mutex_lock(&log_lock);
    bool admit = mu__log_limit_admit(&log_limit, mu__now_ms(), &before);
    pthread_mutex_unlock(&log_lock);
    if (!admit)
        return;
    if (before > 0)
        mu_log(MU_LOG_WARNING, "net", "libwebsockets: (%llu more lines not logged)",
               (unsigned long long) before);
    if (level & LLL_ERR)
        mu_log(MU_LOG_ERROR, "net", "libwebsockets: %.*s", (int) n, line);
    else
        mu_log(MU_LOG_WARNING, "net", "libwebsockets: %.*s", (int) n, line);
}

static void
log_setup(void)
{
    /* Process-wide in lws: every endpoint sets the same. */
    lws_set_log_level(LLL_ERR | LLL_WARN, log_line);
}

/* ---- the context -------------------------------------------------------- */

/*  The address to listen on as lws needs it: a numeric address (lws reads
    an IPv4 literal wrongly while IPv6 is on, so that case turns it off;
    names are resolved here). Returns 0 or MU_EINVAL. */
static int
listen_address(const char *host, char *numeric, size_t size, bool *ipv4_p)
{
    struct in_addr a4;
    struct in6_addr a6;
    *ipv4_p = inet_pton(AF_INET, host, &a4) == 1;
    if (*ipv4_p || inet_pton(AF_INET6, host, &a6) == 1) {
        snprintf(numeric, size, "%s", host);
        return 0;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_INET }, *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res)
        return mu__fail(MU_EINVAL, "WebSocket listen address '%s': %s", host, gai_strerror(rc));
    inet_ntop(AF_INET, &((struct sockaddr_in *) res->ai_addr)->sin_addr, numeric, (socklen_t) size);
    freeaddrinfo(res);
    *ipv4_p = true;
    return 0;
}

/*  Why lws refused the listening vhost (the port is bound already): the
    TLS files when given (EINVAL), else EIO. */
static int
listen_failure(const mu__ws_t *self)
{
    const mu__ws_config_t *config = &self->config;
    if (config->cert_file)
        return mu__fail(MU_EINVAL,
                        "WebSocket listen on %s:%d: libwebsockets refused certificate '%s' or key "
                        "'%s' (see its log)",
                        config->host, config->port, config->cert_file, config->key_file);
    return mu__fail(MU_EIO, "WebSocket listen on %s:%d: libwebsockets refused the context",
                    config->host, config->port);
}

static void
keepalive_policy(mu__ws_t *self)
{
    const mu__ws_config_t *config = &self->config;
    self->retry = (lws_retry_bo_t) { 0 };
    self->hangup_ms = 0;
    if (config->ping_interval_ms < 0)
        return; /* secs_since_valid_hangup 0: no validity checks */
    /* lws counts in whole seconds: round both up. */
    int ping = (config->ping_interval_ms + 999) / 1000;
    int hangup = ping + (config->ping_timeout_ms + 999) / 1000;
    self->retry.secs_since_valid_ping = (uint16_t) ping;
    self->retry.secs_since_valid_hangup = (uint16_t) hangup;
    self->hangup_ms = hangup * 1000;
}

/*  lws 4.1.6 takes new OpenSSL ex_data indices at every context made with
    LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT, and finds a vhost's client
    SSL_CTX (to free it) and a connection's wsi (in the verify callback)
    through the latest ones: every TLS context but the newest would leak
    its client SSL_CTX, and a handshake racing a new context would lose
    its wsi. So the global init happens once, in a throwaway context, and
    the endpoints' contexts ask for TLS on their vhost only. */
static void
ssl_global_init(void)
{
    struct lws_context_creation_info info = {
        .port = CONTEXT_PORT_NO_LISTEN,
        .gid = -1,
        .uid = -1,
        .fd_limit_per_thread = 16,
        .options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS,
    };
    struct lws_context *context = lws_create_context(&info);
    if (context)
        lws_context_destroy(context);
    else
        mu_log(MU_LOG_ERROR, "net", "mu_ws: libwebsockets' TLS initialisation failed");
}

static void
context_setup(void)
{
    log_setup();
    ssl_global_init();
}

/*  The vhost's settings (the context's are minimal, see above). A
    listening vhost serves connections accepted from our own listening
    socket (mu_ws_listen.c), so lws listens on nothing. */
static void
vhost_info(mu__ws_t *self, struct lws_context_creation_info *info)
{
    const mu__ws_config_t *config = &self->config;
    *info = (struct lws_context_creation_info) {
        .protocols = self->protocols,
        .user = self,
        .options = LWS_SERVER_OPTION_VALIDATE_UTF8,
        .retry_and_idle_policy = &self->retry,
        .alpn = "http/1.1",
        .port = CONTEXT_PORT_NO_LISTEN,
    };
    if (config->tls || config->cert_file)
        info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    if (config->listen) {
        info->port = CONTEXT_PORT_NO_LISTEN_SERVER;
        /* it makes no TLS connections: no system CAs in its client SSL_CTX */
        info->options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
        info->ssl_cert_filepath = config->cert_file;
        info->ssl_private_key_filepath = config->key_file;
    } else {
        info->client_ssl_ca_filepath = config->ca_file;
        if (config->ca_file) /* that file alone, not the system's CAs too */
            info->options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    }
}

int
mu__ws_context_new(mu__ws_t *self)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, context_setup);
    const mu__ws_config_t *config = &self->config;
    keepalive_policy(self);
    self->protocols[0] = (struct lws_protocols) {
        .name = "mutil",
        .callback = mu__ws_callback,
        .per_session_data_size = sizeof(mu__ws_session_t),
        .tx_packet_size = MU__WS_TX_PACKET,
    };
    char numeric[INET6_ADDRSTRLEN + 1] = "";
    bool ipv4 = true;
    if (config->listen) {
        if (listen_address(config->host, numeric, sizeof numeric, &ipv4) < 0)
            return MU_EINVAL;
        int rc = mu__ws_listen_open(self, numeric, ipv4);
        if (rc < 0)
            return rc;
    }
    struct lws_context_creation_info info = {
        .user = self,
        .gid = -1,
        .uid = -1,
        .port = CONTEXT_PORT_NO_LISTEN,
        /* lws would send Origin: http://<origin>; lws 4.1.6 reads
           VALIDATE_UTF8 from the context's options, not the vhost's */
        .options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN
                   | LWS_SERVER_OPTION_VALIDATE_UTF8,
    };
    /* One connection: a small fd table (lws sizes it by ulimit -n). */
    if (!config->listen)
        info.fd_limit_per_thread = 16;
    self->context = lws_create_context(&info);
    if (!self->context)
        return mu__fail(MU_EIO, "WebSocket endpoint: libwebsockets refused the context");
    vhost_info(self, &info);
    self->vhost = lws_create_vhost(self->context, &info);
    if (!self->vhost)
        return config->listen ? listen_failure(self)
                              : mu__fail(MU_EIO,
                                         "WebSocket client of %s:%d: libwebsockets "
                                         "refused the settings (CA file '%s'?)",
                                         config->host, config->port,
                                         config->ca_file ? config->ca_file : "(system)");
    if (config->listen) {
        int rc = mu__ws_listen_adopt(self);
        if (rc < 0)
            return rc;
    } else {
        self->port = config->port;
        /* The first attempt, on the service thread once it runs. */
        lws_sul_schedule(self->context, 0, &self->reconnect, mu__ws_connect_now, 1);
    }
    return 0;
}

/* ---- the service thread ------------------------------------------------- */

static void *
service_main(void *arg)
{
    mu__ws_t *self = arg;
    while (!atomic_load(&self->stop))
        if (lws_service(self->context, 0) < 0) {
            mu_log(MU_LOG_ERROR, "net",
                   "mu_ws: lws_service failed: the endpoint on port %d stops serving", self->port);
            break;
        }
    return NULL;
}

int
mu__ws_thread_start(mu__ws_t *self)
{
    int rc = pthread_create(&self->thread, NULL, service_main, self);
    if (rc != 0)
        return mu__fail(-rc, "WebSocket endpoint: service thread");
    self->thread_started = true;
    return 0;
}

void
mu__ws_wake(mu__ws_t *self)
{
    if (!atomic_exchange(&self->wake_pending, true))
        lws_cancel_service(self->context);
}

void
mu__ws_context_stop(mu__ws_t *self)
{
    if (!self->context)
        return;
    atomic_store(&self->stop, true);
    if (self->thread_started) {
        lws_cancel_service(self->context);
        pthread_join(self->thread, NULL);
        self->thread_started = false;
    }
    /* The thread is gone: the callbacks lws makes while closing the
       clients run here. */
    lws_context_destroy(self->context);
    self->context = NULL;
}
