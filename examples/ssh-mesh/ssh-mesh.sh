#!/bin/bash
# ssh mesh: every task of the step starts its own sshd, and rank 0 then runs a command on every other task over
# ssh, once each, with no retry. muster makes each task arrive only once its sshd accepts connections
# (--start ... --arrive-when tcp:PORT), so rank 0 never dials an sshd that is not up yet: the Sarus ssh hook's case.
# Each task publishes its port in its roster card (--publish ssh_port=PORT); rank 0 reads every task's node and
# port from the roster (MUSTER_ROSTER), with no file of its own on shared storage.
#
#   examples/ssh-mesh/ssh-mesh.sh            (inside an allocation or from a login node)
#
# The keys are made for this run only (ssh-keygen): one client key, one host key shared by the tasks, the
# client's authorized_keys and a known_hosts that trusts only that host key. WORK_DIR (default: a new directory
# under $HOME, which every node sees) holds them and is removed afterwards unless given.
#   NODES (4), TASKS_PER_NODE (2), SSH_PORT_BASE (20000 + job id % 120 * 100; task rank r listens on BASE + r),
#   SSH_LISTEN (each task's node address: what its node name resolves to, which rank 0 dials), SSHD (/usr/sbin/sshd),
#   MESH_DELAY_RANK and MESH_DELAY (seconds: that rank starts late), MESH_WITHOUT_MUSTER=1 (each task starts its
#   sshd itself and connects at once: shows what goes wrong without the barrier)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sshd=${SSHD:-/usr/sbin/sshd}
if [[ ! -x $sshd ]]; then
  echo "ssh-mesh: $sshd not found; install openssh-server (apt-get install -y openssh-server) or set SSHD" >&2
  exit 69
fi
if [[ $(id -u) == 0 && ! -d /run/sshd ]]; then
  # sshd's privilege separation directory, which a container may lack
  mkdir -m 0755 /run/sshd
fi

if [[ -n ${WORK_DIR:-} ]]; then
  work=$WORK_DIR
  mkdir -p "$work" && chmod 0700 "$work"
else
  work=$(mktemp -d "$HOME/.muster-ssh-mesh.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
ssh-keygen -q -t ed25519 -N '' -C "muster ssh-mesh client" -f "$work/id"
ssh-keygen -q -t ed25519 -N '' -C "muster ssh-mesh host" -f "$work/host_key"
cp "$work/id.pub" "$work/authorized_keys"
echo "* $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"
cat >"$work/sshd_config" <<CONFIG
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PidFile none
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $(id -un)
LogLevel FATAL
CONFIG

MUSTER_HOME=${MUSTER_HOME:-$here/../..}
if [[ -x $MUSTER_HOME/scripts/muster ]]; then MUSTER=$MUSTER_HOME/scripts/muster   # a checkout
elif [[ -x $MUSTER_HOME/bin/muster ]]; then MUSTER=$MUSTER_HOME/bin/muster            # an install (module load muster)
else MUSTER=$(command -v muster) || { echo "muster not found: set MUSTER_HOME or module load muster" >&2 && exit 1; }
fi
SSHD=$sshd MUSTER=$MUSTER srun -N "${NODES:-4}" \
  --ntasks-per-node="${TASKS_PER_NODE:-2}" --overcommit "$here/task.sh" "$work"
