/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_hosts.c — the multi-host part of a flow definition: hosts,
    which host this process is, placement of runners on hosts, heartbeat
    and stage-deadline settings, per-host CURVE keys, and their checks at
    start. The contract is in include/mu_flow.h; design in doc/flow.md. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_hosts.h"

#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

void
mu__flow_hosts_init(mu_flow_t *self)
{
    self->self_host = -1;
    self->hb_interval_ms = 1000;
    self->hb_timeout_ms = 3000;
    self->stage_deadline_ms = 30000;
    self->stage_deadline_fail = true;
}

void
mu__flow_hosts_free(mu_flow_t *self)
{
    if (self->hosts)
        explicit_bzero(self->hosts, MU__FLOW_MAX_HOSTS * sizeof *self->hosts);
    free(self->hosts);
    self->hosts = NULL;
}

static int
find_host(const mu_flow_t *self, const char *name)
{
    for (int h = 0; h < self->nhosts; h++)
        if (strcmp(self->hosts[h].name, name) == 0)
            return h;
    return -1;
}

static int
find_stage(const mu_flow_t *self, const char *name)
{
    for (int s = 0; s < self->nstages; s++)
        if (strcmp(self->stages[s].name, name) == 0)
            return s;
    return -1;
}

static bool
text_ok(const char *text, size_t cap)
{
    return text[0] != '\0' && strlen(text) < cap;
}

int
mu_flow_add_host(mu_flow_t *self, const char *name, const char *address, int base_port)
{
    assert(self);
    assert(name);
    assert(address);
    if (self->started || !text_ok(name, sizeof self->hosts->name)
        || !text_ok(address, sizeof self->hosts->address) || base_port < 1 || base_port > 65535)
        return mu__fail(MU_EINVAL,
                        "flow '%s': host '%s': name or address empty or over 63 bytes, port "
                        "%d out of 1..65535, or started",
                        self->name, name, base_port);
    if (self->hosts && find_host(self, name) >= 0)
        return mu__fail(MU_EINVAL, "flow '%s': host '%s' added twice", self->name, name);
    if (self->nhosts == MU__FLOW_MAX_HOSTS)
        return mu__fail(MU_EINVAL, "flow '%s': more than %d hosts", self->name, MU__FLOW_MAX_HOSTS);
    if (!self->hosts) {
        self->hosts = calloc(MU__FLOW_MAX_HOSTS, sizeof *self->hosts);
        if (!self->hosts)
            return mu__fail(MU_ENOMEM, "flow '%s': out of memory", self->name);
    }
    mu__host_t *h = &self->hosts[self->nhosts++];
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    snprintf(h->address, sizeof h->address, "%s", address);
    h->base_port = base_port;
    return 0;
}

int
mu_flow_set_self(mu_flow_t *self, const char *host)
{
    assert(self);
    assert(host);
    int h = self->hosts ? find_host(self, host) : -1;
    if (h < 0 || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': no host '%s', or started", self->name, host);
    self->self_host = h;
    return 0;
}

int
mu_flow_set_runners_on(mu_flow_t *self, const char *stage, const char *host, int runners)
{
    assert(self);
    assert(stage);
    assert(host);
    int s = find_stage(self, stage);
    int h = self->hosts ? find_host(self, host) : -1;
    if (s < 0 || h < 0 || self->started || runners < 0 || runners > MU__FLOW_MAX_RUNNERS)
        return mu__fail(MU_EINVAL, "flow '%s': no stage '%s' or host '%s', %d runners, or started",
                        self->name, stage, host, runners);
    mu__stage_t *st = &self->stages[s];
    if ((st->kind == MU__ST_EDGE || st->kind == MU__ST_FD_SOURCE) && runners != 0
        && runners != st->n)
        return mu__fail(MU_EINVAL,
                        "flow '%s': stage '%s' (edge or fd source) cannot be spread: %d "
                        "runners on '%s', it has %d",
                        self->name, stage, runners, host, st->n);
    if (!st->on_host) {
        st->on_host = calloc(MU__FLOW_MAX_HOSTS, sizeof *st->on_host);
        if (!st->on_host)
            return mu__fail(MU_ENOMEM, "flow '%s': out of memory", self->name);
    }
    st->on_host[h] = runners;
    return 0;
}

int
mu_flow_set_heartbeat(mu_flow_t *self, int interval_ms, int timeout_ms)
{
    assert(self);
    if (self->started || interval_ms < 10 || interval_ms > 60000 || timeout_ms <= interval_ms
        || timeout_ms > 3600000)
        return mu__fail(MU_EINVAL,
                        "flow '%s': heartbeat every %d ms, timeout %d ms (10..60000, "
                        "interval < timeout <= 3600000), or started",
                        self->name, interval_ms, timeout_ms);
    self->hb_interval_ms = interval_ms;
    self->hb_timeout_ms = timeout_ms;
    return 0;
}

int
mu_flow_set_stage_deadline(mu_flow_t *self, int deadline_ms, bool fail)
{
    assert(self);
    if (self->started || deadline_ms < 1)
        return mu__fail(MU_EINVAL, "flow '%s': stage deadline %d ms (>= 1), or started", self->name,
                        deadline_ms);
    self->stage_deadline_ms = deadline_ms;
    self->stage_deadline_fail = fail;
    return 0;
}

int
mu_flow_set_host_keys(mu_flow_t *self, const char *host, const mu_keys_t *keys)
{
    assert(self);
    assert(host);
    assert(keys);
    int h = self->hosts ? find_host(self, host) : -1;
    if (h < 0 || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': no host '%s', or started", self->name, host);
    mu__host_t *ho = &self->hosts[h];
    memcpy(ho->pub, mu_keys_public(keys), 32);
    const uint8_t *sec = mu_keys_secret(keys);
    ho->has_secret = sec != NULL;
    if (sec)
        memcpy(ho->sec, sec, 32);
    else
        explicit_bzero(ho->sec, sizeof ho->sec);
    ho->has_key = true;
    return 0;
}

/* ---- placement and checks --------------------------------------------------- */

int
mu__flow_runners_on(const mu_flow_t *self, int s, int h)
{
    const mu__stage_t *st = &self->stages[s];
    if (st->on_host)
        return st->on_host[h];
    return h == 0 ? st->n : 0;
}

static int
check_keys(const mu_flow_t *self)
{
    int with_key = 0;
    for (int h = 0; h < self->nhosts; h++)
        with_key += self->hosts[h].has_key;
    if (with_key == 0)
        return 0;
    if (self->curve)
        return mu__fail(MU_EINVAL, "flow '%s': both per-host keys and mu_flow_set_curve",
                        self->name);
    for (int h = 0; h < self->nhosts; h++)
        if (!self->hosts[h].has_key)
            return mu__fail(MU_EINVAL, "flow '%s': host '%s' has no key (every host needs one)",
                            self->name, self->hosts[h].name);
    if (!self->hosts[self->self_host].has_secret)
        return mu__fail(MU_EINVAL, "flow '%s': this host '%s' has no secret key", self->name,
                        self->hosts[self->self_host].name);
    return 0;
}

static int
check_ports(const mu_flow_t *self)
{
    for (int h = 0; h < self->nhosts; h++) {
        int ports = 0;
        for (int s = 0; s < self->nstages; s++)
            ports += mu__flow_runners_on(self, s, h);
        if (self->hosts[h].base_port + ports - 1 > 65535)
            return mu__fail(MU_EINVAL, "flow '%s': host '%s' needs ports %d..%d (over 65535)",
                            self->name, self->hosts[h].name, self->hosts[h].base_port,
                            self->hosts[h].base_port + ports - 1);
    }
    return 0;
}

int
mu__flow_hosts_check(const mu_flow_t *self)
{
    const char *fn = self->name;
    if (self->nhosts == 0) {
        for (int s = 0; s < self->nstages; s++)
            if (self->stages[s].on_host)
                return mu__fail(MU_EINVAL, "flow '%s': runners placed on hosts, but no host", fn);
        return 0;
    }
    if (self->self_host < 0)
        return mu__fail(MU_EINVAL, "flow '%s': hosts added but mu_flow_set_self not called", fn);
    if (self->pinned)
        return mu__fail(MU_EINVAL,
                        "flow '%s': hosts do not mix with mu_flow_set_local or "
                        "mu_flow_set_endpoint",
                        fn);
    for (int s = 0; s < self->nstages; s++) {
        const mu__stage_t *st = &self->stages[s];
        int total = 0, placed = 0;
        for (int h = 0; h < self->nhosts; h++) {
            total += mu__flow_runners_on(self, s, h);
            placed += mu__flow_runners_on(self, s, h) > 0;
        }
        if (total < 1 || total > MU__FLOW_MAX_RUNNERS)
            return mu__fail(MU_EINVAL,
                            "flow '%s': stage '%s' has %d runners over the hosts (1..%d)", fn,
                            st->name, total, MU__FLOW_MAX_RUNNERS);
        if ((st->kind == MU__ST_EDGE || st->kind == MU__ST_FD_SOURCE) && placed != 1)
            return mu__fail(MU_EINVAL, "flow '%s': stage '%s' (edge or fd source) on %d hosts", fn,
                            st->name, placed);
    }
    int mine = 0;
    for (int s = 0; s < self->nstages; s++)
        mine += mu__flow_runners_on(self, s, self->self_host);
    if (mine == 0)
        return mu__fail(MU_EINVAL, "flow '%s': this host '%s' runs no runner", fn,
                        self->hosts[self->self_host].name);
    int rc = check_ports(self);
    if (rc == 0)
        rc = check_keys(self);
    return rc;
}

int
mu__flow_port_of(const mu_flow_t *self, int s, int h, int k)
{
    int port = self->hosts[h].base_port;
    for (int p = 0; p < s; p++)
        port += self->stages[p].on_host[h];
    return port + k;
}

int
mu__flow_hosts_localize(mu_flow_t *self)
{
    if (self->nhosts == 0)
        return 0;
    int me = self->self_host;
    for (int s = 0; s < self->nstages; s++) {
        mu__stage_t *st = &self->stages[s];
        if (!st->on_host) {
            st->on_host = calloc(MU__FLOW_MAX_HOSTS, sizeof *st->on_host);
            if (!st->on_host)
                return mu__fail(MU_ENOMEM, "flow '%s': out of memory", self->name);
            st->on_host[0] = st->n;
        }
        st->gn = 0;
        st->gfirst = 0;
        for (int h = 0; h < self->nhosts; h++) {
            if (h == me)
                st->gfirst = st->gn;
            st->gn += st->on_host[h];
        }
        if (st->on_host[me] == 0 && st->fds)
            for (int i = 0; i < st->n; i++)
                if (st->fds[i] >= 0) {
                    close(st->fds[i]);
                    st->fds[i] = -1;
                }
        st->n = st->on_host[me];
        st->remote = st->n == 0;
    }
    return 0;
}
