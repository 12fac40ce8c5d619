#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# build.sh — builds every tests/fuzz/fuzz_*.c of the source tree into a
# libFuzzer program tests/fuzz/fuzz_* of the build tree (run by `make fuzz`).
#
#   build.sh SRCDIR LIBRARY-SOURCE...
#
# Every library source (headers in the list are skipped) is compiled once
# with FUZZ_CC and -fsanitize=fuzzer-no-link,address,undefined into
# tests/fuzz/obj/, so a target may call anything in the library, private
# mu__ functions included. A target is one .c file; drop a new
# tests/fuzz/fuzz_NAME.c in and it is built. Objects are rebuilt when a
# source or header of the tree is newer than them.
#
# Environment: FUZZ_CC (required), FUZZ_CPPFLAGS (include paths and the
# dependencies' cflags), FUZZ_LIBS (the dependencies' libraries), FUZZ_JOBS
# (parallel compilations, default 2).
set -eu

srcdir=$1
shift
: "${FUZZ_CC:?FUZZ_CC is not set: configure found no clang that links -fsanitize=fuzzer}"
FUZZ_CPPFLAGS=${FUZZ_CPPFLAGS:-}
FUZZ_LIBS=${FUZZ_LIBS:-}
jobs=${FUZZ_JOBS:-2}
common="-std=c11 -g -O1 -fno-omit-frame-pointer -pthread -Wall -Wextra -Wno-unused-parameter"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
out=tests/fuzz
obj=$out/obj
mkdir -p "$obj"

# newer_than FILE PATH...: true when FILE is missing or a file under the
# PATHs is newer than it.
newer_than() {
    target=$1
    shift
    [ -e "$target" ] || return 0
    [ -n "$(find "$@" -newer "$target" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | head -n 1)" ]
}

# The library, as one archive.
archive=$obj/libmutil-fuzz.a
if newer_than "$archive" "$srcdir/src" "$srcdir/include" config.h; then
    echo "  FUZZ-CC  library sources ($FUZZ_CC)"
    rm -f "$obj"/*.o "$archive"
    for source in "$@"; do
        case $source in *.c) echo "$source" ;; esac
    done | FUZZ_COMPILE="$FUZZ_CC $common $sanitize -fsanitize=fuzzer-no-link $FUZZ_CPPFLAGS" \
        xargs -P "$jobs" -n 1 sh -c '
            object="$1/$(echo "$3" | tr / _ | sed "s/\.c\$/.o/")"
            $FUZZ_COMPILE -c "$2/$3" -o "$object"' compile "$obj" "$srcdir"
    ar rcs "$archive" "$obj"/*.o
fi

# The targets.
built=0
for source in "$srcdir"/tests/fuzz/fuzz_*.c; do
    [ -e "$source" ] || continue
    name=$(basename "$source" .c)
    program=$out/$name
    if newer_than "$program" "$source" "$srcdir/tests/fuzz" || [ "$archive" -nt "$program" ]; then
        echo "  FUZZ-LD  $program"
        # shellcheck disable=SC2086 # the flag lists are word lists
        $FUZZ_CC $common $sanitize -fsanitize=fuzzer $FUZZ_CPPFLAGS -I"$srcdir/tests/fuzz" \
            "$source" "$archive" $FUZZ_LIBS -o "$program"
    fi
    built=$((built + 1))
done
echo "make fuzz: $built targets in $out/ (run them with $srcdir/tests/fuzz/run.sh)"
