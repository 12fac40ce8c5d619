/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_schedule.c — cron expressions (parse errors, next fire times in UTC
    and in a local time with DST, from injected times) and the periodic and
    cron services (no overlap, late and skipped ticks, an injected clock). */
#define _GNU_SOURCE
#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { .tm_year = y - 1900,
                     .tm_mon = mo - 1,
                     .tm_mday = d,
                     .tm_hour = h,
                     .tm_min = mi };
    return (int64_t) timegm(&tm);
}

/*  The next fire time of expr after `after` (flags), or the error code. */
static int64_t
next_of(const char *expr, int flags, int64_t after)
{
    mu_cron_t *cron = mu_cron_new(expr, flags);
    if (!cron)
        return mu_last_code();
    int64_t next = 0;
    int rc = mu_cron_next(cron, after, &next);
    mu_cron_destroy(&cron);
    return rc < 0 ? rc : next;
}

static void
test_cron_parse_errors(void)
{
    static const struct {
        const char *expr, *error;
    } bad[] = {
        { "* * * *", "4 fields" },
        { "* * * * * *", "more than 5 fields" },
        { "61 * * * *", "minute field: '61' outside 0-59" },
        { "* 24 * * *", "hour field: '24' outside 0-23" },
        { "* * 0 * *", "day of month field: '0' outside 1-31" },
        { "* * * 13 *", "month field: '13' outside 1-12" },
        { "* * * * 8", "day of week field: '8' outside 0-7" },
        { "5-3 * * * *", "minute field: '5-3' outside" },
        { "*/0 * * * *", "minute field: bad step" },
        { "*/ * * * *", "minute field: bad step" },
        { "1,,2 * * * *", "minute field: empty item" },
        { "1, * * * *", "minute field: empty item" },
        { "x * * * *", "minute field: bad value 'x'" },
        { "1-x * * * *", "minute field: bad range" },
        { "1x * * * *", "minute field: unexpected '1x'" },
        { "* * * foo *", "month field: bad value 'foo'" },
        { "", "0 fields" },
        { "@often", "minute field: bad value '@often'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        mu_cron_t *cron = mu_cron_new(bad[i].expr, 0);
        MU_CHECK(cron == NULL && errno == EINVAL);
        MU_CHECK_EQ(mu_last_code(), MU_EINVAL);
        if (!strstr(mu_last_error(), bad[i].error)) {
            printf("# '%s': %s\n", bad[i].expr, mu_last_error());
            MU_CHECK(!"error message");
        }
    }
    mu_cron_t *cron = mu_cron_new(" 0-59/5,7 */2 1-31 jan-DEC sun-sat ", MU_CRON_UTC);
    MU_CHECK(cron);
    mu_cron_destroy(&cron);
    mu_cron_destroy(&cron); /* NULL-safe */
}

static void
test_cron_next_utc(void)
{
    int64_t fri = utc(2026, 12, 4, 17, 50); /* a Friday */
    MU_CHECK_EQ(next_of("* * * * *", MU_CRON_UTC, fri), fri + 60);
    MU_CHECK_EQ(next_of("* * * * *", MU_CRON_UTC, fri + 59), fri + 60);
    MU_CHECK_EQ(next_of("*/15 9-17 * * 1-5", MU_CRON_UTC, fri), utc(2026, 12, 7, 9, 0));
    MU_CHECK_EQ(next_of("*/15 9-17 * * mon-fri", MU_CRON_UTC, utc(2026, 12, 7, 9, 0)),
                utc(2026, 12, 7, 9, 15));
    MU_CHECK_EQ(next_of("5,55 * * * *", MU_CRON_UTC, fri), fri + 5 * 60);
    MU_CHECK_EQ(next_of("10/20 * * * *", MU_CRON_UTC, fri), utc(2026, 12, 4, 18, 10));
    MU_CHECK_EQ(next_of("0 0 * * *", MU_CRON_UTC, fri), utc(2026, 12, 5, 0, 0));
    MU_CHECK_EQ(next_of("@daily", MU_CRON_UTC, fri), utc(2026, 12, 5, 0, 0));
    MU_CHECK_EQ(next_of("@hourly", MU_CRON_UTC, fri), utc(2026, 12, 4, 18, 0));
    MU_CHECK_EQ(next_of("@weekly", MU_CRON_UTC, fri), utc(2026, 12, 6, 0, 0));
    MU_CHECK_EQ(next_of("@monthly", MU_CRON_UTC, fri), utc(2027, 1, 1, 0, 0));
    MU_CHECK_EQ(next_of("@yearly", MU_CRON_UTC, fri), utc(2027, 1, 1, 0, 0));
    /* both day fields restricted: either matches (Friday, or the 13th) */
    MU_CHECK_EQ(next_of("0 0 13 * 5", MU_CRON_UTC, fri), utc(2026, 12, 11, 0, 0));
    MU_CHECK_EQ(next_of("0 0 13 * 5", MU_CRON_UTC, utc(2026, 12, 11, 0, 0)),
                utc(2026, 12, 13, 0, 0));
    /* one day field a wildcard: the other alone decides */
    MU_CHECK_EQ(next_of("0 0 13 * *", MU_CRON_UTC, fri), utc(2026, 12, 13, 0, 0));
    MU_CHECK_EQ(next_of("0 0 * * 7", MU_CRON_UTC, fri), utc(2026, 12, 6, 0, 0)); /* 7: Sunday */
    /* month and year boundaries, leap day, never */
    MU_CHECK_EQ(next_of("0 12 1 * *", MU_CRON_UTC, utc(2026, 12, 31, 23, 59)),
                utc(2027, 1, 1, 12, 0));
    MU_CHECK_EQ(next_of("0 0 31 * *", MU_CRON_UTC, utc(2027, 1, 31, 0, 0)), utc(2027, 3, 31, 0, 0));
    MU_CHECK_EQ(next_of("0 0 29 2 *", MU_CRON_UTC, fri), utc(2028, 2, 29, 0, 0));
    MU_CHECK_EQ(next_of("0 0 30 2 *", MU_CRON_UTC, fri), MU_ENOENT);
    MU_CHECK(strstr(mu_last_error(), "no fire time within 8 years"));
    /* before the epoch's minute grid: negative times round correctly */
    MU_CHECK_EQ(next_of("* * * * *", MU_CRON_UTC, -30), 0);
    /* times outside the years 1 to 9999 are refused, both zones; the
       ends themselves are taken */
    static const int64_t outside[] = { INT64_MIN,      INT64_MIN + 1,     -62135596801LL,
                                       253402300800LL, (int64_t) 1 << 62, INT64_MAX - 1,
                                       INT64_MAX };
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        MU_CHECK_EQ(next_of("* * * * *", MU_CRON_UTC, outside[i]), MU_EINVAL);
        MU_CHECK(strstr(mu_last_error(), "outside the years 1 to 9999"));
        MU_CHECK_EQ(next_of("0 0 * * *", 0, outside[i]), MU_EINVAL);
    }
    MU_CHECK_EQ(next_of("* * * * *", MU_CRON_UTC, -62135596800LL), -62135596800LL + 60);
    MU_CHECK_EQ(next_of("@yearly", MU_CRON_UTC, 253402300799LL - 60), MU_ENOENT);
    MU_CHECK(strstr(mu_last_error(), "or before the year 10000"));
    MU_CHECK_EQ(next_of("59 23 31 12 *", MU_CRON_UTC, 253402300799LL - 120), 253402300799LL - 59);
}

/*  Local time in a zone with DST (a POSIX TZ rule: no tzdata needed):
    Central Europe, +1, summer +2 from the last Sunday of March 02:00 to
    the last Sunday of October 03:00. */
static void
test_cron_next_local(void)
{
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    /* winter: local 08:00 is 07:00 UTC */
    MU_CHECK_EQ(next_of("0 8 * * *", 0, utc(2026, 1, 10, 12, 0)), utc(2026, 1, 11, 7, 0));
    /* summer: local 08:00 is 06:00 UTC */
    MU_CHECK_EQ(next_of("0 8 * * *", 0, utc(2026, 7, 10, 12, 0)), utc(2026, 7, 11, 6, 0));
    /* spring forward (2026-03-29): 02:30 does not exist that day */
    MU_CHECK_EQ(next_of("30 2 * * *", 0, utc(2026, 3, 28, 11, 0)), utc(2026, 3, 30, 0, 30));
    /* ... the hour after the gap is there: 03:00 CEST is 01:00 UTC */
    MU_CHECK_EQ(next_of("0 3 * * *", 0, utc(2026, 3, 28, 11, 0)), utc(2026, 3, 29, 1, 0));
    /* fall back (2026-10-25): 02:30 occurs twice; fixed time fires once */
    int64_t first = next_of("30 2 * * *", 0, utc(2026, 10, 24, 22, 0));
    MU_CHECK_EQ(first, utc(2026, 10, 25, 0, 30)); /* 02:30 CEST */
    MU_CHECK_EQ(next_of("30 2 * * *", 0, first), utc(2026, 10, 26, 1, 30));
    /* ... a wildcard hour keeps to real time: both passes of 02:30 */
    MU_CHECK_EQ(next_of("30 * * * *", 0, first), utc(2026, 10, 25, 1, 30)); /* 02:30 CET */
    /* the same expression in UTC ignores the zone */
    MU_CHECK_EQ(next_of("30 2 * * *", MU_CRON_UTC, utc(2026, 10, 24, 22, 0)),
                utc(2026, 10, 25, 2, 30));
    if (old) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

/* ------------------------------------------------------------------ */
/* The periodic service                                                */

typedef struct {
    mu_test_counter_t calls;
    atomic_int in_flight, max_in_flight;
    int slow_call; /* this call (1-based) takes slow_ms */
    int slow_ms;
    int fail_from;  /* calls from this one return MU_EIO (0: never) */
    int stop_after; /* main returns once this many calls were made */
    int n;          /* calls so far (the service's thread only) */
} ticker_t;

static int
tick(void *arg)
{
    ticker_t *t = arg;
    int now = atomic_fetch_add(&t->in_flight, 1) + 1;
    if (now > atomic_load(&t->max_in_flight))
        atomic_store(&t->max_in_flight, now);
    t->n++;
    if (t->n == t->slow_call)
        mu_test_sleep_ms(t->slow_ms); /* the slow job itself, not a wait */
    atomic_fetch_sub(&t->in_flight, 1);
    mu_test_counter_add(&t->calls);
    return t->fail_from && t->n >= t->fail_from ? MU_EIO : 0;
}

static int
wait_calls(void *arg, mu_entrypoint_t *ep)
{
    (void) ep;
    ticker_t *t = arg;
    return mu_test_counter_wait(&t->calls, t->stop_after, mu_test_ms(10000)) ? 0 : MU_ETIMEDOUT;
}

static void
ticker_init(ticker_t *t)
{
    memset(t, 0, sizeof *t);
    mu_test_counter_init(&t->calls);
    atomic_init(&t->in_flight, 0);
    atomic_init(&t->max_in_flight, 0);
}

static void
test_periodic_runs_and_counts(void)
{
    ticker_t t;
    ticker_init(&t);
    t.stop_after = 4;
    t.fail_from = 3;
    mu_periodic_t *p = mu_periodic_new(10, 5, tick, &t);
    MU_CHECK(p);
    mu_service_def_t def = mu_periodic_service(p, "ticker");
    MU_CHECK_EQ(strcmp(def.name, "ticker"), 0);
    MU_CHECK_EQ(mu_run(wait_calls, &t, &def, 1), 0);
    mu_periodic_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_periodic_stats(p, &st), 0);
    MU_CHECK(st.calls >= 4);
    MU_CHECK_EQ(st.errors, st.calls - 2);
    MU_CHECK_EQ(atomic_load(&t.max_in_flight), 1);
    mu_periodic_stats_t small = { .size = 4 };
    MU_CHECK_EQ(mu_periodic_stats(p, &small), MU_EINVAL);
    mu_periodic_destroy(&p);
    mu_periodic_destroy(&p); /* NULL-safe */
    mu_test_counter_fini(&t.calls);
}

/*  The second call takes 75 ms with a 20 ms interval: the next call is
    late (made at once), the grid points passed meanwhile are skipped, and
    no two calls ever overlap. */
static void
test_periodic_slow_call(void)
{
    ticker_t t;
    ticker_init(&t);
    t.stop_after = 4;
    t.slow_call = 2;
    t.slow_ms = 75;
    mu_periodic_t *p = mu_periodic_new(20, 0, tick, &t);
    MU_CHECK(p);
    MU_CHECK_EQ(mu_periodic_set_first(p, 0), 0);
    mu_service_def_t def = mu_periodic_service(p, "slow");
    MU_CHECK_EQ(mu_run(wait_calls, &t, &def, 1), 0);
    mu_periodic_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_periodic_stats(p, &st), 0);
    MU_CHECK(st.late >= 1);
    MU_CHECK(st.skipped >= 2); /* 75 ms over a 20 ms grid: at least 2 whole ticks */
    MU_CHECK_EQ(st.errors, 0);
    MU_CHECK_EQ(atomic_load(&t.max_in_flight), 1);
    printf("# calls %llu late %llu skipped %llu\n", (unsigned long long) st.calls,
           (unsigned long long) st.late, (unsigned long long) st.skipped);
    mu_periodic_destroy(&p);
    mu_test_counter_fini(&t.calls);
}

static void
test_periodic_invalid(void)
{
    ticker_t t;
    errno = 0;
    MU_CHECK(mu_periodic_new(0, 0, tick, &t) == NULL && errno == EINVAL);
    MU_CHECK(strstr(mu_last_error(), "interval 0 ms"));
    MU_CHECK(mu_periodic_new(10, 10, tick, &t) == NULL && errno == EINVAL);
    MU_CHECK(strstr(mu_last_error(), "jitter 10 ms"));
    MU_CHECK(mu_periodic_new(10, -1, tick, &t) == NULL && errno == EINVAL);
    mu_periodic_t *p = mu_periodic_new(10, 0, tick, &t);
    MU_CHECK(p);
    MU_CHECK_EQ(mu_periodic_set_first(p, -1), MU_EINVAL);
    mu_periodic_destroy(&p);
}

/* ------------------------------------------------------------------ */
/* The cron service, on an injected clock                               */

typedef struct {
    atomic_llong now;
    atomic_bool stepping; /* each read moves the clock 10 s on */
    mu_test_counter_t calls;
    int64_t seen[4];
    int n;
} fake_clock_t;

static int64_t
read_clock(void *arg)
{
    fake_clock_t *c = arg;
    return atomic_load(&c->stepping) ? atomic_fetch_add(&c->now, 10) : atomic_load(&c->now);
}

/*  The first call "lasts" four minutes: it moves the clock on to 00:05,
    from where every read of the clock moves it 10 s on. */
static int
cron_job(void *arg)
{
    fake_clock_t *c = arg;
    if (c->n < 4)
        c->seen[c->n] = atomic_load(&c->now);
    if (c->n++ == 0) {
        atomic_store(&c->now, utc(2026, 1, 1, 0, 5));
        atomic_store(&c->stepping, true);
    }
    mu_test_counter_add(&c->calls);
    return 0;
}

static int
cron_main(void *arg, mu_entrypoint_t *ep)
{
    (void) ep;
    fake_clock_t *c = arg;
    atomic_store(&c->now, utc(2026, 1, 1, 0, 1)); /* the first fire time */
    return mu_test_counter_wait(&c->calls, 2, mu_test_ms(10000)) ? 0 : MU_ETIMEDOUT;
}

static void
test_cron_service(void)
{
    fake_clock_t c = { .n = 0 };
    atomic_init(&c.now, utc(2026, 1, 1, 0, 0) + 30);
    atomic_init(&c.stepping, false);
    mu_test_counter_init(&c.calls);
    mu_cron_t *cron = mu_cron_new("* * * * *", MU_CRON_UTC);
    MU_CHECK(cron);
    mu_cron_set_clock(cron, read_clock, &c, 5);
    mu_service_def_t def = mu_cron_service(cron, "cron", cron_job, &c);
    MU_CHECK_EQ(mu_run(cron_main, &c, &def, 1), 0);
    MU_CHECK_EQ(c.seen[0], utc(2026, 1, 1, 0, 1));
    MU_CHECK_EQ(c.seen[1], utc(2026, 1, 1, 0, 6) + 10); /* read at 00:06:00, +10 s */
    mu_periodic_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_cron_stats(cron, &st), 0);
    MU_CHECK_EQ(st.calls, 2);
    MU_CHECK_EQ(st.skipped, 4); /* 00:02 to 00:05 passed during the first call */
    MU_CHECK_EQ(st.late, 0);
    mu_cron_destroy(&cron);
    mu_test_counter_fini(&c.calls);
}

/*  The first call steps the clock 7,000 years on, which leaves billions of
    minutes to count as skipped: the service must still stop when asked. */
static int
leap_job(void *arg)
{
    fake_clock_t *c = arg;
    atomic_store(&c->now, utc(9000, 1, 1, 0, 0));
    mu_test_counter_add(&c->calls);
    return 0;
}

static int
leap_main(void *arg, mu_entrypoint_t *ep)
{
    (void) ep;
    fake_clock_t *c = arg;
    atomic_store(&c->now, utc(2026, 1, 1, 0, 1));
    return mu_test_counter_wait(&c->calls, 1, mu_test_ms(10000)) ? 0 : MU_ETIMEDOUT;
}

static void
test_cron_service_clock_leap(void)
{
    fake_clock_t c = { .n = 0 };
    atomic_init(&c.now, utc(2026, 1, 1, 0, 0) + 30);
    atomic_init(&c.stepping, false);
    mu_test_counter_init(&c.calls);
    mu_cron_t *cron = mu_cron_new("* * * * *", MU_CRON_UTC);
    MU_CHECK(cron);
    mu_cron_set_clock(cron, read_clock, &c, 5);
    mu_service_def_t def = mu_cron_service(cron, "cron", leap_job, &c);
    MU_CHECK_EQ(mu_run(leap_main, &c, &def, 1), 0); /* returns: the service stopped */
    mu_periodic_stats_t st = { .size = sizeof st };
    MU_CHECK_EQ(mu_cron_stats(cron, &st), 0);
    MU_CHECK_EQ(st.calls, 1);
    MU_CHECK(st.skipped >= 1 && st.skipped < (uint64_t) 7000 * 365 * 24 * 60);
    mu_cron_destroy(&cron);
    mu_test_counter_fini(&c.calls);
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_cron_parse_errors);
    MU_RUN(test_cron_next_utc);
    MU_RUN(test_cron_next_local);
    MU_RUN(test_periodic_invalid);
    zsys_init();
    zsys_set_logstream(stderr);
    MU_RUN(test_periodic_runs_and_counts);
    MU_RUN(test_periodic_slow_call);
    MU_RUN(test_cron_service);
    MU_RUN(test_cron_service_clock_leap);
    zsys_shutdown();
    MU_DONE();
}
