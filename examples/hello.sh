#!/bin/sh
# The smallest program to start with muster: each task says who it is and when it started.
#   srun -N 4 -n 8 --overcommit scripts/muster run -- examples/hello.sh
#   scripts/muster local -n 4 -- examples/hello.sh
# After the barrier every start time is later than the last task's arrival.
echo "rank ${MUSTER_RANK:-?} of ${MUSTER_SIZE:-?} on ${MUSTER_NODE:-$(hostname)} started at $(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"
