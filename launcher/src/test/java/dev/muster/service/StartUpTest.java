package dev.muster.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.probe.Probe;
import dev.muster.testing.Await;
import dev.muster.testing.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --arrive-when}'s wait: probes retried with a growing interval until all pass, 69 naming each probe that did
 * not at the deadline, a stop ending the wait, and a {@code --start} service that fails first (a real process).
 */
class StartUpTest {
    private final ManualClock clock = new ManualClock();
    private final List<Long> attemptedAt = new ArrayList<>();
    private final List<Duration> timeouts = new ArrayList<>();

    /** A probe that passes from {@code readyAtMillis} on, recording when it was tried and with what timeout. */
    private Probe probe(String spec, long readyAtMillis, String why) {
        return new Probe() {
            @Override
            public String attempt(Duration timeout) {
                attemptedAt.add(clock.elapsedMillis());
                timeouts.add(timeout);
                return clock.elapsedMillis() >= readyAtMillis ? null : why;
            }

            @Override
            public String spec() {
                return spec;
            }
        };
    }

    private StartUp startUp(Duration timeout, Probe... probes) {
        return new StartUp(List.of(), List.of(probes), timeout, clock);
    }

    @Test
    void probes_retriedFrom10msGrowingByHalfUpTo250ms_untilAllPass() {
        startUp(Duration.ofSeconds(60), probe("tcp:1", 1000, "refused")).awaitReady(() -> false);
        assertEquals(List.of(0L, 10L, 25L, 47L, 81L, 131L, 207L, 321L, 492L, 742L, 992L, 1242L), attemptedAt);
        assertEquals(1242, clock.elapsedMillis(), "returns at the attempt that passes");
        assertTrue(clock.sleeps().stream().allMatch(n -> n > 0 && n <= 20_000_000L), "sleeps in slices of 20 ms");
        assertEquals(Duration.ofSeconds(2), timeouts.get(0), "an attempt gets at most 2 s");
    }

    @Test
    void probeTimeout_isWhatIsLeftOfTheDeadline_atLeastAMillisecond() {
        assertThrows(
                MusterException.class,
                () -> startUp(Duration.ofMillis(1500), probe("tcp:1", Long.MAX_VALUE, "refused"))
                        .awaitReady(() -> false));
        assertEquals(Duration.ofMillis(1500), timeouts.get(0));
        assertEquals(Duration.ofMillis(1), timeouts.get(timeouts.size() - 1), "at the deadline");
        assertEquals(1500, clock.elapsedMillis(), "ends exactly at the deadline");
    }

    @Test
    void deadline_is69_namingEveryProbeThatDidNotPassAndWhy() {
        MusterException e = assertThrows(
                MusterException.class,
                () -> startUp(
                                Duration.ofSeconds(3),
                                probe("tcp:1", 0, "x"),
                                probe("tcp:2", Long.MAX_VALUE, "refused"),
                                probe("file:/f", Long.MAX_VALUE, "no such file"))
                        .awaitReady(() -> false));
        assertEquals(69, e.status());
        assertEquals(
                "--arrive-when tcp:2 (refused), --arrive-when file:/f (no such file) did not pass within 3s: check "
                        + "where it listens, or raise --arrive-timeout",
                e.getMessage());
        MusterException ms = assertThrows(
                MusterException.class,
                () -> startUp(Duration.ofMillis(1500), probe("tcp:1", Long.MAX_VALUE, "refused"))
                        .awaitReady(() -> false));
        assertTrue(ms.getMessage().contains("did not pass within 1500ms"), ms.getMessage());
    }

    @Test
    void stop_endsTheWaitAtOnce() {
        MusterException e = assertThrows(
                MusterException.class,
                () -> startUp(Duration.ofSeconds(60), probe("tcp:1", Long.MAX_VALUE, "refused"))
                        .awaitReady(() -> clock.elapsedMillis() >= 100));
        assertEquals(70, e.status());
        assertEquals("stopped while waiting for --arrive-when", e.getMessage());
        assertTrue(clock.elapsedMillis() >= 100 && clock.elapsedMillis() <= 120, "within a 20 ms slice");
    }

    @Test
    void noProbes_returnAtOnce() {
        startUp(Duration.ofSeconds(1)).awaitReady(() -> false);
        assertEquals(0, clock.elapsedMillis());
    }

    @Test
    @Timeout(60)
    void serviceExitingNonZero_beforeItsProbePasses_abortsWithItsCode_andSaysWhy() {
        StartUp s = new StartUp(
                List.of("exit 3"),
                List.of(new Probe() {
                    @Override
                    public String attempt(Duration timeout) {
                        return "refused";
                    }

                    @Override
                    public String spec() {
                        return "tcp:9";
                    }
                }),
                Duration.ofSeconds(50),
                Clock.SYSTEM);
        s.start(Map.of("PATH", "/usr/bin:/bin"), Posix.pid());
        try {
            MusterException e = assertThrows(MusterException.class, () -> s.awaitReady(() -> false));
            assertEquals(3, e.status());
            assertEquals(
                    "--start 'exit 3' exited with 3 before --arrive-when tcp:9 passed; see its output above and fix "
                            + "the command",
                    e.getMessage());
        } finally {
            s.stop();
        }
    }

    /** The failure {@code s} reports once its service's first process has ended (awaitReady checks once). */
    private static MusterException failure(StartUp s) {
        AtomicReference<MusterException> got = new AtomicReference<>();
        Await.until("the service's first process ended", Duration.ofSeconds(50), () -> {
            try {
                s.awaitReady(() -> false);
                return false;
            } catch (MusterException e) {
                got.set(e);
                return true;
            }
        });
        return got.get();
    }

    @Test
    @Timeout(60)
    void serviceKilledBySignal_orNotFound_isNamedSo_evenWithoutProbes() {
        StartUp killed = new StartUp(List.of("kill -s USR1 $$"), List.of(), Duration.ofSeconds(50), Clock.SYSTEM);
        StartUp missing = new StartUp(List.of("no-such-command-here"), List.of(), Duration.ofSeconds(50), Clock.SYSTEM);
        try {
            killed.start(Map.of("PATH", "/usr/bin:/bin"), Posix.pid());
            missing.start(Map.of("PATH", "/usr/bin:/bin"), Posix.pid());
            MusterException k = failure(killed);
            assertEquals(138, k.status());
            assertEquals(
                    "--start 'kill -s USR1 $$' exited with 138 (killed by SIGUSR1) right after it started; see its "
                            + "output above and fix the command",
                    k.getMessage());
            MusterException m = failure(missing);
            assertEquals(127, m.status());
            assertTrue(
                    m.getMessage().contains("exited with 127 (command not found) right after it started"),
                    m.getMessage());
        } finally {
            killed.stop();
            missing.stop();
        }
    }

    @Test
    @Timeout(60)
    void serviceExitingZero_isADaemonThatForked_notAFailure() {
        List<String> passed = new ArrayList<>();
        StartUp s = new StartUp(
                List.of("exit 0"),
                List.of(new Probe() {
                    @Override
                    public String attempt(Duration timeout) {
                        // passes only once the service's first process has been seen exiting 0 for a while
                        passed.add("try");
                        return passed.size() < 20 ? "not yet" : null;
                    }

                    @Override
                    public String spec() {
                        return "tcp:9";
                    }
                }),
                Duration.ofSeconds(50),
                Clock.SYSTEM);
        s.start(Map.of("PATH", "/usr/bin:/bin"), Posix.pid());
        try {
            s.awaitReady(() -> false);
            assertEquals(20, passed.size());
        } finally {
            s.stop();
        }
    }
}
