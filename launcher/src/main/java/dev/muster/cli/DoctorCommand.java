package dev.muster.cli;

import dev.muster.barrier.FileBarrier;
import dev.muster.barrier.MountInfo;
import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Caller;
import dev.muster.rendezvous.CacheDir;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code muster doctor [--sync-dir D] [--cache-dir C] [--timeout S]}: what the barrier's and the rendezvous'
 * directories are (file-system type, mount options that matter on NFS, node-local types), whether their
 * permissions pass muster's checks, and, under {@code srun -N 2}, how long a file created on one node takes to
 * become visible on the other. Report lines on stdout ({@code key value}); notes on stderr.
 *
 * <p>The measurement: rank 0 creates two empty files {@code a}, {@code b} and then {@code ping}; rank 1 polls for
 * {@code ping} by open() (a new name: what NFS's negative lookup cache delays), answers with {@code pong}; rank 0
 * then writes into {@code a}, rank 1 polls it with open()+read() (muster's way of polling the outcome) and answers
 * in {@code b}. Each side reports half the round trip it saw, so no clocks need to agree across nodes. Neither
 * side sees the other's file before the deadline: the directory is not shared.
 */
final class DoctorCommand implements Command, FlagReader {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    private static final long POLL_NANOS = 1_000_000L;

    private Map<String, String> env;
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
    public boolean read(String flag, Args a) {
        switch (flag) {
            case "--sync-dir" -> syncDir = a.value(flag);
            case "--cache-dir" -> cacheDir = a.value(flag);
            case "--timeout" -> timeout = a.duration(flag, "s");
            default -> {
                return false;
            }
        }
        return true;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        env = ctx.env();
        Args a = new Args(name(), argv);
        CommonFlags common = CommonFlags.read(a, this);
        if (common.help) {
            ctx.out().print(help());
            return ExitCodes.OK;
        }
        a.end();
        common.applyLogLevel();
        TaskIdentity id = IdentityResolver.resolve(env);
        boolean step = id.inStep() && id.size() >= 2;
        Log.rank(id.rank());
        if (step && id.rank() >= 2) {
            Log.debug("doctor: ranks 0 and 1 measure; this rank has nothing to do");
            return ExitCodes.OK;
        }
        SyncRoot root = SyncRoot.resolve(syncDir, env);
        Path cache = cacheDir(cacheDir);
        StringBuilder out = new StringBuilder();
        int status = ExitCodes.OK;
        if (id.rank() == 0) {
            out.append("node ").append(id.node()).append('\n');
            status = Math.max(status, describe(out, "sync_dir", root.path(), root.source(), true));
            status = Math.max(status, describe(out, "cache_dir", cache, cacheDir != null ? "--cache-dir"
                    : env.containsKey("MUSTER_CACHE_DIR") ? "MUSTER_CACHE_DIR" : env.containsKey("CACHE_DIR")
                    ? "CACHE_DIR" : "default", false));
        }
        double visible = -1;
        if (!step) {
            out.append("visibility not-measured (run it as srun -N 2 muster doctor to measure between two nodes)\n");
        } else if (status == ExitCodes.OK || id.rank() == 1) {
            Path dir;
            try {
                dir = root.prepare().resolve(StepSync.key(id, "doctor"));
            } catch (MusterException e) {
                ctx.out().print(out);
                throw e;
            }
            Visibility v = id.rank() == 0 ? lead(dir, id, timeout) : follow(dir, id, timeout);
            if (v == null) {
                out.append("shared no\n");
                ctx.out().print(out);
                ctx.out().flush();
                throw MusterException.unusableDir("sync directory " + root.path() + " is not shared: ranks 0 "
                        + "and 1 did not see each other's files there within " + timeout.toSeconds() + " s; set --sync-dir or MUSTER_SYNC_DIR to a directory every node "
                        + "sees (a node-local /tmp is not)");
            }
            if (id.rank() == 0) {
                out.append("shared yes\n");
                out.append(String.format(Locale.ROOT, "visibility.new_file_ms %.1f%n", v.newFileMillis));
                out.append(String.format(Locale.ROOT, "visibility.write_ms %.1f%n", v.writeMillis));
                out.append("visibility.between ").append(id.node()).append(' ').append(v.peerNode).append('\n');
                if (v.peerNode.equals(id.node())) {
                    Log.info("ranks 0 and 1 ran on the same node: not a cross-node measurement (use srun -N 2)");
                }
                visible = v.writeMillis;
            }
        }
        if (id.rank() == 0) {
            recommend(out, MountInfo.of(root.path()), visible);
        }
        ctx.out().print(out);
        return status;
    }

    private Path cacheDir(String flag) {
        if (flag != null) {
            return Path.of(flag).toAbsolutePath().normalize();
        }
        for (String var : new String[] {"MUSTER_CACHE_DIR", "CACHE_DIR"}) {
            String v = env.get(var);
            if (v != null && !v.isEmpty()) {
                return Path.of(v).toAbsolutePath().normalize();
            }
        }
        return Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".cache", "muster");
    }

    /** Type, options and permissions of one directory; 77 when muster would refuse it. */
    private static int describe(StringBuilder out, String label, Path dir, String source, boolean sync) {
        out.append(label).append(' ').append(dir).append(" (from ").append(source).append(")\n");
        MountInfo m = MountInfo.of(dir);
        if (m == null) {
            out.append(label).append(".mount unknown (cannot read /proc/self/mountinfo)\n");
        } else {
            out.append(label).append(".mount ").append(m.mountPoint()).append(" type=").append(m.type())
                    .append(" source=").append(m.source()).append(" scope=").append(m.scope()).append('\n');
            out.append(label).append(".options ").append(join(m.options())).append('\n');
            if (sync) {
                // how a waiting task will poll the outcome file here (FileBarrier.Polled)
                out.append(label).append(".polls ").append(FileBarrier.readsAreCoherent(m) ? "pread-held"
                        : "open-each").append('\n');
            }
            if (m.nfs()) {
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
            } else if (sync && m.scope().equals("node-local")) {
                Log.info(label + " is on " + m.type() + ", a node-local file system: the tasks of a multi-node step "
                        + "will not meet there unless every node mounts the same storage; run srun -N 2 muster "
                        + "doctor to find out");
            }
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
            b.append(b.length() == 0 ? "" : ",").append(e.getKey()).append(e.getValue().isEmpty() ? "" : "="
                    + e.getValue());
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
            long acdirmax = parse(m.options().getOrDefault("acdirmax", m.options().getOrDefault("actimeo", "60")), 60);
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

    private record Visibility(double newFileMillis, double writeMillis, String peerNode) {
    }

    private static Visibility lead(Path dir, TaskIdentity id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            mkdir(dir);
            Files.write(dir.resolve("a"), new byte[0], StandardOpenOption.CREATE_NEW);
            Files.write(dir.resolve("b"), new byte[0], StandardOpenOption.CREATE_NEW);
            long t0 = System.nanoTime();
            Files.write(dir.resolve("ping"), (id.node() + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE_NEW);
            String peer = waitForContent(dir.resolve("pong"), deadline);
            if (peer == null) {
                return null;
            }
            long t1 = System.nanoTime();
            writeOnce(dir.resolve("a"), "x\n");
            long t2 = System.nanoTime();
            if (waitForContent(dir.resolve("b"), deadline) == null) {
                return null;
            }
            long t3 = System.nanoTime();
            return new Visibility((t1 - t0) / 2e6, (t3 - t2) / 2e6, peer.trim());
        } catch (IOException e) {
            throw MusterException.unusableDir("doctor: cannot write in " + dir + ": " + e);
        } finally {
            removeTree(dir);
        }
    }

    private static Visibility follow(Path dir, TaskIdentity id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            mkdir(dir);
            if (waitForContent(dir.resolve("ping"), deadline) == null) {
                return null;
            }
            Files.write(dir.resolve("pong"), (id.node() + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE_NEW);
            if (waitForContent(dir.resolve("a"), deadline) == null) {
                return null;
            }
            writeOnce(dir.resolve("b"), "y\n");
            return new Visibility(0, 0, "");
        } catch (IOException e) {
            throw MusterException.unusableDir("doctor: cannot write in " + dir + ": " + e);
        }
    }

    private static void mkdir(Path dir) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                    "rwx------")));
        } catch (FileAlreadyExistsException e) {
            // the other rank made it
        }
    }

    /** Polls {@code file} by open()+read() every millisecond until it has content; null at the deadline. */
    private static String waitForContent(Path file, long deadline) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (System.nanoTime() < deadline) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                buf.clear();
                int n = ch.read(buf);
                if (n > 0) {
                    return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                }
            } catch (NoSuchFileException e) {
                // not (yet) visible here
            } catch (IOException e) {
                Log.debug("reading " + file + ": " + e);
            }
            try {
                Thread.sleep(POLL_NANOS / 1_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    private static void writeOnce(Path file, String content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            ch.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)), 0);
        }
    }

    private static void removeTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            Log.debug("cannot remove " + dir + ": " + e + "; muster sweep will");
        }
    }
}
