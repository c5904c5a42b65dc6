#!/usr/bin/python3
# report.py: the markdown report of tests/bench/run-all.
#
# Reads doorman's raw JSON lines and postscreen's (bench-postscreen's .jsonl, same scenario names),
# takes the median of the runs of every figure, and prints one table: doorman, postscreen, the
# ratio doorman / postscreen, the target and whether it is met.  The ratio is always doorman
# divided by postscreen, so > 1 is better for throughputs and < 1 is better for latencies and bytes.
# usage: report.py DOORMAN.jsonl POSTSCREEN.jsonl COMMANDS WARNINGS (environment: see run-all)

import json
import os
import statistics
import sys

dm_file, ps_file, cmds_file, warn_file = sys.argv[1:5]
E = os.environ


def load(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return rows


DM, PS = load(dm_file), load(ps_file)


def get(row, key):
    if callable(key):
        try:
            return key(row)
        except (KeyError, TypeError, ValueError):
            return None
    v = row
    for k in key.split("."):
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def vals(rows, scen, key):
    return [v for v in (get(r, key) for r in rows if r.get("scenario") == scen) if v is not None]


def med(rows, scen, key):
    v = vals(rows, scen, key)
    return (statistics.median(v), min(v), max(v), len(v)) if v else None


def fmt(x, unit=""):
    if x is None:
        return "–"
    if unit == "q":
        return f"{x:.3f}"
    if abs(x) >= 100 or (x == int(x) and unit not in ("ms",)):
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if unit == "ms" or abs(x) >= 1 else f"{x:.3f}"


def cell(m, unit):
    if m is None:
        return "–"
    s = f"**{fmt(m[0], unit)}**"
    if m[3] > 1:
        s += f" ({fmt(m[1], unit)} – {fmt(m[2], unit)})"
    return s


# target: (kind, value) with kind in: "le" (doorman <= value), "ge", "ratio_le" (doorman/ps <=),
# "ratio_ge", "eq".  A row may carry several.
def check(targets, d, p):
    if not targets:
        return ""
    if d is None:
        return "not measured"
    out = []
    for kind, val in targets:
        if kind == "le":
            ok, txt = d <= val, f"≤ {fmt(val)}"
        elif kind == "ge":
            ok, txt = d >= val, f"≥ {fmt(val)}"
        elif kind == "eq":
            ok, txt = abs(d - val) < 1e-9, f"= {val}"
        elif kind in ("ratio_le", "ratio_ge"):
            if p is None or p == 0:
                out.append(f"{'≤' if kind == 'ratio_le' else '≥'} {val:.3g}× ps: no peer figure")
                continue
            r = d / p
            ok = r <= val if kind == "ratio_le" else r >= val
            txt = f"{'≤' if kind == 'ratio_le' else '≥'} {val:.3g}× ps"
        out.append(f"{txt}: {'**met**' if ok else '**MISSED**'}")
    return "; ".join(out)


ROWS = []   # (label, dm scenario, key, ps scenario or None, ps key, unit, targets)


def row(label, scen, key, unit, ps=True, targets=None, ps_scen=None, ps_key=None):
    ROWS.append((label, scen, key, (ps_scen or scen) if ps else None, ps_key or key, unit, targets or []))


for n in (1000, 10000, 19000):
    s = f"a-zombies-{n}"
    row(f"a. {n:,} zombies: still open at the end of the hold", s, "open_at_end", "conn")
    row(f"a. {n:,} zombies: RSS of the screen process while held", s, lambda r: r["rss_open_kb"] / 1024, "MiB")
    row(f"a. {n:,} zombies: **bytes per held connection**", s, "bytes_per_conn", "bytes",
        targets=[("le", 1024), ("ratio_le", 1 / 3)] if n == 19000 else None)
    row(f"a. {n:,} zombies: time to open them all", s, "open_seconds", "s")
row("o1. 19,873 zombies (postscreen: fatal, all dropped): still open after 3 s", "o1-fd-limit-19873",
    "open_at_end", "conn")
row("o1. 21,000 zombies (over doorman's 20,000 fds): greeted by doorman (held)", "o1-fd-limit-21000",
    "greeted", "conn", ps=False)
row("o1. 21,000 zombies: still connected after 3 s (the excess waits in the listen queue)",
    "o1-fd-limit-21000", "open_at_end", "conn", ps=False)
row("b. zombies still open at the end of b", "b-zombies", "open_at_end", "conn")
row("b. cache-warm clients, 10k zombies held: final 220 p50", "b-greet-under-zombies", "greet_p50_ms", "ms")
row("b. cache-warm clients, 10k zombies held: **final 220 p99**", "b-greet-under-zombies", "greet_p99_ms", "ms",
    targets=[("le", 10), ("ratio_le", 0.5)])
row("b. cache-warm clients, 10k zombies held: final 220 max", "b-greet-under-zombies", "greet_max_ms", "ms")
row("b. allowlisted clients (mynetworks), 10k zombies held: final 220 p50", "b-allow-under-zombies",
    "greet_p50_ms", "ms", ps_scen="b-greet-under-zombies")
row("b. allowlisted clients, 10k zombies held: **final 220 p99** (vs postscreen's cache-warm)",
    "b-allow-under-zombies", "greet_p99_ms", "ms", ps_scen="b-greet-under-zombies",
    targets=[("le", 10), ("ratio_le", 0.5)])
row("b. connections/s during b", "b-greet-under-zombies", "conn_per_s", "conn/s")
row("b. CPU steal during the cache-warm runs", "b-greet-under-zombies", "steal_pct", "%", ps=False)
row("b. fresh clients, 10k zombies held: `220-` teaser (first byte) p50", "b-teaser-under-zombies",
    "first_p50_ms", "ms", ps=False)
row("b. fresh clients, 10k zombies held: **`220-` teaser p99**", "b-teaser-under-zombies", "first_p99_ms", "ms",
    ps=False, targets=[("le", 5)])
row("c. **cache-warm screened connections/s**, LMDB", "c-cache-warm", "conn_per_s", "conn/s",
    targets=[("ratio_ge", 3)])
row("c. final 220 p50", "c-cache-warm", "greet_p50_ms", "ms")
row("c. final 220 p99", "c-cache-warm", "greet_p99_ms", "ms")
row("c. failed connections", "c-cache-warm", "failed", "conn")
row("c. workers (max sampled)", "c-cache-warm", "workers_max", "procs", ps=False)
row("c. CPU steal during the runs", "c-cache-warm", "steal_pct", "%", ps=False)
row("c-redis. **cache-warm screened connections/s**, Redis (vs postscreen's c)", "c-cache-warm-redis",
    "conn_per_s", "conn/s", ps_scen="c-cache-warm", targets=[("ratio_ge", 3)])
row("c-redis. final 220 p99", "c-cache-warm-redis", "greet_p99_ms", "ms", ps_scen="c-cache-warm")
row("c-redis. failed connections", "c-cache-warm-redis", "failed", "conn", ps_scen="c-cache-warm")
row("f. ceiling: connections/s (accept → 220 → close, load of c)", "f-ceiling-greet", "conn_per_s", "conn/s")
row("d. **complete sessions/s** (EHLO … QUIT → smtp-sink)", "d-sessions", "sessions_per_s", "sess/s",
    targets=[("ratio_ge", 1.5)])
row("d. session latency p50", "d-sessions", "session_p50_ms", "ms")
row("d. session latency p99", "d-sessions", "session_p99_ms", "ms")
row("d. delivered per run", "d-sessions", "delivered", "sessions")
row("d. not delivered per run", "d-sessions", "failed", "sessions")
row("d. CPU steal during the runs", "d-sessions", "steal_pct", "%", ps=False)
row("g. pregreet clients: answer p50 (doorman: after its 2 s greet wait, §10)", "g-pregreet", "verdict_p50_ms", "ms")
row("g. pregreet clients: answer p99", "g-pregreet", "verdict_p99_ms", "ms")
row("g. pregreet clients handled/s", "g-pregreet", "conn_per_s", "conn/s")
row("o2. cache-warm at concurrency 200: completed (of 10,000)", "o2-cache-warm-c200", "ok", "conn")
row("o2. same: refused with 4xx", "o2-cache-warm-c200", "rejected_4xx", "conn")
row("o2. same: connections/s", "o2-cache-warm-c200", "conn_per_s", "conn/s")
row("o2. same: final 220 p99", "o2-cache-warm-c200", "greet_p99_ms", "ms")
# Issue 7 names no target for h: the baseline (no cache, same load) shows what the writes cost.
for b in ("lmdb", "redis", "none"):
    s = f"h-cache-write-{b}" if b != "none" else "h-cache-none"
    what = "PASS NEW = cache writes/s" if b != "none" else "no cache (baseline): PASS NEW/s"
    row(f"h-{b}. fresh clients, greet wait 1 s, 2,000 at a time: {what}", s, "conn_per_s",
        "conn/s", ps=False)
    row(f"h-{b}. same: `220-` teaser p50", s, "first_p50_ms", "ms", ps=False)
    row(f"h-{b}. same: **`220-` teaser p99**" + (" while the cache is written" if b != "none" else ""),
        s, "first_p99_ms", "ms", ps=False)
    row(f"h-{b}. same: final 220 p99 minus the 1 s greet wait", s, lambda r: r["greet_p99_ms"] - 1000, "ms",
        ps=False)
    row(f"h-{b}. same: failed (of 20,000)", s, "failed", "conn", ps=False)
    row(f"h-{b}. same: PASS NEW lines in the log", f"{s}-log", "pass_new", "lines", ps=False)
row("e. **DNSBL verdicts/s**, distinct clients, 3 domains", "e-dnsbl", "conn_per_s", "verdicts/s",
    targets=[("ratio_ge", 1)])
row("e. verdict (final 220) p50", "e-dnsbl", "greet_p50_ms", "ms")
row("e. verdict (final 220) p99", "e-dnsbl", "greet_p99_ms", "ms")
row("e. failed connections", "e-dnsbl", "failed", "conn")
row("e. **DNS queries per distinct (client, domain)**", "e-dns", "dnsbl_zone_stats.queries_per_name", "q",
    targets=[("eq", 1.0)])
row("e. DNS queries under the 3 zones per run", "e-dns", "dnsbl_zone_stats.in_zone_queries", "queries")

print("# doorman beside postscreen: benchmark figures\n")
print(f"Measured by `tests/bench/run-all` on {E.get('START_DATE', '?')} (doorman side {E.get('DM_ELAPSED', '?')} s, "
      f"whole run {E.get('ELAPSED', '?')} s), doorman at git {E.get('GITREV', '?')}.")
print(f"Machine: {E.get('NCPU', '?')} × {E.get('CPU_MODEL', '?')}, Linux {E.get('KERNEL', '?')}, hard open-file "
      f"limit {E.get('NOFILE', '?')} per process. Load average before / after: {E.get('LOAD_START', '?')} / "
      f"{E.get('LOAD_END', '?')}. CPU steal (time the hypervisor took from this VM, a source of jumps in "
      f"latency tails and rates): doorman side {E.get('DM_STEAL') or '?'} %, postscreen side "
      f"{E.get('PS_STEAL') or '?'} %.\n")
print(f"postscreen figures: {E.get('PS_SOURCE', '?')}. Every figure is the median of {E.get('RUNS', '3')} runs "
      "(spread min – max in brackets) unless it is an overload probe (one run). **ratio = doorman ÷ postscreen** "
      "for every row: above 1 is better for throughputs, below 1 is better for latencies and bytes.\n")
print("| figure | doorman | postscreen | ratio | target |")
print("|---|---|---|---|---|")
for label, scen, key, ps_scen, ps_key, unit, targets in ROWS:
    d = med(DM, scen, key)
    if d is None:
        continue
    p = med(PS, ps_scen, ps_key) if ps_scen else None
    ratio = "–"
    if p is not None and p[0]:
        ratio = f"{d[0] / p[0]:.2f}"
    print(f"| {label} | {cell(d, unit)} {unit} | {cell(p, unit) + ' ' + unit if p else '–'} | {ratio} | "
          f"{check(targets, d[0], p[0] if p else None)} |")

cd = med(DM, "c-cache-warm", "conn_per_s")
fd = med(DM, "f-ceiling-greet", "conn_per_s")
cp = med(PS, "c-cache-warm", "conn_per_s")
fp = med(PS, "f-ceiling-greet", "conn_per_s")
print()
if cd and fd:
    print(f"- doorman's cache-warm screening runs at **{100 * cd[0] / fd[0]:.1f} %** of the accept-loop ceiling "
          f"({cd[0]:,.0f} / {fd[0]:,.0f} conn/s, ceiling-server on the host's loopback).")
if cp and fp:
    print(f"- postscreen's: {100 * cp[0] / fp[0]:.1f} % ({cp[0]:,.0f} / {fp[0]:,.0f} conn/s, ceiling inside its namespace).")

print("\n## Overload probes (one run each)\n")
for r in DM:
    if r.get("scenario", "").startswith("o1-fd-limit-log") or r.get("scenario") in ("o2-log", "e-log", "g-log") \
            or r.get("scenario", "").endswith("-warmed"):
        print(f"- doorman `{r['scenario']}`: " + ", ".join(f"{k} = `{v}`" for k, v in r.items()
                                                            if k not in ("scenario", "run")))
for r in PS:
    if r.get("scenario", "").startswith("o1-fd-limit-log"):
        print(f"- postscreen `{r['scenario']}`: " + ", ".join(f"{k} = `{v}`" for k, v in r.items()
                                                               if k not in ("scenario", "run")))

print("\n## doorman's warnings during the run (log lines, counted; client addresses masked)\n")
print("```")
try:
    print(open(warn_file).read().rstrip() or "(none)")
except OSError:
    print("(none)")
print("```")
print("\n## Commands, exactly as run (doorman side; smtpload is ../shared/bench's, built into $BENCH_OUT/tools)\n")
print("```")
try:
    print(open(cmds_file).read().strip())
except OSError:
    pass
print("```")
