/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_version.c — the library's version at run time. */
#include "base/mu_internal.h"

int
mu_version(void)
{
    return MU_VERSION;
}

const char *
mu_version_string(void)
{
    return PACKAGE_VERSION;
}
