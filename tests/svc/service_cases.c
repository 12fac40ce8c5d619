/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  service_cases.c — see service_cases.h. */
#include "service_cases.h"

static pthread_mutex_t events_mutex = PTHREAD_MUTEX_INITIALIZER;

char events[1024];

void
event(const char *what, const char *name)
{
    if (!strcmp(what, "start"))
        return;
    pthread_mutex_lock(&events_mutex);
    size_t len = strlen(events);
    snprintf(events + len, sizeof events - len, "%s%s:%s", len ? " " : "", what, name);
    pthread_mutex_unlock(&events_mutex);
}

void
events_reset(void)
{
    pthread_mutex_lock(&events_mutex);
    events[0] = 0;
    pthread_mutex_unlock(&events_mutex);
}

mu_test_counter_t s_starts; /* fake start() calls since make_entrypoint */

static void *
fake_thread(void *arg)
{
    fake_t *f = arg;
    if (f->wait_starts > 0 && !mu_test_counter_wait(&s_starts, f->wait_starts, 5000)) {
        mu_service_fail(f->svc, MU_ETIMEDOUT, "the other services never started");
        return NULL;
    }
    mu_test_sleep_ms(f->ready_after_ms); /* a slow start, simulated: not a wait */
    if (f->fail_code) {
        mu_service_fail(f->svc, f->fail_code, "disk gone");
        return NULL;
    }
    mu_service_ready(f->svc);
    if (f->fail_gate) {
        mu_test_wait_byte(*f->fail_gate, 10000);
        mu_service_fail(f->svc, MU_EIO, "lost the database");
    }
    return NULL;
}

static bool
fake_needs_thread(const fake_t *f)
{
    return f->ready_after_ms != 0 || f->fail_code || f->fail_gate || f->wait_starts;
}

static int
fake_start(void *arg, mu_service_t *svc)
{
    fake_t *f = arg;
    event("start", f->name);
    mu_test_counter_add(&s_starts);
    if (f->start_rc)
        return f->start_rc;
    f->svc = svc;
    if (!fake_needs_thread(f)) {
        mu_service_ready(svc);
        return 0;
    }
    if (f->ready_after_ms < 0)
        return 0;
    f->has_thread = pthread_create(&f->thread, NULL, fake_thread, f) == 0;
    return f->has_thread ? 0 : MU_ENOMEM;
}

static int
fake_stop(void *arg, mu_service_t *svc, int timeout_ms)
{
    fake_t *f = arg;
    (void) svc;
    event("stop", f->name);
    f->stop_timeout_seen = timeout_ms;
    if (f->has_thread)
        pthread_join(f->thread, NULL);
    f->has_thread = false;
    if (f->stop_gate)
        mu_test_wait_byte(*f->stop_gate, 10000);
    atomic_store(&f->stop_done, true);
    return f->stop_rc;
}

const mu_service_ops_t fake_ops = { fake_start, fake_stop };

int s_ready_fd = -1; /* post_start writes 'R' here when >= 0 */

int s_hook_rc[4]; /* what each hook returns */

int
log_hook(void *arg, mu_entrypoint_t *ep)
{
    (void) ep;
    const char *name = arg;
    event("hook", name);
    if (!strcmp(name, "post_start") && s_ready_fd >= 0 && write(s_ready_fd, "R", 1) != 1)
        return MU_EIO;
    if (!strcmp(name, "pre_start"))
        return s_hook_rc[MU_HOOK_PRE_START];
    if (!strcmp(name, "post_start"))
        return s_hook_rc[MU_HOOK_POST_START];
    return 0;
}

int
stop_hook(void *arg, mu_entrypoint_t *ep)
{
    (void) arg;
    event("hook", "post_start");
    mu_entrypoint_stop(ep);
    return 0;
}

mu_entrypoint_t *
make_entrypoint(fake_t *fakes, size_t n, bool stop_when_ready)
{
    events_reset();
    mu_test_counter_set(&s_starts, 0);
    memset(s_hook_rc, 0, sizeof s_hook_rc);
    mu_entrypoint_t *ep = mu_entrypoint_new();
    if (!ep)
        return NULL;
    if (mu_entrypoint_set_logging(ep, "test_service", MU_LOG_QUIET) != 0)
        mu_entrypoint_destroy(&ep);
    for (size_t i = 0; ep && i < n; i++)
        if (!mu_entrypoint_add(ep, fakes[i].name, &fake_ops, &fakes[i]))
            mu_entrypoint_destroy(&ep);
    if (ep) {
        mu_entrypoint_set_hook(ep, MU_HOOK_PRE_START, log_hook, "pre_start");
        mu_entrypoint_set_hook(ep, MU_HOOK_POST_START, stop_when_ready ? stop_hook : log_hook,
                               "post_start");
        mu_entrypoint_set_hook(ep, MU_HOOK_PRE_STOP, log_hook, "pre_stop");
        mu_entrypoint_set_hook(ep, MU_HOOK_POST_STOP, log_hook, "post_stop");
    }
    return ep;
}

int
noop_stop(void *arg, mu_service_t *svc, int timeout_ms)
{
    (void) svc, (void) arg, (void) timeout_ms;
    return 0;
}

static int
blocker_start(void *arg, mu_service_t *svc)
{
    blocker_t *b = arg;
    mu_test_counter_add(b->in);
    if (b->after && !mu_test_counter_wait(b->after, b->after_n, 10000))
        return MU_ETIMEDOUT; /* the test then fails: nothing announced */
    if (b->announce_fd > 0)
        mu_test_signal_byte(b->announce_fd, 'R');
    struct pollfd items[2] = { { .fd = b->gate, .events = POLLIN },
                               { .fd = mu_service_stop_fd(svc), .events = POLLIN } };
    /*  A signal may be handled on this thread (EINTR): a start() that
        hangs (block_ms -1) goes on hanging; one with a limit returns
        early, the test only counts. */
    while (poll(items, b->watch_stop ? 2 : 1, b->block_ms) < 0 && b->block_ms < 0) {
    }
    mu_test_counter_add(b->out);
    return 0;
}

const mu_service_ops_t blocker_ops = { blocker_start, NULL };
