/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  keys_cases.h — what the test_keys* programs (test_keys, test_keys_allow,
    test_keys_zap) share: scratch paths and files, comparing keypairs,
    loading as another user, ZAP servers and clients over tcp://127.0.0.1,
    and the program's start and end. */
#ifndef KEYS_CASES_H_INCLUDED
#define KEYS_CASES_H_INCLUDED

#include "mu_test.h"
#include "net/mu_zap.h"
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

extern char tmpdir[64];

/*  tmpdir/name in a static buffer (one of four, so several may be live). */
const char *tmp_path(const char *name);

/*  Writes path with mode 0600 (secrets must be private; tests that want
    another mode chmod it). */
int write_text(const char *path, const char *text, size_t size);

int write_str(const char *path, const char *text);

/*  Runs fn(path) without the power to bypass file modes and returns its
    result (a positive errno, at most 255). Root reads any file, so for
    root (as in the CI) fn runs in a forked child that became "nobody"; the
    child touches no ZeroMQ and leaves with _exit. Others run fn here. */
int without_root(int (*fn)(const char *), const char *path);

/* ---- ZAP ----------------------------------------------------------------------- */

/*  A ROUTER server in domain (CURVE with keys, or NULL when keys is NULL),
    bound to an ephemeral port (*port_p). */
zsock_t *make_server(const mu_keys_t *keys, const mu__zap_domain_t *domain, int *port_p);

/*  A DEALER client (CURVE when keys is not NULL) connected to port, that
    has sent one message "hello". */
zsock_t *make_client(const mu_keys_t *keys, const uint8_t *server_public, int port);

/*  Waits up to timeout_ms for [identity, "hello"] on router and copies the
    User-Id property of the payload (or "(none)") into user_id. Returns 1
    when the message arrived, 0 on time-out. */
int receive_hello(zsock_t *router, int timeout_ms, char *user_id, size_t cap);

/*  Starts a test program: bounds its run time, keeps czmq's signal
    handlers out, makes the scratch directory. Returns false (after a TAP
    "Bail out!") when the directory cannot be made. */
bool keys_suite_begin(void);

/*  Ends a test program: removes the scratch directory. */
void keys_suite_end(void);

#endif
