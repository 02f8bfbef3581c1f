#!/bin/bash
# The program of every task of examples/ssh-mesh/ssh-mesh.sh. Rank 0 runs `hostname; echo ok-<rank>` on every
# other task over ssh, all at once and once each (ConnectionAttempts=1, no retry), and exits 1 when one fails;
# the other ranks keep their sshd up until rank 0 is done.
set -uo pipefail
work=$1
rank=${SLURM_PROCID:-${MUSTER_RANK:-0}}
size=${SLURM_STEP_NUM_TASKS:-${SLURM_NTASKS:-${MUSTER_SIZE:-1}}}

if [[ $rank != 0 ]]; then
  for _ in $(seq 600); do
    [[ -e $work/done ]] && exit 0
    sleep 0.1
  done
  echo "ssh-mesh rank $rank: rank 0 did not finish within 60 s" >&2
  exit 1
fi

trap 'touch "$work/done"' EXIT
declare -a hosts ports
if [[ -n ${MUSTER_ROSTER:-} ]]; then
  # the roster (one rank per line): every task's node, and the port it published with --publish ssh_port=PORT
  while read -r r node port; do
    hosts[r]=$node ports[r]=$port
  done < <(sed -n 's/^{"rank":\([0-9]*\),"node":"\([^"]*\)".*"ssh_port":"\([0-9]*\)".*/\1 \2 \3/p' "$MUSTER_ROSTER")
else
  # no muster (MESH_WITHOUT_MUSTER=1): what a script does by hand, from Slurm's block distribution
  mapfile -t nodes < <(scontrol show hostnames "$SLURM_STEP_NODELIST")
  for ((r = 0; r < size; r++)); do
    hosts[r]=${nodes[r / ${SLURM_NTASKS_PER_NODE:-2}]} ports[r]=$((SSH_PORT - rank + r))
  done
fi
for ((r = 1; r < size; r++)); do
  host=${hosts[r]:-} port=${ports[r]:-}
  [[ -n $host && -n $port ]] || { echo "ssh-mesh: rank $r has no node or ssh_port in the roster" >&2; exit 1; }
  ssh -p "$port" -i "$work/id" -o BatchMode=yes -o ConnectionAttempts=1 -o ConnectTimeout=10 \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$work/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o LogLevel=ERROR "$host" "hostname; echo ok-$r" >"$work/out.$r" 2>&1 &
  pids[r]=$!
done
failed=0
for ((r = 1; r < size; r++)); do
  host=${hosts[r]} port=${ports[r]}
  if wait "${pids[r]}" && grep -qx "ok-$r" "$work/out.$r"; then
    echo "ssh-mesh: rank 0 -> rank $r ($host:$port): $(tr '\n' ' ' <"$work/out.$r")"
  else
    echo "ssh-mesh: rank 0 -> rank $r ($host:$port) FAILED: $(tr '\n' ' ' <"$work/out.$r")"
    failed=$((failed + 1))
  fi
done
echo "ssh-mesh: $((size - 1 - failed)) of $((size - 1)) reached on the first try"
[[ $failed == 0 ]]
