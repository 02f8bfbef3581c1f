#!/usr/bin/env bash
# Release latency on the rig's caching mounts (docs/test-cluster.md): RUNS steps per mode of
#   srun -N 4 --ntasks-per-node=2, the last rank 1 s late, muster run --trace ... -- true
# with the sync directory on LOCAL_SLURM_SHARED (each node's own caching mount). From muster's trace stamps:
# per step the latest release of any task after the last arrival (ms), and whether any task was released
# before the last arrival. Modes: tcp (default) and file (--no-tcp). Prints median, p95 and max per mode.
#   usage: scripts/local-slurm/rig-latency.sh [RUNS] [JAVA]   (SLURM_CONF and LOCAL_SLURM_SHARED set;
#          JAVA: the java muster runs on, default MUSTER_JAVA or scripts/muster's choice)
set -euo pipefail
runs=${1:-20}
here=$(cd "${BASH_SOURCE[0]%/*}" && pwd -P)
root=${here%/*/*}
: "${LOCAL_SLURM_SHARED:?set LOCAL_SLURM_SHARED (eval the exports of start.sh)}"
[[ -n ${2:-} ]] && export MUSTER_JAVA=$2
w=$(mktemp -d /tmp/rig-latency.XXXXXX)
s=$(mktemp -d "$LOCAL_SLURM_SHARED/rig-latency.XXXXXX")
trap 'rm -rf "$w" "$s"' EXIT
chmod 755 "$w"
chmod 700 "$s"
cp "${MUSTER_JAR:-$root/launcher/target/muster.jar}" "$w/muster.jar"
export MUSTER_JAR=$w/muster.jar
cat >"$w/task.sh" <<TASK
#!/bin/bash
# \$1 mode, \$2 tag
m=(); [[ \$1 == file ]] && m=(--no-tcp)
[[ \$SLURM_PROCID == \$((SLURM_NTASKS - 1)) ]] && sleep 1
exec "$root/scripts/muster" run --quiet --sync-dir "$s/\$2" --trace "$w/\$2.trace" --timeout 60 "\${m[@]}" -- true
TASK
chmod 755 "$w/task.sh"
for ((r = 1; r <= runs; r++)); do
	for mode in tcp file; do
		mkdir -m 700 "$s/$mode.$r"
		srun -N 4 --ntasks-per-node=2 "$w/task.sh" "$mode" "$mode.$r" 2>>"$w/srun.err" ||
			echo "rig-latency: step $mode.$r failed (see below)" >&2
	done
done
tail -n 5 "$w/srun.err" >&2 || true
python3 - "$w" "$runs" <<'PY'
import os, statistics, sys
W, runs = sys.argv[1], int(sys.argv[2])
def pct(xs, p):
    xs = sorted(xs); k = (len(xs) - 1) * p / 100; lo = int(k); hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
for mode in ("tcp", "file"):
    lat, early, via, bad = [], 0, {}, 0
    for r in range(1, runs + 1):
        try:
            recs = [dict(kv.split("=", 1) for kv in l.split()) for l in open(os.path.join(W, "%s.%d.trace" % (mode, r))) if l.strip()]
        except OSError:
            bad += 1; continue
        if len(recs) != 8:
            bad += 1; continue
        last = max(int(x["arrive_us"]) for x in recs)
        early += sum(1 for x in recs if int(x["release_us"]) < last)
        lat.append((max(int(x["release_us"]) for x in recs) - last) / 1000)
        for x in recs:
            via[x.get("via", "?")] = via.get(x.get("via", "?"), 0) + 1
    if lat:
        print("%-4s %d steps: last arrival -> every task released: median %.1f ms, p95 %.1f, max %.1f; released "
              "before the last arrival: %d tasks; via %s%s" % (mode, len(lat), statistics.median(lat), pct(lat, 95),
              max(lat), early, " ".join("%s:%d" % kv for kv in sorted(via.items())), "; %d steps failed" % bad if bad else ""))
    else:
        print("%s: no step completed" % mode)
PY
