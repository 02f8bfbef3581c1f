package dev.muster.cli;

import dev.muster.barrier.FileBarrier;
import dev.muster.barrier.MountInfo;
import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.Caller;
import dev.muster.core.ExitCodes;
import dev.muster.core.ForceSync;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.probe.VisibilityPing;
import dev.muster.rendezvous.CacheDir;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code muster doctor [--sync-dir D] [--cache-dir C] [--timeout S]}: what the barrier's and the rendezvous'
 * directories are (file-system type, mount options that matter on NFS, node-local types), whether their
 * permissions pass muster's checks, and, under {@code srun -N 2}, how long a file created on one node takes to
 * become visible on the other ({@link VisibilityPing}). Report lines on stdout ({@code key value}); notes on stderr.
 */
final class DoctorCommand implements Command {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private String syncDir;
    private String cacheDir;
    private Duration timeout = DEFAULT_TIMEOUT;

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public String help() {
        return """
            usage: muster doctor [--sync-dir D] [--cache-dir C] [--timeout 60s]

            Reports the file-system type and mount options of the sync and cache directories (NFS attribute and
            lookup caching, node-local file systems), whether their permissions pass muster's checks, and a poll
            ceiling and timeout to use. Run as srun -N 2 muster doctor, ranks 0 and 1 also measure how long a file
            created on one node takes to become visible on the other, and say "shared no" (exit 77) when it never
            does within --timeout. Report on stdout, one "key value" line each; notes on stderr.
            """;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        FlagReader own = new OptionTable()
                .on("--sync-dir", (f, a) -> syncDir = a.value(f))
                .on("--cache-dir", (f, a) -> cacheDir = a.value(f))
                .on("--timeout", (f, a) -> timeout = a.duration(f, "s"));
        if (!optionsOnly(argv, own, ctx)) {
            return ExitCodes.OK;
        }
        Map<String, String> env = ctx.env();
        TaskIdentity id = IdentityResolver.resolve(env);
        boolean step = id.inStep() && id.size() >= 2;
        Log.rank(id.rank());
        if (step && id.rank() >= 2) {
            Log.debug("doctor: ranks 0 and 1 measure; this rank has nothing to do");
            return ExitCodes.OK;
        }
        SyncRoot root = SyncRoot.resolve(syncDir, env);
        Path cache = Path.of(CacheDir.choose(cacheDir, env)).toAbsolutePath().normalize();
        StringBuilder out = new StringBuilder();
        int status = ExitCodes.OK;
        if (id.rank() == 0) {
            out.append("node ").append(id.node()).append('\n');
            status = Math.max(status, describe(out, "sync_dir", root.path(), root.source(), true));
            status = Math.max(status, describe(out, "cache_dir", cache, CacheDir.source(cacheDir, env), false));
        }
        double visible = -1;
        if (!step) {
            out.append("visibility not-measured (run it as srun -N 2 muster doctor to measure between two nodes)\n");
        } else if (status == ExitCodes.OK || id.rank() == 1) {
            visible = measure(ctx, out, root, id);
        }
        if (id.rank() == 0) {
            recommend(out, MountInfo.of(root.path()), visible);
        }
        ctx.out().print(out);
        return status;
    }

    /**
     * Ranks 0 and 1 time a file's way between their nodes ({@link VisibilityPing}); rank 0 reports it. The write's
     * half round trip in ms (rank 0), -1 on rank 1; 77 when the directory is not shared.
     */
    private double measure(Context ctx, StringBuilder out, SyncRoot root, TaskIdentity id) {
        Path dir;
        try {
            dir = root.prepare().resolve(StepSync.key(id, "doctor"));
        } catch (MusterException e) {
            ctx.out().print(out);
            throw e;
        }
        VisibilityPing.Result v = id.rank() == 0
                ? VisibilityPing.lead(dir, id.node(), timeout)
                : VisibilityPing.follow(dir, id.node(), timeout);
        if (v == null) {
            out.append("shared no\n");
            ctx.out().print(out);
            ctx.out().flush();
            throw MusterException.unusableDir("sync directory " + root.path() + " is not shared: ranks 0 "
                    + "and 1 did not see each other's files there within " + timeout.toSeconds()
                    + " s; set --sync-dir or MUSTER_SYNC_DIR to a directory every node "
                    + "sees (a node-local /tmp is not)");
        }
        if (id.rank() == 0) {
            out.append("shared yes\n");
            out.append(String.format(Locale.ROOT, "visibility.new_file_ms %.1f%n", v.newFileMillis()));
            out.append(String.format(Locale.ROOT, "visibility.write_ms %.1f%n", v.writeMillis()));
            if (v.forcedWriteMillis() >= 0) {
                out.append(String.format(Locale.ROOT, "visibility.forced_write_ms %.1f%n", v.forcedWriteMillis()));
            } else {
                out.append("visibility.forced_write_ms unavailable (needs Java 22+)\n");
            }
            out.append("visibility.between ")
                    .append(id.node())
                    .append(' ')
                    .append(v.peerNode())
                    .append('\n');
            if (v.peerNode().equals(id.node())) {
                Log.info("ranks 0 and 1 ran on the same node: not a cross-node measurement (use srun -N 2)");
            }
        }
        // the barrier polls with forced attributes where reads are not coherent and Java has the call
        MountInfo m = MountInfo.of(root.path());
        boolean forced = v.forcedWriteMillis() >= 0 && m != null && !FileBarrier.readsAreCoherent(m);
        return id.rank() == 0 ? (forced ? v.forcedWriteMillis() : v.writeMillis()) : -1;
    }

    /** Type, options and permissions of one directory; 77 when muster would refuse it. */
    private static int describe(StringBuilder out, String label, Path dir, String source, boolean sync) {
        out.append(label)
                .append(' ')
                .append(dir)
                .append(" (from ")
                .append(source)
                .append(")\n");
        MountInfo m = MountInfo.of(dir);
        if (m == null) {
            out.append(label).append(".mount unknown (cannot read /proc/self/mountinfo)\n");
        } else {
            describeMount(out, label, m, sync);
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            out.append(label).append(".permissions missing (muster creates it 0700 on first use)\n");
            return ExitCodes.OK;
        }
        String problem = sync ? SyncRoot.problem(dir, "sync directory") : cacheProblem(dir);
        if (problem == null) {
            out.append(label).append(".permissions ok\n");
            return ExitCodes.OK;
        }
        out.append(label).append(".permissions refused\n");
        Log.error(problem);
        return ExitCodes.UNUSABLE_DIR;
    }

    /** The mount {@code dir} is on: type, options, how the barrier polls there, and caching advice. */
    private static void describeMount(StringBuilder out, String label, MountInfo m, boolean sync) {
        out.append(label)
                .append(".mount ")
                .append(m.mountPoint())
                .append(" type=")
                .append(m.type())
                .append(" source=")
                .append(m.source())
                .append(" scope=")
                .append(m.scope())
                .append('\n');
        out.append(label).append(".options ").append(join(m.options())).append('\n');
        if (sync) {
            // how a waiting task will poll the outcome file here (FileBarrier.Polled)
            out.append(label)
                    .append(".polls ")
                    .append(
                            FileBarrier.readsAreCoherent(m)
                                    ? "pread-held"
                                    : ForceSync.available() ? "statx-sync-held" : "open-each")
                    .append('\n');
        }
        if (m.nfs()) {
            describeNfs(out, label, m);
        } else if (m.type().startsWith("fuse") && !FileBarrier.readsAreCoherent(m)) {
            out.append(label).append(".fuse caching=possible\n");
            if (sync) {
                Log.info(label + " is a FUSE mount (" + m.type() + "): its kernel client may cache names, "
                        + "attributes and contents without close-to-open consistency, so a write on another node "
                        + "can show here only when that cache expires (visibility.write_ms). "
                        + (ForceSync.available()
                                ? "muster forces each poll's attributes from the server (statx "
                                        + "AT_STATX_FORCE_SYNC) and sees it within a poll (visibility.forced_write_ms)"
                                : "On Java 22+ muster forces each poll's attributes from the server; on this Java it "
                                        + "waits for the cache"));
            }
        } else if (sync && m.scope().equals("node-local")) {
            Log.info(label + " is on " + m.type() + ", a node-local file system: the tasks of a multi-node step "
                    + "will not meet there unless every node mounts the same storage; run srun -N 2 muster "
                    + "doctor to find out");
        }
    }

    /** NFS: whether attributes and negative lookups are cached, and for how long. */
    private static void describeNfs(StringBuilder out, String label, MountInfo m) {
        Map<String, String> o = m.options();
        boolean noac = o.containsKey("noac") || "0".equals(o.get("actimeo"));
        out.append(label).append(".nfs attribute_cache=").append(noac ? "off" : "on");
        for (String k : new String[] {"actimeo", "acregmin", "acregmax", "acdirmin", "acdirmax"}) {
            if (o.containsKey(k)) {
                out.append(' ').append(k).append('=').append(o.get(k));
            }
        }
        out.append(" lookupcache=").append(o.getOrDefault("lookupcache", "all")).append('\n');
        if (!noac && !"none".equals(o.get("lookupcache"))) {
            Log.info(label + " is NFS with attribute and negative lookup caching: a name another node "
                    + "creates can look missing here for up to acdirmax; muster never polls for new names "
                    + "and reads its pre-created files by open()+read(), which revalidates");
        }
    }

    /** The rendezvous cache's trust rule (DESIGN §5), as the rendezvous commands apply it. */
    private static String cacheProblem(Path dir) {
        try {
            new CacheDir(dir.toString(), Caller.self()).checkIfPresent();
            return null;
        } catch (MusterException e) {
            return e.getMessage();
        }
    }

    private static String join(Map<String, String> opts) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : opts.entrySet()) {
            b.append(b.length() == 0 ? "" : ",")
                    .append(e.getKey())
                    .append(e.getValue().isEmpty() ? "" : "=" + e.getValue());
        }
        return b.toString();
    }

    /** A poll ceiling and a timeout for this file system, with the reason on stderr. */
    private static void recommend(StringBuilder out, MountInfo m, double writeMillis) {
        long poll = 100;
        String why = "the default: a task polls at most 10 times a second";
        if (writeMillis > 5) {
            // a poll much shorter than the time a write takes to show only adds load on the metadata server
            poll = Math.min(1000, Math.max(100, Math.round(writeMillis * 20 / 10.0) * 10));
            why = "a write took " + String.format(Locale.ROOT, "%.0f", writeMillis) + " ms to show on the other node";
        }
        long timeout = 600;
        if (m != null && m.nfs()) {
            long acdirmax =
                    parse(m.options().getOrDefault("acdirmax", m.options().getOrDefault("actimeo", "60")), 60);
            timeout = Math.max(timeout, 4 * acdirmax + 60);
        }
        out.append("recommend.poll_max ").append(poll).append("ms\n");
        out.append("recommend.timeout ").append(timeout).append("s\n");
        Log.info("recommended --poll-max " + poll + "ms (" + why + ") and --timeout " + timeout + "s (time for "
                + "the slowest task to start; raise it for big steps on busy nodes)");
    }

    private static long parse(String s, long fallback) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
