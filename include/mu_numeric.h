/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_numeric.h — rounding to a step and price formatting.

    mu_round_step rounds a double to a multiple of a step ("nearest 0.05",
    "down to 0.25") and snaps the result to the step's decimal places, so
    3.3 rounded to 0.1 prints as 3.3, not 3.3000000000000003.
    mu_fmt_decimal writes a number with between min and max decimals,
    optional thousands separators and right-alignment; mu_fmt_price and
    mu_fmt_price_pad are its 2..4-decimals, comma-separated forms for
    prices. Thread-safe (no state; the C locale's '.' is always used). */
#ifndef MU_NUMERIC_H_INCLUDED
#define MU_NUMERIC_H_INCLUDED

#include <stddef.h>
#include "mu_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Direction of mu_round_step. */
typedef enum {
    MU_ROUND_NEAREST = 0, /* nearest multiple; a tie goes away from zero */
    MU_ROUND_DOWN = 1,    /* largest multiple <= x (towards -infinity) */
    MU_ROUND_UP = 2       /* smallest multiple >= x (towards +infinity) */
} mu_round_t;

/*  Most decimals mu_fmt_decimal accepts (a double holds 17 significant
    digits). */
#define MU_FMT_MAX_DECIMALS 17

/*  Rounds x to a multiple of step in the direction mode and stores it in
    *result. A quotient x / step within 1e-9 (relative) of an integer counts
    as that integer, so binary error never moves a value that is already a
    multiple (0.21 down to 0.07 stays 0.21). When step has at most 17
    decimal places the result is snapped to them (0.1 * 33 gives 3.3). A
    zero result is +0.0 (-0.01 up to 0.07 gives 0.0, not -0.0). NaN and
    +-infinity are stored unchanged, as is an x too large for the step to
    matter (x / step beyond 2^53). Returns 0, or MU_EINVAL (nothing stored)
    when step is not a finite number > 0 or mode is not a mu_round_t.
    A NULL result is a caller bug (assert). */
MU_EXPORT MU_NODISCARD int mu_round_step(double x, double step, mu_round_t mode, double *result);

/*  Writes value into out (size bytes) in the C locale with at least
    min_decimals and at most max_decimals decimals: value is rounded to
    max_decimals (printf's %.*f: the exact binary value, a tie to even),
    then trailing zeros beyond min_decimals are removed, and the '.' too
    when no decimal is left. separator, when not '\0', goes between groups
    of three integer digits ("1,234,567.50"). A result that shows only
    zeros has no sign (-0.0 and -0.001 with 2 decimals give "0.00"). NaN
    gives "nan" and +-infinity "inf" / "-inf". The text is right-aligned
    with spaces to width characters when shorter (width 0: no padding).
    Like snprintf: returns the length of the whole text (without the NUL)
    even when it did not fit; out receives as much as fits and is always
    NUL-terminated when size > 0 (out may be NULL when size is 0). Returns
    MU_EINVAL (nothing written) when min_decimals < 0, max_decimals <
    min_decimals, max_decimals > MU_FMT_MAX_DECIMALS, width < 0, or
    separator is a digit, '-', '.' or a byte outside printable ASCII. */
MU_EXPORT int mu_fmt_decimal(char *out, size_t size, double value, int min_decimals,
                             int max_decimals, char separator, int width);

/*  A price: mu_fmt_decimal with 2 to 4 decimals and ',' separators
    (3.3 gives "3.30", 3.333333 "3.3333", 1234567.5 "1,234,567.50").
    Returns what mu_fmt_decimal returns (never MU_EINVAL). */
MU_EXPORT int mu_fmt_price(char *out, size_t size, double value);

/*  mu_fmt_price right-aligned with spaces to width characters (a longer
    price is not cut). Returns what mu_fmt_decimal returns: MU_EINVAL when
    width < 0. */
MU_EXPORT int mu_fmt_price_pad(char *out, size_t size, double value, int width);

#ifdef __cplusplus
}
#endif

#endif
