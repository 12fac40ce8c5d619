/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_zsocket.h — libzmq sockets opened on czmq's context without czmq's
    zsock_t, whose constructor aborts the process when libzmq refuses a
    socket (czmq 4.2 asserts on it). Every socket the library opens on its
    caller's behalf comes from here; why: doc/pipe.md, "Sockets". Never
    installed. */
#ifndef MU_ZSOCKET_H_INCLUDED
#define MU_ZSOCKET_H_INCLUDED

#include "base/mu_internal.h"
#include <czmq.h>

/*  Opens a libzmq socket of type on czmq's process context with czmq's
    process defaults (linger, high-water marks), counted and tracked by
    czmq as zsock_new's are (zsys_shutdown reports and closes one left
    open). what names the caller in the error message. Returns the handle,
    or NULL with the failure recorded (mu__fail: -EMFILE when the
    context's ZMQ_MAX_SOCKETS or the process's open-file limit is reached,
    MU_ENOMEM, or MU_EIO when the context is ending). Use the macro: it
    records the caller's file and line for czmq's leak report. */
void *mu__zsocket_open_at(int type, const char *what, const char *file, size_t line);
#define mu__zsocket_open(type, what) mu__zsocket_open_at((type), (what), __FILE__, __LINE__)

/*  Records why libzmq refused to open a socket for what (zmq_errno: a
    refused zmq_socket, or a zmq_socket_monitor that could not open its
    own) and returns the code: -EMFILE (too many sockets or open files),
    MU_ENOMEM or MU_EIO. */
int mu__zsocket_refusal(const char *what);

/*  The code of a failed zmq_bind / zmq_connect's errno err: MU_EADDRINUSE,
    -EMFILE (EMFILE or ENFILE: a listener or connection needs a file the
    process cannot open), else MU_EINVAL (a bad or unusable endpoint). */
int mu__zsocket_attach_code(int err);

/*  ": " and the detail of the last failure when rc is -EMFILE (a refusal
    recorded by mu__zsocket_refusal), else "": for a caller that records
    its own message over a refusal without losing why. */
const char *mu__zsocket_why(int rc);

/*  zmq_bind, except that a tcp:// endpoint when the process has no file
    descriptor left fails with errno EMFILE instead of reaching libzmq
    4.3.4, which aborts the process there (its interface lookup asserts).
    The check races with other threads opening files; it turns the common
    case into an error. Returns 0 or -1 with errno set. */
int mu__zsocket_bind(void *handle, const char *endpoint);

/*  The ZMQ_FD of handle (edge-triggered), read directly: czmq's zsock_fd
    first probes what kind of object it was given (a getsockopt more),
    which the wait loops of client and server would pay on every wait. */
int mu__zsocket_fd(void *handle);

/*  Closes *handle_p (nothing when NULL) and sets it to NULL. */
void mu__zsocket_close(void **handle_p);

/*  Binds or connects handle to each endpoint of a czmq endpoint list
    ("a,b,..."; a leading '@' binds, '>' connects, neither: binds when
    serverish). Returns 0, or -1 with errno (zmq_errno) set by the first
    endpoint that failed (those before it stay bound or connected). */
int mu__zsocket_attach(void *handle, const char *list, bool serverish);

/*  Opens two PAIR sockets joined over a new inproc endpoint (a thread's
    control pipe): *bound_p and *connected_p. Returns 0, or an error
    (recorded; nothing left open, both set to NULL). */
int mu__zsocket_pair(void **bound_p, void **connected_p, const char *what);

#endif
