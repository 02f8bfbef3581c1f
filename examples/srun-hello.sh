#!/bin/bash
# srun example: 16 tasks on 4 nodes; no program starts before all 16 have arrived.
# Run from anywhere inside an allocation or on a login node: examples/srun-hello.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MUSTER_HOME=${MUSTER_HOME:-$here/..}
if [[ -x $MUSTER_HOME/scripts/muster ]]; then muster=$MUSTER_HOME/scripts/muster   # a checkout
elif [[ -x $MUSTER_HOME/bin/muster ]]; then muster=$MUSTER_HOME/bin/muster            # an install (module load muster)
else muster=$(command -v muster) || { echo "muster not found: set MUSTER_HOME or module load muster" >&2 && exit 1; }
fi
srun -N "${NODES:-4}" --ntasks-per-node="${TASKS_PER_NODE:-4}" --overcommit \
  "$muster" run -- "$here/hello.sh"
