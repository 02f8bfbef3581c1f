#!/bin/bash
# One task of examples/ssh-mesh/ssh-mesh.sh: start this task's sshd under muster, which arrives at the step
# barrier once the port accepts connections, publishes the port in this task's roster card, and then runs mesh.sh
# (which reads every task's node and port from the roster).
set -euo pipefail
work=$1
here=$(cd "$(dirname "$0")" && pwd)
rank=$SLURM_PROCID
# below Linux's ephemeral range (32768-60999), where outgoing connections take their source ports
port=$((${SSH_PORT_BASE:-$((20000 + SLURM_JOB_ID % 120 * 100))} + rank))
export SSH_PORT=$port

if [[ ${MESH_DELAY_RANK:-} == "$rank" ]]; then
  sleep "${MESH_DELAY:-2}"
fi
# sshd listens where rank 0 dials: the address this task's node name resolves to (loopback on a one-host cluster)
listen=${SSH_LISTEN:-$(getent ahostsv4 "${SLURMD_NODENAME:-$(hostname)}" | awk 'NR == 1 { print $1 }')}
# -D: sshd stays in the foreground, so it is the service's own process (muster would stop a forking one too)
sshd="'$SSHD' -D -e -f '$work/sshd_config' -p $port -o ListenAddress=$listen"
if [[ ${MESH_WITHOUT_MUSTER:-0} == 1 ]]; then
  /bin/sh -c "exec $sshd" &
  pid=$!
  trap 'kill "$pid" 2>/dev/null' EXIT
  "$here/mesh.sh" "$work"
  exit
fi
exec "$MUSTER" run --publish "ssh_port=$port" --start "$sshd" --arrive-when "tcp:$listen:$port" -- \
  "$here/mesh.sh" "$work"
