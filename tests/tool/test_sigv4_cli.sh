#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_sigv4_cli.sh — TAP tests of `mutil sigv4`: the headers and presigned
# URL of AWS's published SigV4 test suite (get-vanilla in both forms,
# post-x-www-form-urlencoded with its body from a file and its X-Amz-Date
# given), credentials only from the environment, exit statuses.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 60 "$0" "$@"
tap_begin mutil-sigv4-cli

AWS_ACCESS_KEY_ID=AKIDEXAMPLE
AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN
SCOPE="--region us-east-1 --service service --time 1440938160"

run sigv4 GET https://example.amazonaws.com/ $SCOPE
check "get-vanilla: X-Amz-Date and the published signature" \
    eval 'status_is 0 && out_has "X-Amz-Date: 20150830T123600Z" &&
          out_has "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"'

run sigv4 GET https://example.amazonaws.com $SCOPE --presign 3600
check "get-vanilla presigned: the published query signature" \
    eval 'status_is 0 && out_has "https://example.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&" &&
          out_has "&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"'

printf 'Param1=value1' >"$tmp/body"
run sigv4 POST http://example.amazonaws.com/ $SCOPE --data-file "$tmp/body" \
    -H 'Content-Type:application/x-www-form-urlencoded' -H 'X-Amz-Date:20150830T123600Z'
check "post-x-www-form-urlencoded: body hashed, given date kept, published signature" \
    eval 'status_is 0 && ! out_has "X-Amz-Date" &&
          out_has "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"'

AWS_SESSION_TOKEN=6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267 \
    "$MUTIL" sigv4 GET https://example.amazonaws.com/ $SCOPE >"$tmp/out" 2>"$tmp/err"
rc=$?
check "get-vanilla-with-session-token: the token header and the published signature" \
    eval 'status_is 0 && out_has "X-Amz-Security-Token: 6e86291e" &&
          out_has "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"'

run sigv4 GET https://example.amazonaws.com/ $SCOPE --verbose
check "--verbose prints the canonical request on stderr" \
    eval 'status_is 0 && err_has "host;x-amz-date" && err_has "AWS4-HMAC-SHA256"'

env -u AWS_SECRET_ACCESS_KEY "$MUTIL" sigv4 GET https://example.amazonaws.com/ $SCOPE \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
check "missing credentials exit 1 naming the variables" \
    eval 'status_is 1 && err_has "AWS_SECRET_ACCESS_KEY"'

run sigv4 GET https://example.amazonaws.com/
check "missing --region exits 2" eval 'status_is 2 && err_has "--region and --service"'
run sigv4 GET example.amazonaws.com $SCOPE
check "a URL without a scheme exits 2" eval 'status_is 2 && err_has "URL must be"'
run sigv4 GET https://example.amazonaws.com/ $SCOPE -H 'Bad Name: x'
check "a bad header name exits 2 with the library's reason" \
    eval 'status_is 2 && err_has "header name"'
run sigv4 GET https://example.amazonaws.com/ $SCOPE --presign 604801
check "a presign beyond seven days exits 2" eval 'status_is 2 && err_has "604800"'

run help sigv4
check "help sigv4: one usage form, then the options" \
    eval 'status_is 0 && [ "$(sed -n 2p "$tmp/out")" = "" ] && out_has "--presign SECONDS"'

tap_end
