/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  files_cases.h — what the test_files* programs (test_files,
    test_files_paths, test_files_fail, test_files_raw) share: test files and
    their digests, the scratch root and local directories, the manager
    process that forks servers and client jobs, a server and client fixture,
    and the program's start and end.

    Servers (and the client that runs under RLIMIT_FSIZE) are processes
    forked by a "manager" that files_suite_begin() forks before the program
    touches ZeroMQ, so every server starts from a clean, fork-safe state —
    also the ones restarted after a SIGKILL in the middle of a test. */
#ifndef FILES_CASES_H_INCLUDED
#define FILES_CASES_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"
#include <czmq.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <xxhash.h>

#define SECRET "test-files shared secret"

#define CHUNK (256 * 1024) /* the default chunk size */

#define MIB (1024 * 1024)

extern char tmpdir[64];

extern char root[300], local_dir[300];

/* ------------------------------------------------------------------ */
/* Files                                                               */

uint8_t pattern(uint64_t seed, uint64_t i);

/* Writes size pattern bytes to path. */
bool make_file(const char *path, uint64_t size, uint64_t seed);

bool same_content(const char *a, const char *b);

bool exists(const char *path);

off_t file_size(const char *path);

/* Counts the temporary files (".part-" / ".partial") in dir, removing
   them when remove is set (then counts those removed); -1 without dir. */
int temp_files(const char *dir, bool remove);

int count_temp(const char *dir);

/* Waits up to ms (scaled) for dir to hold no temporary file. */
bool temp_gone(const char *dir, int ms);

const char *in_root(char *buf, const char *name);

const char *in_local(char *buf, const char *name);

/* ------------------------------------------------------------------ */
/* The manager: forks servers and client jobs on request               */

typedef enum { OP_SERVER = 1, OP_JOB_GET_FSIZE, OP_KILL, OP_WAIT, OP_QUIT } op_t;

typedef struct {
    op_t op;
    int secure, walk, sig;
    long fsize; /* RLIMIT_FSIZE for the child (0 = none) */
    pid_t pid;
    char endpoint[300], path_a[512], path_b[512];
} cmd_t;

long manager_call(cmd_t *c);

/* A fresh ipc endpoint in the test directory. */
void new_endpoint(char *buf, size_t cap);

/* Starts a server on endpoint serving the test root. */
pid_t server_start(const char *endpoint, int secure, int walk, long fsize);

/* Stops a server (or job) with sig and returns its wait status. */
long child_kill(pid_t pid, int sig);

mu_client_t *client_open(const char *endpoint, int secure);

/* A server and a client connected to it, for one test case. */
typedef struct {
    char endpoint[300];
    pid_t pid;
    mu_client_t *client;
} fixture_t;

bool fixture_open(fixture_t *f, int secure, int walk, long fsize);

void fixture_close(fixture_t *f);

/*  Starts a test program: bounds its run time, makes the scratch root and
    local directories, and forks the manager before the program touches
    ZeroMQ. Returns false when any of that fails. */
bool files_suite_begin(void);

/*  Ends a test program: stops the manager, shuts ZeroMQ down, removes the
    scratch directory. */
void files_suite_end(void);

#endif
