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
# every task publishes its host and port as it starts; under muster all are there once the barrier released
for _ in $(seq 300); do
  [[ $(find "$work/peers" -maxdepth 1 -name '[0-9]*' | wc -l) -ge $size ]] && break
  sleep 0.1
done
for ((r = 1; r < size; r++)); do
  read -r host port <"$work/peers/$r" || { echo "ssh-mesh: rank $r published no address" >&2; exit 1; }
  ssh -p "$port" -i "$work/id" -o BatchMode=yes -o ConnectionAttempts=1 -o ConnectTimeout=10 \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$work/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o LogLevel=ERROR "$host" "hostname; echo ok-$r" >"$work/out.$r" 2>&1 &
  pids[r]=$!
done
failed=0
for ((r = 1; r < size; r++)); do
  read -r host port <"$work/peers/$r"
  if wait "${pids[r]}" && grep -qx "ok-$r" "$work/out.$r"; then
    echo "ssh-mesh: rank 0 -> rank $r ($host:$port): $(tr '\n' ' ' <"$work/out.$r")"
  else
    echo "ssh-mesh: rank 0 -> rank $r ($host:$port) FAILED: $(tr '\n' ' ' <"$work/out.$r")"
    failed=$((failed + 1))
  fi
done
echo "ssh-mesh: $((size - 1 - failed)) of $((size - 1)) reached on the first try"
[[ $failed == 0 ]]
