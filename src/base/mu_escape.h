/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_escape.h — private: the library's names for the public mu_escape
    (include/mu_text.h, where the contract is). Library code may include
    either; the tool and users include <mu_text.h>. */
#ifndef MU_ESCAPE_H_INCLUDED
#define MU_ESCAPE_H_INCLUDED

#include "mu_text.h"

#define MU__ESCAPE_ROOM(n) MU_ESCAPE_ROOM(n)
#define mu__escape mu_escape

#endif
