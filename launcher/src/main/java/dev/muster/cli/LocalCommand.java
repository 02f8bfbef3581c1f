package dev.muster.cli;

import dev.muster.barrier.Sweep;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Processes;
import dev.muster.exec.Signals;
import dev.muster.task.IdentityResolver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code muster local -n N [--nodes K] [run options] -- cmd}: {@code srun -n N muster run -- cmd} for one machine.
 * Starts N tasks of the same JVM, each with {@code MUSTER_LOCAL_JOB} and its rank set (never fake
 * {@code SLURM_*}) and a private sync directory; every task runs the normal {@code run} path. Exits with the highest
 * task code, as srun does.
 */
final class LocalCommand implements Command, FlagReader {
    private int n = -1;
    private int nodes = 1;
    private final List<String> runOptions = new ArrayList<>();
    private Options o;
    private final StartFlags sf = new StartFlags();

    @Override
    public String name() {
        return "local";
    }

    @Override
    public String help() {
        return """
            usage: muster local -n N [--nodes K] [run options] -- cmd args...

            Starts N tasks on this machine, each running muster run with MUSTER_LOCAL_JOB, MUSTER_RANK,
            MUSTER_SIZE, MUSTER_LOCAL_RANK and MUSTER_NODE set and a private sync directory. --nodes K spreads
            them over K pretend nodes (MUSTER_NODE <host>-<k>). Exits with the highest task code.
            Takes run's barrier options and --start, --arrive-when, --arrive-timeout.
            """;
    }

    @Override
    public boolean read(String flag, Args a) {
        switch (flag) {
            case "-n", "--ntasks" -> n = a.integer(flag, 1, 4096);
            case "--nodes", "-N" -> nodes = a.integer(flag, 1, 4096);
            case "--no-barrier", "--dry-run", "--torchrun-env", "--roster" -> {
                a.noValue(flag);
                runOptions.add(flag);
            }
            case "--publish", "--port", "--address" -> {
                // checked by each task, where a bad one aborts the step as it would under srun
                runOptions.add(flag);
                runOptions.add(a.value(flag));
            }
            default -> {
                int from = a.mark() - 1;
                if (!o.read(flag, a) && !sf.read(flag, a)) {
                    return false;
                }
                // validated here, passed on verbatim: every task parses its own run options
                runOptions.addAll(a.tokens(from, a.mark()));
            }
        }
        return true;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        Map<String, String> env = ctx.env();
        o = new Options(env);
        Args a = new Args(name(), argv);
        CommonFlags common = options(a, this, ctx);
        if (common == null) {
            return ExitCodes.OK;
        }
        // every task logs as this launcher was asked to
        if (common.verbose) {
            runOptions.add("--verbose");
        }
        if (common.quiet) {
            runOptions.add("--quiet");
        }
        if (n < 0) {
            throw MusterException.usage("local: -n N (the number of tasks) is required");
        }
        if (nodes > n) {
            throw MusterException.usage("local: --nodes " + nodes + " is more than the " + n + " tasks");
        }
        List<String> command = a.rest();
        if (command.isEmpty()) {
            throw MusterException.usage("local: missing command after --; write muster local -n N -- cmd args...");
        }
        common.applyLogLevel();
        sf.check();
        Path privateSync = null;
        try {
            if (o.syncDir == null && env.get("MUSTER_SYNC_DIR") == null) {
                privateSync = Files.createTempDirectory(PRIVATE_PREFIX + dev.muster.core.Posix.pid() + "-");
                sweepStale(privateSync);
            }
            return launch(n, nodes, runOptions, command, privateSync);
        } catch (IOException e) {
            throw MusterException.unusableDir("local: cannot create a private sync directory: " + e);
        } finally {
            if (privateSync != null) {
                try {
                    Sweep.deleteTree(privateSync);
                } catch (IOException e) {
                    Log.debug("cannot remove " + privateSync + ": " + e);
                }
            }
        }
    }

    static final String PRIVATE_PREFIX = "muster-local-";

    /**
     * Removes what earlier runs left when they were killed (SIGKILL): empty directories beside {@code mine} named
     * {@code muster-local-<pid>-...} whose pid is no longer alive and that belong to the same user. A directory
     * that still holds a step is left to {@code muster sweep} (its tasks may outlive the killed parent); links and
     * other users' entries are left alone; a pid reused by another process only keeps a directory a little longer.
     */
    static void sweepStale(Path mine) {
        Path parent = mine.getParent();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(parent, PRIVATE_PREFIX + "*")) {
            Object me = Files.getAttribute(mine, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            for (Path p : ds) {
                String name = p.getFileName().toString();
                int dash = name.indexOf('-', PRIVATE_PREFIX.length());
                if (p.equals(mine) || dash < 0) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(name.substring(PRIVATE_PREFIX.length(), dash));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (Processes.alive(pid)
                        || !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        || !me.equals(Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
                    continue;
                }
                try {
                    Files.delete(p); // empty only: tasks that outlived a killed muster local may still use it
                    Log.debug("removed " + p + ", left by a muster local that is gone (pid " + pid + ")");
                } catch (IOException e) {
                    Log.debug("left " + p + " (" + e + ")");
                }
            }
        } catch (IOException | RuntimeException e) {
            Log.debug("cannot sweep old private directories beside " + mine + ": " + e);
        }
    }

    private int launch(int n, int nodes, List<String> runOptions, List<String> command, Path sync) throws IOException {
        List<String> jvm = JvmPrefix.of();
        long pid = dev.muster.core.Posix.pid();
        // the start time lets sweep tell this process from a later one given the same PID (StepLiveness)
        String job = pid + "-" + Long.toHexString(System.nanoTime())
                + dev.muster.core.Processes.startTicks(pid).map(t -> "-" + t).orElse("");
        String host = IdentityResolver.resolve(Map.of()).node();
        int perNode = (n + nodes - 1) / nodes;
        List<Process> tasks = new ArrayList<>();
        for (int rank = 0; rank < n; rank++) {
            List<String> cmd = new ArrayList<>(jvm);
            cmd.add("run");
            cmd.addAll(runOptions);
            cmd.add("--");
            cmd.addAll(command);
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            Map<String, String> e = pb.environment();
            e.remove("MUSTER_BARRIER_KEY");
            int node = rank / perNode;
            int onNode = Math.min(perNode, n - node * perNode);
            e.put("MUSTER_LOCAL_JOB", job);
            e.put("MUSTER_RANK", Integer.toString(rank));
            e.put("MUSTER_SIZE", Integer.toString(n));
            e.put("MUSTER_LOCAL_RANK", Integer.toString(rank % perNode));
            e.put("MUSTER_LOCAL_SIZE", Integer.toString(onNode));
            e.put("MUSTER_NODE", nodes == 1 ? host : host + "-" + node);
            if (sync != null) {
                e.put("MUSTER_SYNC_DIR", sync.toString());
            }
            tasks.add(pb.start());
        }
        for (String sig : new String[] {"TERM", "INT", "HUP", "USR1"}) {
            Signals.handle(sig, s -> tasks.forEach(p -> Signals.send(p.pid(), s)));
        }
        int worst = 0;
        for (Process p : tasks) {
            while (true) {
                try {
                    worst = Math.max(worst, p.waitFor());
                    break;
                } catch (InterruptedException ex) {
                    // keep waiting for the tasks
                }
            }
        }
        return worst;
    }
}
