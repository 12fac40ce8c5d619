/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_numeric.c — mu_round_step and the decimal / price formatting of
    include/mu_numeric.h: the seed README's examples and the edges
    (negatives, huge values, NaN, infinities, -0.0, small buffers, every
    MU_EINVAL). */
#include "mu_test.h"
#include "mutil.h"
#include <math.h>
#include <stdbool.h>

/* Rounds x to step in mode and compares the result, printed with %.17g
   trimmed by %g's shortest form, to want exactly. */
static bool
rounds_to(double x, double step, mu_round_t mode, double want)
{
    double got = NAN;
    int rc = mu_round_step(x, step, mode, &got);
    if (rc != 0 || got != want || signbit(got) != signbit(want)) {
        printf("# round(%.17g, %.17g, %d) = %.17g (rc %d), expected %.17g\n", x, step, (int) mode,
               got, rc, want);
        return false;
    }
    return true;
}

/* The seed's "round near a multiple of 0.07" examples. */
static void
test_seed_rounding(void)
{
    MU_CHECK(rounds_to(0.24, 0.07, MU_ROUND_UP, 0.28));
    MU_CHECK(rounds_to(0.01, 0.07, MU_ROUND_UP, 0.07));
    MU_CHECK(rounds_to(-0.01, 0.07, MU_ROUND_UP, 0.0)); /* +0.0, not -0.0 */
    MU_CHECK(rounds_to(0.24, 0.07, MU_ROUND_DOWN, 0.21));
    MU_CHECK(rounds_to(0.01, 0.07, MU_ROUND_DOWN, 0.0));
    MU_CHECK(rounds_to(-0.01, 0.07, MU_ROUND_DOWN, -0.07));
}

/* Nearest, ties away from zero, and binary error never shifting a value
   that is already a multiple. */
static void
test_rounding_edges(void)
{
    MU_CHECK(rounds_to(3.3, 0.1, MU_ROUND_NEAREST, 3.3));
    MU_CHECK(rounds_to(3.3, 0.1, MU_ROUND_DOWN, 3.3));
    MU_CHECK(rounds_to(3.3, 0.1, MU_ROUND_UP, 3.3));
    MU_CHECK(rounds_to(0.21, 0.07, MU_ROUND_DOWN, 0.21));
    MU_CHECK(rounds_to(0.28, 0.07, MU_ROUND_UP, 0.28));
    MU_CHECK(rounds_to(1.12, 0.05, MU_ROUND_NEAREST, 1.1));
    MU_CHECK(rounds_to(1.13, 0.05, MU_ROUND_NEAREST, 1.15));
    MU_CHECK(rounds_to(1.125, 0.25, MU_ROUND_NEAREST, 1.25)); /* exact tie: away from 0 */
    MU_CHECK(rounds_to(-1.125, 0.25, MU_ROUND_NEAREST, -1.25));
    MU_CHECK(rounds_to(-2.6, 0.5, MU_ROUND_DOWN, -3.0));
    MU_CHECK(rounds_to(-2.6, 0.5, MU_ROUND_UP, -2.5));
    MU_CHECK(rounds_to(17, 5, MU_ROUND_NEAREST, 15));
    MU_CHECK(rounds_to(-0.0, 0.5, MU_ROUND_NEAREST, 0.0));
    /* The result prints as the step's decimals would suggest. */
    double r = 0;
    MU_CHECK_EQ(mu_round_step(0.1 + 0.2, 0.1, MU_ROUND_NEAREST, &r), 0);
    char text[32];
    snprintf(text, sizeof text, "%.17g", r);
    MU_CHECK(strcmp(text, "0.29999999999999999") == 0); /* the double nearest 0.3 */
    MU_CHECK(r == 0.3);
    /* NaN, infinities and values too large for the step pass through. */
    MU_CHECK_EQ(mu_round_step(NAN, 0.1, MU_ROUND_UP, &r), 0);
    MU_CHECK(isnan(r));
    MU_CHECK(rounds_to(INFINITY, 0.1, MU_ROUND_DOWN, INFINITY));
    MU_CHECK(rounds_to(-INFINITY, 0.1, MU_ROUND_UP, -INFINITY));
    MU_CHECK(rounds_to(1e300, 0.01, MU_ROUND_UP, 1e300));
    MU_CHECK(rounds_to(1e300, 1e-300, MU_ROUND_DOWN, 1e300)); /* quotient overflows */
}

/* Every MU_EINVAL of mu_round_step, nothing stored. */
static void
test_rounding_errors(void)
{
    double r = 42;
    MU_CHECK_EQ(mu_round_step(1, 0, MU_ROUND_NEAREST, &r), MU_EINVAL);
    MU_CHECK_EQ(mu_round_step(1, -0.5, MU_ROUND_NEAREST, &r), MU_EINVAL);
    MU_CHECK_EQ(mu_round_step(1, NAN, MU_ROUND_NEAREST, &r), MU_EINVAL);
    MU_CHECK_EQ(mu_round_step(1, INFINITY, MU_ROUND_NEAREST, &r), MU_EINVAL);
    MU_CHECK_EQ(mu_round_step(1, 0.5, (mu_round_t) 3, &r), MU_EINVAL);
    MU_CHECK(r == 42);
}

/* Formats with mu_fmt_decimal into a buffer of cap bytes, checks the
   returned length against the full text and the buffer against want. */
static bool
formats_to(double value, int min, int max, char sep, int width, size_t cap, const char *full,
           const char *want)
{
    char out[600];
    memset(out, 'Z', sizeof out);
    int n = mu_fmt_decimal(cap ? out : NULL, cap, value, min, max, sep, width);
    bool ok = n == (int) strlen(full) && (cap == 0 ? out[0] == 'Z' : strcmp(out, want) == 0);
    if (!ok)
        printf("# fmt(%.17g, %d, %d, '%c', %d, cap %zu) = %d \"%.*s\", expected %zu \"%s\"\n",
               value, min, max, sep ? sep : '0', width, cap, n, cap ? (int) cap : 0, out,
               strlen(full), want);
    return ok;
}

static bool
price_is(double value, const char *want)
{
    char out[600];
    int n = mu_fmt_price(out, sizeof out, value);
    if (n != (int) strlen(want) || strcmp(out, want) != 0) {
        printf("# price(%.17g) = %d \"%s\", expected \"%s\"\n", value, n, out, want);
        return false;
    }
    return true;
}

/* The seed's fmtPrice / fmtPricePad examples and the brief's. */
static void
test_seed_prices(void)
{
    MU_CHECK(price_is(3.333333333333, "3.3333"));
    MU_CHECK(price_is(800000222222.333777777777777, "800,000,222,222.3337"));
    MU_CHECK(price_is(3.3, "3.30"));
    MU_CHECK(price_is(3.6642100003, "3.6642"));
    MU_CHECK(price_is(1234567.5, "1,234,567.50"));
    MU_CHECK(price_is(3.12345, "3.1235"));
    MU_CHECK(price_is(3, "3.00"));
    MU_CHECK(price_is(999.99999, "1,000.00"));
    MU_CHECK(price_is(123.0, "123.00"));
    MU_CHECK(price_is(100000, "100,000.00"));
    char out[64];
    MU_CHECK_EQ(mu_fmt_price_pad(out, sizeof out, 3.333333333333, 10), 10);
    MU_CHECK(strcmp(out, "    3.3333") == 0);
    /* The seed pads this one to 28 (its "30" is a typo: 8 spaces + 20). */
    MU_CHECK_EQ(mu_fmt_price_pad(out, sizeof out, 800000222222.333777777777777, 28), 28);
    MU_CHECK(strcmp(out, "        800,000,222,222.3337") == 0);
    MU_CHECK_EQ(mu_fmt_price_pad(out, sizeof out, 1234.5, 3), 8); /* never cut */
    MU_CHECK(strcmp(out, "1,234.50") == 0);
    MU_CHECK_EQ(mu_fmt_price_pad(out, sizeof out, 1, 0), 4);
    MU_CHECK(strcmp(out, "1.00") == 0);
}

/* Negatives, -0.0, NaN, infinities, huge values, other decimal ranges. */
static void
test_format_edges(void)
{
    MU_CHECK(price_is(-1234.5, "-1,234.50"));
    MU_CHECK(price_is(-123.456789, "-123.4568"));
    MU_CHECK(price_is(-0.0, "0.00"));
    MU_CHECK(price_is(-0.00001, "0.00"));
    MU_CHECK(price_is(-0.00005, "-0.0001")); /* the double is just below -0.00005 */
    MU_CHECK(price_is(NAN, "nan"));
    MU_CHECK(price_is(-NAN, "nan"));
    MU_CHECK(price_is(INFINITY, "inf"));
    MU_CHECK(price_is(-INFINITY, "-inf"));
    MU_CHECK(price_is(1e15, "1,000,000,000,000,000.00"));
    char huge[600];
    int n = mu_fmt_price(huge, sizeof huge, 1e300);
    MU_CHECK_EQ(n, 301 + 100 + 3); /* 301 digits, 100 commas, ".00" */
    MU_CHECK_EQ((int) strlen(huge), n);
    MU_CHECK(strncmp(huge, "1,000,000,000,000,0", 19) == 0);
    MU_CHECK(strcmp(huge + n - 3, ".00") == 0);
    n = mu_fmt_decimal(huge, sizeof huge, -1.7976931348623157e308, 0, MU_FMT_MAX_DECIMALS, ',', 0);
    MU_CHECK_EQ(n, 1 + 309 + 102);
    MU_CHECK(strncmp(huge, "-179,769,313,486,231,570,8", 26) == 0);
    MU_CHECK(formats_to(1234567.891, 0, 0, '\0', 0, 64, "1234568", "1234568"));
    MU_CHECK(formats_to(0.5, 0, 0, '\0', 0, 64, "0", "0")); /* %.0f: tie to even */
    MU_CHECK(formats_to(2.5, 0, 1, '\0', 0, 64, "2.5", "2.5"));
    MU_CHECK(formats_to(2.0, 0, 3, '\0', 0, 64, "2", "2"));
    MU_CHECK(formats_to(1234567.25, 1, 3, ' ', 0, 64, "1 234 567.25", "1 234 567.25"));
    MU_CHECK(formats_to(1234567.25, 1, 3, '\'', 14, 64, "  1'234'567.25", "  1'234'567.25"));
    MU_CHECK(formats_to(0.1, 17, 17, '\0', 0, 64, "0.10000000000000001", "0.10000000000000001"));
    MU_CHECK(formats_to(NAN, 2, 4, ',', 6, 64, "   nan", "   nan"));
    MU_CHECK(formats_to(-INFINITY, 2, 4, ',', 6, 64, "  -inf", "  -inf"));
}

/* A small buffer: snprintf-like length, always NUL-terminated, size 0
   writes nothing. */
static void
test_truncation(void)
{
    const char *full = "1,234,567.50";
    MU_CHECK(formats_to(1234567.5, 2, 4, ',', 0, 0, full, ""));
    MU_CHECK(formats_to(1234567.5, 2, 4, ',', 0, 1, full, ""));
    MU_CHECK(formats_to(1234567.5, 2, 4, ',', 0, 2, full, "1"));
    MU_CHECK(formats_to(1234567.5, 2, 4, ',', 0, 6, full, "1,234"));
    MU_CHECK(formats_to(1234567.5, 2, 4, ',', 0, 12, full, "1,234,567.5"));
    MU_CHECK(formats_to(1234567.5, 2, 4, ',', 0, 13, full, full));
    MU_CHECK(formats_to(-1.5, 2, 4, ',', 8, 4, "   -1.50", "   "));
    MU_CHECK(formats_to(NAN, 2, 4, ',', 0, 3, "nan", "na"));
}

/* Every MU_EINVAL of mu_fmt_decimal / mu_fmt_price_pad: nothing written. */
static void
test_format_errors(void)
{
    char out[16] = "untouched";
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, -1, 2, ',', 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 3, 2, ',', 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 2, MU_FMT_MAX_DECIMALS + 1, ',', 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 2, 4, ',', -1), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 2, 4, '5', 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 2, 4, '-', 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 2, 4, '.', 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 2, 4, '\n', 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_decimal(out, sizeof out, 1, 2, 4, (char) 0xc3, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_fmt_price_pad(out, sizeof out, 1, -5), MU_EINVAL);
    MU_CHECK(strcmp(out, "untouched") == 0);
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_seed_rounding);
    MU_RUN(test_rounding_edges);
    MU_RUN(test_rounding_errors);
    MU_RUN(test_seed_prices);
    MU_RUN(test_format_edges);
    MU_RUN(test_truncation);
    MU_RUN(test_format_errors);
    MU_DONE();
}
