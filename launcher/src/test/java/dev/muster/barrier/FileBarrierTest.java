package dev.muster.barrier;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class FileBarrierTest {
    @TempDir
    Path root;

    private static final FileBarrier.Settings FAST = new FileBarrier.Settings(Duration.ofSeconds(10),
            Duration.ofMillis(5), Duration.ofMillis(2), Duration.ofSeconds(60));

    private FileBarrier task(int rank, int size, FileBarrier.Settings s) {
        FileBarrier b = new FileBarrier(root, "k", rank, size, "h", s, Clock.SYSTEM, new Random(rank), r -> "n" + r);
        b.prepare();
        return b;
    }

    private List<Future<Object>> runAll(int size, FileBarrier.Settings s, int skip) {
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
        FileBarrier.Settings s = new FileBarrier.Settings(Duration.ofMillis(300), Duration.ofMillis(5),
                Duration.ofMillis(2), Duration.ofSeconds(60));
        for (Future<Object> f : runAll(4, s, 2)) {
            MusterException e = (MusterException) f.get();
            assertEquals(75, e.status());
            assertTrue(e.getMessage().contains("missing rank 2 (expected on n2)"), e.getMessage());
        }
    }

    @Test
    void abort_givesEveryWaitingTaskTheAbortersCodeAndRank() throws Exception {
        FileBarrier.Settings s = FAST;
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
        FileBarrier.Settings s = new FileBarrier.Settings(Duration.ofMillis(300), Duration.ofMillis(5),
                Duration.ofMillis(2), Duration.ofSeconds(60));
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
        Files.setPosixFilePermissions(root.resolve("k"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwx---"));
        FileBarrier b = new FileBarrier(root, "k", 0, 1, "h", FAST, Clock.SYSTEM, new Random(), null);
        MusterException e = assertThrows(MusterException.class, b::prepare);
        assertEquals(77, e.status());
        assertTrue(e.getMessage().contains("writable by group or others"), e.getMessage());
    }
}
