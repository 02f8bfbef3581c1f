package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leftover detection before a task arrives ({@link Leftover#refuse}): what it refuses, and what it says. */
class LeftoverTest {
    @TempDir
    Path root;

    private final ManualClock clock = new ManualClock();

    private static Claim claim(StepFiles files, int rank, ManualClock clock) {
        return new Claim(
                files,
                rank,
                clock,
                new Random(rank),
                new PolledFile(files.outcomeFile, clock, new PolledFile.Policy(files.dir)));
    }

    @Test
    void undecidedStepOlderThanTheTimeout_isRefusedWith65_sayingItsAgeInSeconds() throws IOException {
        StepFiles files = new StepFiles(root, "k", 2);
        files.create(1);
        Files.setLastModifiedTime(files.outcomeFile, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        MusterException e = assertThrows(
                MusterException.class, () -> Leftover.refuse(files, 1, Duration.ofSeconds(30), claim(files, 1, clock)));
        assertEquals(ExitCodes.CORRUPT, e.status());
        assertTrue(
                e.getMessage().matches(".* holds an undecided step started 36\\d\\d s ago, longer than the timeout.*"),
                e.getMessage());
        Outcome decided = claim(files, 0, clock).decide(Outcome.release(0, java.util.Map.of()));
        assertEquals(Outcome.Kind.ABORT, decided.kind(), "the others learn it through the claimed abort");
        assertEquals(ExitCodes.CORRUPT, decided.code());
    }

    @Test
    void stepWithoutAnOutcomeFile_isNoLeftover() throws IOException {
        StepFiles files = new StepFiles(root, "k", 2);
        Files.createDirectories(files.dir);
        Leftover.refuse(files, 1, Duration.ofSeconds(30), claim(files, 1, clock));
        assertTrue(Files.notExists(files.claim()), "nothing claimed");
    }
}
