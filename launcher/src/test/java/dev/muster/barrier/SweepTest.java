package dev.muster.barrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code muster sweep}'s rules that need no Slurm: the age limit, the liveness test, half-removed leftovers. */
class SweepTest {
    @TempDir
    Path root; // 0700, as a sync root must be

    private Path step(String name, Duration age, Instant now) throws Exception {
        Path d = Files.createDirectories(root.resolve(name).resolve("arrival/0"));
        Files.writeString(d.resolve("0"), "x");
        Files.setLastModifiedTime(root.resolve(name), FileTime.from(now.minus(age)));
        return root.resolve(name);
    }

    /** Older than --max-age goes even while its job may still run; younger and live stays; dead goes. */
    @Test
    void maxAge_removesOldStepsEvenWhenLive_keepsYoungLiveOnes() throws Exception {
        Instant now = Instant.parse("2026-01-02T12:00:00Z");
        Path oldLive = step("c.1.0", Duration.ofHours(25), now);
        Path youngLive = step("c.2.0", Duration.ofHours(23), now);
        Path youngDead = step("c.3.0", Duration.ofMinutes(1), now);
        Path leftover = step("c.4.0.gone.123", Duration.ofMinutes(1), now);
        Sweep.Result r = Sweep.sweep(root, name -> !name.equals("c.3.0"), Duration.ofHours(24), now, false);
        assertFalse(Files.exists(oldLive), "older than --max-age: removed although its job may run");
        assertTrue(Files.isDirectory(youngLive), "younger than --max-age and live: kept");
        assertFalse(Files.exists(youngDead), "its job is gone: removed");
        assertFalse(Files.exists(leftover), "an interrupted clean-up's remains: removed");
        assertEquals(List.of(youngLive), r.kept());
        assertEquals(3, r.removed().size(), r.toString());
        try (var s = Files.list(root)) {
            assertEquals(List.of(youngLive), s.toList(), "nothing renamed away is left behind");
        }
    }

    /** --dry-run reports what it would remove and removes nothing. */
    @Test
    void dryRun_removesNothing() throws Exception {
        Instant now = Instant.parse("2026-01-02T12:00:00Z");
        Path oldLive = step("c.1.0", Duration.ofHours(25), now);
        Sweep.Result r = Sweep.sweep(root, name -> true, Duration.ofHours(24), now, true);
        assertEquals(List.of(oldLive), r.removed());
        assertTrue(Files.isDirectory(oldLive));
    }

    /** A link in the root is reported and kept; a link inside a step is removed as a link, its target kept. */
    @Test
    void links_areNeverFollowed(@TempDir Path outside) throws Exception {
        Instant now = Instant.parse("2026-01-02T12:00:00Z");
        Path precious = Files.writeString(outside.resolve("precious"), "keep");
        Path linkInRoot = Files.createSymbolicLink(root.resolve("c.9.0"), outside);
        Path dead = step("c.3.0", Duration.ofMinutes(1), now);
        Files.createSymbolicLink(dead.resolve("arrival/0/link"), outside);
        Path file = Files.writeString(root.resolve("c.8.0"), "not a step");
        Sweep.Result r = Sweep.sweep(root, name -> false, Duration.ofHours(24), now, false);
        assertEquals(List.of(dead), r.removed());
        assertEquals(java.util.Set.of(linkInRoot, file), java.util.Set.copyOf(r.kept()));
        assertTrue(Files.isSymbolicLink(linkInRoot));
        assertEquals("keep", Files.readString(precious), "the target of neither link was touched");
        assertFalse(Files.exists(dead, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    /** Exactly --max-age old is not older than it; a root that does not exist has nothing to sweep. */
    @Test
    void maxAge_isExclusive_andAMissingRootIsEmpty() throws Exception {
        Instant now = Instant.parse("2026-01-02T12:00:00Z");
        Path exactly = step("c.1.0", Duration.ofHours(24), now);
        Sweep.Result r = Sweep.sweep(root, name -> true, Duration.ofHours(24), now, false);
        assertEquals(List.of(exactly), r.kept());
        assertEquals(List.of(), r.removed());
        Sweep.Result none = Sweep.sweep(root.resolve("none"), name -> false, Duration.ZERO, now, false);
        assertEquals(List.of(), none.removed());
        assertEquals(List.of(), none.kept());
    }

    /** A leftover of an interrupted clean-up goes even under --dry-run's report, and is kept by --dry-run. */
    @Test
    void dryRun_reportsLeftoversAndDeadSteps_removesNothing() throws Exception {
        Instant now = Instant.parse("2026-01-02T12:00:00Z");
        Path leftover = step("c.4.0.gone.123", Duration.ofMinutes(1), now);
        Path dead = step("c.3.0", Duration.ofMinutes(1), now);
        Sweep.Result r = Sweep.sweep(root, name -> !name.equals("c.3.0"), Duration.ofHours(24), now, true);
        assertEquals(java.util.Set.of(leftover, dead), java.util.Set.copyOf(r.removed()));
        assertTrue(Files.isDirectory(leftover));
        assertTrue(Files.isDirectory(dead));
    }

    /** A root others may write to is refused before anything in it is touched. */
    @Test
    void groupWritableRoot_isRefusedWith77_andNothingRemoved() throws Exception {
        Instant now = Instant.parse("2026-01-02T12:00:00Z");
        Path dead = step("c.3.0", Duration.ofMinutes(1), now);
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwx---"));
        dev.muster.core.MusterException e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.muster.core.MusterException.class,
                () -> Sweep.sweep(root, name -> false, Duration.ofHours(24), now, false));
        assertEquals(77, e.status());
        assertTrue(Files.isDirectory(dead));
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void linkInTheRoot_isReportedAsLeftAlone(@TempDir Path outside) throws Exception {
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        dev.muster.core.Log.to(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            Path link = Files.createSymbolicLink(root.resolve("c.9.0"), outside);
            Sweep.sweep(root, name -> false, Duration.ofHours(24), Instant.now(), false);
            assertTrue(
                    log.toString(java.nio.charset.StandardCharsets.UTF_8)
                            .contains("warning: sweep: " + link + " is a symbolic link; left alone"),
                    log.toString(java.nio.charset.StandardCharsets.UTF_8));
        } finally {
            dev.muster.core.Log.to(System.err);
        }
    }
}
