/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_error.c — error messages and errno equivalents from the single
    X-macro table in mu_error.h, and the calling thread's last failure. */
#include "base/mu_internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DETAIL_MAX 512

static _Thread_local int last_code;
static _Thread_local char last_message[DETAIL_MAX];

const char *
mu_strerror(int code)
{
    switch (code) {
#define MU__ERROR_MESSAGE(name, value, errno_value, message) case name: return message;
        MU_ERRORS(MU__ERROR_MESSAGE)
#undef MU__ERROR_MESSAGE
    case 0:
        return "success";
    default:
        return code < 0 && code > -1000 ? strerror(-code) : "unknown error";
    }
}

const char *
mu_errname(int code)
{
    switch (code) {
#define MU__ERROR_NAME(name, value, errno_value, message) case name: return #name;
        MU_ERRORS(MU__ERROR_NAME)
#undef MU__ERROR_NAME
    case 0:
        return "MU_OK";
    default:
        return "MU_E?";
    }
}

int
mu_error_errno(int code)
{
    switch (code) {
#define MU__ERROR_ERRNO(name, value, errno_value, message) case name: return errno_value;
        MU_ERRORS(MU__ERROR_ERRNO)
#undef MU__ERROR_ERRNO
    case 0:
        return 0;
    default:
        return code < 0 && code > -1000 ? -code : EINVAL;
    }
}

int
mu_last_code(void)
{
    return last_code;
}

const char *
mu_last_error(void)
{
    return last_message;
}

int
mu__vfail(int code, const char *fmt, va_list ap)
{
    last_code = code;
    int n = snprintf(last_message, sizeof last_message, "%s", mu_strerror(code));
    if (fmt && n > 0 && (size_t) n + 2 < sizeof last_message) {
        strcpy(last_message + n, ": ");
        vsnprintf(last_message + n + 2, sizeof last_message - (size_t) n - 2, fmt, ap);
    }
    return code;
}

int
mu__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mu__vfail(code, fmt, ap);
    va_end(ap);
    return code;
}

void *
mu__fail_null(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mu__vfail(code, fmt, ap);
    va_end(ap);
    errno = mu_error_errno(code);
    return NULL;
}
