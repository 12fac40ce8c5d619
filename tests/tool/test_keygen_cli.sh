#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_keygen_cli.sh — TAP tests of `mutil keygen NAME [--force]`: the zcert
# files it writes (content and modes), refusing to overwrite without
# --force, exit statuses (0 ok, 1 runtime, 2 usage) and messages.
#
# Environment: top_builddir (the tool is "$top_builddir/mutil"), top_srcdir.
set -u

top_builddir=${top_builddir:-.}
MUTIL="$top_builddir/mutil"
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin mutil-keygen-cli

K="$tmp/server"

# out_has takes a regular expression here (tap.sh's takes the text literally).
out_has() { grep -q -e "$1" "$tmp/out"; }
mode_of() { stat -c %a "$1"; }
# The printed key: exactly one line of 40 Z85 characters.
printed_key() {
    [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
        grep -q -E -x '[]0-9a-zA-Z.:+=^!/*?&<>()[{}@%$#-]{40}' "$tmp/out"
}
# key_line FILE NAME: the quoted value of "    NAME = ..." in the curve section.
key_line() {
    awk -v want="$2" '
        /^[^ #]/ { section = $1 }
        section == "curve" && $1 == want && $2 == "=" { v = $3; gsub(/"/, "", v); print v }
    ' "$1"
}

# ---- usage errors -----------------------------------------------------------

run keygen
check "keygen without NAME is a usage error" \
    eval 'status_is 2 && err_has "missing NAME" && err_has "usage: mutil keygen NAME [--force]"'

run keygen --frobnicate "$K"
check "an unknown option exits 2" eval "status_is 2 && err_has \"unknown option '--frobnicate'\""

run keygen "$K" other
check "a second NAME exits 2" eval "status_is 2 && err_has \"unexpected argument 'other'\""

run keygen ""
check "an empty NAME exits 2" eval 'status_is 2 && err_has "NAME is empty"'

check "usage errors create no file" eval '[ ! -e "$K" ] && [ ! -e "${K}_secret" ]'

# ---- a new pair --------------------------------------------------------------

run keygen "$K"
check "keygen NAME exits 0 and prints the 40-character Z85 public key" \
    eval 'status_is 0 && printed_key'
key=$(cat "$tmp/out")

check "NAME is mode 644 and NAME_secret mode 600" \
    eval '[ "$(mode_of "$K")" = 644 ] && [ "$(mode_of "${K}_secret")" = 600 ]'

check "the public file is a zcert with the printed key and no secret key" \
    eval 'grep -q -x "curve" "$K" && [ "$(key_line "$K" public-key)" = "$key" ] &&
          [ -z "$(key_line "$K" secret-key)" ]'

check "the secret file holds the same public key and a 40-character secret key" \
    eval 'grep -q -x "curve" "${K}_secret" && [ "$(key_line "${K}_secret" public-key)" = "$key" ] &&
          [ "$(key_line "${K}_secret" secret-key | tr -d "\n" | wc -c)" -eq 40 ]'

check "both files name their creator in the metadata section" \
    eval 'grep -q "^metadata" "$K" && grep -q "created-by = \"mutil " "$K" &&
          grep -q "created-by = \"mutil " "${K}_secret"'

check "no temporary file is left in the directory" \
    eval '[ "$(ls -A "$tmp" | grep -c server)" -eq 2 ]'

# ---- refusing to overwrite, --force -----------------------------------------------

cp "$K" "$tmp/pub.copy"
cp "${K}_secret" "$tmp/secret.copy"
run keygen "$K"
check "keygen of an existing NAME exits 1 and points to --force" \
    eval 'status_is 1 && err_has "already exists" && err_has "--force"'
check "the existing files are left unchanged" \
    eval 'cmp -s "$K" "$tmp/pub.copy" && cmp -s "${K}_secret" "$tmp/secret.copy"'

rm -f "$K"
run keygen "$K"
check "an existing NAME_secret alone also stops keygen" \
    eval "status_is 1 && err_has \"'${K}_secret' already exists\" && [ ! -e \"\$K\" ]"

run keygen --force "$K"
check "keygen --force NAME replaces the files with a new key" \
    eval 'status_is 0 && printed_key && [ "$(cat "$tmp/out")" != "$key" ] &&
          [ "$(key_line "$K" public-key)" = "$(cat "$tmp/out")" ] &&
          [ "$(key_line "${K}_secret" public-key)" = "$(cat "$tmp/out")" ]'
key2=$(cat "$tmp/out")

run keygen "$K" --force
check "--force after NAME works too" \
    eval 'status_is 0 && printed_key && [ "$(cat "$tmp/out")" != "$key2" ]'

(umask 077 && "$MUTIL" keygen "$tmp/masked" >/dev/null 2>&1)
check "the modes do not depend on the umask" \
    eval '[ "$(mode_of "$tmp/masked")" = 644 ] && [ "$(mode_of "$tmp/masked_secret")" = 600 ]'

run keyg "$tmp/prefix"
check "a unique prefix of keygen runs it" eval 'status_is 0 && [ -f "$tmp/prefix_secret" ]'

# ---- runtime errors, help ------------------------------------------------------------

run keygen "$tmp/no/such/dir/k"
check "a missing directory exits 1 with the reason" \
    eval 'status_is 1 && err_has "cannot write" && err_has "no such file"'

run help keygen
check "mutil help keygen prints the usage and the files it writes" \
    eval 'status_is 0 && out_has "^usage: mutil keygen NAME \[--force\]" && out_has "NAME_secret"'

run keygen --help
check "mutil keygen --help prints the same help" \
    eval 'status_is 0 && out_has "^usage: mutil keygen NAME \[--force\]"'

run help
check "mutil help lists keygen" eval 'status_is 0 && out_has "keygen"'

tap_end
