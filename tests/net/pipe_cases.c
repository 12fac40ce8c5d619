/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  pipe_cases.c — see pipe_cases.h. */
#include "pipe_cases.h"

char tmpdir[64];

/* Payload byte i of frame seq: a pattern that catches reordering and loss. */
static uint8_t
pattern(size_t seq, size_t i)
{
    return (uint8_t) (seq * 31 + i * 7 + (i >> 8));
}

uint8_t *
make_payload(size_t seq, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        buf[i] = pattern(seq, i);
    return buf;
}

bool
payload_ok(size_t seq, const void *data, size_t size, size_t want_size)
{
    if (size != want_size)
        return false;
    const uint8_t *bytes = data;
    for (size_t i = 0; i < size; i++)
        if (bytes[i] != pattern(seq, i))
            return false;
    return true;
}

int
child_status(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool
pipe_suite_begin(void)
{
    mu_test_start(240);
    return mu_test_scratch_dir(tmpdir, sizeof tmpdir, "mu_test_pipe") != NULL;
}

void
pipe_suite_end(void)
{
    zsys_shutdown();
    mu_test_remove_scratch_dir(tmpdir);
}
