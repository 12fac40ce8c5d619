/* mu_conn.c — placeholder until the module lands. */
#include "mu_conn.h"
