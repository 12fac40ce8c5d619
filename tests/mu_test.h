/*  mu_test.h — a minimal TAP test harness for libmutil's test programs.

    Each case is a void function; MU_CHECK records a failure with file:line and
    returns from the case. main() lists the cases with MU_RUN and ends with
    MU_DONE, which prints the TAP plan and returns the exit status. An alarm
    bounds the whole program so that nothing hangs the suite. */
#ifndef MU_TEST_H_INCLUDED
#define MU_TEST_H_INCLUDED

#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* pipe2, F_SETPIPE_SZ, mkdtemp in the tests */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>

static int mu_test_count;
static int mu_test_failed;
static int mu_test_case_failed;

#define MU_CHECK(cond)                                                          \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            mu_test_case_failed = 1;                                            \
            return;                                                             \
        }                                                                       \
    } while (0)

/*  Checks that an int expression equals an expected value, printing both. */
#define MU_CHECK_EQ(expr, expected)                                             \
    do {                                                                        \
        long long mu_got_ = (long long) (expr), mu_want_ = (long long) (expected); \
        if (mu_got_ != mu_want_) {                                              \
            printf("# %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
                   #expr, mu_got_, mu_want_);                                   \
            mu_test_case_failed = 1;                                            \
            return;                                                             \
        }                                                                       \
    } while (0)

#define MU_RUN(fn)                                                              \
    do {                                                                        \
        mu_test_case_failed = 0;                                                \
        fn();                                                                   \
        mu_test_count++;                                                        \
        if (mu_test_case_failed)                                                \
            mu_test_failed++;                                                   \
        printf("%s %d - %s\n", mu_test_case_failed ? "not ok" : "ok",           \
               mu_test_count, #fn);                                             \
        fflush(stdout);                                                         \
    } while (0)

#define MU_DONE()                                                               \
    do {                                                                        \
        printf("1..%d\n", mu_test_count);                                       \
        return mu_test_failed ? 1 : 0;                                          \
    } while (0)

/*  Bounds the test program's run time; call first in main(). */
static inline void
mu_test_start(unsigned seconds)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(seconds);
}

#endif
