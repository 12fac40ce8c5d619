/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_service_sync.h — private helpers shared by mu_service.c and
    mu_service_pool.c: timed waits on CLOCK_MONOTONIC. Never installed. */
#ifndef MU_SERVICE_SYNC_H_INCLUDED
#define MU_SERVICE_SYNC_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*  Initialises cond on CLOCK_MONOTONIC, the clock of mu__now_ms. */
void mu__cond_init(pthread_cond_t *cond);

/*  Waits on cond (mutex held) until signalled or deadline (mu__now_ms
    based; -1 = none). Returns false, without waiting, once the deadline has
    passed; true after a wake-up (which may be spurious: re-check). */
bool mu__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline);

#endif
