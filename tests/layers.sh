#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
# layers.sh — TAP test of the source tree's structure (README.md, "Layout").
#
# The library's layers, in order: base < codec < net < conn < flow < store
# < svc. A file in src/X may include and call only src/X and the layers
# before X; the tool (tools/mutil) uses the public headers (include/*.h)
# only. Checks, one TAP line each; every violation is printed as a
# "# " comment line naming the files (and the symbol or header) involved:
#   1. no upward call: on the built objects of libmutil_internal.la (nm),
#      no object of layer X uses a symbol defined in a later layer;
#   2. no upward include: no #include "dir/header.h" in src/X names a
#      private header of a later layer (nor a private header without its
#      folder);
#   3. no call cycle among the library's files (A uses B and B uses A,
#      directly or through others), found on the same nm graph;
#   4. the tool includes public headers only: every #include "..." in
#      tools/mutil names include/*.h, a header of tools/mutil or config.h;
#   5. no source file (src/, tools/, tests/, bench/, bindings/) over 900 lines;
#      test-vector tables (DATA_TABLES below) are data, not code.
#
# Environment: top_srcdir, top_builddir (the build tree with
# libmutil_internal.la built), PYTHON3 (default python3).
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
PY=${PYTHON3:-python3}
if [ -z "$PY" ]; then PY=python3; fi

archive=$top_builddir/.libs/libmutil_internal.a
if [ ! -f "$archive" ]; then
    echo "Bail out! $archive is missing: build the library first (make)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/layers.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

# The library's objects, with the folder they were built in: the members of
# the convenience archive (so objects left over from removed sources do not
# count), found under src/LAYER/.libs/ of the build tree (PIC objects) or
# src/LAYER/ (a build without shared libraries).
ar t "$archive" | sort -u >"$tmp/members"
: >"$tmp/nm"
for object in "$top_builddir"/src/*/.libs/libmutil_internal_la-*.o \
              "$top_builddir"/src/*/libmutil_internal_la-*.o; do
    [ -e "$object" ] || continue
    member=$(basename "$object")
    grep -qxF "$member" "$tmp/members" || continue
    layer=$(dirname "$object")
    layer=${layer%/.libs}
    layer=$(basename "$layer")
    grep -q "^src/$layer/${member#libmutil_internal_la-} " "$tmp/seen" 2>/dev/null && continue
    echo "src/$layer/${member#libmutil_internal_la-} " >>"$tmp/seen"
    source=src/$layer/${member#libmutil_internal_la-}
    source=${source%.o}.c
    # "SOURCE KIND SYMBOL" for each global symbol defined (T, D, B, R, ...)
    # or used (U).
    nm -g "$object" | awk -v src="$source" 'NF == 2 { print src, $1, $2 } NF == 3 { print src, $2, $3 }' \
        >>"$tmp/nm"
done

"$PY" - "$top_srcdir" "$tmp/nm" <<'EOF'
import os, re, sys

srcdir, nm_path = sys.argv[1], sys.argv[2]
ORDER = ["base", "codec", "net", "conn", "flow", "store", "svc"]
RANK = {name: i for i, name in enumerate(ORDER)}
LIMIT = 900
count = failed = 0


def report(name, violations):
    global count, failed
    count += 1
    if violations:
        failed += 1
        found = sum(1 for line in violations if not line.startswith(" "))
        print("not ok %d - %s (%d violation%s)" % (count, name, found, "" if found == 1 else "s"))
        for line in violations:
            print("#   " + line)
    else:
        print("ok %d - %s" % (count, name))
    sys.stdout.flush()


def layer_of(path):
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "src" else None


# ---- the object graph: file A uses a symbol file B defines ---------------
defined, used = {}, {}
for line in open(nm_path):
    src, kind, sym = line.split()
    if kind == "U":
        used.setdefault(src, set()).add(sym)
    elif kind not in ("w", "v"):
        defined.setdefault(sym, src)
files = sorted(set(used) | set(defined.values()))
edges = {f: {} for f in files}          # A -> {B: [symbols]}
for src, syms in used.items():
    for sym in sorted(syms):
        dst = defined.get(sym)
        if dst and dst != src:
            edges[src].setdefault(dst, []).append(sym)

# 1. upward calls
violations = []
for src in files:
    for dst, syms in sorted(edges[src].items()):
        ls, ld = layer_of(src), layer_of(dst)
        if ls in RANK and ld in RANK and RANK[ld] > RANK[ls]:
            shown = ", ".join(syms[:4]) + (", ..." if len(syms) > 4 else "")
            violations.append("%s (%s) uses %s (%s, a later layer): %s"
                              % (src, ls, dst, ld, shown))
if not files:
    violations.append("no objects of libmutil_internal.la found under src/*/.libs/")
report("no upward call between layers (nm of libmutil_internal.la's objects)", violations)

# 2. upward includes
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(top):
    for root, _, names in os.walk(os.path.join(srcdir, top)):
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                full = os.path.join(root, name)
                yield os.path.relpath(full, srcdir), full


violations = []
for rel, full in sorted(sources("src")):
    layer = layer_of(rel)
    for number, text in enumerate(open(full, errors="replace"), 1):
        m = INCLUDE.match(text)
        if not m:
            continue
        header = m.group(1)
        where = "%s:%d" % (rel, number)
        if "/" in header:
            target = header.split("/")[0]
            if target in RANK and layer in RANK and RANK[target] > RANK[layer]:
                violations.append('%s (%s) includes "%s" (%s, a later layer)'
                                  % (where, layer, header, target))
        elif os.path.exists(os.path.join(srcdir, "src", layer or "", header)) or any(
                os.path.exists(os.path.join(srcdir, "src", other, header)) for other in ORDER):
            if not os.path.exists(os.path.join(srcdir, "include", header)):
                violations.append('%s includes the private header "%s" without its folder'
                                  % (where, header))
report("no upward include between layers (#include lines of src/)", violations)

# 3. cycles: the strongly connected components of the file graph
index, low, on_stack, stack, components = {}, {}, set(), [], []


def strongconnect(v):
    # iterative Tarjan
    work = [(v, iter(sorted(edges.get(v, {}))))]
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    while work:
        node, children = work[-1]
        advanced = False
        for w in children:
            if w not in index:
                index[w] = low[w] = len(index)
                stack.append(w)
                on_stack.add(w)
                work.append((w, iter(sorted(edges.get(w, {})))))
                advanced = True
                break
            if w in on_stack:
                low[node] = min(low[node], index[w])
        if advanced:
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[node])
        if low[node] == index[node]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))


for f in files:
    if f not in index:
        strongconnect(f)


def one_cycle(component):
    """A shortest cycle through the component's first file, as a path."""
    members = set(component)
    start = component[0]
    parent, queue = {start: None}, [start]
    while queue:
        nxt = []
        for v in queue:
            for w in sorted(edges[v]):
                if w not in members:
                    continue
                if w == start:
                    path = [v]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    path.reverse()
                    return path + [start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        queue = nxt
    return component


violations = []
for component in components:
    cycle = one_cycle(component)
    steps = []
    for a, b in zip(cycle, cycle[1:]):
        steps.append("%s -[%s]-> %s" % (a, edges[a][b][0], b))
    violations.append("cycle among %d files (%s): %s"
                      % (len(component), ", ".join(component), "; ".join(steps)))
    # every use inside the component: what to cut to break it
    for a in component:
        for b in sorted(edges[a]):
            if b in component:
                syms = edges[a][b]
                violations.append("  %s -> %s: %s" % (a, b, ", ".join(syms[:5])
                                                      + (", ..." if len(syms) > 5 else "")))
report("no call cycle among the library's files", violations)

# 4. the tool uses the public headers only
violations = []
for rel, full in sorted(sources("tools/mutil")):
    for number, text in enumerate(open(full, errors="replace"), 1):
        m = INCLUDE.match(text)
        if not m:
            continue
        header = m.group(1)
        public = "/" not in header and os.path.exists(os.path.join(srcdir, "include", header))
        local = "/" not in header and os.path.exists(os.path.join(srcdir, "tools/mutil", header))
        if not (public or local or header == "config.h"):
            violations.append('%s:%d includes "%s" (not a public header)' % (rel, number, header))
report("tools/mutil includes public headers (include/*.h) only", violations)

# 5. file size: code of every kind; published test vectors are data
DATA_TABLES = {"tests/codec/sigv4_vectors.h"}
violations = []
for top in ("src", "tools", "tests", "bench", "bindings"):
    for root, _, names in os.walk(os.path.join(srcdir, top)):
        for name in sorted(names):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, srcdir)
            if not name.endswith((".c", ".h", ".py", ".sh")) or rel in DATA_TABLES:
                continue
            lines = sum(1 for _ in open(full, errors="replace"))
            if lines > LIMIT:
                violations.append("%s: %d lines (limit %d)" % (rel, lines, LIMIT))
report("no source file over %d lines (src, tools, tests, bench, bindings)" % LIMIT, violations)

print("1..%d" % count)
sys.exit(1 if failed else 0)
EOF
