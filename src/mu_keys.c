/* mu_keys.c — placeholder until the module lands. */
#include "mu_internal.h"
