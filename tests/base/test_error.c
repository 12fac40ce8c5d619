/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_error.c — the error table and mu_strerror/mu_errname. */
#include "config.h"   /* PACKAGE_VERSION: configure reads it from mu_defs.h */
#include "mu_test.h"
#include "mutil.h"

static const int all_codes[] = {
#define CODE(name, value, errno_value, message) name,
    MU_ERRORS(CODE)
#undef CODE
};
#define CODE_COUNT (sizeof all_codes / sizeof *all_codes)

static void
test_codes_are_negative_and_distinct(void)
{
    for (size_t i = 0; i < CODE_COUNT; i++) {
        MU_CHECK(all_codes[i] < 0);
        for (size_t j = i + 1; j < CODE_COUNT; j++)
            MU_CHECK(all_codes[i] != all_codes[j]);
    }
}

static void
test_errno_codes_pass_through(void)
{
    MU_CHECK_EQ(MU_EINVAL, -EINVAL);
    MU_CHECK_EQ(MU_EAGAIN, -EAGAIN);
    MU_CHECK_EQ(MU_EPIPE, -EPIPE);
    MU_CHECK(MU_ECLOSED < -1000);
    /* A code outside the table is a negated errno. */
    MU_CHECK(strcmp(mu_strerror(-EDOM), strerror(EDOM)) == 0);
    MU_CHECK(strcmp(mu_errname(-EDOM), "MU_E?") == 0);
}

static void
test_every_code_has_a_message_and_name(void)
{
    for (size_t i = 0; i < CODE_COUNT; i++) {
        const char *message = mu_strerror(all_codes[i]);
        MU_CHECK(message && *message);
        MU_CHECK(strcmp(message, "unknown error") != 0);
        MU_CHECK(strncmp(mu_errname(all_codes[i]), "MU_E", 4) == 0);
    }
    MU_CHECK(strcmp(mu_errname(MU_EPROTO), "MU_EPROTO") == 0);
    MU_CHECK(strcmp(mu_strerror(0), "success") == 0);
    MU_CHECK(strcmp(mu_strerror(-5000), "unknown error") == 0);
    MU_CHECK(strcmp(mu_strerror(7), "unknown error") == 0);
}

static void
test_nearest_errno(void)
{
    for (size_t i = 0; i < CODE_COUNT; i++) {
        int e = mu_error_errno(all_codes[i]);
        MU_CHECK(e > 0);
        if (all_codes[i] > -1000)
            MU_CHECK_EQ(e, -all_codes[i]);
    }
    MU_CHECK_EQ(mu_error_errno(MU_EAUTH), EACCES);
    MU_CHECK_EQ(mu_error_errno(MU_ECORRUPT), EBADMSG);
    MU_CHECK_EQ(mu_error_errno(MU_EADDRINUSE), EADDRINUSE);
    MU_CHECK_EQ(mu_error_errno(0), 0);
    MU_CHECK_EQ(mu_error_errno(-EDOM), EDOM);
    MU_CHECK_EQ(mu_error_errno(-5000), EINVAL);
}

static void
test_version(void)
{
    /* One version: the header's numbers, the package's and the library's. */
    int major = -1, minor = -1, patch = -1;
    MU_CHECK_EQ(sscanf(PACKAGE_VERSION, "%d.%d.%d", &major, &minor, &patch), 3);
    MU_CHECK_EQ(MU_MAKE_VERSION(major, minor, patch), MU_VERSION);
    MU_CHECK_EQ(mu_version(), MU_VERSION);
    MU_CHECK(strcmp(mu_version_string(), PACKAGE_VERSION) == 0);
}

int
main(void)
{
    mu_test_start(30);
    MU_RUN(test_codes_are_negative_and_distinct);
    MU_RUN(test_errno_codes_pass_through);
    MU_RUN(test_every_code_has_a_message_and_name);
    MU_RUN(test_nearest_errno);
    MU_RUN(test_version);
    MU_DONE();
}
