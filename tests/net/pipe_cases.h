/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  pipe_cases.h — what the test_pipe and test_pipe_zmq programs share:
    the scratch directory, numbered payloads and their checks, a child's
    exit status, and the program's start and end. */
#ifndef PIPE_CASES_H_INCLUDED
#define PIPE_CASES_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>

extern char tmpdir[64];

uint8_t *make_payload(size_t seq, size_t size);

bool payload_ok(size_t seq, const void *data, size_t size, size_t want_size);

/* Waits for a child and returns its exit status, or -1 when it did not exit
   normally. */
int child_status(pid_t pid);

/*  Starts a test program: bounds its run time and makes the scratch
    directory. Returns false when it cannot. */
bool pipe_suite_begin(void);

/*  Ends a test program: shuts ZeroMQ down, removes the scratch directory. */
void pipe_suite_end(void);

#endif
