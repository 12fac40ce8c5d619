/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_numeric.c — rounding to a step and decimal / price formatting. The
    contract is in include/mu_numeric.h. */
#include "mu_numeric.h"
#include "base/mu_internal.h"
#include "mu_error.h"
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A quotient this close (relative) to an integer is that integer. */
#define QUOTIENT_SLACK 1e-9
/* Beyond this a double has no fraction left to round. */
#define EXACT_LIMIT 9007199254740992.0 /* 2^53 */
/* Room for DBL_MAX with MU_FMT_MAX_DECIMALS decimals, separators, sign. */
#define TEXT_ROOM 512

/*  The number of decimal places of step (0.05 has 2), or -1 when it has
    more than MU_FMT_MAX_DECIMALS. */
static int
step_decimals(double step)
{
    double scale = 1.0;
    for (int d = 0; d <= MU_FMT_MAX_DECIMALS; d++, scale *= 10.0) {
        double scaled = step * scale;
        if (fabs(scaled - nearbyint(scaled)) <= QUOTIENT_SLACK * scaled)
            return d;
    }
    return -1;
}

/*  q rounded to an integer in the direction mode, q already within the
    slack of an integer counting as that integer. */
static double
round_quotient(double q, mu_round_t mode)
{
    double nearest = round(q); /* ties away from zero */
    if (fabs(q - nearest) <= QUOTIENT_SLACK * fmax(1.0, fabs(q)))
        return nearest;
    if (mode == MU_ROUND_DOWN)
        return floor(q);
    if (mode == MU_ROUND_UP)
        return ceil(q);
    return nearest;
}

/*  value cut to decimals places by decimal rounding, when that is exact
    enough to matter. */
static double
snap_to_decimals(double value, int decimals)
{
    double scale = pow(10.0, decimals);
    double scaled = value * scale;
    if (decimals < 0 || !isfinite(scaled) || fabs(scaled) >= EXACT_LIMIT)
        return value;
    return round(scaled) / scale;
}

int
mu_round_step(double x, double step, mu_round_t mode, double *result)
{
    assert(result != NULL);
    if (!isfinite(step) || step <= 0)
        return mu__fail(MU_EINVAL, "rounding step %g is not a finite number > 0", step);
    if (mode != MU_ROUND_NEAREST && mode != MU_ROUND_DOWN && mode != MU_ROUND_UP)
        return mu__fail(MU_EINVAL, "rounding mode %d is not a mu_round_t", (int) mode);
    double q = x / step;
    if (!isfinite(x) || !isfinite(q) || fabs(q) >= EXACT_LIMIT) {
        *result = x;
        return 0;
    }
    double rounded = snap_to_decimals(round_quotient(q, mode) * step, step_decimals(step));
    *result = rounded == 0 ? 0.0 : rounded;
    return 0;
}

/*  True when separator can stand between digit groups unambiguously. */
static bool
separator_ok(char separator)
{
    if (separator == '\0')
        return true;
    unsigned char c = (unsigned char) separator;
    return c >= 0x20 && c < 0x7f && !(c >= '0' && c <= '9') && c != '-' && c != '.';
}

/*  Removes the zeros after the min_decimals-th decimal of the digits at
    text (with a '.' when max > 0), and the '.' when no decimal is left. */
static void
trim_decimals(char *text, int min_decimals)
{
    char *dot = strchr(text, '.');
    if (dot == NULL)
        return;
    char *end = text + strlen(text);
    char *keep = dot + 1 + min_decimals;
    while (end > keep && end[-1] == '0')
        end--;
    if (end == dot + 1)
        end = dot;
    *end = '\0';
}

/*  Writes into text (TEXT_ROOM bytes) the unpadded form of a finite value. */
static void
plain_decimal(char *text, double value, int min_decimals, int max_decimals, char separator)
{
    char digits[TEXT_ROOM];
    snprintf(digits, sizeof digits, "%.*f", max_decimals, fabs(value));
    trim_decimals(digits, min_decimals);
    bool all_zero = strspn(digits, "0.") == strlen(digits);
    size_t n = 0;
    if (value < 0 && !all_zero)
        text[n++] = '-';
    size_t int_len = strcspn(digits, ".");
    for (size_t i = 0; i < int_len; i++) {
        if (separator != '\0' && i > 0 && (int_len - i) % 3 == 0)
            text[n++] = separator;
        text[n++] = digits[i];
    }
    strcpy(text + n, digits + int_len);
}

int
mu_fmt_decimal(char *out, size_t size, double value, int min_decimals, int max_decimals,
               char separator, int width)
{
    if (min_decimals < 0 || max_decimals < min_decimals || max_decimals > MU_FMT_MAX_DECIMALS)
        return mu__fail(MU_EINVAL, "decimals %d..%d (0 <= min <= max <= %d)", min_decimals,
                        max_decimals, MU_FMT_MAX_DECIMALS);
    if (width < 0)
        return mu__fail(MU_EINVAL, "width %d is negative", width);
    if (!separator_ok(separator))
        return mu__fail(MU_EINVAL, "thousands separator 0x%02x", (unsigned char) separator);
    assert(out != NULL || size == 0);
    char text[TEXT_ROOM];
    if (isnan(value))
        strcpy(text, "nan");
    else if (isinf(value))
        strcpy(text, value < 0 ? "-inf" : "inf");
    else
        plain_decimal(text, value, min_decimals, max_decimals, separator);
    return snprintf(out, size, "%*s", width, text);
}

int
mu_fmt_price(char *out, size_t size, double value)
{
    return mu_fmt_decimal(out, size, value, 2, 4, ',', 0);
}

int
mu_fmt_price_pad(char *out, size_t size, double value, int width)
{
    return mu_fmt_decimal(out, size, value, 2, 4, ',', width);
}
