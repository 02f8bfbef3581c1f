#!/bin/bash
# sbatch example: one job, two steps behind muster's barrier.
#  1. an MPI program, direct-launched by srun through PMIx;
#  2. a shell pipeline on every task, which starts only when all tasks have arrived.
# Submit with: sbatch examples/sbatch-pipeline.sh   (MUSTER_HOME defaults to the directory sbatch was called from:
# a checkout's scripts/muster or an install's bin/muster there, else muster on PATH)
#SBATCH --job-name=muster-example
#SBATCH --nodes=4
#SBATCH --ntasks=8
#SBATCH --overcommit
#SBATCH --output=muster-example-%j.out
set -euo pipefail
: "${MUSTER_HOME:=${SLURM_SUBMIT_DIR:-$(pwd)}}"
if [[ -x $MUSTER_HOME/scripts/muster ]]; then muster=$MUSTER_HOME/scripts/muster   # a checkout
elif [[ -x $MUSTER_HOME/bin/muster ]]; then muster=$MUSTER_HOME/bin/muster            # an install (module load muster)
else muster=$(command -v muster) || { echo "muster not found: set MUSTER_HOME or module load muster" >&2 && exit 1; }
fi
examples=$MUSTER_HOME/examples
[[ -d $examples ]] || examples=$MUSTER_HOME/share/doc/muster/examples
work=${WORK_DIR:-$(mktemp -d)}
mpicc -O2 -o "$work/mpi_hello" "$examples/mpi/mpi_hello.c"

# Several ranks per node on one host need Open MPI's TCP transport (the local test cluster); real clusters do not.
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,tcp}
srun --mpi=pmix "$muster" run -- "$work/mpi_hello"

# Each task counts the words of its own line of input once every task is there.
srun "$muster" run -- sh -c 'echo "task $MUSTER_RANK of $MUSTER_SIZE on $MUSTER_NODE" | wc -w | sed "s/^/rank $MUSTER_RANK words: /"'
