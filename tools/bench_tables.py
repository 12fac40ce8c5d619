#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""bench_tables.py — turns the output of the bench/ programs (and of
`mutil flow demo`) into the performance tables of README.md, so the tables
never drift from a run.

    tools/bench_tables.py [--readme README.md] [--print] [--check]
                          [--complete] OUTPUT...

OUTPUT files hold what the benchmarks printed: their JSON lines mixed with
text. Understood, in every file:

- JSON object lines with "bench" and "case" (bench/*.c, `mutil flow demo
  --json`); other JSON objects are ignored;
- bench/lru's standard-error line "# CASE cpu time: median A vs B op/s per
  CPU second, ratio R", read as the JSON line bench/lru now prints for it
  (case CASE-cpu, unit op/cpu-s), so older saved runs still give it;
- `mutil flow demo`'s text summary ("N of M numbers back ...", then "flood
  (W in flight): ..." or "paced at R/s: ..."), read as its --json line.

Everything else is ignored. For each bench name seen (the "bench" field),
the README's block

    <!-- bench:NAME -->
    ...
    <!-- /bench:NAME -->

is replaced by a table of that bench's results in output order: case,
ours, baseline and its figure, ratio, bar and whether it was met (a case
CASE-cpu right after CASE). Lines with "skipped" or "note" instead of
figures become a list below the table. A case measured again (same case
and baseline; several OUTPUT files) keeps its last figures, except in
benches whose lines are runs (flow_demo: one row per run, with its mode,
numbers back, msg/s, p50/p99/p999 and bar, no baseline; flow_demo_raw:
two rows per case, ours and the raw glue, each with its failed runs,
msg/s, p50/p99/p999 and CPU per message (split by role when given), the
ratios on ours' row; a design with a failed run misses the bar). Blocks of
benches absent from the outputs are left alone; a bench without a block in
the README is an error unless --print.

--print     write the tables to standard output, README untouched
--check     exit 1 when the README would change (for CI), README untouched
--complete  also an error (exit 2): a README block no OUTPUT fills, or a
            line that starts like JSON but does not parse

Exit status: 0, 1 (--check found a difference), 2 (bad input or usage).
Standard library only (/usr/bin/python3)."""

import argparse
import decimal
import json
import math
import os
import re
import sys

UNITS = {"us": "µs", "conn/s": "/s", "op/cpu-s": "op/CPU s", "msg/cpus": "msg/CPU s"}

# Benches whose lines are separate runs (every line a row, none replaced).
RUN_BENCHES = {"flow_demo"}

# `mutil flow demo`'s paced bar (issue 16: paced p99 ≤ 2 ms at half the
# flood throughput); tools/mutil/cli_flow.c prints the same in --json.
DEMO_P99_BAR_US = 2000

LRU_CPU = re.compile(r"^# (\S+)\s+cpu time: median (\S+) vs (\S+) op/s per CPU second,"
                     r" ratio (\S+)$")
DEMO_BACK = re.compile(r"^(\d+) of (\d+) numbers back \(wrong edge or malformed: (\d+),"
                       r" duplicates: (\d+)\)$")
DEMO_RESULT = re.compile(r"^(?:flood \((\d+) in flight\)|paced at (\d+)/s): (\d+) messages/s,"
                         r" latency p50 (\d+) us, p99 (\d+) us, p999 (\d+) us$")


def fmt_number(value, unit):
    """A figure with its unit: 3 significant digits, k/M/G prefixes for
    rates, µs/ms for latencies, GB/s above 1000 MB/s, kB/MB for bytes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "MB/s" and value >= 1000:
        return "%s GB/s" % sig3(value / 1000)
    if unit == "us":
        if value >= 1000:
            return "%s ms" % sig3(value / 1000)
        return "%s µs" % sig3(value)
    if unit == "ns" and value >= 1000:
        return fmt_number(value / 1000, "us")
    if unit == "B":
        for div, prefix in ((1e6, "MB"), (1e3, "kB")):
            if value >= div:
                return "%s %s" % (sig3(value / div), prefix)
        return "%s B" % sig3(value)
    for div, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return "%s %s %s" % (sig3(value / div), prefix, UNITS.get(unit, unit))
    return "%s %s" % (sig3(value), UNITS.get(unit, unit))


def sig3(x):
    """3 significant digits without an exponent: 1.07, 23.9, 412 (halves
    of the printed figure round up: 580.5 is 581)."""
    if x == 0:
        return "0"
    d = decimal.Decimal(repr(x))
    digits = max(0, 2 - d.copy_abs().adjusted())
    d = d.quantize(decimal.Decimal(1).scaleb(-digits), rounding=decimal.ROUND_HALF_UP)
    if d.copy_abs().adjusted() > 2 - digits and digits > 0:  # 9.995 became 10.00
        d = d.quantize(decimal.Decimal(1).scaleb(1 - digits), rounding=decimal.ROUND_HALF_UP)
    return "%s" % d


def fmt_ratio(r, bar=None):
    """r to 2 decimals, or 3 where 2 would put it on the other side of a
    ratio bar (">= 0.90 x": 0.899 shows as 0.899, not as the 0.90 it
    missed)."""
    if r is None:
        return "–"
    d = decimal.Decimal(repr(r))
    two = d.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)
    m = re.match(r"(>=|<=) ([0-9.]+) x$", bar or "")
    if m:
        limit = decimal.Decimal(m.group(2))
        met = (lambda v: v >= limit) if m.group(1) == ">=" else (lambda v: v <= limit)
        if met(two) != met(d):
            return "%s" % d.quantize(decimal.Decimal("0.001"), rounding=decimal.ROUND_HALF_UP)
    return "%s" % two


def fmt_bar(rec):
    bar = rec.get("bar")
    if not bar:
        return ""
    text = bar.replace(">=", "≥").replace("<=", "≤").replace(" x", " ×")
    text = re.sub(r" us\b", " µs", text)
    status = rec.get("status", "")
    verdict = {"ok": "met", "MISS": "**missed**", "n/a": "not measured"}.get(status, status)
    return "%s: %s" % (text, verdict)


# ---- reading outputs -------------------------------------------------------


def lru_cpu_record(m):
    """bench/lru's "cpu time" stderr line as its JSON record."""
    def num(s):
        try:
            v = float(s)
        except ValueError:
            return None
        return None if math.isnan(v) else v
    return {"bench": "lru", "case": m.group(1) + "-cpu", "unit": "op/cpu-s",
            "value": num(m.group(2)), "baseline": "plain-lru-cpu",
            "baseline_value": num(m.group(3)), "ratio": num(m.group(4)),
            "from_stderr": True}


def demo_record(m, back):
    """`mutil flow demo`'s summary line (and the "numbers back" line before
    it, back) as the record --json prints."""
    flight, rate, msgs, p50, p99, p999 = m.groups()
    rec = {"bench": "flow_demo", "case": "paced" if rate else "flood", "unit": "msg/s",
           "value": float(msgs), "p50_us": float(p50), "p99_us": float(p99),
           "p999_us": float(p999)}
    if rate:
        rec["rate"] = int(rate)
        rec["bar"] = "p99 <= 2 ms"
        rec["status"] = "ok" if float(p99) <= DEMO_P99_BAR_US else "MISS"
    else:
        rec["in_flight"] = int(flight)
    if back:
        rec["received"], rec["count"] = int(back.group(1)), int(back.group(2))
        rec["wrong"], rec["duplicates"] = int(back.group(3)), int(back.group(4))
    return rec


def read_records(path, strict):
    """The records of one output file, in order."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SystemExit("bench_tables: cannot read %s: %s" % (path, getattr(e, "strerror", e)))
    recs, back = [], None
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if line.startswith("{"):
            try:
                rec = json.loads(line)
            except ValueError:
                if strict:
                    raise SystemExit("bench_tables: %s:%d: not JSON" % (path, n))
                print("bench_tables: %s:%d: not JSON, ignored" % (path, n), file=sys.stderr)
                continue
            if isinstance(rec, dict) and "bench" in rec and "case" in rec:
                recs.append(rec)
            continue
        m = LRU_CPU.match(line)
        if m:
            recs.append(lru_cpu_record(m))
            continue
        m = DEMO_BACK.match(line)
        if m:
            back = m
            continue
        m = DEMO_RESULT.match(line)
        if m:
            recs.append(demo_record(m, back))
            back = None
    return recs


def parse_outputs(paths, strict=False):
    """The records of every output, in order, grouped by bench:
    {bench: [record, ...]} (a case seen again replaces its earlier figures
    in place, except in RUN_BENCHES)."""
    benches = {}
    for path in paths:
        for rec in read_records(path, strict):
            recs = benches.setdefault(rec["bench"], [])
            if rec["bench"] in RUN_BENCHES:
                recs.append(rec)
                continue
            key = record_key(rec)
            for i, old in enumerate(recs):
                if record_key(old) == key:
                    # a stderr line never replaces the JSON line of its case
                    if not (rec.get("from_stderr") and not old.get("from_stderr")):
                        recs[i] = rec
                    break
            else:
                recs.append(rec)
    for bench, recs in benches.items():
        # a case bench/lru prints as a JSON line too (in any file, in any
        # order): its stderr line is not a second row
        json_cases = {r["case"] for r in recs if not r.get("from_stderr")}
        benches[bench] = [r for r in recs
                          if not (r.get("from_stderr") and r["case"] in json_cases)]
    return benches


def record_key(rec):
    return (rec["case"], rec.get("baseline"), "note" in rec, "skipped" in rec)


# ---- tables ----------------------------------------------------------------


def cpu_after_wall(recs):
    """recs with each CASE-cpu record moved right after the last CASE
    record (and the CASE-cpu records already there)."""
    cases = {r["case"] for r in recs}
    moved = [r["case"].endswith("-cpu") and r["case"][:-4] in cases for r in recs]
    out = [r for r, m in zip(recs, moved) if not m]
    for r in (r for r, m in zip(recs, moved) if m):
        base = r["case"][:-4]
        at = max(i for i, o in enumerate(out) if o["case"] == base)
        while at + 1 < len(out) and out[at + 1]["case"] == r["case"]:
            at += 1
        out.insert(at + 1, r)
    return out


def header(bench, source):
    return ["<!-- generated by tools/bench_tables.py from the output of %s;"
            " do not edit by hand -->" % source, ""]


def table(bench, recs):
    """The markdown of one bench's block (without the markers)."""
    if bench == "flow_demo":
        return demo_table(recs)
    if bench == "flow_demo_raw":
        return demo_raw_table(recs)
    rows = ["| case | ours | baseline (same run) | ratio | bar |", "|---|---|---|---|---|"]
    extra = []
    for rec in cpu_after_wall(recs):
        if "skipped" in rec:
            extra.append("- `%s`: skipped — %s" % (rec["case"], rec["skipped"]))
            continue
        if "note" in rec:
            extra.append("- `%s`: %s" % (rec["case"], rec["note"]))
            continue
        unit = rec.get("unit", "")
        rows.append("| `%s` | %s | %s: %s | %s | %s |" % (
            rec["case"], fmt_number(rec.get("value"), unit), rec.get("baseline", "?"),
            fmt_number(rec.get("baseline_value"), unit), fmt_ratio(rec.get("ratio"), rec.get("bar")),
            fmt_bar(rec)))
    out = header(bench, "bench/" + bench) + rows
    if extra:
        out += [""] + extra
    return "\n".join(out)


def demo_table(recs):
    """`mutil flow demo`: one row per run, no baseline (the flow is the
    whole program); latency percentiles of every number."""
    rows = ["| run | mode | numbers back | msg/s | p50 | p99 | p999 | bar |",
            "|---|---|---|---|---|---|---|---|"]
    for n, rec in enumerate(recs, 1):
        if rec.get("case") == "paced":
            mode = "paced at %s/s" % fmt_count(rec.get("rate"))
        else:
            mode = "flood, %s in flight" % fmt_count(rec.get("in_flight"))
        back = "%s of %s" % (fmt_count(rec.get("received")), fmt_count(rec.get("count")))
        if rec.get("wrong") or rec.get("duplicates"):
            back += " (wrong %s, duplicates %s)" % (rec.get("wrong"), rec.get("duplicates"))
        rows.append("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
            n, mode, back, fmt_number(rec.get("value"), "msg/s"),
            fmt_number(rec.get("p50_us"), "us"), fmt_number(rec.get("p99_us"), "us"),
            fmt_number(rec.get("p999_us"), "us"), fmt_bar(rec)))
    return "\n".join(header("flow_demo", "`mutil flow demo`") + rows)


def demo_raw_table(recs):
    """bench/flow_demo: per case a row for ours and one for the raw glue,
    both measured in the same run (medians); ours' row carries the ratios
    ours / raw of the case's figure and of the CPU per message. Each row
    says how many of the design's runs failed (their figures are not in the
    medians); a design with a failed run misses the paced bar, whatever
    the line's status says (older lines judged the survivors only)."""
    rows = ["| case | design | runs failed | msg/s | p50 | p99 | p999 | CPU per msg"
            " | ours / raw | bar |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for rec in recs:
        if "skipped" in rec or "note" in rec:
            continue
        case = "`%s`" % rec["case"]
        if rec.get("rate"):
            case += " at %s/s" % fmt_count(rec.get("rate"))
        what = "p99" if rec.get("unit") == "us" else "msg/s"
        ratios = "%s %s, CPU %s" % (what, fmt_ratio(rec.get("ratio")),
                                    fmt_ratio(rec.get("cpu_ratio")))
        bar = rec.get("bar")
        for who, pre, cell in (("mutil", "", ratios), (rec.get("baseline", "raw"), "baseline_", "")):
            failed = rec.get(pre + "failed")
            runs = "–" if failed is None else "%s of %s" % (failed, rec.get("reps", "?"))
            verdict = ""
            if bar:
                status = "MISS" if failed else rec.get(pre + "status", "")
                verdict = fmt_bar({"bar": bar, "status": status})
            rows.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                case, who, runs, fmt_number(rec.get(pre + "msg_s"), "msg/s"),
                fmt_number(rec.get(pre + "p50_us"), "us"),
                fmt_number(rec.get(pre + "p99_us"), "us"),
                fmt_number(rec.get(pre + "p999_us"), "us"),
                fmt_cpu(rec, pre), cell, verdict))
    return "\n".join(header("flow_demo_raw", "bench/flow_demo") + rows)


def fmt_cpu(rec, pre):
    """CPU per number of one design, with its split by role when the line
    has it (inbound, workers, outbound processes)."""
    text = fmt_number(rec.get(pre + "cpu_us_per_msg"), "us")
    roles = [rec.get(pre + k) for k in ("cpu_in_us", "cpu_work_us", "cpu_out_us")]
    if all(isinstance(r, (int, float)) for r in roles):
        text += " (in %s, workers %s, out %s)" % tuple(sig3(r) for r in roles)
    return text


def fmt_count(n):
    return "?" if n is None else "{:,}".format(n)


# ---- the README ------------------------------------------------------------


def block_pattern(bench):
    begin, end = "<!-- bench:%s -->" % bench, "<!-- /bench:%s -->" % bench
    return begin, end, re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)


def replace_blocks(text, tables, strict):
    """text with each bench's block replaced; raises SystemExit when a
    block is missing (strict) or its end marker is."""
    for bench, body in tables.items():
        begin, end, pattern = block_pattern(bench)
        if not pattern.search(text):
            if begin in text:
                raise SystemExit("bench_tables: %s has no matching %s" % (begin, end))
            if strict:
                raise SystemExit("bench_tables: the README has no block %s ... %s" % (begin, end))
            continue
        text = pattern.sub(lambda m: "%s\n%s\n%s" % (begin, body, end), text, count=1)
    return text


def unfilled_blocks(text, tables):
    """The README's block names that no output fills."""
    return [b for b in re.findall(r"<!-- bench:([\w.-]+) -->", text) if b not in tables]


def main(argv):
    ap = argparse.ArgumentParser(description="bench output -> README tables")
    ap.add_argument("--readme", default="README.md")
    ap.add_argument("--print", action="store_true", dest="print_only")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--complete", action="store_true")
    ap.add_argument("outputs", nargs="+")
    args = ap.parse_args(argv)
    benches = parse_outputs(args.outputs, strict=args.complete)
    if not benches:
        print("bench_tables: no benchmark results in the input", file=sys.stderr)
        return 2
    tables = {b: table(b, recs) for b, recs in benches.items()}
    if args.print_only:
        for b, body in tables.items():
            print("<!-- bench:%s -->\n%s\n<!-- /bench:%s -->\n" % (b, body, b))
        return 0
    try:
        with open(args.readme, encoding="utf-8") as f:
            old = f.read()
    except OSError as e:
        raise SystemExit("bench_tables: cannot read %s: %s" % (args.readme, e.strerror))
    new = replace_blocks(old, tables, strict=True)
    missing = unfilled_blocks(old, tables) if args.complete else []
    if missing:
        raise SystemExit("bench_tables: no output fills the README's block(s): %s"
                         % ", ".join(missing))
    if args.check:
        if new != old:
            print("bench_tables: %s differs from the tables of this output" % args.readme)
            return 1
        return 0
    if new != old:
        tmp = args.readme + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(new)
        os.replace(tmp, args.readme)
    print("bench_tables: %s: %s" % (args.readme, ", ".join(sorted(tables))))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            sys.exit(2)
        raise
