# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""browser_peer.py — the publisher, the web server and the subscriber of
tests/tool/test_proxy_browser.sh, around a headless Chromium.

  python3 browser_peer.py MUTIL CHROMIUM PAGE SCRATCH-DIR

Binds a ZeroMQ XPUB (the publisher), starts `mutil proxy --upstream <it>
--bind tcp://127.0.0.1:0 --insecure --ws 0 --ws-origin <the page's origin>
--ws-publish`, serves PAGE (examples/pubsub_browser.html) from a stdlib HTTP
server that also takes the page's POSTs of what it received, and loads the
page in headless Chromium with the ws URL and the topic in the query string.
The page subscribes (its POST of {"subscribed": ...} is the signal), then
publishes once to a topic a ZeroMQ subscriber of the proxy holds; the test
publishes JSON and binary payloads (and one on a topic the page did not ask
for) and checks every message the page reports, in order. Then the same
page served from another origin (another port) must be refused: the page
reports the close and never a subscription.

Prints TAP lines (renumbered by the shell test). Every wait is on an event
(a ready line, a POST, a ZeroMQ message), bounded by MU_TEST_SCALE x
seconds. Chromium runs in a process group of its own, ended (TERM, then
KILL) whatever happens, also when this program is sent SIGTERM."""
import http.server
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import zmq

SCALE = max(1.0, float(os.environ.get("MU_TEST_SCALE", "1")))
count = 0
failed = 0


def bound(seconds):
    return seconds * SCALE


def check(name, cond, detail=None):
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok"), count, "-", name, flush=True)
    if not cond and detail is not None:
        for line in str(detail).splitlines()[:20]:
            print("#   " + line, flush=True)
    return cond


class PageServer(http.server.ThreadingHTTPServer):
    """Serves one page at /page.html and queues each POST to /report (the
    page's events, JSON) on self.events."""
    daemon_threads = True

    def __init__(self, page):
        with open(page, "rb") as f:
            self.page = f.read()
        self.events = queue.Queue()
        super().__init__(("127.0.0.1", 0), PageHandler)
        self.origin = "http://127.0.0.1:%d" % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def next_event(self, timeout):
        """The next event POSTed, waiting up to timeout (unscaled) seconds;
        None when none came."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None


class PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path != "/page.html":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.end_headers()
        self.wfile.write(self.server.page)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            self.server.events.put(json.loads(body))
        except ValueError:
            self.server.events.put({"unparsable": body.decode("utf-8", "replace")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class Chromium:
    """Headless Chromium on one URL, in its own process group (its
    renderers, zygote and GPU process are in it too)."""

    def __init__(self, binary, scratch, name, url):
        self.profile = os.path.join(scratch, name + "-profile")
        self.log = open(os.path.join(scratch, name + ".log"), "wb")
        # Chromium also writes below HOME (crash reports, dconf): the
        # scratch directory, so that nothing is left behind.
        home = os.path.join(scratch, name + "-home")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   XDG_CACHE_HOME=os.path.join(home, ".cache"))
        # --no-sandbox: Chromium refuses to run as root without it.
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--user-data-dir=" + self.profile, "--no-first-run", "--no-default-browser-check",
             "--disable-background-networking", "--disable-component-update",
             "--disable-extensions", "--disable-sync", "--mute-audio", url],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True)

    def stop(self):
        """Ends the whole group; returns True when nothing of it is left."""
        for signo, seconds in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, signo)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=bound(seconds))
            except subprocess.TimeoutExpired:
                continue
            if not group_alive(self.proc.pid):
                break
            # the main process is gone but children linger: wait for them
            deadline = time.monotonic() + bound(seconds)
            while group_alive(self.proc.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not group_alive(self.proc.pid):
                break
        self.log.close()
        return self.proc.poll() is not None and not group_alive(self.proc.pid)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def read_ready(proxy, seconds):
    """Reads the proxy's ready lines (a thread reads its stdout, so that the
    wait is bounded): returns ((ZeroMQ endpoint, ws port), the lines read),
    or (None, the lines read)."""
    lines = queue.Queue()

    def reader():
        for line in proxy.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    endpoint = ws_port = None
    seen = []
    deadline = time.monotonic() + bound(seconds)
    while endpoint is None or ws_port is None:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None, seen
        if line is None:
            return None, seen
        seen.append(line)
        for word in line.split():
            if word.startswith("tcp://"):
                endpoint = word
            elif word.startswith("ws://"):
                ws_port = int(word.rsplit(":", 1)[1].split("/")[0])
    return (endpoint, ws_port), seen


def expect_subscription(xpub, prefix, seconds):
    """Waits until the verbose XPUB reads the subscription to prefix: the
    proxy holds it then, so a message published now reaches the proxy."""
    deadline = time.monotonic() + bound(seconds)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not xpub.poll(int(left * 1000)):
            return False
        if xpub.recv() == b"\x01" + prefix:
            return True


def page_url(server, ws_port, **extra):
    query = {"ws": "ws://127.0.0.1:%d" % ws_port, "report": "/report"}
    query.update(extra)
    return server.origin + "/page.html?" + urllib.parse.urlencode(query)


def wait_for_event(server, want, seconds, seen):
    """Reads events until want(event) holds; returns it, or None."""
    deadline = time.monotonic() + bound(seconds)
    while True:
        event = server.next_event(max(0.0, deadline - time.monotonic()))
        if event is None:
            return None
        seen.append(event)
        if want(event):
            return event


# The messages the test publishes on news.* (topic, payload, what the page
# must report): JSON payloads arrive as text frames and are reported as
# {"topic", "data"}; other payloads as binary frames, reported in hex.
def messages():
    out = []
    for i in range(12):
        if i % 3 == 0:
            value = {"i": i, "text": "caf\u00e9 \u2713", "list": [1, 2.5, None, True]}
            out.append(("news.json.%d" % i, json.dumps(value).encode(), {"data": value}))
        elif i % 3 == 1:
            payload = bytes((i * 37 + k) % 256 for k in range(40)) + b"\xff\x00"
            out.append(("news.bin.%d" % i, payload, {"binary": payload.hex()}))
        else:
            payload = b"plain text, not JSON %d" % i
            out.append(("news.text.%d" % i, payload, {"binary": payload.hex()}))
    out.append(("news.string", b'"a JSON string"', {"data": "a JSON string"}))
    out.append(("news.empty", b"", {"binary": ""}))
    return out


def main():
    tool, chromium, page, scratch = sys.argv[1:5]
    ctx = zmq.Context.instance()
    xpub = ctx.socket(zmq.XPUB)
    xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
    xpub.setsockopt(zmq.LINGER, 0)
    upstream = xpub.bind_to_random_port("tcp://127.0.0.1")
    good = PageServer(page)
    other = PageServer(page)  # the same page from another origin (port)
    proxy = subprocess.Popen(
        [tool, "proxy", "--upstream", "tcp://127.0.0.1:%d" % upstream,
         "--bind", "tcp://127.0.0.1:0", "--insecure", "--ws", "0", "--ws-host", "127.0.0.1",
         "--ws-origin", good.origin, "--ws-publish"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=open(os.path.join(scratch, "proxy.err"), "w"), text=True)
    browsers = []

    def on_term(signo, frame):
        raise SystemExit(128 + signo)

    signal.signal(signal.SIGTERM, on_term)
    try:
        ready, seen = read_ready(proxy, 20)
        if not check("the proxy prints its ZeroMQ endpoint and its ws port", ready is not None,
                     "\n".join(seen)):
            return
        endpoint, ws_port = ready
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"browser.")
        sub.connect(endpoint)
        # Seen upstream (over tcp) means the proxy's XSUB has also passed it
        # over inproc to the ws front's publisher, which reads it before its
        # next publish: the page's publish will not be filtered out.
        check("a ZeroMQ subscriber's subscription reaches the publisher",
              expect_subscription(xpub, b"browser.", 20))

        browsers.append(Chromium(chromium, scratch, "good", page_url(
            good, ws_port, topic="news.", publish="browser.hello",
            data=json.dumps({"from": "the page", "n": 1}))))
        seen = []
        event = wait_for_event(good, lambda e: "subscribed" in e or "closed" in e, 60, seen)
        if not check("the page subscribes over ws and reports {\"subscribed\": \"news.\"}",
                     event == {"subscribed": "news."}, seen):
            return
        got = sub.poll(int(bound(20) * 1000)) and sub.recv_multipart()
        check("the page's publish reaches a ZeroMQ subscriber of the proxy",
              got and got[:2] == [b"browser.hello", b'{"from":"the page","n":1}'], got)
        check("the page's subscription reaches the publisher upstream",
              expect_subscription(xpub, b"news.", 20))

        sent = messages()
        for topic, payload, _ in sent[:5]:
            xpub.send_multipart([topic.encode(), payload])
        xpub.send_multipart([b"sports.score", b'{"not": "subscribed"}'])
        for topic, payload, _ in sent[5:]:
            xpub.send_multipart([topic.encode(), payload])
        xpub.send_multipart([b"news.end", b'{"end": true}'])
        seen = []
        end = wait_for_event(good, lambda e: e.get("topic") == "news.end" or "closed" in e, 60,
                             seen)
        check("the page reports the end marker", end == {"topic": "news.end", "data": {"end": True}},
              seen)
        received = [e for e in seen if "topic" in e and e.get("topic") != "news.end"]
        for (topic, _, want), got in zip(sent, received):
            want = dict(want, topic=topic)
            check("the page received %s as %s" % (topic, "binary" if "binary" in want else "JSON"),
                  got == want, "got  %s\nwant %s" % (got, want))
        check("the page received all %d messages, in order, and nothing else" % len(sent),
              len(received) == len(sent)
              and [e["topic"] for e in received] == [t for t, _, _ in sent], seen)
        check("no error reached the page", not any("error" in e or "closed" in e for e in seen),
              seen)

        # The same page from another origin: refused at the handshake.
        browsers.append(Chromium(chromium, scratch, "other", page_url(other, ws_port, topic="news.")))
        seen = []
        closed = wait_for_event(other, lambda e: "closed" in e or "subscribed" in e, 60, seen)
        check("the page from another origin is refused: it reports the close, no subscription",
              closed is not None and "closed" in closed and closed["closed"] != 1000
              and not any("subscribed" in e or "topic" in e for e in seen), seen)

        # the first page still gets messages after the refusal
        xpub.send_multipart([b"news.after", b"[1,2,3]"])
        seen = []
        after = wait_for_event(good, lambda e: "topic" in e or "closed" in e, 30, seen)
        check("the proxy serves the first page after refusing the other",
              after == {"topic": "news.after", "data": [1, 2, 3]}, seen)
    finally:
        for browser in browsers:
            check("chromium (%s) and all its processes ended" % os.path.basename(browser.profile),
                  browser.stop())
        if proxy.poll() is None:
            proxy.send_signal(signal.SIGTERM)
        try:
            rc = proxy.wait(timeout=bound(20))
        except subprocess.TimeoutExpired:
            proxy.kill()
            rc = proxy.wait()
        check("the proxy exits 0 on SIGTERM", rc == 0, "exit status %s" % rc)
        with open(os.path.join(scratch, "proxy.err")) as f:
            totals = f.read()
        check("the proxy's totals count the refused origin", "(1 origin)" in totals, totals)
        good.shutdown()
        other.shutdown()
        ctx.destroy(linger=0)
    print("1..%d" % count)


if __name__ == "__main__":
    main()
    sys.exit(1 if failed else 0)
