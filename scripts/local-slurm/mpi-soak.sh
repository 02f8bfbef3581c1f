#!/usr/bin/env bash
# Soak test of Open MPI on the local cluster, kept out of CI: RUNS consecutive rounds of four cases,
#   srun --mpi=pmix -N 4 -n 8 ./mpi_hello                   (5/1/1/1 layout)
#   srun --mpi=pmix -N 4 --ntasks-per-node=2 ./mpi_hello    (2 per node)
#   the same two under `muster run --`
# with examples/mpi/mpi_hello.c and no OMPI_* setting (it refuses to run with one in the environment).
# Each run must exit 0 and print all 8 hellos. Failures are printed in full; the last lines count them.
#   usage: scripts/local-slurm/mpi-soak.sh [RUNS]   (default 50; SLURM_CONF set; muster.jar built)
set -uo pipefail
runs=${1:-50}
here=$(cd "${BASH_SOURCE[0]%/*}" && pwd -P)
root=${here%/*/*}
if env | grep -q '^OMPI_'; then
	echo "mpi-soak: unset the OMPI_* variables first: $(env | grep '^OMPI_' | cut -d= -f1 | tr '\n' ' ')" >&2
	exit 2
fi
w=$(mktemp -d /tmp/mpi-soak.XXXXXX)
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
mpicc -O2 -o "$w/mpi_hello" "$root/examples/mpi/mpi_hello.c" || exit 2
# a copy of the jar: a rebuild during the soak must not pull it from under the running tasks
cp "${MUSTER_JAR:-$root/launcher/target/muster.jar}" "$w/muster.jar" || exit 2
export MUSTER_JAR=$w/muster.jar
m=$root/scripts/muster
names=(plain-N4-n8 plain-per-node-2 muster-N4-n8 muster-per-node-2)
args=("-N 4 -n 8 $w/mpi_hello" "-N 4 --ntasks-per-node=2 $w/mpi_hello"
	"-N 4 -n 8 $m run -- $w/mpi_hello" "-N 4 --ntasks-per-node=2 $m run -- $w/mpi_hello")
fails=(0 0 0 0)
t0=$SECONDS
for ((r = 1; r <= runs; r++)); do
	for c in 0 1 2 3; do
		# shellcheck disable=SC2086
		out=$(timeout 90 srun --mpi=pmix ${args[$c]} 2>&1)
		rc=$?
		k=$(grep -c '^hello from rank [0-7] of 8 (allreduce 8)$' <<<"$out")
		if [[ $rc != 0 || $k != 8 ]]; then
			fails[c]=$((fails[c] + 1))
			printf '=== %s, run %d: exit %d, %d of 8 hellos\n%s\n' "${names[$c]}" "$r" "$rc" "$k" "$out"
		fi
	done
done
for c in 0 1 2 3; do echo "${names[$c]}: ${fails[$c]} failed of $runs"; done
echo "wall time $((SECONDS - t0)) s"
! ((fails[0] + fails[1] + fails[2] + fails[3]))
