/* mu_socket.c — placeholder until the module lands. */
#include "mu_internal.h"
