#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_secret_cli.sh — TAP tests of how `mutil` treats secret files
# (--secret-file, the F_secret of --cert) and what it says about them: a
# secret that group or others may read, or a symbolic link, is refused with
# its mode and the fix, unless --allow-insecure-secret; a directory, a
# device, a passphrase too short or too long, and a cert pair that does not
# match are each named as such. No server is needed: a key problem stops a
# command before it connects, and a key that is accepted shows as an error
# that does not name the key file (nobody answers at the endpoint).
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_begin mutil-secret-cli

check() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

# run ARG... : runs mutil, bounded in time; stdout in $tmp/out, stderr in
# $tmp/err, status in $rc.
run() {
    timeout "$(tap_seconds 20)" "$MUTIL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

err_has() { grep -q -F -e "$1" "$tmp/err"; }
EP="ipc://$tmp/nobody-here"
# call_with ARG... : a call to an endpoint where nobody answers, quickly.
call_with() { run call "$EP" hi --timeout 300 "$@"; }

printf 'correct horse battery staple\n' >"$tmp/secret"
chmod 600 "$tmp/secret"

# ---- --secret-file: private files only ------------------------------------------

call_with --secret-file "$tmp/secret"
check "a private secret file is accepted" '[ $rc -eq 1 ] && ! err_has "$tmp/secret"'

cp "$tmp/secret" "$tmp/open"
chmod 644 "$tmp/open"
call_with --secret-file "$tmp/open"
check "a secret file others may read is refused with its mode and the fix" \
    '[ $rc -eq 1 ] && err_has "$tmp/open: mode 0644" && err_has "chmod 600" &&
     err_has "--allow-insecure-secret"'
chmod 640 "$tmp/open"
call_with --secret-file "$tmp/open"
check "a group-readable secret file is refused too" '[ $rc -eq 1 ] && err_has "mode 0640"'
call_with --secret-file "$tmp/open" --allow-insecure-secret
check "--allow-insecure-secret accepts it" '[ $rc -eq 1 ] && ! err_has "$tmp/open"'

ln -s "$tmp/secret" "$tmp/link"
call_with --secret-file "$tmp/link"
check "a symbolic link as secret file is refused" \
    '[ $rc -eq 1 ] && err_has "$tmp/link: is a symbolic link"'
call_with --secret-file "$tmp/link" --allow-insecure-secret
check "--allow-insecure-secret follows the link" '[ $rc -eq 1 ] && ! err_has "$tmp/link"'

# ---- --secret-file: what is wrong, said as such -------------------------------------

mkdir "$tmp/dir"
call_with --secret-file "$tmp/dir"
check "a directory is named a directory, not a short secret" \
    '[ $rc -eq 1 ] && err_has "$tmp/dir: is a directory" && ! err_has "shorter"'
call_with --secret-file /dev/zero
check "/dev/zero is not a regular file" \
    '[ $rc -eq 1 ] && err_has "/dev/zero: not a regular file" && ! err_has "shorter"'
printf 'short\n' >"$tmp/short"
chmod 600 "$tmp/short"
call_with --secret-file "$tmp/short"
check "a short passphrase: shorter than 8 bytes" \
    '[ $rc -eq 1 ] && err_has "$tmp/short: passphrase shorter than 8 bytes"'
head -c 5000 /dev/zero | tr '\0' x >"$tmp/long"
chmod 600 "$tmp/long"
call_with --secret-file "$tmp/long"
check "a long passphrase: longer than the limit, with the limit" \
    '[ $rc -eq 1 ] && err_has "$tmp/long: passphrase longer than 4096 bytes" &&
     ! err_has "a limit was exceeded"'

# ---- certs ------------------------------------------------------------------------

"$MUTIL" keygen "$tmp/server" >/dev/null 2>&1
"$MUTIL" keygen "$tmp/client" >/dev/null 2>&1
"$MUTIL" keygen "$tmp/other" >/dev/null 2>&1

call_with --cert "$tmp/client" --server-key "$tmp/server"
check "keygen's pair is accepted" '[ $rc -eq 1 ] && ! err_has "$tmp/client"'

chmod 644 "$tmp/client_secret"
call_with --cert "$tmp/client" --server-key "$tmp/server"
check "a cert whose _secret others may read is refused, naming that file" \
    '[ $rc -eq 1 ] && err_has "$tmp/client_secret: mode 0644" && err_has "chmod 600"'
call_with --cert "$tmp/client" --server-key "$tmp/server" --allow-insecure-secret
check "--allow-insecure-secret accepts the cert" '[ $rc -eq 1 ] && ! err_has "$tmp/client"'
run serve --bind "$EP" --cert "$tmp/client" --allow-any
check "serve refuses such a cert as well" '[ $rc -eq 1 ] && err_has "$tmp/client_secret: mode 0644"'
chmod 600 "$tmp/client_secret"

cp "$tmp/client" "$tmp/mixed"
cp "$tmp/other_secret" "$tmp/mixed_secret"
call_with --cert "$tmp/mixed" --server-key "$tmp/server"
check "a pair that does not match says so" \
    '[ $rc -eq 1 ] && err_has "does not belong to the public key in $tmp/mixed" &&
     ! err_has "not a valid cert"'

cp "$tmp/server" "$tmp/srvpub"
cp "$tmp/other_secret" "$tmp/srvpub_secret"
call_with --cert "$tmp/client" --server-key "$tmp/srvpub"
check "--server-key reads the public key only: a _secret beside it does not matter" \
    '[ $rc -eq 1 ] && ! err_has "$tmp/srvpub"'
call_with --cert "$tmp/client" --server-key "$tmp/no-such-cert"
check "a --server-key that is neither a key nor a file says so" \
    '[ $rc -eq 1 ] && err_has "no such file, and not a key"'

tap_end
