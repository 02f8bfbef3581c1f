package dev.muster.barrier;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The barrier soak ({@code scripts/soak}): {@code --count} barriers with one fault each, at least a fifth of them
 * (and at least 2,000 of 10,000) real {@code muster local} steps, the rest in-process participants against a real
 * directory and real sockets. Counts releases before the last arrival, participants that hung past their deadline,
 * exit codes outside the documented table and step directories left after {@code muster sweep}; prints one
 * {@code name=value} line per counter. Exit 0 only when all four are 0.
 *
 * <p>Arguments: {@code --count N --real R --seed S --work DIR --jobs J --real-jobs K -- muster command...}.
 */
public final class Soak {
    enum Fault {
        NONE,
        SLOW,
        KILL_BEFORE,
        KILL_AFTER,
        TERM_WAITING,
        FOREIGN_FILE,
        STALE_DIR,
        FULL_DIR,
        /** a TERM_WAITING whose held task had arrived before it was stopped: the TERM came after the release */
        TERM_LATE
    }

    /** @param starved participants past their deadline and slack whose thread was held off the CPU, not hung */
    record Verdict(boolean real, Fault fault, int early, int hung, int wrong, long millis, String why, int starved) {
        Verdict(boolean real, Fault fault, int early, int hung, int wrong, long millis, String why) {
            this(real, fault, early, hung, wrong, millis, why, 0);
        }
    }

    private Soak() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new java.util.HashMap<>();
        List<String> muster = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--")) {
                muster.addAll(Arrays.asList(args).subList(i + 1, args.length));
                break;
            }
            opt.put(args[i], args[i].equals("--trace") ? "on" : args[++i]);
        }
        int count = Integer.parseInt(opt.getOrDefault("--count", "10000"));
        int real = Integer.parseInt(opt.getOrDefault("--real", Integer.toString(Math.max(count / 5, 0))));
        long seed = Long.parseLong(opt.getOrDefault("--seed", Long.toString(System.nanoTime())));
        if (opt.containsKey("--trace")) {
            SoakInProcess.trace = true;
            SoakTrace.install();
        }
        SoakTrace.Stalls.start();
        Path work = Path.of(opt.get("--work"));
        Path fullRoot = opt.containsKey("--full-dir") ? Path.of(opt.get("--full-dir")) : null;
        int jobs = Integer.parseInt(opt.getOrDefault("--jobs", "16"));
        int realJobs = Integer.parseInt(opt.getOrDefault("--real-jobs", "3"));
        long deadlineNanos = opt.containsKey("--max-minutes")
                ? System.nanoTime() + Long.parseLong(opt.get("--max-minutes")) * 60_000_000_000L
                : Long.MAX_VALUE;
        Path realRoot = Files.createDirectories(work.resolve("real-sync"));
        Path ipRoot = Files.createDirectories(work.resolve("inprocess-sync"));
        for (Path p : List.of(work, realRoot, ipRoot)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        }
        // in-process steps get muster local's key form with a pid no process can have (Linux pids stay below
        // PID_MAX_LIMIT, 2^22), so that sweep may remove them: a pid that has merely ended is reused within
        // minutes on a busy machine (pid_max is often 32768), and sweep keeps the step of a live pid
        String keyPrefix = "local." + (1 << 22) + "-";

        System.err.println("soak: seed=" + seed + " count=" + count + " real=" + real + " work=" + work);
        List<Verdict> verdicts = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger skippedFull = new AtomicInteger();
        AtomicInteger stopped = new AtomicInteger();
        AtomicInteger realRan = new AtomicInteger();
        AtomicInteger harnessErrors = new AtomicInteger();
        ExecutorService realPool = Executors.newFixedThreadPool(realJobs);
        ExecutorService ipPool = Executors.newFixedThreadPool(jobs);
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Random r = new Random(seed * 1_000_003L + i);
            boolean isReal =
                    i % Math.max(1, count / Math.max(real, 1)) == 0 && real > 0 && i / Math.max(1, count / real) < real;
            int size = 2 + r.nextInt(7);
            Fault[] pool = isReal ? realFaults() : inProcessFaults();
            Fault f = pool[r.nextInt(pool.length)];
            if (f == Fault.FULL_DIR && fullRoot == null) {
                skippedFull.incrementAndGet();
                f = Fault.NONE;
            }
            Fault fault = f;
            int n = i;
            Runnable step = () -> {
                if (System.nanoTime() > deadlineNanos) {
                    stopped.incrementAndGet();
                    return;
                }
                try {
                    Verdict v = isReal
                            ? SoakReal.run(
                                    muster,
                                    fault,
                                    size,
                                    realRoot,
                                    fullRoot,
                                    Files.createTempDirectory(work, "step-"),
                                    r)
                            : SoakInProcess.run(
                                    fault,
                                    size,
                                    r.nextBoolean(),
                                    ipRoot,
                                    fullRoot,
                                    keyPrefix + Integer.toHexString(n),
                                    r);
                    verdicts.add(v);
                    if (isReal) {
                        realRan.incrementAndGet();
                    }
                    if (v.early() + v.hung() + v.wrong() + v.starved() > 0) {
                        System.err.println("soak: barrier " + n + " (" + (isReal ? "real" : "in-process") + ", "
                                + v.fault() + ", n=" + size + "):" + v.why());
                    }
                    if (verdicts.size() % 500 == 0) {
                        System.err.println("soak: " + verdicts.size() + "/" + count + " barriers");
                    }
                } catch (Exception e) {
                    // the soak itself could not inject or observe the fault (e.g. a task it never saw start):
                    // counted apart, since it says nothing either way about muster
                    harnessErrors.incrementAndGet();
                    System.err.println("soak: barrier " + n + " (" + fault + ") could not be run: " + e);
                }
            };
            all.add((isReal ? realPool : ipPool).submit(step));
        }
        for (Future<?> f : all) {
            f.get();
        }
        realPool.shutdown();
        ipPool.shutdown();

        int leftovers =
                sweep(muster, realRoot) + sweep(muster, ipRoot) + (fullRoot == null ? 0 : sweep(muster, fullRoot));
        report(verdicts, realRan.get(), skippedFull.get(), stopped.get(), harnessErrors.get(), leftovers, seed);
    }

    private static Fault[] inProcessFaults() {
        return Arrays.stream(Fault.values()).filter(f -> f != Fault.TERM_LATE).toArray(Fault[]::new);
    }

    private static Fault[] realFaults() {
        return Arrays.stream(Fault.values())
                .filter(f -> f != Fault.STALE_DIR && f != Fault.TERM_LATE)
                .toArray(Fault[]::new);
    }

    /** Runs {@code muster sweep} on a root and counts the step directories still there. */
    private static int sweep(List<String> muster, Path root) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(muster);
        cmd.addAll(List.of("sweep", "--sync-dir", root.toString(), "--quiet"));
        // what it removed is of no interest here (stdout carries the counters); what it left is counted below
        int rc = new ProcessBuilder(cmd)
                .inheritIO()
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor();
        int left = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    left++;
                    System.err.println("soak: left after sweep (exit " + rc + "): " + p);
                }
            }
        }
        return left;
    }

    private static void report(
            List<Verdict> verdicts,
            int real,
            int skippedFull,
            int stopped,
            int harnessErrors,
            int leftovers,
            long seed) {
        int early = 0;
        int hung = 0;
        int wrong = 0;
        int starved = 0;
        Map<String, long[]> perCase = new java.util.TreeMap<>(); // count, total ms, max ms
        for (Verdict v : verdicts) {
            early += v.early();
            hung += v.hung();
            wrong += v.wrong();
            starved += v.starved();
            String kind = (v.real() ? "real_" : "inprocess_") + v.fault().name().toLowerCase(java.util.Locale.ROOT);
            long[] c = perCase.computeIfAbsent(kind, k -> new long[3]);
            c[0]++;
            c[1] += v.millis();
            c[2] = Math.max(c[2], v.millis());
        }
        System.out.println("seed=" + seed);
        System.out.println("barriers=" + verdicts.size());
        System.out.println("real_steps=" + real);
        System.out.println("not_run_past_deadline=" + stopped);
        System.out.println("full_dir_skipped=" + skippedFull);
        System.out.println("harness_errors=" + harnessErrors);
        System.out.println("early_releases=" + early);
        System.out.println("hung=" + hung);
        System.out.println("wrong_code=" + wrong);
        System.out.println("starved=" + starved);
        System.out.println("leftovers=" + leftovers);
        for (Map.Entry<String, long[]> e : perCase.entrySet()) {
            String name = e.getKey();
            long[] c = e.getValue();
            System.out.println("case_" + name + "=" + c[0]);
            System.out.println("time_" + name + "_ms_mean=" + (c[0] == 0 ? 0 : c[1] / c[0]));
            System.out.println("time_" + name + "_ms_max=" + c[2]);
        }
        System.exit(early + hung + wrong + leftovers + harnessErrors == 0 ? 0 : 1);
    }
}
