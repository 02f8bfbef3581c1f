#!/bin/bash
# srun example: 16 tasks on 4 nodes; no program starts before all 16 have arrived.
# Run from anywhere inside an allocation or on a login node: examples/srun-hello.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
srun -N "${NODES:-4}" --ntasks-per-node="${TASKS_PER_NODE:-4}" --overcommit \
  "$here/../scripts/muster" run -- "$here/hello.sh"
