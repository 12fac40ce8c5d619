/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_cron.c — cron expressions: parsing and the next fire time. The
    service that runs them is in mu_schedule.c; the contract in
    include/mu_schedule.h. */
#include "svc/mu_schedule_int.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SEARCH_YEARS 8
#define DAY_S 86400
/*  The times mu_cron_next takes: 0001-01-01 00:00:00 to 9999-12-31
    23:59:59 UTC, so that the search's arithmetic cannot overflow and every
    time it visits has a broken-down form (gmtime/localtime fail past a
    year that fits in an int). */
#define FIRST_TIME (-62135596800LL)
#define LAST_TIME 253402300799LL

typedef struct {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names from lo, or NULL */
} field_t;

static const char *const s_months[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
                                        "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const s_days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const field_t s_fields[5] = { { "minute", 0, 59, NULL },
                                     { "hour", 0, 23, NULL },
                                     { "day of month", 1, 31, NULL },
                                     { "month", 1, 12, s_months },
                                     { "day of week", 0, 7, s_days } };

/*  Reads a number or a name of f at *p; advances *p. Returns -1 if none. */
static int
read_value(const field_t *f, const char **p)
{
    if (isdigit((unsigned char) **p)) {
        long v = 0;
        while (isdigit((unsigned char) **p) && v < 1000)
            v = v * 10 + (*(*p)++ - '0');
        return (int) v;
    }
    for (int i = 0; f->names && f->names[i]; i++)
        if (!strncasecmp(*p, f->names[i], 3)) {
            *p += 3;
            return f->lo + i;
        }
    return -1;
}

/*  Parses one comma-separated item (N, N-M, *, with /step) into *mask. */
static int
parse_item(const field_t *f, const char *item, const char *end, uint64_t *mask)
{
    const char *p = item;
    int lo, hi;
    bool range = false;
    if (*p == '*') {
        p++;
        lo = f->lo, hi = f->hi;
        range = true;
    } else {
        if ((lo = read_value(f, &p)) < 0)
            return mu__fail(MU_EINVAL, "cron %s field: bad value '%.*s'", f->name,
                            (int) (end - item), item);
        hi = lo;
        if (*p == '-') {
            p++;
            if ((hi = read_value(f, &p)) < 0)
                return mu__fail(MU_EINVAL, "cron %s field: bad range '%.*s'", f->name,
                                (int) (end - item), item);
            range = true;
        }
    }
    int step = 1;
    if (*p == '/') {
        p++;
        const char *digits = p;
        step = read_value(&(field_t) { f->name, 0, 0, NULL }, &p);
        if (p == digits || step < 1)
            return mu__fail(MU_EINVAL, "cron %s field: bad step in '%.*s'", f->name,
                            (int) (end - item), item);
        if (!range)
            hi = f->hi; /* N/step: from N to the maximum */
    }
    if (p != end)
        return mu__fail(MU_EINVAL, "cron %s field: unexpected '%.*s'", f->name, (int) (end - item),
                        item);
    if (lo < f->lo || hi > f->hi || lo > hi)
        return mu__fail(MU_EINVAL, "cron %s field: '%.*s' outside %d-%d", f->name,
                        (int) (end - item), item, f->lo, f->hi);
    for (int v = lo; v <= hi; v += step)
        *mask |= 1ULL << v;
    return 0;
}

static int
parse_field(const field_t *f, const char *text, size_t len, uint64_t *mask)
{
    *mask = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t) (end - p));
        const char *item_end = comma ? comma : end;
        if (item_end == p)
            return mu__fail(MU_EINVAL, "cron %s field: empty item", f->name);
        int rc = parse_item(f, p, item_end, mask);
        if (rc < 0)
            return rc;
        p = comma ? comma + 1 : end;
        if (comma && p == end)
            return mu__fail(MU_EINVAL, "cron %s field: empty item", f->name);
    }
    return 0;
}

static const char *
expand_macro(const char *expr)
{
    static const char *const macros[][2] = {
        { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
        { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
        { "@hourly", "0 * * * *" }
    };
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
        if (!strcasecmp(expr, macros[i][0]))
            return macros[i][1];
    return expr;
}

int
mu__cron_parse(mu__cron_expr_t *cron, const char *expr)
{
    const char *p = expand_macro(expr);
    uint64_t masks[5];
    size_t n = 0;
    while (*p) {
        while (isspace((unsigned char) *p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !isspace((unsigned char) *p))
            p++;
        if (n == 5)
            return mu__fail(MU_EINVAL, "cron: more than 5 fields in '%s'", expr);
        if (n == 0)
            cron->fixed_time = *start != '*';
        if (n == 1)
            cron->fixed_time = cron->fixed_time && *start != '*';
        if (n == 2)
            cron->dom_star = *start == '*';
        if (n == 4)
            cron->dow_star = *start == '*';
        int rc = parse_field(&s_fields[n], start, (size_t) (p - start), &masks[n]);
        if (rc < 0)
            return rc;
        n++;
    }
    if (n != 5)
        return mu__fail(MU_EINVAL, "cron: %zu fields in '%s', expected 5", n, expr);
    cron->minutes = masks[0];
    cron->hours = masks[1];
    cron->mdays = masks[2];
    cron->months = masks[3];
    cron->wdays = masks[4] | ((masks[4] >> 7) & 1); /* 7 is Sunday too */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Next fire time                                                      */

/*  Breaks t down in the expression's zone. Returns false when the C
    library cannot (not for the times mu__cron_next visits). */
static bool
to_tm(const mu__cron_expr_t *cron, int64_t t, struct tm *tm)
{
    time_t tt = (time_t) t;
    return (cron->utc ? gmtime_r(&tt, tm) : localtime_r(&tt, tm)) != NULL;
}

/*  The time of tm's fields (normalised); local time lets mktime find
    whether DST applies. */
static int64_t
from_tm(const mu__cron_expr_t *cron, struct tm *tm)
{
    tm->tm_isdst = -1;
    return cron->utc ? (int64_t) timegm(tm) : (int64_t) mktime(tm);
}

static bool
day_matches(const mu__cron_expr_t *cron, const struct tm *tm)
{
    bool dom = (cron->mdays >> tm->tm_mday) & 1;
    bool dow = (cron->wdays >> tm->tm_wday) & 1;
    if (cron->dom_star || cron->dow_star)
        return dom && dow;
    return dom || dow;
}

/*  Midnight starting the day after tm's, or the first of next month. */
static int64_t
next_day(const mu__cron_expr_t *cron, struct tm tm, bool month)
{
    tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
    if (month) {
        tm.tm_mday = 1;
        tm.tm_mon++;
    } else {
        tm.tm_mday++;
    }
    return from_tm(cron, &tm);
}

/*  True when t is the second pass of a fixed wall-clock time repeated by a
    DST change (the same minute occurred an hour before). Wildcard minutes
    and hours follow real time: they fire in both passes. */
static bool
repeated(const mu__cron_expr_t *cron, int64_t t, const struct tm *tm)
{
    if (cron->utc || !cron->fixed_time)
        return false;
    struct tm before;
    return to_tm(cron, t - 3600, &before) && before.tm_hour == tm->tm_hour
           && before.tm_min == tm->tm_min && before.tm_mday == tm->tm_mday;
}

int
mu__cron_next(const mu__cron_expr_t *cron, int64_t after, int64_t *next_p)
{
    if (after < FIRST_TIME || after > LAST_TIME)
        return mu__fail(MU_EINVAL, "cron: time %lld outside the years 1 to 9999",
                        (long long) after);
    int64_t t = after - (((after % 60) + 60) % 60) + 60; /* the next whole minute */
    int64_t limit = after + (int64_t) SEARCH_YEARS * 366 * DAY_S;
    limit = limit < LAST_TIME ? limit : LAST_TIME; /* a result is a valid `after` */
    while (t <= limit) {
        struct tm tm;
        if (!to_tm(cron, t, &tm))
            return mu__fail(MU_EINVAL, "cron: time %lld cannot be broken down", (long long) t);
        int64_t next;
        if (!((cron->months >> (tm.tm_mon + 1)) & 1))
            next = next_day(cron, tm, true);
        else if (!day_matches(cron, &tm))
            next = next_day(cron, tm, false);
        else if (!((cron->hours >> tm.tm_hour) & 1))
            next = t - tm.tm_min * 60 - tm.tm_sec + 3600;
        else if (!((cron->minutes >> tm.tm_min) & 1) || repeated(cron, t, &tm))
            next = t + 60;
        else {
            *next_p = t;
            return 0;
        }
        t = next > t ? next : t + 60; /* always forward, whatever mktime did */
    }
    return mu__fail(MU_ENOENT, "cron: no fire time within %d years%s", SEARCH_YEARS,
                    limit == LAST_TIME ? " or before the year 10000" : "");
}
