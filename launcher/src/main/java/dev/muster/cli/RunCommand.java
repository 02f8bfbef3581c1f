package dev.muster.cli;

import dev.muster.barrier.Outcome;
import dev.muster.barrier.Release;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.task.TaskIdentity;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code muster run [options] -- cmd args...}: reads the options, then follows the task's path in {@link TaskPath}
 * (identity, pre-flight, rendezvous, barrier, environment, exec).
 */
final class RunCommand implements Command {
    @Override
    public String name() {
        return "run";
    }

    @Override
    public String help() {
        return """
            usage: muster run [options] -- cmd args...

            Waits until every task of the step has arrived, exports MUSTER_RANK, MUSTER_SIZE, MUSTER_LOCAL_RANK,
            MUSTER_NODE, MUSTER_MASTER_ADDR and MUSTER_BARRIER_KEY, then replaces itself with cmd (true exec on
            Java 22+). In a batch script (no step) it runs cmd at once.

              --no-barrier      do not wait for the other tasks
              --roster          hand every task the step roster: MUSTER_ROSTER (a JSON file), MUSTER_HOSTS,
                                MUSTER_ROSTER_ADDR0; see muster roster --help and docs/roster.md
              --publish K=V|K=@FILE  a value in this task's roster card (key [A-Za-z0-9_.-]{1,64}, <= 1 KiB)
              --port NAME       a port free on the advertised address: MUSTER_PORT_<NAME>, and in the roster
              --address A       what this task advertises: an interface (ib0), a CIDR (10.1.0.0/16), route
                                (toward rank 0's node) or node (default); sets MASTER_ADDR, GLOO_SOCKET_IFNAME
                                and NCCL_SOCKET_IFNAME
              --torchrun-env    also export RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT
              --dry-run         print the export lines and the command instead of running it
              --no-waiter       wait for the release in the JVM, not in the small waiter that takes the
                                last wait over where it is installed (docs/barrier.md)

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
              --key-file FILE   sign the registration / accept only signed records (default
                                $MUSTER_RDZV_KEY_FILE)
            """ + Options.HELP;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        RunFlags f = new RunFlags(ctx.env());
        Args a = new Args(name(), argv);
        CommonFlags common = options(a, f, ctx);
        if (common == null) {
            return ExitCodes.OK;
        }
        f.command = a.rest();
        if (f.command.isEmpty()) {
            throw MusterException.usage("run: missing command after --; write muster run [options] -- cmd args...");
        }
        common.applyLogLevel();
        f.rendezvous.check();
        f.services.check();
        return new TaskPath(ctx, f).run();
    }

    /** What rank 0 hands every task in its release. */
    static Map<String, String> releaseData(TaskIdentity id, boolean torchrun) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put(Release.MASTER_ADDR, masterAddress(id));
        if (torchrun) {
            data.put(Release.MASTER_PORT, Integer.toString(freePort()));
        }
        return data;
    }

    /** Rank 0's address as the other nodes reach it: Slurm's node name; a local run's host name. */
    static String masterAddress(TaskIdentity id) {
        return id.launcher().equals("local") ? "127.0.0.1" : id.node();
    }

    static int freePort() {
        try (ServerSocket s = dev.muster.core.OwnSockets.mark(new ServerSocket())) {
            s.bind(null); // an ephemeral port on every address, as new ServerSocket(0)
            return s.getLocalPort();
        } catch (IOException e) {
            throw MusterException.internal("cannot find a free port for MASTER_PORT: " + e, e);
        }
    }

    static Map<String, String> exports(TaskIdentity id, Outcome release, String key, boolean torchrun) {
        Map<String, String> out = new LinkedHashMap<>();
        String master =
                release != null ? release.data().getOrDefault(Release.MASTER_ADDR, id.node()) : masterAddress(id);
        out.put("MUSTER_RANK", Integer.toString(id.rank()));
        out.put("MUSTER_SIZE", Integer.toString(id.size()));
        out.put("MUSTER_LOCAL_RANK", Integer.toString(id.localRank()));
        out.put("MUSTER_NODE", id.node());
        out.put("MUSTER_MASTER_ADDR", master);
        if (release != null) {
            out.put("MUSTER_BARRIER_KEY", key);
        }
        if (torchrun) {
            out.put("RANK", Integer.toString(id.rank()));
            out.put("WORLD_SIZE", Integer.toString(id.size()));
            out.put("LOCAL_RANK", Integer.toString(id.localRank()));
            if (id.localSize() > 0) {
                out.put("LOCAL_WORLD_SIZE", Integer.toString(id.localSize()));
            } else {
                Log.warn("cannot tell how many tasks run on this node: LOCAL_WORLD_SIZE is not set");
            }
            out.put("MASTER_ADDR", master);
            String port = release != null ? release.data().get(Release.MASTER_PORT) : null;
            out.put("MASTER_PORT", port != null ? port : Integer.toString(freePort()));
        }
        if (release != null) {
            out.putAll(Release.env(release.data()));
        }
        return out;
    }
}
