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
static _Thread_local size_t detail_at; /* where the detail starts in last_message */
static _Thread_local unsigned long fail_count;

const char *
mu_strerror(int code)
{
    switch (code) {
#define MU__ERROR_MESSAGE(name, value, errno_value, message) \
    case name:                                               \
        return message;
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
#define MU__ERROR_NAME(name, value, errno_value, message) \
    case name:                                            \
        return #name;
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
#define MU__ERROR_ERRNO(name, value, errno_value, message) \
    case name:                                             \
        return errno_value;
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

const char *
mu__last_detail(void)
{
    return last_message + detail_at;
}

unsigned long
mu__fail_count(void)
{
    return fail_count;
}

const char *
mu__detail_since(unsigned long fails, int code)
{
    return fail_count != fails && last_code == code && detail_at < strlen(last_message)
               ? last_message + detail_at
               : NULL;
}

int
mu__vfail(int code, const char *fmt, va_list ap)
{
    /* The detail is formatted apart first: an argument may be the previous
       mu_last_error() or mu__last_detail() itself. */
    char detail[DETAIL_MAX] = "";
    if (fmt)
        vsnprintf(detail, sizeof detail, fmt, ap);
    const char *message = mu_strerror(code);
    last_code = code;
    fail_count++;
    int n = snprintf(last_message, sizeof last_message, "%s%s%s", message, *detail ? ": " : "",
                     detail);
    size_t prefix = strlen(message) + 2;
    detail_at = *detail && n > 0 && prefix < sizeof last_message ? prefix : strlen(last_message);
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
