#!/usr/bin/env bash
# Is each PMIx fence of an Open MPI program a barrier across nodes on this cluster?
# Runs mpi_hello (examples/mpi) RUNS times under `srun --mpi=pmix -N 4 --ntasks-per-node=2` with a small
# LD_PRELOAD shim that logs when each task enters PMIx_Fence_nb and when its completion arrives. Open MPI 4.1
# calls three fences: MPI_Init's data exchange, MPI_Init's closing fence (no data), MPI_Finalize's. A fence is a
# barrier when no task's completion comes before the last task's entry.
#   usage: scripts/local-slurm/mpi-fences.sh [RUNS]     (SLURM_CONF set; needs mpicc, libpmix-dev)
# Slurm's fence algorithm for this run can be forced from the environment (srun passes it to the step):
#   SLURM_PMIX_FENCE=tree scripts/local-slurm/mpi-fences.sh 3      (ring, tree or mixed)
# Prints one line per fence and run; exits 1 if any fence was not a barrier.
set -euo pipefail
runs=${1:-3}
here=$(cd "${BASH_SOURCE[0]%/*}" && pwd -P)
w=$(mktemp -d /tmp/mpi-fences.XXXXXX)
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
cat >"$w/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pmix.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
struct ctx { pmix_op_cbfunc_t cb; void *data; int seq; };
static int seq;
static double now(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void done(pmix_status_t st, void *d) {
    struct ctx *c = d;
    fprintf(stderr, "FENCE %d done %.6f status %d\n", c->seq, now(), st);
    c->cb(st, c->data);
    free(c);
}
pmix_status_t PMIx_Fence_nb(const pmix_proc_t procs[], size_t nprocs, const pmix_info_t info[], size_t ninfo,
                            pmix_op_cbfunc_t cbfunc, void *cbdata) {
    static pmix_status_t (*real)(const pmix_proc_t[], size_t, const pmix_info_t[], size_t, pmix_op_cbfunc_t, void *);
    if (!real) real = (pmix_status_t (*)(const pmix_proc_t[], size_t, const pmix_info_t[], size_t, pmix_op_cbfunc_t, void *))dlsym(RTLD_NEXT, "PMIx_Fence_nb");
    struct ctx *c = malloc(sizeof *c);
    c->cb = cbfunc; c->data = cbdata; c->seq = ++seq;
    fprintf(stderr, "FENCE %d enter %.6f\n", c->seq, now());
    return real(procs, nprocs, info, ninfo, cbfunc ? done : NULL, c);
}
C
inc=$(pkg-config --cflags pmix 2>/dev/null || echo -I/usr/lib/x86_64-linux-gnu/pmix2/include)
# shellcheck disable=SC2086
gcc -shared -fPIC -O2 $inc -o "$w/shim.so" "$w/shim.c" -ldl
mpicc -O2 -o "$w/mpi_hello" "$here/../../examples/mpi/mpi_hello.c"
printf '#!/bin/sh\nLD_PRELOAD=%s/shim.so exec %s/mpi_hello\n' "$w" "$w" >"$w/run.sh"
chmod 755 "$w/run.sh"
bad=0
for ((r = 1; r <= runs; r++)); do
	out=$(timeout 60 srun --mpi=pmix -N 4 --ntasks-per-node=2 "$w/run.sh" 2>&1) || true
	for s in 1 2 3; do
		last_in=$(awk -v s="$s" '$1 == "FENCE" && $2 == s && $3 == "enter" { print $4 }' <<<"$out" | sort -n | tail -1)
		first_out=$(awk -v s="$s" '$1 == "FENCE" && $2 == s && $3 == "done" { print $4 }' <<<"$out" | sort -n | head -1)
		if [[ -z $last_in || -z $first_out ]]; then
			echo "run $r fence $s: incomplete (the step failed?)"
			bad=1
		elif awk -v a="$last_in" -v b="$first_out" 'BEGIN { exit !(b >= a) }'; then
			echo "run $r fence $s: barrier"
		else
			echo "run $r fence $s: NOT a barrier: a task left it $(awk -v a="$last_in" -v b="$first_out" 'BEGIN { printf "%.1f", (a - b) * 1000 }') ms before the last task entered"
			bad=1
		fi
	done
done
exit "$bad"
