#!/usr/bin/env python3
"""The tables of scripts/bench-barrier, from the files its steps left in its work directory, and the data and
gnuplot script of its plot (plot.dat, plot.gp in the same directory). Run by scripts/bench-barrier only:

    bench-barrier-report.py W REPS SIZES DO_STRACE STRACE_N LATE MODES SPREAD_RUNS MAIN_KIND
"""
import glob
import os
import re
import statistics
import sys

W, reps, sizes = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split()]
do_strace, strace_n, late = sys.argv[4] == "1", int(sys.argv[5]), sys.argv[6]
modes, spread_runs, main_kind = sys.argv[7].split(), int(sys.argv[8]), sys.argv[9]
nan = float("nan")
HZ = os.sysconf("SC_CLK_TCK")


def late_ms(n):
    return 1000 + 120 * n if late == "auto" else int(late)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return nan
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def med(xs):
    return statistics.median(xs) if xs else nan


def step(tag, n):
    """(trace records, program start stamps in us) of one step, or None when it is incomplete."""
    try:
        with open(os.path.join(W, tag + ".trace")) as f:
            recs = [dict(kv.split("=", 1) for kv in line.split()) for line in f if line.strip()]
        with open(os.path.join(W, tag + ".prog")) as f:
            starts = [int(line) / 1000 for line in f if line.strip().isdigit()]
    except OSError:
        print("<!-- %s: no trace or no output -->" % tag)
        return None
    if len(recs) != n or len(starts) != n:
        print("<!-- %s: %d traces, %d starts of %d -->" % (tag, len(recs), len(starts), n))
        return None
    return recs, starts


def idle(tag):
    """What the last rank saw of the others just before it arrived: [(rank, ticks, rss_kb, comm)]."""
    try:
        with open(os.path.join(W, tag + ".idle")) as f:
            rows = [dict(kv.split("=", 1) for kv in line.split()) for line in f if line.strip()]
    except OSError:
        return []
    return [(int(r["rank"]), int(r["ticks"]), int(r["rss_kb"]), r.get("comm", "?")) for r in rows]


def where(mode):
    return "the rig" if mode.endswith("-rig") or main_kind == "rig" else "the flat cluster"


print("### Release latency (ms), %d repetitions each\n" % reps)
print("The last rank arrives %s ms late (%s), so that every other task is idle and waiting; "
      "\"busy\" counts the tasks that had not started or used 20 ms of CPU or more in the 250 ms before it arrived, "
      "and (in brackets) the CPU all the others used in that window (the repetition with most). %s. Ratios are against the C floor (bench-floor.c) at the same N.\n" % (
          "1000 + 120 × N" if late == "auto" else late,
          ", ".join("N = %d: %d ms" % (n, late_ms(n)) for n in sizes),
          "; ".join("%s on %s" % (m, where(m)) for m in modes)))
print("| N | mode | (a) last arrival → all released: median | p95 | (a) ÷ floor | (b) → all programs started: median "
      "| p95 | (b) ÷ floor | busy | released via |")
print("|---|---|---|---|---|---|---|---|---|---|")
A, B = {}, {}
for n in sizes:
    rows = []
    for mode in modes:
        a, b, via, busy = [], [], {}, (0, 0.0)
        for rep in range(1, reps + 1):
            tag = "%s.%d.%d" % (mode, n, rep)
            s = step(tag, n)
            seen = idle(tag)
            if late_ms(n) > 0:
                # a task that has not started, or used 20 ms or more of CPU in the 250 ms window, is not idle
                k = (n - 1 - len(seen)) + sum(1 for x in seen if x[1] * 1000 / HZ >= 20)
                busy = max(busy, (k, sum(x[1] for x in seen) * 1000 / HZ))
            if not s:
                continue
            recs, starts = s
            last = max(int(r["arrive_us"]) for r in recs)
            a.append((max(int(r["release_us"]) for r in recs) - last) / 1000)
            b.append((max(starts) - last) / 1000)
            for r in recs:
                via[r.get("via", "?")] = via.get(r.get("via", "?"), 0) + 1
        A[(n, mode)], B[(n, mode)] = a, b
        rows.append((mode, a, b, via, busy))
    fa, fb = med(A.get((n, "floor"), [])), med(B.get((n, "floor"), []))
    for mode, a, b, via, busy in rows:
        ra = "%.1f×" % (med(a) / fa) if a and fa > 0 else "–"
        rb = "%.1f×" % (med(b) / fb) if b and fb > 0 else "–"
        print("| %d | %s | %.1f | %.1f | %s | %.1f | %.1f | %s | %s | %s |" % (
            n, mode, med(a), pct(a, 95), ra, med(b), pct(b, 95), rb,
            "%d of %d (%.0f ms)" % (busy[0], n - 1, busy[1]) if late_ms(n) > 0 else "–",
            " ".join("%s:%d" % kv for kv in sorted(via.items()))))

if "floor" in modes:
    print()
    for mode in [m for m in modes if m != "floor"]:
        parts = []
        for n in sizes:
            fb = med(B.get((n, "floor"), []))
            if B.get((n, mode)) and fb > 0:
                parts.append("N = %d: %.1f×" % (n, med(B[(n, mode)]) / fb))
        if parts:
            print("- (b) %s ÷ floor: %s" % (mode, ", ".join(parts)))
    print("- goal for the TCP release: (b) within 2× the floor at N = 8, within 3× at N = 64")

print("\n### Resident memory of a waiting task (VmRSS from /proc/<pid>/status, read just before the last arrival)\n")
print("| mode | waiting task (rank ≠ 0): median | min – max | rank 0 | process | samples |")
print("|---|---|---|---|---|---|")
for mode in modes:
    others, zero, comms = [], [], {}
    for n in sizes:
        for rep in range(1, reps + 1):
            for rank, _, rss, comm in idle("%s.%d.%d" % (mode, n, rep)):
                (zero if rank == 0 else others).append(rss / 1024)
                if rank != 0:
                    comms[comm] = comms.get(comm, 0) + 1
    if others:
        print("| %s | %.1f MiB | %.1f – %.1f | %.1f MiB | %s | %d |" % (
            mode, med(others), min(others), max(others), med(zero),
            " ".join("%s:%d" % kv for kv in sorted(comms.items())), len(others)))
    else:
        print("| %s | – | – | – | – | 0 |" % mode)

if spread_runs:
    print("\n### Spread of the program starts under srun: 8 tasks on 4 nodes (`-N 4 --ntasks-per-node=2`), "
          "the last 1 s late, %d runs per mode\n" % spread_runs)
    print("| mode | spread first → last program start: median (ms) | min | max | (b) median | steps complete |")
    print("|---|---|---|---|---|---|")
    for mode in modes:
        sp, b = [], []
        for run in range(1, spread_runs + 1):
            s = step("spread-%s.%d" % (mode, run), 8)
            if not s:
                continue
            recs, starts = s
            last = max(int(r["arrive_us"]) for r in recs)
            sp.append((max(starts) - min(starts)) / 1000)
            b.append((max(starts) - last) / 1000)
        print("| %s | %.1f | %.1f | %.1f | %.1f | %d of %d |" % (
            mode, med(sp), min(sp) if sp else nan, max(sp) if sp else nan, med(b), len(sp), spread_runs))

if do_strace:
    META = ["open", "openat", "stat", "lstat", "fstat", "newfstatat", "statx", "getdents", "getdents64", "access",
            "faccessat", "faccessat2", "readlink", "readlinkat", "mkdir", "mkdirat", "unlink", "unlinkat", "rename",
            "renameat", "renameat2", "link", "linkat", "creat", "utimensat"]
    print("\n### Metadata syscalls while waiting (strace -c on ranks 0-%d of one %d-task step, 3 s each), per task "
          "per second\n" % (min(8, strace_n - 1) - 1, strace_n))
    print("| mode | rank | metadata/s | open/s | stat/s | dir reads (getdents64)/s |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for mode in [m for m in ("tcp", "waiter", "file", "sarus") if m in modes]:
        rows = []
        for f in sorted(glob.glob(os.path.join(W, "strace-%s.strace.*" % mode)), key=lambda p: int(p.rsplit(".", 1)[1])):
            r = int(f.rsplit(".", 1)[1])
            calls = {}
            for line in open(f):
                x = line.split()
                if len(x) >= 5 and re.match(r"^[0-9.]+$", x[0]) and x[-1] != "total":
                    calls[x[-1]] = int(x[3])
            meta = sum(calls.get(s, 0) for s in META) / 3
            opens = (calls.get("open", 0) + calls.get("openat", 0)) / 3
            stats = sum(calls.get(s, 0) for s in ["stat", "lstat", "fstat", "newfstatat", "statx"]) / 3
            dents = (calls.get("getdents", 0) + calls.get("getdents64", 0)) / 3
            rows.append((r, meta, opens, stats, dents))
            print("| %s | %d | %.1f | %.1f | %.1f | %.1f |" % (mode, r, meta, opens, stats, dents))
        others = [x for x in rows if x[0] != 0]
        zero = [x for x in rows if x[0] == 0]
        if others:
            summary[mode] = (statistics.mean(x[1] for x in others), statistics.mean(x[4] for x in others),
                             zero[0][4] if zero else 0.0)
    print("\n| mode | metadata/s per waiting task (ranks ≠ 0, mean) | dir reads/s per waiting task | dir reads/s of the "
          "whole step (rank 0 + (N-1) × mean) |")
    print("|---|---|---|---|")
    for mode, (meta, dents, zero) in summary.items():
        print("| %s | %.1f | %.1f | %.1f |" % (mode, meta, dents, zero + (strace_n - 1) * dents))
    if "sarus" in summary and "file" in summary and summary["file"][0] > 0:
        s, f = summary["sarus"], summary["file"]

        def whole(t):
            return t[2] + (strace_n - 1) * t[1]

        print("\nfile path vs baseline: %.1fx fewer metadata calls per waiting task; %.1fx fewer directory reads in "
              "the step" % (s[0] / f[0], whole(s) / whole(f) if whole(f) else float("inf")))

# the plot: one data block per mode (N, median (a), median (b)), two panels
with open(os.path.join(W, "plot.dat"), "w") as f:
    for mode in modes:
        f.write("# %s\n" % mode)
        for n in sizes:
            if A.get((n, mode)):
                f.write("%d %.3f %.3f\n" % (n, med(A[(n, mode)]), med(B[(n, mode)])))
        f.write("\n\n")
title = "last rank %s ms late, median of %d" % ("1000+120N" if late == "auto" else late, reps)
plots = []
for i, mode in enumerate(modes):
    style = "lw 3 dt 2 lc rgb 'black'" if mode == "floor" else "lw 2"
    plots.append("'%s/plot.dat' index %d using 1:%%d with linespoints %s title '%s'" % (W, i, style, mode))
with open(os.path.join(W, "plot.gp"), "w") as f:
    f.write("""set terminal pngcairo size 1200,500 font 'sans,10'
set output out
set multiplot layout 1,2 title 'muster barrier: %s'
set logscale y
set xlabel 'tasks (N)'
set ylabel 'ms after the last arrival'
set xtics (%s)
set key top left
set grid
set title '(a) every task has the release'
plot %s
set title '(b) every program started'
plot %s
unset multiplot
""" % (title, ", ".join(str(n) for n in sizes), ", ".join(p % 2 for p in plots), ", ".join(p % 3 for p in plots)))
