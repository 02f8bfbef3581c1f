package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Sarus "Slurm global sync" baseline (--baseline-sarus): every task creates sarus/arrival/RANK, waits until N are
 * there, creates sarus/departure/RANK; rank 0 then waits for N departures and removes sarus/ before it goes on. The
 * other tasks are played by the test, creating their files by hand, so that every step of the protocol is observed.
 */
@Timeout(30)
class SarusBaselineTest {
    @TempDir
    Path root;

    private static final BarrierSettings S = new BarrierSettings(
            Duration.ofSeconds(20), Duration.ofMillis(20), Duration.ofMillis(5), Duration.ofSeconds(60));

    private FileBarrier task(int rank, int size, BarrierSettings s) {
        return new FileBarrier(root, "k", rank, size, "h", s, Clock.SYSTEM, new Random(rank), r -> "n" + r);
    }

    private Path sarus(String sub) {
        return root.resolve("k").resolve(StepFiles.SARUS).resolve(sub);
    }

    /** Another task's file in sarus/{@code sub}/. */
    private void byHand(String sub, int rank) throws IOException {
        Files.createDirectories(sarus(sub));
        Files.createFile(sarus(sub).resolve(Integer.toString(rank)));
    }

    private List<String> entries(String sub) throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("k").resolve(sub))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void rank0_waitsForEveryArrivalThenEveryDeparture_thenRemovesItsDirectory() throws Exception {
        FileBarrier fb = task(0, 2, S);
        SarusBaseline b = new SarusBaseline(fb);
        b.prepare();
        b.arrive();
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(b.await(Map.of("master_addr", "n0")));
            } catch (MusterException | InterruptedException e) {
                result.set(e);
            }
        });
        t.start();
        Await.until(
                "rank 0 waits for the arrivals",
                Duration.ofSeconds(20),
                () -> t.getState() == Thread.State.TIMED_WAITING || !t.isAlive());
        assertTrue(t.isAlive(), "rank 0 waits, alone: " + result.get());
        assertTrue(Files.exists(sarus("arrival").resolve("0")));
        assertFalse(Files.exists(sarus("departure").resolve("0")), "not before every arrival");
        byHand("arrival", 1);
        Await.until(
                "rank 0 departs",
                Duration.ofSeconds(20),
                () -> Files.exists(sarus("departure").resolve("0")));
        Await.until(
                "rank 0 waits for the departures",
                Duration.ofSeconds(20),
                () -> t.getState() == Thread.State.TIMED_WAITING || !t.isAlive());
        assertTrue(t.isAlive(), "rank 0 waits for rank 1's departure: " + result.get());
        byHand("departure", 1);
        t.join();
        Outcome o = (Outcome) result.get();
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals(Map.of("master_addr", "n0"), o.data());
        assertEquals("sarus", fb.via());
        assertEquals(
                List.of("arrival", "departure", "endpoint", "outcome"),
                entries(""),
                "the baseline's directory removed, renamed copy and all; muster's own arrival kept");
        assertTrue(Files.exists(root.resolve("k/arrival/0/0")), "arrived by the file protocol's record too");
        assertFalse(b.cleanedUp(), "rank 0 removed the baseline's directory itself");
    }

    @Test
    void otherRank_departsOnceEveryTaskArrived_andLeavesTheDirectoryToRank0() throws Exception {
        FileBarrier fb = task(1, 2, S);
        SarusBaseline b = new SarusBaseline(fb);
        b.prepare();
        b.arrive();
        byHand("arrival", 0);
        Outcome o = b.await(Map.of("master_addr", "n0"));
        assertEquals(Outcome.Kind.RELEASE, o.kind());
        assertEquals(Map.of(), o.data(), "only rank 0's release carries the data");
        assertTrue(Files.exists(sarus("departure").resolve("1")));
        assertTrue(Files.isDirectory(sarus("arrival")), "rank 0 removes it, not rank 1");
        b.depart();
        assertEquals(List.of(), entries("departure"), "no departure for muster's clean-up");
    }

    @Test
    void aloneUntilTheTimeout_failsWith75_namingTheDirectory() {
        BarrierSettings s = new BarrierSettings(
                Duration.ofMillis(300), Duration.ofMillis(20), Duration.ofMillis(5), Duration.ofSeconds(60));
        SarusBaseline b = new SarusBaseline(task(0, 2, s));
        b.prepare();
        b.arrive();
        long start = System.nanoTime();
        MusterException e = assertThrows(MusterException.class, () -> b.await(Map.of()));
        assertTrue(System.nanoTime() - start >= s.timeout().toNanos(), "not before the timeout");
        assertEquals(ExitCodes.TIMEOUT, e.status());
        assertEquals("baseline barrier timed out in " + sarus("arrival"), e.getMessage());
    }

    @Test
    void abort_isTheFileProtocolsAbort() {
        SarusBaseline b = new SarusBaseline(task(1, 2, S));
        b.prepare();
        b.abort(127, "rank 1: command not found: x");
        Outcome o = task(0, 2, S).decide(Outcome.release(0, Map.of()));
        assertEquals(Outcome.Kind.ABORT, o.kind());
        assertEquals(127, o.code());
    }

    @Test
    void unwritableDirectory_isAnUnusableDirectory() throws IOException {
        SarusBaseline b = new SarusBaseline(task(0, 1, S));
        b.prepare();
        b.arrive();
        Files.writeString(root.resolve("k").resolve(StepFiles.SARUS), "not a directory");
        MusterException e = assertThrows(MusterException.class, () -> b.await(Map.of()));
        assertEquals(ExitCodes.UNUSABLE_DIR, e.status());
        assertTrue(e.getMessage().startsWith("baseline: cannot write in "), e.getMessage());
    }
}
