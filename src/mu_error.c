/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_error.c — error messages from the single X-macro table in mu_error.h. */
#include "mu_internal.h"
#include <string.h>

const char *
mu_strerror(int code)
{
    switch (code) {
#define MU__ERROR_MESSAGE(name, value, message) case name: return message;
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
#define MU__ERROR_NAME(name, value, message) case name: return #name;
        MU_ERRORS(MU__ERROR_NAME)
#undef MU__ERROR_NAME
    case 0:
        return "MU_OK";
    default:
        return "MU_E?";
    }
}
