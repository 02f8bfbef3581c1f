package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import dev.muster.testing.ManualClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-writer rule of the outcome: the first claim writes it, later ones read the winner's, a dead winner. */
class ClaimTest {
    @TempDir
    Path root;

    private final ManualClock clock = new ManualClock();
    private StepFiles files;
    private PolledFile outcome;

    @BeforeEach
    void step() throws IOException {
        files = new StepFiles(root, "k", 4);
        files.create(0);
        outcome = new PolledFile(files.outcomeFile, clock, new PolledFile.Policy(files.dir));
    }

    private Claim claim(int rank) {
        return new Claim(files, rank, clock, new Random(rank), outcome);
    }

    private List<String> claimTemps() throws IOException {
        try (Stream<Path> s = Files.list(files.dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(StepFiles.CLAIM_TEMP))
                    .toList();
        }
    }

    @Test
    void firstClaim_writesItsOutcome_laterClaimsGetTheWinners() throws IOException {
        Outcome abort = Outcome.abort(2, 127, "command not found: x");
        Claim first = claim(2);
        assertEquals(abort, first.decide(abort));
        assertTrue(first.mine());
        assertArrayEquals(abort.encode(), Files.readAllBytes(files.outcomeFile));
        Claim second = claim(0);
        assertEquals(abort, second.decide(Outcome.release(0, Map.of())), "the winner's, not its own");
        assertFalse(second.mine());
        assertArrayEquals(abort.encode(), Files.readAllBytes(files.outcomeFile), "written once");
        assertEquals(List.of(), claimTemps(), "no private claim file is left behind, won or lost");
        assertEquals(0, clock.elapsedMillis(), "the outcome was there: no wait");
    }

    @Test
    void lostClaim_waitsForTheWinnersOutcome() throws IOException {
        Files.createFile(files.claim());
        Outcome release = Outcome.release(0, Map.of("k", "v"));
        clock.at(500, () -> {
            try {
                StepFiles.fill(files.outcomeFile, release.encode());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Claim late = claim(3);
        assertEquals(release, late.decide(Outcome.timeout(3, List.of(1))));
        assertFalse(late.mine());
        assertTrue(clock.elapsedMillis() >= 500 && clock.elapsedMillis() <= 501, "" + clock.elapsedMillis());
        assertEquals(List.of(), claimTemps());
    }

    @Test
    void lostClaim_withAWinnerThatNeverWrites_isACorruptDirectoryAfterTenSeconds() throws IOException {
        Files.createFile(files.claim());
        MusterException e = assertThrows(MusterException.class, () -> claim(1).decide(Outcome.abort(1, 1, "x")));
        assertEquals(65, e.status());
        assertTrue(e.getMessage().contains("has a claim but no outcome after 10 s"), e.getMessage());
        assertTrue(clock.elapsedMillis() >= 10_000 && clock.elapsedMillis() <= 10_002, "" + clock.elapsedMillis());
        assertTrue(clock.sleeps().stream().allMatch(n -> n == 1_000_000L), "polls every millisecond");
        assertEquals(0, Files.size(files.outcomeFile), "the loser writes nothing");
    }

    @Test
    void unwritableStepDirectory_isUnusable() throws IOException {
        try (Stream<Path> s = Files.walk(files.dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        MusterException e = assertThrows(MusterException.class, () -> claim(1).decide(Outcome.abort(1, 1, "x")));
        assertEquals(77, e.status());
        assertTrue(e.getMessage().startsWith("cannot write the outcome in " + files.dir), e.getMessage());
    }

    @Test
    void lostClaim_theWinnersOutcomeJustAfterTenSeconds_isStillWaitedFor() throws IOException {
        Files.createFile(files.claim());
        Outcome release = Outcome.release(0, Map.of());
        clock.at(10_001, () -> {
            try {
                StepFiles.fill(files.outcomeFile, release.encode());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(release, claim(1).decide(Outcome.abort(1, 1, "x")), "up to 10 s, and the poll at 10 s too");
    }

    @Test
    void lostClaim_interruptedWhileWaiting_isInternal_andKeepsTheInterrupt() throws IOException {
        Files.createFile(files.claim());
        dev.muster.core.Clock interrupting = new dev.muster.testing.ManualClock().interruptingSleep();
        Claim c = new Claim(files, 1, interrupting, new Random(1), outcome);
        try {
            MusterException e = assertThrows(MusterException.class, () -> c.decide(Outcome.abort(1, 1, "x")));
            assertEquals(dev.muster.core.ExitCodes.INTERNAL, e.status());
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }
}
