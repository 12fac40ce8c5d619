/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  shard_cases.h — what the test_shard* programs (test_shard,
    test_shard_errors, test_shard_procs) share: the scratch root and fresh
    store directories, the (str, int, bytes) store most cases open, packed
    values, and the program's start and end. */
#ifndef SHARD_CASES_H_INCLUDED
#define SHARD_CASES_H_INCLUDED

#include "mu_test.h"
#include "mutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

/*  A fresh directory path (not created) under the test's temp root. */
const char *new_dir(char *buf, size_t cap);

/*  Options of the (str, int, bytes) store most tests use. */
mu_shard_opts_t opts3(size_t shards);

/*  Opens a new store of opts3(shards) in a fresh directory whose path goes
    into dir (cap bytes). Returns the store or NULL. */
mu_shard_t *open_new3(char *dir, size_t cap, size_t shards);

/*  Packs a map {"n": n, "s": text} into a new buffer. */
void *pack_value(int64_t n, const char *text, size_t *size_p);

/*  Reads back {"n": n, ...} and returns n, or INT64_MIN on any failure. */
int64_t value_n(const void *data, size_t size);

/*  A long text that compresses well. */
const char *long_text(void);

/*  Starts a test program: bounds its run time and makes the scratch root.
    Returns false (after a message) when the root cannot be made. */
bool shard_suite_begin(void);

/*  Ends a test program: removes the scratch root, prints the tally. */
void shard_suite_end(void);

#endif
