# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""proxy_peer.py — the publisher and subscriber of tests/tool/test_proxy_cli.sh.

Binds a ZeroMQ XPUB, starts `mutil proxy --upstream <it> --bind
tcp://127.0.0.1:0 --insecure`, reads the endpoint it prints, subscribes
through it, publishes, unsubscribes, then sends the proxy SIGTERM (or
SIGINT) and checks it exits 0 with its totals. Prints TAP lines; every
wait is on an event, bounded by MU_TEST_SCALE x seconds."""
import os
import signal
import subprocess
import sys

import zmq
import zmq.auth

SCALE = max(1.0, float(os.environ.get("MU_TEST_SCALE", "1")))
MS = int(5000 * SCALE)
count = 0
failed = 0


def check(name, cond):
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok"), count, "-", name, flush=True)


def expect_subscription(xpub, want):
    if not xpub.poll(MS):
        return False
    return xpub.recv() == want


def curve_server(sock, cert):
    public, secret = zmq.auth.load_certificate(cert + "_secret")
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_server = True


def curve_client(sock, cert, server_cert):
    public, secret = zmq.auth.load_certificate(cert + "_secret")
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_serverkey = zmq.auth.load_certificate(server_cert)[0]


def run(tool, signo, certs=None):
    """certs: None (--insecure) or the directory of the certs pub, proxy,
    sub (in allow/) and stranger made by mutil keygen."""
    ctx = zmq.Context.instance()
    xpub = ctx.socket(zmq.XPUB)
    xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
    keys = ["--insecure"]
    if certs:
        curve_server(xpub, certs + "/pub")  # no ZAP handler here: any client key
        keys = ["--cert", certs + "/proxy", "--server-key", certs + "/pub",
                "--allow", certs + "/allow"]
    port = xpub.bind_to_random_port("tcp://127.0.0.1")
    proxy = subprocess.Popen([tool, "proxy", "--upstream", "tcp://127.0.0.1:%d" % port,
                              "--bind", "tcp://127.0.0.1:0"] + keys,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proxy.stdout.readline().strip()
        check("the proxy prints its bound endpoint", line.startswith("tcp://127.0.0.1:")
              and not line.endswith(":0"))
        subs = [ctx.socket(zmq.SUB) for _ in range(2)]
        for s in subs:
            if certs:
                curve_client(s, certs + "/allow/sub", certs + "/proxy")
            s.connect(line)
        if certs:
            stranger = ctx.socket(zmq.SUB)
            curve_client(stranger, certs + "/stranger", certs + "/proxy")
            stranger.setsockopt(zmq.SUBSCRIBE, b"")
            stranger.connect(line)
        subs[0].setsockopt(zmq.SUBSCRIBE, b"news.")
        check("a subscription goes upstream", expect_subscription(xpub, b"\x01news."))
        subs[1].setsockopt(zmq.SUBSCRIBE, b"news.")
        check("a second one too (for last-value caches)",
              expect_subscription(xpub, b"\x01news."))
        xpub.send_multipart([b"news.a", b"hello"])
        xpub.send_multipart([b"other", b"x"])
        for i, s in enumerate(subs):
            got = s.recv_multipart() if s.poll(MS) else None
            check("subscriber %d gets the message" % i, got == [b"news.a", b"hello"])
        subs[0].setsockopt(zmq.UNSUBSCRIBE, b"news.")
        subs[0].setsockopt(zmq.SUBSCRIBE, b"mark")  # after the unsubscribe, same pipe
        check("one unsubscribe of two stays below the proxy",
              expect_subscription(xpub, b"\x01mark"))
        subs[1].setsockopt(zmq.UNSUBSCRIBE, b"news.")
        check("the last unsubscribe goes upstream", expect_subscription(xpub, b"\x00news."))
        if certs:
            check("a stranger's key got nothing", not stranger.poll(0))
            stranger.close(0)
        for s in subs:
            s.close(0)
        proxy.send_signal(signo)
        try:
            rc = proxy.wait(MS / 1000)
        except subprocess.TimeoutExpired:
            rc = None
        err = proxy.stderr.read()
        check("%s ends it with status 0" % signal.Signals(signo).name, rc == 0)
        check("with its totals", "1 messages" in err and "3 subscribes" in err)
        if certs:
            check("and the stranger counted", "0 auth failures" not in err)
    finally:
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait()
        xpub.close(0)


def main():
    tool = sys.argv[1]
    run(tool, signal.SIGTERM)
    run(tool, signal.SIGINT)
    if len(sys.argv) > 2:
        run(tool, signal.SIGTERM, sys.argv[2])
    print("1..%d" % count)
    sys.exit(1 if failed else 0)


main()
