/*  mu_socket.h — smart socket (placeholder until the module lands). */
#ifndef MU_SOCKET_H_INCLUDED
#define MU_SOCKET_H_INCLUDED
#include "mu_defs.h"
#include "mu_error.h"
#endif
