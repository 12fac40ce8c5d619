/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws_connect.c — a connecting WebSocket endpoint's connection attempts:
    one now (lws_client_connect_via_info), and the next one reconnect_ms
    after a failure or a loss (an lws timer, so on the service thread). */
#include "base/mu_internal.h"
#include "net/mu_ws_int.h"
#include <czmq.h>

void
mu__ws_connect_now(lws_sorted_usec_list_t *sul)
{
    mu__ws_t *self = lws_container_of(sul, mu__ws_t, reconnect);
    if (atomic_load(&self->stop))
        return;
    const mu__ws_config_t *config = &self->config;
    int flags = 0;
    if (config->tls) {
        flags |= LCCSCF_USE_SSL;
        if (config->tls_insecure)
            flags |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
                     | LCCSCF_ALLOW_EXPIRED;
    }
    struct lws_client_connect_info info = {
        .context = self->context,
        .vhost = self->vhost,
        .address = config->host,
        .port = config->port,
        .ssl_connection = flags,
        .path = config->path,
        .host = config->host,
        .origin = config->origin,
        .ietf_version_or_minus_one = -1,
        .local_protocol_name = self->protocols[0].name,
        .retry_and_idle_policy = &self->retry,
    };
    /* On failure lws has reported CLIENT_CONNECTION_ERROR, or not: schedule
       the next attempt either way (scheduling again only moves it). */
    if (!lws_client_connect_via_info(&info))
        mu__ws_reconnect_later(self);
}

void
mu__ws_reconnect_later(mu__ws_t *self)
{
    if (atomic_load(&self->stop))
        return;
    lws_sul_schedule(self->context, 0, &self->reconnect, mu__ws_connect_now,
                     (lws_usec_t) self->config.reconnect_ms * LWS_US_PER_MS);
}
