#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""pty_run.py COLUMNS COMMAND [ARG...] -- runs COMMAND with its standard
output and error on a pseudo-terminal COLUMNS wide (stdin from /dev/null),
copies what it wrote to our standard output (CR LF turned back into LF) and
exits with its exit status. Lets shell tests see what a user's terminal
shows: tables fitted to the width, progress bars."""
import fcntl
import os
import struct
import sys
import termios


def main():
    columns = int(sys.argv[1])
    pid, master = os.forkpty()
    if pid == 0:
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.environ.pop("COLUMNS", None)
        try:
            os.execvp(sys.argv[2], sys.argv[2:])
        finally:
            os._exit(127)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:      # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(b"".join(chunks).replace(b"\r\n", b"\n"))
    sys.exit(os.waitstatus_to_exitcode(status))


main()
