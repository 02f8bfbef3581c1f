#!/bin/bash
# sbatch example: one job, two steps behind muster's barrier.
#  1. an MPI program, direct-launched by srun through PMIx;
#  2. a shell pipeline on every task, which starts only when all tasks have arrived.
# Submit with: sbatch examples/sbatch-pipeline.sh   (MUSTER_HOME defaults to the repository)
#SBATCH --job-name=muster-example
#SBATCH --nodes=4
#SBATCH --ntasks=8
#SBATCH --overcommit
#SBATCH --output=muster-example-%j.out
set -euo pipefail
: "${MUSTER_HOME:=${SLURM_SUBMIT_DIR:-$(pwd)}}"
muster=$MUSTER_HOME/scripts/muster
work=${WORK_DIR:-$(mktemp -d)}
mpicc -O2 -o "$work/mpi_hello" "$MUSTER_HOME/examples/mpi/mpi_hello.c"

srun --mpi=pmix "$muster" run -- "$work/mpi_hello"

# Each task counts the words of its own line of input once every task is there.
srun "$muster" run -- sh -c 'echo "task $MUSTER_RANK of $MUSTER_SIZE on $MUSTER_NODE" | wc -w | sed "s/^/rank $MUSTER_RANK words: /"'
