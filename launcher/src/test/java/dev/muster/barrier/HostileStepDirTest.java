package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.FifoSwapper;
import dev.muster.core.MusterException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Step directories that are not what a live step left: leftovers with the same key, and FIFOs in the step files. */
class HostileStepDirTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path root;

    private FileBarrier barrier(String key, int rank, int size) {
        return new FileBarrier(
                root,
                key,
                rank,
                size,
                "n" + rank,
                BarrierSettings.of(TIMEOUT, Duration.ofMillis(20)),
                Clock.SYSTEM,
                new Random(rank),
                null);
    }

    /** A step of two that ran to its release and whose clean-up never ran (the job was killed). */
    private void leaveReleasedStep(String key) throws Exception {
        Ranks old = new Ranks(root, key, 2, Transport.Mode.FILE, TIMEOUT);
        try {
            for (CompletableFuture<Ranks.Result> f : java.util.List.of(old.start(0), old.start(1))) {
                assertEquals(0, f.get(30, TimeUnit.SECONDS).code());
            }
        } finally {
            old.close();
        }
    }

    @Test
    void prepare_leftoverReleaseWithTheSameKey_isRefused65_neverReleases() throws Exception {
        leaveReleasedStep("k");
        for (int rank = 0; rank < 2; rank++) {
            FileBarrier b = barrier("k", rank, 2);
            MusterException e = assertThrows(MusterException.class, b::prepare);
            assertEquals(ExitCodes.CORRUPT, e.status());
            assertTrue(e.getMessage().contains("holds the release of an earlier step"), e.getMessage());
        }
    }

    @Test
    void prepare_ownArrivalFromBefore_isRefused_andTheStepAborted() throws Exception {
        FileBarrier old = barrier("k", 1, 3);
        old.prepare();
        old.arrive(); // and killed
        MusterException e = assertThrows(MusterException.class, barrier("k", 1, 3)::prepare);
        assertTrue(e.getMessage().contains("an arrival of rank 1 from before this task started"), e.getMessage());
        // the others learn it from the outcome at once instead of waiting for their deadline
        FileBarrier other = barrier("k", 2, 3);
        other.prepare();
        other.arrive();
        MusterException seen = assertThrows(MusterException.class, () -> other.await(Map.of()));
        assertEquals(ExitCodes.CORRUPT, seen.status(), seen.getMessage());
    }

    @Test
    void prepare_undecidedStepOlderThanTheTimeout_isRefused_youngerJoins() throws Exception {
        FileBarrier old = barrier("k", 1, 2);
        old.prepare();
        old.arrive(); // killed while waiting, rank 0 never came
        FileTime then = FileTime.fromMillis(
                System.currentTimeMillis() - TIMEOUT.toMillis() - Leftover.SLACK.toMillis() - 5_000);
        try (Stream<Path> all = Files.walk(root.resolve("k"))) {
            for (Path p : all.toList()) {
                Files.setLastModifiedTime(p, then);
            }
        }
        MusterException e = assertThrows(MusterException.class, barrier("k", 0, 2)::prepare);
        assertTrue(e.getMessage().contains("an undecided step started"), e.getMessage());

        // a live step a task is late for (within the timeout) is joined as always
        FileBarrier early = barrier("live", 1, 2);
        early.prepare();
        early.arrive();
        barrier("live", 0, 2).prepare();
    }

    /** The reader that could hang: a FIFO swapped in for the outcome file while a task polls it. */
    @Test
    void await_outcomeSwappedWithFifo_neverBlocksPastItsDeadline() throws Exception {
        int fifo = 0;
        int size = 20;
        barrier("swap", 0, size).prepare();
        Path outcome = root.resolve("swap").resolve("outcome");
        try (FifoSwapper swapper = FifoSwapper.start(outcome, "not yet".getBytes(StandardCharsets.UTF_8))) {
            for (int rank = 1; rank < 11; rank++) {
                FileBarrier b = barrier("swap", rank, size);
                try {
                    b.prepare();
                } catch (MusterException e) {
                    assertEquals(ExitCodes.CORRUPT, e.status(), e.getMessage()); // a FIFO met at once
                    fifo++;
                    continue;
                }
                b.arrive();
                CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
                    try {
                        b.await(Map.of());
                        return 0;
                    } catch (MusterException e) {
                        return e.status();
                    } catch (InterruptedException e) {
                        return -1;
                    }
                });
                int code;
                try {
                    code = waiting.get(TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    fail("rank " + rank + " blocked past its deadline of " + TIMEOUT.toSeconds() + " s");
                    return;
                }
                assertTrue(code == ExitCodes.CORRUPT || code == ExitCodes.TIMEOUT, "code " + code);
                fifo += code == ExitCodes.CORRUPT ? 1 : 0;
                assertTrue(swapper.alive());
            }
        }
        assertTrue(fifo > 0, "the swapper never got a FIFO in front of a poll");
    }
}
