#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_proxy_browser.sh — TAP test of `mutil proxy --ws` with a real
# browser: tests/tool/browser_peer.py serves examples/pubsub_browser.html
# and loads it in headless Chromium, which subscribes over WebSocket and
# POSTs back what it receives (JSON and binary payloads published upstream,
# each checked) and publishes once to a ZeroMQ subscriber; the same page
# from another origin is refused. First, that README.md's ```js excerpt is
# the page's code: each of its lines is one of the page's. The browser part
# is skipped (one TAP SKIP line) only when there is no Chromium
# (./quickstart test installs Debian's `chromium` when it can) or no python3
# with zmq.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir,
# PYTHON3, CHROMIUM (default: chromium on PATH, then /usr/bin/chromium).
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 240 "$0" "$@"
tap_begin mutil-proxy-browser

chromium=
for candidate in "${CHROMIUM:-}" "$(command -v chromium 2>/dev/null)" /usr/bin/chromium; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        chromium=$candidate
        break
    fi
done
# The configured python3, else Debian's (which has python3-zmq when installed).
py=
for candidate in "${PYTHON3:-}" /usr/bin/python3; do
    if [ -n "$candidate" ] && "$candidate" -c "import zmq" 2>/dev/null; then
        py=$candidate
        break
    fi
done

# README.md's JavaScript, line by line (indentation aside), is the example's.
page="${top_srcdir:-.}/examples/pubsub_browser.html"
awk '/^```js[ \t]*$/ { injs = 1; next } injs && /^```/ { injs = 0 } injs' \
    "${top_srcdir:-.}/README.md" | sed 's/^[ \t]*//; /^$/d' >"$tmp/readme.js"
sed 's/^[ \t]*//' "$page" >"$tmp/page.lines"
: >"$tmp/err"
while IFS= read -r line; do
    grep -q -x -F -e "$line" "$tmp/page.lines" || echo "not in the page: $line" >>"$tmp/err"
done <"$tmp/readme.js"
rc=0
if [ -s "$tmp/readme.js" ] && [ ! -s "$tmp/err" ]; then
    ok "README.md's JavaScript is examples/pubsub_browser.html's code"
else
    [ -s "$tmp/readme.js" ] || echo "no \`\`\`js block in README.md" >"$tmp/err"
    not_ok "README.md's JavaScript is examples/pubsub_browser.html's code"
fi
rm -f "$tmp/err"

if [ -z "$chromium" ]; then
    skip "a browser subscribes through mutil proxy --ws" \
        "no Chromium (apt-get install --no-install-recommends chromium, or set CHROMIUM)"
elif [ -z "$py" ]; then
    skip "a browser subscribes through mutil proxy --ws" "no python3 with zmq (apt-get install python3-zmq)"
else
    "$py" "${top_srcdir:-.}/tests/tool/browser_peer.py" "$MUTIL" "$chromium" \
        "${top_srcdir:-.}/examples/pubsub_browser.html" "$tmp" >"$tmp/peer" 2>"$tmp/peer.err"
    prc=$?
    rc=$prc
    tap_renumber "$tmp/peer"
    if [ $prc -ne 0 ]; then
        for log in "$tmp/peer.err" "$tmp/proxy.err"; do
            [ -s "$log" ] && sed "s|^|# $(basename "$log"): |" "$log" | tail -n 20
        done
    fi
    rc=$prc
    if [ $prc -eq 0 ]; then ok "the browser peer ended well"; else not_ok "the browser peer ended well"; fi
fi
tap_end
