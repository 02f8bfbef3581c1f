package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class FileBarrierTest {
    @TempDir
    Path root;

    private static final BarrierSettings FAST = new BarrierSettings(
            Duration.ofSeconds(10), Duration.ofMillis(5), Duration.ofMillis(2), Duration.ofSeconds(60));

    private FileBarrier task(int rank, int size, BarrierSettings s) {
        FileBarrier b = new FileBarrier(root, "k", rank, size, "h", s, Clock.SYSTEM, new Random(rank), r -> "n" + r);
        b.prepare();
        return b;
    }

    private List<Future<Object>> runAll(int size, BarrierSettings s, int skip) {
        ExecutorService pool = Executors.newFixedThreadPool(size);
        List<Future<Object>> out = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            if (r == skip) {
                continue;
            }
            int rank = r;
            out.add(pool.submit(() -> {
                FileBarrier b = task(rank, size, s);
                b.arrive();
                try {
                    return b.await(Map.of("master_addr", "n0"));
                } catch (MusterException e) {
                    return e;
                }
            }));
        }
        pool.shutdown();
        return out;
    }

    @Test
    void allArrive_everyoneGetsRank0sRelease() throws Exception {
        for (Future<Object> f : runAll(6, FAST, -1)) {
            Outcome o = (Outcome) f.get();
            assertEquals(Outcome.Kind.RELEASE, o.kind());
            assertEquals("n0", o.data().get("master_addr"));
        }
    }

    @Test
    void arrival_afterTimeout_namesMissingRanksAndTheirNodes() throws Exception {
        BarrierSettings s = new BarrierSettings(
                Duration.ofMillis(300), Duration.ofMillis(5), Duration.ofMillis(2), Duration.ofSeconds(60));
        for (Future<Object> f : runAll(4, s, 2)) {
            MusterException e = (MusterException) f.get();
            assertEquals(75, e.status());
            assertTrue(e.getMessage().contains("missing rank 2 (expected on n2)"), e.getMessage());
        }
    }

    @Test
    void abort_givesEveryWaitingTaskTheAbortersCodeAndRank() throws Exception {
        BarrierSettings s = FAST;
        List<Future<Object>> waiting = runAll(4, s, 3);
        FileBarrier aborter = task(3, 4, s);
        aborter.abort(127, "rank 3: command not found: nope");
        for (Future<Object> f : waiting) {
            MusterException e = (MusterException) f.get();
            assertEquals(127, e.status());
            assertTrue(e.getMessage().contains("rank 3 aborted"), e.getMessage());
            assertTrue(e.getMessage().contains("command not found: nope"), e.getMessage());
        }
    }

    @Test
    void outcome_isDecidedOnce_laterDecisionsSeeTheFirst() {
        FileBarrier a = task(1, 2, FAST);
        FileBarrier b = task(0, 2, FAST);
        a.abort(143, "rank 1 was stopped by SIGTERM while waiting");
        Outcome second = b.decide(Outcome.release(0, Map.of()));
        assertEquals(Outcome.Kind.ABORT, second.kind());
        assertEquals(143, second.code());
    }

    @Test
    void foreignFilesInArrival_areIgnored() throws Exception {
        BarrierSettings s = new BarrierSettings(
                Duration.ofMillis(300), Duration.ofMillis(5), Duration.ofMillis(2), Duration.ofSeconds(60));
        task(0, 2, s);
        for (String name : List.of("1x", "01", "-1", "2", "bogus", ".1")) {
            // at the top and in rank 1's group (arrival/<rank / width>/, width 2 for two tasks)
            Files.writeString(root.resolve("k/arrival").resolve(name), "x");
            Files.writeString(root.resolve("k/arrival/0").resolve(name), "x");
        }
        // rank 1 never comes: the foreign names must not count as its arrival
        List<Future<Object>> f = runAll(2, s, 1);
        MusterException e = (MusterException) f.get(0).get();
        assertEquals(75, e.status());
        assertTrue(e.getMessage().contains("missing rank 1"), e.getMessage());
    }

    @Test
    void symlinkedOutcome_isRefused() throws Exception {
        Files.createDirectories(root.resolve("k/arrival"));
        Files.createDirectories(root.resolve("k/departure"));
        Files.writeString(root.resolve("elsewhere"), "");
        Files.createSymbolicLink(root.resolve("k/outcome"), root.resolve("elsewhere"));
        FileBarrier b = new FileBarrier(root, "k", 0, 1, "h", FAST, Clock.SYSTEM, new Random(), null);
        assertEquals(65, assertThrows(MusterException.class, b::prepare).status());
    }

    @Test
    void groupWritableStepDir_isRefused() throws Exception {
        Files.createDirectories(root.resolve("k"));
        Files.setPosixFilePermissions(
                root.resolve("k"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwx---"));
        FileBarrier b = new FileBarrier(root, "k", 0, 1, "h", FAST, Clock.SYSTEM, new Random(), null);
        MusterException e = assertThrows(MusterException.class, b::prepare);
        assertEquals(77, e.status());
        assertTrue(e.getMessage().contains("writable by group or others"), e.getMessage());
    }

    /** Descriptors of this JVM that point at {@code file}, from /proc/self/fd. */
    private static int openDescriptors(Path file) throws java.io.IOException {
        int n = 0;
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file)) {
                        n++;
                    }
                } catch (java.io.IOException e) {
                    // closed meanwhile (the listing's own descriptor)
                }
            }
        }
        return n;
    }

    /** The outcome file once this JVM holds a descriptor of it, or after 5 s. */
    private Path heldWithin5s() throws Exception {
        Path outcome = root.resolve("k/outcome").toRealPath();
        long until = System.nanoTime() + 5_000_000_000L;
        while (openDescriptors(outcome) == 0 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        return outcome;
    }

    /** Rank 1 of 2 arrives and waits on a thread of its own (polling by open() only when {@code byOpen}). */
    private Future<Outcome> waitAsRank1(boolean byOpen) {
        FileBarrier waiter = task(1, 2, FAST);
        if (byOpen) {
            waiter.polls().byOpenOnly();
        }
        waiter.arrive();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<Outcome> f = pool.submit(() -> waiter.await(Map.of()));
        pool.shutdown();
        return f;
    }

    @Test
    void waitingTask_holdsTheOutcomeOpenOnALocalFileSystem_andClosesItWhenReleased() throws Exception {
        Future<Outcome> f = waitAsRank1(false);
        Path outcome = heldWithin5s();
        assertEquals(1, openDescriptors(outcome), "the waiting task polls a held descriptor of " + outcome);
        task(0, 2, FAST).decide(Outcome.release(0, Map.of("k", "v")));
        assertEquals("v", f.get().data().get("k"));
        assertEquals(0, openDescriptors(outcome), "released: nothing of the step directory is held open");
    }

    /**
     * On NFS with attribute caching every poll must open the outcome file afresh (only open() revalidates the
     * client's cache) and hold nothing between polls. NFS cannot be mounted in the test machine: the decision is
     * forced to what readsAreCoherent says for such a mount (see heldDescriptors_onlyWhereReadsOfAnOpenFileSeeOther
     * Writers). On a manual clock, with the waiter on the test's thread: between polls no descriptor of the outcome
     * is open, and an outcome that replaces the file by rename (a new inode, which a held descriptor never reads)
     * is seen within a few polls, far sooner than the held-descriptor reopen ({@link PolledFile#REOPEN_NANOS}). A
     * waiter that holds the file, or that does not poll, fails one or the other.
     */
    @Test
    void onNfsWithAttributeCaching_everyPollOpensTheFile_andNothingIsHeld() throws Exception {
        ManualClock clock = new ManualClock();
        FileBarrier waiter = new FileBarrier(root, "k", 1, 2, "h", FAST, clock, new Random(1), r -> "n" + r);
        waiter.prepare();
        waiter.polls().byOpenOnly();
        waiter.arrive();
        Path outcome = root.resolve("k/outcome").toRealPath();
        List<Integer> heldBetweenPolls = new ArrayList<>();
        for (int ms = 20; ms <= 100; ms += 20) {
            clock.at(ms, () -> {
                try {
                    heldBetweenPolls.add(openDescriptors(outcome));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        long replaceMs = 100;
        clock.at(replaceMs, () -> {
            try {
                Path fresh = root.resolve("k/outcome.new");
                Files.write(fresh, Outcome.release(0, Map.of("k", "by-open")).encode());
                Files.move(fresh, outcome, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Outcome o = waiter.await(Map.of());
        assertEquals(Outcome.Kind.RELEASE, o.kind(), "released, not " + o);
        assertEquals("by-open", o.data().get("k"));
        assertEquals(List.of(0, 0, 0, 0, 0), heldBetweenPolls, "descriptors of the outcome open between polls");
        long seenAfterMs = clock.elapsedMillis() - replaceMs;
        long pollMaxMs = FAST.pollMax().toMillis();
        assertTrue(
                seenAfterMs <= 2 * pollMaxMs,
                "the replaced outcome was seen " + seenAfterMs
                        + " ms (manual clock) after the rename; a poll that opens the file sees it within " + pollMaxMs
                        + " ms");
    }

    /** Step directories are private: the step directory and its arrival groups are created 0700. */
    @Test
    void stepDirectories_areCreated0700() throws Exception {
        FileBarrier b = task(1, 2, FAST);
        b.arrive();
        Path step = root.resolve("k");
        List<Path> dirs;
        try (java.util.stream.Stream<Path> w = Files.walk(step)) {
            dirs = w.filter(Files::isDirectory).collect(java.util.stream.Collectors.toList());
        }
        assertTrue(dirs.size() >= 3, "step, arrival and its group: " + dirs);
        for (Path d : dirs) {
            assertEquals(
                    "rwx------",
                    java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(d)),
                    d.toString());
        }
    }

    /**
     * Rank 0 reports "N/M arrived, waiting for ..." while it waits: first at half the progress interval, then every
     * interval (README: every 10 s), on a manual clock.
     */
    @Test
    void rank0Waiting_reportsArrivedAndMissingRanks_everyProgressInterval() throws Exception {
        ManualClock clock = new ManualClock();
        BarrierSettings s = new BarrierSettings(
                Duration.ofSeconds(25), Duration.ofMillis(100), Duration.ofMillis(25), Duration.ofSeconds(10));
        FileBarrier leader = new FileBarrier(root, "k", 0, 4, "h", s, clock, new Random(0), r -> "n" + r);
        leader.prepare();
        task(2, 4, s).arrive();
        leader.arrive();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        dev.muster.core.Log.to(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            MusterException e = assertThrows(MusterException.class, () -> leader.await(Map.of()));
            assertEquals(75, e.status(), e.getMessage());
        } finally {
            dev.muster.core.Log.to(System.err);
        }
        List<String> progress = err.toString(java.nio.charset.StandardCharsets.UTF_8)
                .lines()
                .filter(l -> l.contains("arrived, waiting for"))
                .collect(java.util.stream.Collectors.toList());
        // at 5 s, 15 s (s left: 20, 10) before the 25 s deadline
        assertEquals(2, progress.size(), String.join("\n", progress));
        // (seconds left rounded down, and a poll may overshoot the report time by one poll interval)
        assertTrue(
                progress.get(0).matches("muster\\[.\\] 2/4 arrived, waiting for 1,3 \\((19|20) s left\\)"),
                progress.get(0));
        assertTrue(
                progress.get(1).matches("muster\\[.\\] 2/4 arrived, waiting for 1,3 \\((9|10) s left\\)"),
                progress.get(1));
    }

    @Test
    void heldOutcome_replacedByAnotherFile_isSeenAtTheNextReopen() throws Exception {
        // a held descriptor keeps reading the file it opened: a step directory swept and made again (or an outcome
        // replaced by rename) is noticed when the poll opens the file afresh, within REOPEN_NANOS
        Future<Outcome> f = waitAsRank1(false);
        Path outcome = heldWithin5s();
        assertEquals(1, openDescriptors(outcome), "held before the replacement");
        Path fresh = root.resolve("k/outcome.new");
        Files.write(fresh, Outcome.release(0, Map.of("k", "replaced")).encode());
        long replaced = System.nanoTime();
        Files.move(fresh, outcome, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertEquals(
                "replaced",
                f.get(8, java.util.concurrent.TimeUnit.SECONDS).data().get("k"));
        long tookMs = (System.nanoTime() - replaced) / 1_000_000;
        assertTrue(tookMs <= PolledFile.REOPEN_NANOS / 1_000_000 + 1_000, "seen after " + tookMs + " ms");
    }

    @Test
    void heldDescriptors_onlyWhereReadsOfAnOpenFileSeeOtherWriters() {
        java.util.function.BiFunction<String, String, Boolean> coherent = (type, opts) -> {
            Map<String, String> o = new java.util.LinkedHashMap<>();
            for (String kv : opts.split(",")) {
                if (!kv.isEmpty()) {
                    int eq = kv.indexOf('=');
                    o.put(eq < 0 ? kv : kv.substring(0, eq), eq < 0 ? "" : kv.substring(eq + 1));
                }
            }
            return FileBarrier.readsAreCoherent(new MountInfo("/sync", type, "src", o));
        };
        for (String local : List.of("ext4", "xfs", "tmpfs", "overlay", "btrfs")) {
            assertTrue(coherent.apply(local, "rw"), local);
        }
        for (String cluster : List.of("lustre", "gpfs", "ceph")) {
            assertTrue(coherent.apply(cluster, "rw"), cluster);
        }
        // NFS answers read() of an open file from its cache until the attributes expire: only noac-like mounts
        assertTrue(!coherent.apply("nfs", "rw,vers=3,acregmin=3,acregmax=60"));
        assertTrue(!coherent.apply("nfs4", "rw,lookupcache=positive"));
        assertTrue(!coherent.apply("nfs4", "rw,actimeo=30"));
        assertTrue(coherent.apply("nfs", "rw,noac"));
        assertTrue(coherent.apply("nfs4", "rw,actimeo=0"));
        assertTrue(coherent.apply("nfs4", "rw,acregmin=0,acregmax=0"));
        // FUSE, BeeGFS, SMB and unknown types: every poll opens the file
        for (String other : List.of("fuse.sshfs", "beegfs", "cifs", "9p", "somefs")) {
            assertTrue(!coherent.apply(other, "rw"), other);
        }
    }
}
