/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_schedule_int.h — the parsed cron expression, shared by mu_cron.c
    (parse, next fire time) and mu_schedule.c (the services). */
#ifndef MU_SCHEDULE_INT_H_INCLUDED
#define MU_SCHEDULE_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "mu_schedule.h"
#include <stdbool.h>
#include <stdint.h>

/*  One bit per allowed value of each field. */
typedef struct {
    uint64_t minutes;        /* bits 0-59 */
    uint64_t hours;          /* bits 0-23 */
    uint64_t mdays;          /* bits 1-31 */
    uint64_t months;         /* bits 1-12 */
    uint64_t wdays;          /* bits 0-6, Sunday 0 */
    bool dom_star, dow_star; /* the day fields started with '*' */
    bool fixed_time;         /* neither minute nor hour started with '*' */
    bool utc;
} mu__cron_expr_t;

/*  Parses expr into *cron (utc left as it is). Returns 0 or MU_EINVAL
    (recorded with the field and the fault). */
int mu__cron_parse(mu__cron_expr_t *cron, const char *expr);

/*  The first matching whole minute after `after` (mu_cron_next). */
int mu__cron_next(const mu__cron_expr_t *cron, int64_t after, int64_t *next_p);

#endif
