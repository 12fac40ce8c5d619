#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# Installs into a staging directory and builds a program outside the tree
# against the installed library using only pkg-config. Prints TAP.
. "${top_srcdir:-.}/tests/lib/tap.sh"
tap_timeout 600 "$0" "$@"
n=0
failed=0
check() {   # check NAME COMMAND...
    name=$1; shift
    n=$((n + 1))
    if "$@" >"$tmp/out" 2>&1; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"; sed 's/^/# /' "$tmp/out"; failed=1
    fi
}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
stage="$tmp/stage"
prefix=$(sed -n 's/^prefix=//p' "$top_builddir/libmutil.pc")
libdir=$(sed -n 's/^libdir=//p' "$top_builddir/libmutil.pc" | sed "s|\${exec_prefix}|$prefix|; s|\${prefix}|$prefix|")
check "make install DESTDIR" ${MAKE:-make} -C "$top_builddir" install DESTDIR="$stage"
export PKG_CONFIG_PATH="$stage$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
check "pkg-config finds libmutil" pkg-config --exists libmutil
check "headers, library with soname, tool and .pc installed" sh -c "
    test -f '$stage$prefix/include/mutil.h' && test -f '$stage$prefix/include/mu_pipe.h' &&
    test -f '$stage$libdir/libmutil.so.0' && test -x '$stage$prefix/bin/mutil' &&
    test -f '$stage$libdir/pkgconfig/libmutil.pc'"
check "only mu_ symbols are exported" sh -c "
    ! nm -D --defined-only '$stage$libdir/libmutil.so.0' | awk '\$2 ~ /^[TDBR]\$/ {print \$3}' | grep -v '^mu_'"
cp "$top_srcdir/tests/lib/install_app.c" "$tmp/app.c"
check "an outside program using czmq through the public API builds with pkg-config alone" sh -c \
    "cd '$tmp' && ${CC:-cc} app.c \$(pkg-config --cflags --libs libmutil) -o app"
# A sanitizer build of the library needs its runtime loaded first or not checked.
check "the outside program runs against the installed library" env \
    LD_LIBRARY_PATH="$stage$libdir" ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 "$tmp/app"
# install-exec-hook, run with a stand-in ldconfig first on PATH that calls
# $tmp/syslib a directory the dynamic linker searches and records any other
# call in $tmp/ldconfig.calls.
mkdir -p "$tmp/fakebin"
cat >"$tmp/fakebin/ldconfig" <<EOF
#!/bin/sh
case "\$*" in
    *-N*) echo "$tmp/syslib: (from test_install.sh)" ;;
    *) echo "ldconfig \$*" >>"$tmp/ldconfig.calls" ;;
esac
EOF
chmod +x "$tmp/fakebin/ldconfig"
hook() {
    PATH="$tmp/fakebin:$PATH" ${MAKE:-make} -s -C "$top_builddir" install-exec-hook "$@"
}
hook libdir="$tmp/syslib" DESTDIR="$tmp/stage" >"$tmp/hook.out" 2>&1
check "a staged install (DESTDIR) does not run ldconfig" test ! -e "$tmp/ldconfig.calls"
hook libdir="$tmp/elsewhere" >"$tmp/hook.out" 2>&1
check "an install outside the linker's directories does not run ldconfig and says what to do" \
    sh -c "test ! -e '$tmp/ldconfig.calls' && grep -q 'not searched by the dynamic linker' '$tmp/hook.out'"
if [ "$(id -u)" = 0 ]; then
    hook libdir="$tmp/syslib" >"$tmp/hook.out" 2>&1
    check "an install as root into a directory the linker searches runs ldconfig" \
        test -e "$tmp/ldconfig.calls"
else
    n=$((n + 1))
    echo "ok $n - an install as root into a directory the linker searches runs ldconfig # SKIP not root"
fi
echo "1..$n"
exit $failed
