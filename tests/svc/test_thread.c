/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_thread.c — a fresh thread per call: result, timeouts, the fd, a
    call left to finish after its handle is gone. */
#include "mu_test.h"
#include "mutil.h"
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

static void *
triple(void *arg)
{
    return (void *) ((intptr_t) arg * 3);
}

typedef struct {
    int gate;                /* fn returns once a byte arrives here */
    mu_test_counter_t *done; /* raised when fn returns */
} gated_t;

static void *
gated(void *arg)
{
    gated_t *g = arg;
    int byte = mu_test_wait_byte(g->gate, 10000);
    mu_test_counter_add(g->done);
    return (void *) (intptr_t) byte;
}

static void
test_call_result(void)
{
    void *result = NULL;
    MU_CHECK_EQ(mu_thread_call(triple, (void *) 14, -1, &result), 0);
    MU_CHECK_EQ((intptr_t) result, 42);
    MU_CHECK_EQ(mu_thread_call(triple, (void *) 1, 5000, NULL), 0);
}

static void
test_wait_and_fd(void)
{
    int gate[2];
    MU_CHECK_EQ(pipe(gate), 0);
    mu_test_counter_t done;
    mu_test_counter_init(&done);
    gated_t g = { gate[0], &done };
    mu_thread_t *t = mu_thread_spawn(gated, &g);
    MU_CHECK(t);
    void *result = NULL;
    MU_CHECK_EQ(mu_thread_wait(t, 0, &result), MU_EAGAIN);
    MU_CHECK_EQ(mu_thread_wait(t, 20, &result), MU_ETIMEDOUT);
    struct pollfd item = { .fd = mu_thread_fd(t), .events = POLLIN };
    MU_CHECK_EQ(poll(&item, 1, 0), 0);
    mu_test_signal_byte(gate[1], 'k');
    MU_CHECK_EQ(poll(&item, 1, mu_test_ms(5000)), 1);
    MU_CHECK_EQ(mu_thread_wait(t, 0, &result), 0);
    MU_CHECK_EQ((intptr_t) result, 'k');
    MU_CHECK_EQ(mu_thread_wait(t, -1, NULL), 0); /* again */
    mu_thread_destroy(&t);
    MU_CHECK(t == NULL);
    mu_thread_destroy(&t); /* NULL-safe */
    close(gate[0]);
    close(gate[1]);
    mu_test_counter_fini(&done);
}

/*  A call that outlives its timeout: mu_thread_call returns MU_ETIMEDOUT at
    once, and the thread finishes on its own later. */
static void
test_call_timeout_left_running(void)
{
    int gate[2];
    MU_CHECK_EQ(pipe(gate), 0);
    mu_test_counter_t done;
    mu_test_counter_init(&done);
    gated_t g = { gate[0], &done };
    MU_CHECK_EQ(mu_thread_call(gated, &g, 30, NULL), MU_ETIMEDOUT);
    MU_CHECK(strstr(mu_last_error(), "still running after 30 ms"));
    MU_CHECK_EQ(mu_thread_call(gated, &g, 0, NULL), MU_EAGAIN);
    mu_test_signal_byte(gate[1], 'a');
    mu_test_signal_byte(gate[1], 'b');
    MU_CHECK(mu_test_counter_wait(&done, 2, 5000));
    close(gate[0]);
    close(gate[1]);
    mu_test_counter_fini(&done);
}

int
main(void)
{
    mu_test_start(30);
    MU_RUN(test_call_result);
    MU_RUN(test_wait_and_fd);
    MU_RUN(test_call_timeout_left_running);
    MU_DONE();
}
