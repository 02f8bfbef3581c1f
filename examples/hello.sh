#!/bin/sh
# The smallest program to start under muster: says who it is and when it started.
echo "rank ${MUSTER_RANK:-?} of ${MUSTER_SIZE:-?} on ${MUSTER_NODE:-?} started at $(date +%s.%N)"
