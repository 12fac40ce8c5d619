/* mu_client.c — placeholder until the module lands. */
#include "mu_internal.h"
