#!/usr/bin/env bash
# How soon does a poll on one node see what another node wrote into an existing file of the shared directory?
# For each candidate way of polling (visibility.c), RUNS times: the file is made empty, node 2's task reads it
# (its caches now hold "empty"), node 1's task writes 2 bytes in place, node 2 polls every 5 ms by the
# candidate until it sees them. Prints per candidate the delays in ms (write -> first poll that saw it).
#   usage: scripts/local-slurm/visibility.sh [RUNS] [CANDIDATE...]   (SLURM_CONF, LOCAL_SLURM_SHARED set)
set -euo pipefail
runs=${1:-3}
shift || true
cands=("$@")
((${#cands[@]})) || cands=(open-read held-pread odirect flock-read readdir-open stat-size statx-sync-open
	statx-sync-held fadvise-held)
here=$(cd "${BASH_SOURCE[0]%/*}" && pwd -P)
: "${LOCAL_SLURM_SHARED:?set LOCAL_SLURM_SHARED (eval the exports of start.sh)}"
w=$(mktemp -d /tmp/visibility.XXXXXX)
s=$(mktemp -d "$LOCAL_SLURM_SHARED/visibility.XXXXXX")
trap 'rm -rf "$w" "$s"' EXIT
chmod 755 "$w" "$s"
gcc -O2 -o "$w/visibility" "$here/visibility.c"
mapfile -t nodes < <(sinfo -h -N -o %N | sort -u | head -2)
echo "mount on ${nodes[1]}: $(srun -N 1 -w "${nodes[1]}" findmnt -n -o FSTYPE,OPTIONS -T "$s" 2>/dev/null || echo '?')"
for c in "${cands[@]}"; do
	line="$c:"
	for ((r = 1; r <= runs; r++)); do
		f=$s/$c.$r go=$w/go.$c.$r
		: >"$f"
		out=$(timeout 60 srun -N 2 -n 2 --ntasks-per-node=1 -w "${nodes[0]},${nodes[1]}" -l bash -c \
			'if [ "$SLURM_PROCID" = 0 ]; then exec "$0" writer "$1" "$2"; else exec "$0" reader "$1" "$2" "$3"; fi' \
			"$w/visibility" "$f" "$go" "$c" 2>&1) || true
		t0=$(sed -n 's/^ *0: written //p' <<<"$out")
		t1=$(sed -n 's/^ *1: seen //p' <<<"$out")
		if [[ -z $t0 || -z $t1 || $t1 == never ]]; then
			line+=" never(>30s)"
		else
			line+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')"
		fi
	done
	echo "$line"
done
