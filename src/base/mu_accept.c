/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_accept.c — a listening socket out of resources. The contract is in
    src/base/mu_accept.h. */
#include "base/mu_accept.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

bool
mu__accept_out_of_resources(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

void
mu__accept_warning(char *buf, size_t size, int err, uint64_t before)
{
    struct rlimit lim = { 0 };
    (void) getrlimit(RLIMIT_NOFILE, &lim);
    char more[64] = "";
    if (before > 0)
        snprintf(more, sizeof more, " (%llu such bursts before not logged)",
                 (unsigned long long) before);
    snprintf(buf, size,
             "cannot accept a client: %s (open-file limit %llu); the listening socket rests %d "
             "ms at a time until one is accepted%s",
             strerror(err), (unsigned long long) lim.rlim_cur, MU__ACCEPT_PAUSE_MS, more);
}
