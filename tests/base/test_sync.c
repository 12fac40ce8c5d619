/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_sync.c — base/mu_sync.h (white-box): the ring queue (push, pop,
    wrap-around, full, resize), condition waits on the monotonic clock, the
    level-triggered fd. */
#include "mu_test.h"
#include "mutil.h"
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

typedef struct {
    uint32_t a;
    uint16_t b;
} item_t;

static void
test_ring_push_pop_full(void)
{
    mu__ring_t ring;
    MU_CHECK_EQ(mu__ring_init(&ring, 3, sizeof(item_t)), 0);
    MU_CHECK(mu__ring_empty(&ring) && !mu__ring_full(&ring));
    item_t out;
    MU_CHECK(!mu__ring_pop(&ring, &out));
    for (uint32_t i = 1; i <= 3; i++) {
        item_t in = { i, (uint16_t) (i * 10) };
        MU_CHECK(mu__ring_push(&ring, &in));
    }
    MU_CHECK(mu__ring_full(&ring));
    item_t extra = { 99, 99 };
    MU_CHECK(!mu__ring_push(&ring, &extra)); /* full: nothing copied */
    MU_CHECK_EQ(ring.count, 3);
    MU_CHECK_EQ(((item_t *) mu__ring_at(&ring, 2))->a, 3);
    for (uint32_t i = 1; i <= 3; i++) {
        MU_CHECK(mu__ring_pop(&ring, &out));
        MU_CHECK_EQ(out.a, i);
        MU_CHECK_EQ(out.b, i * 10);
    }
    MU_CHECK(mu__ring_empty(&ring));
    mu__ring_free(&ring);
    MU_CHECK(ring.items == NULL && ring.count == 0);
    mu__ring_free(&ring); /* twice is harmless */
}

/*  Many more items than slots pass through in order: the head wraps,
    the ring fills and empties at every position. */
static void
test_ring_wraps(void)
{
    mu__ring_t ring;
    MU_CHECK_EQ(mu__ring_init(&ring, 3, sizeof(int)), 0);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        int push = 1 + round % 3; /* 1, 2 or 3: fills up at times */
        for (int k = 0; k < push; k++, next_in++)
            MU_CHECK(mu__ring_push(&ring, &next_in));
        MU_CHECK_EQ(mu__ring_full(&ring), push == 3);
        MU_CHECK_EQ(*(int *) mu__ring_at(&ring, 0), next_out);
        int v;
        while (mu__ring_pop(&ring, &v)) {
            MU_CHECK_EQ(v, next_out);
            next_out++;
        }
        MU_CHECK(ring.head < ring.cap);
    }
    MU_CHECK_EQ(next_out, next_in);
    mu__ring_free(&ring);
}

static void
test_ring_resize_keeps_order(void)
{
    mu__ring_t ring;
    MU_CHECK_EQ(mu__ring_init(&ring, 4, sizeof(int)), 0);
    for (int i = 0; i < 4; i++)
        MU_CHECK(mu__ring_push(&ring, &i));
    int v;
    MU_CHECK(mu__ring_pop(&ring, &v) && mu__ring_pop(&ring, &v)); /* head at 2 */
    for (int i = 4; i < 6; i++)
        MU_CHECK(mu__ring_push(&ring, &i)); /* wrapped */
    MU_CHECK(mu__ring_full(&ring));
    MU_CHECK_EQ(mu__ring_resize(&ring, 10), 0);
    MU_CHECK_EQ(ring.cap, 10);
    MU_CHECK(!mu__ring_full(&ring));
    for (int i = 6; i < 12; i++)
        MU_CHECK(mu__ring_push(&ring, &i));
    for (int want = 2; want < 12; want++) {
        MU_CHECK(mu__ring_pop(&ring, &v));
        MU_CHECK_EQ(v, want);
    }
    MU_CHECK(mu__ring_empty(&ring));
    mu__ring_free(&ring);
}

/*  A deadline in the past returns at once without waiting. A near one is
    waited for once, then reported passed: the condition variable measures
    on CLOCK_MONOTONIC, the clock of mu__now_ms (on CLOCK_REALTIME the
    deadline, a monotonic time, would lie decades in the past and the loop
    would spin through thousands of immediate returns). */
static void
test_cond_deadline(void)
{
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond;
    MU_CHECK_EQ(mu__cond_init(&cond), 0);
    pthread_mutex_lock(&mutex);
    bool waited = mu__cond_wait_until(&cond, &mutex, mu__now_ms() - 1);
    int64_t t0 = mu__now_ms();
    int64_t deadline = t0 + 60;
    int wakeups = 0;
    while (mu__cond_wait_until(&cond, &mutex, deadline))
        wakeups++;
    int64_t elapsed = mu__now_ms() - t0;
    pthread_mutex_unlock(&mutex);
    pthread_cond_destroy(&cond);
    MU_CHECK(!waited);
    MU_CHECK(elapsed >= 60);
    MU_CHECK(elapsed < mu_test_ms(2000));
    MU_CHECK(wakeups >= 1 && wakeups < 10);
}

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool flag;
} signal_t;

static void *
raise_flag(void *arg)
{
    signal_t *s = arg;
    pthread_mutex_lock(&s->mutex);
    s->flag = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mutex);
    return NULL;
}

/*  A signal ends the wait long before the deadline; -1 waits without one. */
static void
test_cond_signalled(void)
{
    signal_t s = { .mutex = PTHREAD_MUTEX_INITIALIZER };
    MU_CHECK_EQ(mu__cond_init(&s.cond), 0);
    for (int round = 0; round < 2; round++) {
        pthread_t thread;
        pthread_mutex_lock(&s.mutex);
        s.flag = false;
        MU_CHECK_EQ(pthread_create(&thread, NULL, raise_flag, &s), 0);
        int64_t deadline = round == 0 ? mu__now_ms() + mu_test_ms(10000) : -1;
        while (!s.flag && mu__cond_wait_until(&s.cond, &s.mutex, deadline)) {
        }
        bool flag = s.flag;
        pthread_mutex_unlock(&s.mutex);
        pthread_join(thread, NULL);
        MU_CHECK(flag);
    }
    pthread_cond_destroy(&s.cond);
}

static bool
readable(int fd)
{
    struct pollfd item = { .fd = fd, .events = POLLIN };
    return poll(&item, 1, 0) == 1;
}

static void
test_level_fd(void)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    MU_CHECK(fd >= 0);
    bool raised = false;
    mu__level_fd_sync(fd, &raised, false);
    MU_CHECK(!raised && !readable(fd));
    mu__level_fd_sync(fd, &raised, true);
    mu__level_fd_sync(fd, &raised, true); /* idempotent */
    MU_CHECK(raised && readable(fd));
    mu__level_fd_sync(fd, &raised, false);
    MU_CHECK(!raised && !readable(fd));
    close(fd);
}

int
main(void)
{
    mu_test_start(30);
    MU_RUN(test_ring_push_pop_full);
    MU_RUN(test_ring_wraps);
    MU_RUN(test_ring_resize_keeps_order);
    MU_RUN(test_cond_deadline);
    MU_RUN(test_cond_signalled);
    MU_RUN(test_level_fd);
    MU_DONE();
}
