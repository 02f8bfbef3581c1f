package dev.muster.barrier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One soak step of real processes: {@code muster local -n N} (its tasks are JVMs running the normal {@code run}
 * path, then exec'ing a shell that stamps its start), with one fault injected from outside by signals and files.
 * A task is found as the local process's child with its rank in its environment, so it can be killed or stopped
 * within a millisecond of its start, long before its JVM can arrive.
 */
final class SoakReal {
    static final int TIMEOUT_S = 30;
    private static final int HUNG_MARGIN_S = 60;

    private SoakReal() {}

    static Soak.Verdict run(
            List<String> muster, Soak.Fault chosen, int size, Path root, Path fullRoot, Path work, Random random)
            throws Exception {
        Path starts = work.resolve("starts");
        Path trace = work.resolve("trace");
        Path err = work.resolve("err");
        List<String> cmd = new ArrayList<>(muster);
        cmd.addAll(List.of(
                "local",
                "-n",
                Integer.toString(size),
                "--sync-dir",
                (chosen == Soak.Fault.FULL_DIR ? fullRoot : root).toString(),
                "--timeout",
                TIMEOUT_S + "s",
                "--quiet",
                "--trace",
                trace.toString(),
                "--",
                "sh",
                "-c",
                "echo \"start rank=$MUSTER_RANK ns=$(date +%s%N)\" >>\"$1\"",
                "sh",
                starts.toString()));
        if (random.nextBoolean()) {
            cmd.add(cmd.indexOf("--quiet"), "--no-tcp"); // half the steps on the file path
        }
        Soak.Fault fault = chosen;
        long t0 = System.nanoTime();
        Process local = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile())
                .start();
        int victim = random.nextInt(size);
        int other = (victim + 1 + random.nextInt(size - 1)) % size;
        Set<Integer> expected = Set.of(0);
        boolean programsMayRun = true;
        try {
            switch (fault) {
                case NONE -> {}
                case FULL_DIR -> {
                    expected = Set.of(77);
                    programsMayRun = false;
                }
                case SLOW -> {
                    ProcessHandle t = task(local, victim);
                    signal(t, "STOP");
                    Thread.sleep(200 + random.nextInt(1300));
                    signal(t, "CONT");
                }
                case KILL_BEFORE -> {
                    // stopped first, so that whether it had arrived is known for certain before the kill
                    ProcessHandle t = task(local, victim);
                    signal(t, "STOP");
                    boolean arrived = mayHaveArrived(local, root, victim, t);
                    signal(t, "KILL");
                    if (arrived) {
                        fault = Soak.Fault.KILL_AFTER; // the machine was slower than the kill: counted as what it was
                        expected = Set.of(137, 0);
                    } else {
                        expected = Set.of(137); // its own code; the others time out (75) without running the program
                        programsMayRun = false;
                    }
                }
                case KILL_AFTER -> {
                    ProcessHandle t = task(local, victim);
                    awaitArrival(local, root, victim);
                    signal(t, "KILL");
                    expected = Set.of(137, 0); // 0: the program had already run and ended when the signal came
                }
                case TERM_WAITING -> {
                    ProcessHandle held = task(local, other);
                    signal(held, "STOP"); // cannot arrive: no release can come before the TERM
                    boolean heldArrived = mayHaveArrived(local, root, other, held);
                    ProcessHandle t = task(local, victim);
                    awaitArrival(local, root, victim);
                    signal(t, "TERM");
                    Thread.sleep(random.nextInt(200));
                    signal(held, "CONT");
                    if (heldArrived) {
                        fault = Soak.Fault.TERM_LATE; // released before the TERM could come: it hits the program
                        expected = Set.of(143, 0);
                    } else {
                        expected = Set.of(143);
                        programsMayRun = false;
                    }
                }
                case FOREIGN_FILE -> {
                    Path dir = stepDir(local, root);
                    try {
                        SoakInProcess.dropForeignFiles(dir, size, random);
                        new ProcessBuilder("mkfifo", dir.resolve("fifo").toString())
                                .start()
                                .waitFor();
                    } catch (java.nio.file.NoSuchFileException e) {
                        fault = Soak.Fault.NONE; // the step was over and cleaned up before the files came
                    }
                }
                case STALE_DIR -> throw new IllegalArgumentException("muster local keys are new each time");
            }
        } catch (Exception | Error e) {
            // the step cannot be judged: leave no task of it behind (a stopped one would stay stopped for good)
            local.descendants().forEach(ProcessHandle::destroyForcibly);
            local.destroyForcibly();
            throw e;
        }
        boolean done = local.waitFor(TIMEOUT_S + HUNG_MARGIN_S, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (!done) {
            local.descendants().forEach(ProcessHandle::destroyForcibly);
            local.destroyForcibly();
            return new Soak.Verdict(
                    true, fault, 0, 1, 0, ms, "muster local still running after " + (TIMEOUT_S + HUNG_MARGIN_S) + " s");
        }
        int code = local.exitValue();
        List<Long> startNs = stamps(starts, "ns=", 1);
        List<Long> arriveUs = stamps(trace, "arrive_us=", 1_000);
        long lastArrival = arriveUs.stream().mapToLong(Long::longValue).max().orElse(Long.MIN_VALUE);
        int early = 0;
        StringBuilder why = new StringBuilder();
        for (long s : startNs) {
            if (!programsMayRun || s < lastArrival) {
                early++;
            }
        }
        if (early > 0) {
            why.append(" ").append(early).append(" program(s) started before the last arrival");
        }
        int wrong = expected.contains(code) ? 0 : 1;
        if (fault == Soak.Fault.NONE || fault == Soak.Fault.SLOW || fault == Soak.Fault.FOREIGN_FILE) {
            wrong += startNs.size() == size ? 0 : 1; // all released, every program ran
        }
        if (wrong > 0) {
            why.append(" exit ")
                    .append(code)
                    .append(", expected ")
                    .append(expected)
                    .append(", ")
                    .append(startNs.size())
                    .append(" of ")
                    .append(size)
                    .append(" programs ran; stderr: ")
                    .append(Files.readString(err, StandardCharsets.UTF_8).replace('\n', '|'));
        }
        return new Soak.Verdict(true, fault, early, 0, wrong, ms, why.toString());
    }

    /**
     * Task {@code rank} of {@code local}: the child that muster local started with {@code MUSTER_RANK=rank}, found
     * as soon as it runs the JVM. Not "the rank-th child by pid": pids wrap (pid_max is 32768 here, and a soak
     * starts thousands of JVMs), and before its exec into the JVM {@code local} is scripts/muster, a shell whose own
     * children (its {@code stat} of the start-up archive) are not tasks. Taking that {@code stat} for a task and
     * stopping it held the shell, and so the whole step, for good.
     */
    static ProcessHandle task(Process local, int rank) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            // only once it has exec'd the JVM: a child stopped or killed while still Java's spawn helper would
            // hold muster local's ProcessBuilder.start(), which waits for the exec, and so every later task
            java.util.Optional<ProcessHandle> t =
                    local.children().filter(p -> isTask(p) && hasRank(p, rank)).findFirst();
            if (t.isPresent()) {
                return t.get();
            }
            Thread.sleep(0, 200_000);
        }
        throw new IllegalStateException("muster local did not start task " + rank + " within 60 s");
    }

    /** Whether {@code p}'s environment (as exec'd) is muster local's for task {@code rank}. */
    private static boolean hasRank(ProcessHandle p, int rank) {
        byte[] env;
        try {
            env = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
        } catch (IOException e) {
            return false; // gone
        }
        boolean job = false;
        boolean mine = false;
        for (String v : new String(env, StandardCharsets.UTF_8).split("\0")) {
            job |= v.startsWith("MUSTER_LOCAL_JOB=");
            mine |= v.equals("MUSTER_RANK=" + rank);
        }
        return job && mine;
    }

    /**
     * Whether {@code p} has become a task (runs {@code muster run}, or already its program): before that it is a
     * clone of muster local (its arguments say {@code local}) and then Java's spawn helper, and a signal to either
     * would be a signal to muster local's ProcessBuilder.start().
     */
    private static boolean isTask(ProcessHandle p) {
        ProcessHandle.Info info = p.info();
        if (info.command().isEmpty() || info.arguments().isEmpty()) {
            return false;
        }
        return !info.command().get().endsWith("jspawnhelper")
                && !List.of(info.arguments().get()).contains("local");
    }

    /** The step directory of {@code local}: its key is {@code local.<pid>-<id>}. */
    static Path stepDir(Process local, Path root) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "local." + local.pid() + "-*")) {
                for (Path p : ds) {
                    return p;
                }
            }
            Thread.sleep(1);
        }
        throw new IllegalStateException("no step directory for muster local " + local.pid() + " within 60 s");
    }

    static void awaitArrival(Process local, Path root, int rank) throws InterruptedException, IOException {
        Path dir = stepDir(local, root).resolve("arrival");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (System.nanoTime() < deadline && local.isAlive() && !arrived(dir, rank)) {
            Thread.sleep(1);
        }
    }

    /**
     * Whether a stopped task may have arrived: it is no longer muster's JVM, its arrival file exists, or it holds
     * a TCP socket the kernel has in its table (connecting or connected). On the TCP path a task says hello to rank
     * 0 before it writes its file, and the only other socket of a waiting task's JVM is the warm-up's, which is
     * never connected (it was counted as an arrival until a loaded CI run stopped a task right there); so a task
     * without any of these has certainly not arrived.
     */
    static boolean mayHaveArrived(Process local, Path root, int rank, ProcessHandle task) throws IOException {
        if (!task.isAlive()
                || !task.info().command().map(c -> c.endsWith("/java")).orElse(false)) {
            return true; // gone, or already the program: it arrived and was released (its step may be swept)
        }
        if (arrived(local, root, rank)) {
            return true;
        }
        // a TCP socket in the kernel's table (connecting or connected to rank 0) may have said hello; a socket that
        // is in no table is the warm-up's (TcpWarmUp.client opens a channel it never connects, while the task
        // prepares), and the task stopped there has not arrived
        java.util.Set<String> sockets = new java.util.HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(task.pid()), "fd"))) {
            for (Path fd : fds) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:[")) {
                        sockets.add(link.substring(8, link.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
            if (sockets.isEmpty()) {
                return false;
            }
            for (String table : new String[] {"tcp", "tcp6"}) {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(task.pid()), "net", table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && sockets.contains(f[9])) {
                        return true;
                    }
                }
            }
        } catch (IOException e) {
            return true; // gone: it may have got anywhere
        }
        return false;
    }

    /** Whether task {@code rank} has made its arrival file (false also when there is no step directory yet). */
    private static boolean arrived(Process local, Path root, int rank) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "local." + local.pid() + "-*")) {
            for (Path p : ds) {
                return arrived(p.resolve("arrival"), rank);
            }
        }
        return false;
    }

    static boolean arrived(Path dir, int rank) {
        try (DirectoryStream<Path> groups = Files.newDirectoryStream(dir)) {
            for (Path g : groups) {
                if (Files.exists(g.resolve(Integer.toString(rank)))) {
                    return true;
                }
            }
        } catch (IOException e) {
            // not there yet, or already cleaned up
        }
        return false;
    }

    private static void signal(ProcessHandle p, String sig) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start().waitFor();
    }

    /** The values of {@code field} in a file of {@code k=v} words, scaled to nanoseconds. */
    private static List<Long> stamps(Path file, String field, long scale) throws IOException {
        List<Long> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            for (String word : line.split(" ")) {
                if (word.startsWith(field)) {
                    out.add(Long.parseLong(word.substring(field.length())) * scale);
                }
            }
        }
        return out;
    }
}
