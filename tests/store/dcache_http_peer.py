#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""A tiny HTTP server for test_dcache: listens on 127.0.0.1 (a free port),
prints "READY <port>" on stdout once it accepts, and counts the requests per
path. Paths:
  /count?p=PATH   the number of GETs of PATH so far (not counted itself)
  /missing        404
  /slow           answers after 60 s (for the client's timeout)
  /big            1 MiB of 'x'
  /gate           answers after 0.3 s (concurrent callers overlap)
  anything else   200, body "body of PATH"
Runs until killed."""
import http.server
import sys
import threading
import time
import urllib.parse

counts = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/count":
            p = urllib.parse.parse_qs(url.query).get("p", [""])[0]
            with lock:
                n = counts.get(p, 0)
            return self.reply(200, str(n).encode())
        with lock:
            counts[url.path] = counts.get(url.path, 0) + 1
        if url.path == "/missing":
            return self.reply(404, b"not here")
        if url.path == "/slow":
            time.sleep(60)
            return self.reply(200, b"late")
        if url.path == "/big":
            return self.reply(200, b"x" * (1 << 20))
        if url.path == "/gate":
            time.sleep(0.3)
        self.reply(200, ("body of " + url.path).encode())


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("READY %d" % server.server_address[1], flush=True)
server.serve_forever()
