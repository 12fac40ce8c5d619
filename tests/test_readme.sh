#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# test_readme.sh — every C example in README.md compiles as written, and the
# ones that run alone run and exit 0. Prints TAP.
#
# The convention in README.md: the line right before each ```c block is one
# of these markers (HTML comments, so a reader does not see them):
#   <!-- snippet: standalone -->      the block is a whole program
#   <!-- snippet: fragment -->        the block is wrapped into a program
# followed by " run" (<!-- snippet: fragment run -->) when the program runs
# alone: it is then also run (in a scratch directory) and must exit 0.
# A ```c block without a marker fails the test.
#
# A fragment is wrapped like this: its preprocessor lines (#include ...) and
# its static definitions go to file scope, after #include <mutil.h> and the
# standard headers errno.h, stdint.h, stdio.h, stdlib.h, string.h and
# unistd.h. A static definition runs from a line starting with "static" to
# the line where its braces are balanced again and that ends with ";" or "}".
# Every other line becomes the body of int main(void), which then returns 0.
# #line directives make compiler messages point into README.md.
#
# Each program is built the way an installed program is built with
# `cc app.c $(pkg-config --cflags --libs libmutil)`, but against the build
# tree: -I$top_srcdir/include, the build tree's libmutil, and the
# `pkg-config --cflags --libs` of the packages on the Requires: line of the
# build tree's libmutil.pc (Requires.private is not given to programs, so a
# public dependency missing there fails here). Warnings are errors:
# -Wall -Wextra -Werror, plus the build's sanitizer flags from MU_CFLAGS.
#
# Then every relative Markdown link of README.md, doc/*.md,
# bindings/python/README.md and tests/fuzz/README.md, [text](path)
# or [text](path#anchor) outside code blocks, names a file or directory of
# the source tree (relative to the page), and an anchor into a .md page is
# one of its headings (GitHub's spelling: lower case, punctuation dropped,
# spaces as dashes).
#
# Environment: top_srcdir, top_builddir, CC (default cc), MU_CFLAGS.
set -u

. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 300 "$0" "$@"
tap_begin mutil-readme

top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
README="$top_srcdir/README.md"

# extract_snippets README DIR: writes DIR/snippet-N.c for each ```c block
# and prints one line per block: N KIND RUN LINE (KIND standalone, fragment
# or unmarked; RUN run or -; LINE the line of the opening fence).
extract_snippets() {
    awk -v dir="$2" '
    function emit_line(file, text, line) {
        printf "#line %d \"README.md\"\n%s\n", line, text > file
    }
    function braces(text,    opened, closed) {
        opened = gsub(/\{/, "{", text)
        closed = gsub(/\}/, "}", text)
        return opened - closed
    }
    function write_fragment(file,    i, in_static, depth) {
        print "#include <mutil.h>" > file
        print "#include <errno.h>" > file
        print "#include <stdint.h>" > file
        print "#include <stdio.h>" > file
        print "#include <stdlib.h>" > file
        print "#include <string.h>" > file
        print "#include <unistd.h>" > file
        in_static = 0
        for (i = 1; i <= nlines; i++) {
            if (!in_static && lines[i] ~ /^#/) {
                emit_line(file, lines[i], first + i)
                is_top[i] = 1
                continue
            }
            if (!in_static && lines[i] ~ /^static[ \t]/) {
                in_static = 1
                depth = 0
            }
            if (in_static) {
                emit_line(file, lines[i], first + i)
                is_top[i] = 1
                depth += braces(lines[i])
                if (depth == 0 && lines[i] ~ /[;}][ \t]*(\/\*.*\*\/)?[ \t]*$/)
                    in_static = 0
                continue
            }
            is_top[i] = 0
        }
        print "int main(void)\n{" > file
        for (i = 1; i <= nlines; i++)
            if (!is_top[i])
                emit_line(file, lines[i], first + i)
        print "    return 0;\n}" > file
    }
    function write_standalone(file,    i) {
        for (i = 1; i <= nlines; i++)
            emit_line(file, lines[i], first + i)
    }
    inblock && /^```[ \t]*$/ {
        file = dir "/snippet-" n ".c"
        if (kind == "fragment")
            write_fragment(file)
        else
            write_standalone(file)
        close(file)
        print n, kind, run, first
        inblock = 0
        marker = ""
        next
    }
    inblock {
        lines[++nlines] = $0
        next
    }
    /^```c[ \t]*$/ {
        n++
        inblock = 1
        nlines = 0
        first = NR
        kind = "unmarked"
        run = "-"
        if (marker ~ /^<!-- snippet: (standalone|fragment)( run)? -->$/) {
            kind = marker ~ /standalone/ ? "standalone" : "fragment"
            run = marker ~ / run -->$/ ? "run" : "-"
        }
        next
    }
    { marker = $0 }
    ' "$1"
}

requires=$(sed -n 's/^Requires:[ \t]*//p' "$top_builddir/libmutil.pc")
dep_flags=
if [ -n "$requires" ]; then
    dep_flags=$(pkg-config --cflags --libs "$requires") || {
        not_ok "pkg-config knows the packages on libmutil.pc's Requires: line ($requires)"
        tap_end
        exit 1
    }
fi
sanitize_flags=
for flag in ${MU_CFLAGS:-}; do
    case $flag in
        -fsanitize=*|-fno-sanitize*|-fno-omit-frame-pointer) sanitize_flags="$sanitize_flags $flag" ;;
    esac
done

extract_snippets "$README" "$tmp" >"$tmp/manifest"
if [ ! -s "$tmp/manifest" ]; then
    not_ok "README.md has C examples"
fi

while read -r n kind run line; do
    what="README.md line $line ($kind)"
    if [ "$kind" = unmarked ]; then
        : >"$tmp/out"
        echo "no <!-- snippet: ... --> marker on the line before the block" >"$tmp/err"
        rc=1
        not_ok "$what: the C block is marked"
        continue
    fi
    # shellcheck disable=SC2086 # the flag lists are word lists
    ${CC:-cc} -Wall -Wextra -Werror $sanitize_flags -I"$top_srcdir/include" \
        "$tmp/snippet-$n.c" -o "$tmp/snippet-$n" \
        -L"$top_builddir/.libs" -Wl,-rpath,"$top_builddir/.libs" -lmutil $dep_flags \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        not_ok "$what compiles with -Wall -Wextra -Werror and the libmutil.pc flags"
        continue
    fi
    ok "$what compiles with -Wall -Wextra -Werror and the libmutil.pc flags"
    if [ "$run" = run ]; then
        (cd "$tmp" && "./snippet-$n") >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ $rc -eq 0 ]; then ok "$what runs and exits 0"; else not_ok "$what runs and exits 0"; fi
    fi
done <"$tmp/manifest"

# md_links PAGE: prints "LINE TARGET" for each relative link of PAGE outside
# ``` blocks (targets with a scheme, such as https:, are left out).
md_links() {
    awk '
    /^[ \t]*```/ { code = !code; next }
    code { next }
    {
        text = $0
        while (match(text, /\]\([^) \t]+\)/)) {
            target = substr(text, RSTART + 2, RLENGTH - 3)
            text = substr(text, RSTART + RLENGTH)
            if (target !~ /^[a-zA-Z][a-zA-Z0-9+.-]*:/)
                print NR, target
        }
    }' "$1"
}

# md_anchors PAGE: prints the anchor of each heading of PAGE.
md_anchors() {
    awk '
    /^[ \t]*```/ { code = !code; next }
    !code && /^#+[ \t]/ {
        sub(/^#+[ \t]+/, "")
        sub(/[ \t]+$/, "")
        text = tolower($0)
        gsub(/[^a-z0-9_ -]/, "", text)
        gsub(/ /, "-", text)
        print text
    }' "$1"
}

: >"$tmp/out"
: >"$tmp/err"
for page in "$top_srcdir/README.md" "$top_srcdir"/doc/*.md "$top_srcdir/bindings/python/README.md" \
    "$top_srcdir/tests/fuzz/README.md"; do
    dir=$(dirname "$page")
    name=${page#"$top_srcdir/"}
    md_links "$page" >"$tmp/links"
    while read -r line target; do
        path=${target%%#*}
        anchor=
        case $target in *"#"*) anchor=${target#*#} ;; esac
        file=$page
        [ -n "$path" ] && file="$dir/$path"
        if [ ! -e "$file" ]; then
            echo "$name:$line: $target: no such file" >>"$tmp/err"
        elif [ -n "$anchor" ] && [ "${file%.md}" != "$file" ] &&
            ! md_anchors "$file" | grep -qxF "$anchor"; then
            echo "$name:$line: $target: no such heading" >>"$tmp/err"
        fi
    done <"$tmp/links"
done
rc=0
if [ -s "$tmp/err" ]; then
    rc=1
    not_ok "every relative link of README.md, doc/*.md and the binding's and fuzzing READMEs resolves"
else
    ok "every relative link of README.md, doc/*.md and the binding's and fuzzing READMEs resolves"
fi

tap_end
