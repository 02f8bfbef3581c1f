package dev.muster.cli;

/** Usage texts. */
final class Help {
    private Help() {
    }

    static final String MAIN = """
            muster: make the tasks of an HPC job step start together, find each other, and exec the real program.

            usage: muster <command> [options] [-- cmd args...]

              run [options] -- cmd args   barrier, export the environment, exec cmd (the default command)
              barrier [options]           the step barrier alone, for shell scripts
              hook [options]              the step barrier as an OCI hook (state on stdin; docs/oci-hook.md)
              local -n N [options] -- cmd start N local tasks, as srun -n N muster run -- cmd would
              explain [--format json]     who this task is, and where each value came from
              sweep [--sync-dir D]        remove step directories that killed steps left behind
              doctor [--sync-dir D]       check the sync and cache directories; under srun -N 2, measure
                                          how fast a file shows on another node
              rendezvous <sub> ...        register / resolve / list / prune / deregister / env / wait endpoints
              --version                   muster's version and the Java running it

            Every command takes --help. Status lines go to stderr as muster[<rank>] ...; data goes to stdout.
            """;

    static final String BARRIER_OPTIONS = """
              --timeout S       deadline from this task's arrival (default 600s; env MUSTER_TIMEOUT)
              --poll-max MS     ceiling of the poll interval (default 100ms; env MUSTER_POLL_MAX)
              --sync-dir D      shared directory for barrier files (env MUSTER_SYNC_DIR; else
                                $HOOK_BASE_DIR/<user>/.oci-hooks/slurm-global-sync; else ~/.muster/sync)
              --name NAME       tell several barriers of one step apart
              --no-tcp          wait by the file protocol only (env MUSTER_TCP=0); by default rank 0 releases
                                the others over TCP and the file protocol is the fallback
              --bind-address A  where rank 0 listens for the TCP release (env MUSTER_BIND_ADDRESS; default: the
                                address of Slurm's SLURMD_NODENAME, else of the host name)
              --trace FILE      append this task's arrival and release times to FILE (env MUSTER_TRACE)
              --quiet, -q       errors only (env MUSTER_QUIET=1)
              --verbose, -v     more detail, stack traces on errors (env MUSTER_VERBOSE=1)
            Durations: 30, 30s, 500ms, 2m (a bare number is seconds for --timeout, milliseconds for --poll-max).
            """;

    static final String RUN = """
            usage: muster run [options] -- cmd args...

            Waits until every task of the step has arrived, exports MUSTER_RANK, MUSTER_SIZE, MUSTER_LOCAL_RANK,
            MUSTER_NODE, MUSTER_MASTER_ADDR and MUSTER_BARRIER_KEY, then replaces itself with cmd (true exec on
            Java 22+). In a batch script (no step) it runs cmd at once.

              --no-barrier      do not wait for the other tasks
              --torchrun-env    also export RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT
              --dry-run         print the export lines and the command instead of running it

            Services that must be up before the peers connect (sshd, a daemon):
              --start 'CMD'     run CMD (/bin/sh -c) in the background before arriving; repeatable. It gets
                                MUSTER_RANK, MUSTER_SIZE, MUSTER_LOCAL_RANK, MUSTER_NODE, and lives exactly as long
                                as the task: when the task ends its process group and every process it started
                                (daemonized ones too) get SIGTERM, SIGKILL 5 s later
              --arrive-when PROBE
                                arrive only once PROBE passes (repeatable; all must pass): tcp:[HOST:]PORT,
                                http[s]://...[=STATUS], file:PATH, cmd:'...'
              --arrive-timeout S  give up after S (default: --timeout); exit 69, or the service's own code when
                                it exits non-zero first; either way the step is aborted and the services stopped

            Rendezvous between jobs (records compatible with hpc-compose's; see muster rendezvous --help):
              --register NAME   provide NAME: a registrar started before the exec waits for --ready, registers
                                host:port, renews the lease every third of the TTL while the record is still
                                its own, and deregisters when the program ends or the step is cancelled
                --port P          the port clients connect to (required)
                --protocol P      default http          --path /P      e.g. /   --service S
                --host H          default $SLURMD_NODENAME, else the host name
                --ttl-seconds N   default 120: a provider killed before it deregisters lapses within minutes
                --metadata K=V    repeatable
                --ready PROBE     tcp:[HOST:]PORT, http[s]://...[=STATUS], file:PATH, cmd:'...'
                                  (default tcp:HOST:PORT)
                --ready-timeout S give up registering after S (default: wait as long as the program runs)
                --register-rank R the rank that registers (default 0)
              --rendezvous NAME[,NAME...]
                                wait for every NAME at once (rank 0, before the barrier), then export
                                HPC_COMPOSE_RDZV_<NAME>_{URL,HOST,PORT,...} and HPC_COMPOSE_RDZV_* (the last name)
                                on every rank; exit 69 and abort the step when a name does not resolve
                --optional NAME[,NAME...]  the same, but only a warning when it does not resolve
                --rendezvous-timeout S     each name's deadline (default 30s)
                --verify          hand out an endpoint only once it answers (HTTP below 500, else TCP)
              --cache-dir DIR   the shared cache (default $MUSTER_CACHE_DIR, else $CACHE_DIR, else
                                ~/.cache/muster)
            """ + BARRIER_OPTIONS;

    static final String BARRIER = """
            usage: muster barrier [options]

            Returns when every task of the step has arrived. Exit 75 on timeout (naming the missing ranks), the
            aborting task's code when one aborts, 78 outside a step.
            """ + BARRIER_OPTIONS;

    static final String LOCAL = """
            usage: muster local -n N [--nodes K] [run options] -- cmd args...

            Starts N tasks on this machine, each running muster run with MUSTER_LOCAL_JOB, MUSTER_RANK,
            MUSTER_SIZE, MUSTER_LOCAL_RANK and MUSTER_NODE set and a private sync directory. --nodes K spreads
            them over K pretend nodes (MUSTER_NODE <host>-<k>). Exits with the highest task code.
            Takes run's barrier options and --start, --arrive-when, --arrive-timeout.
            """;

    static final String EXPLAIN = """
            usage: muster explain [--format text|json] [--sync-dir D] [--name NAME]

            Prints this task's launcher, rank, size, local rank, node, job, step, restart, cluster, barrier key and
            sync directory, with the variable each value came from.
            """;

    static final String DOCTOR = """
            usage: muster doctor [--sync-dir D] [--cache-dir C] [--timeout 60s]

            Reports the file-system type and mount options of the sync and cache directories (NFS attribute and
            lookup caching, node-local file systems), whether their permissions pass muster's checks, and a poll
            ceiling and timeout to use. Run as srun -N 2 muster doctor, ranks 0 and 1 also measure how long a file
            created on one node takes to become visible on the other, and say "shared no" (exit 77) when it never
            does within --timeout. Report on stdout, one "key value" line each; notes on stderr.
            """;

    static final String SWEEP = """
            usage: muster sweep [--sync-dir D] [--max-age 86400] [--dry-run]

            Removes step directories of jobs Slurm no longer runs (or of muster local runs whose launcher is gone),
            those older than --max-age (default 1 day), and the remains of interrupted clean-ups. Never follows a
            symbolic link.
            """;
}
