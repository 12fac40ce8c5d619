/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_defs.h — version, symbol export and compiler-help macros shared by every
    public header. Included by each module header; users include <mutil.h>. */
#ifndef MU_DEFS_H_INCLUDED
#define MU_DEFS_H_INCLUDED

/*  The package's version: the one place it is kept (configure reads it from
    here; mu_version_string() returns the same as "MAJOR.MINOR.PATCH"). */
#define MU_VERSION_MAJOR 0
#define MU_VERSION_MINOR 1
#define MU_VERSION_PATCH 0
#define MU_MAKE_VERSION(major, minor, patch) ((major) *10000 + (minor) *100 + (patch))
#define MU_VERSION MU_MAKE_VERSION(MU_VERSION_MAJOR, MU_VERSION_MINOR, MU_VERSION_PATCH)

/*  Symbols are hidden by default (-fvisibility=hidden); MU_EXPORT marks the
    public API. */
#if defined(__GNUC__) || defined(__clang__)
#define MU_EXPORT __attribute__((visibility("default")))
#define MU_NODISCARD __attribute__((warn_unused_result))
#define MU_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define MU_EXPORT
#define MU_NODISCARD
#define MU_PRINTF(fmt_index, first_arg)
#endif

#endif
