package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.Log;
import dev.muster.probe.Probe;
import dev.muster.testing.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registrar's readiness wait (its backoff, probe timeouts, progress lines), a stop at each stage, a renewal
 * that fails for a while, and what it says when it deregisters, finds another job's record, or cannot deregister.
 */
class RegistrarLifecycleTest {
    @TempDir
    Path tmp;

    private final ManualClock clock = ManualClock.atEpochSeconds(1_000_000);
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<Duration> probeTimeouts = new ArrayList<>();

    @BeforeEach
    void captureLog() {
        Log.to(new PrintStream(err, true, StandardCharsets.UTF_8));
        Log.level(Log.Level.VERBOSE);
    }

    @AfterEach
    void restoreLog() {
        Log.to(System.err);
        Log.level(Log.Level.NORMAL);
    }

    private String log() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private int count(String s) {
        return log().split(java.util.regex.Pattern.quote(s), -1).length - 1;
    }

    private Store store() {
        return new Store(new CacheDir(tmp.toString(), Caller.self()), clock);
    }

    private Probe readyAt(long readyAtMillis) {
        return new Probe() {
            @Override
            public String attempt(Duration timeout) {
                probeTimeouts.add(timeout);
                return clock.elapsedMillis() >= readyAtMillis ? null : "connection refused";
            }

            @Override
            public String spec() {
                return "tcp:8001";
            }
        };
    }

    private Registrar registrar(Probe ready, Duration readyTimeout, long ttl, long aliveMillis) {
        return new Registrar(
                store(),
                clock,
                new Registrar.Spec("svc", "7", null, "n1", 8001, "http", "/", ttl, Map.of(), ready, readyTimeout),
                () -> clock.elapsedMillis() < aliveMillis);
    }

    private void at(long millis, dev.muster.testing.Io.Action a) {
        clock.at(millis, dev.muster.testing.Io.unchecked(a));
    }

    @Test
    void readiness_backsOffFrom20To50ms_probesWithAtMostASecond_andEndsExactlyAtTheDeadline() {
        Registrar r = registrar(readyAt(Long.MAX_VALUE), Duration.ofMillis(1500), 6, Long.MAX_VALUE);
        assertEquals(Registrar.End.READY_TIMEOUT, r.run());
        assertEquals(
                List.of(20L, 30L, 45L, 50L, 50L),
                clock.sleeps().subList(0, 5).stream().map(n -> n / 1_000_000L).toList());
        assertEquals(1500, clock.elapsedMillis(), "the last pause ends at the deadline");
        assertEquals(Duration.ofSeconds(1), probeTimeouts.get(0));
        Duration last = probeTimeouts.get(probeTimeouts.size() - 1);
        assertTrue(
                last.compareTo(Duration.ofMillis(10)) >= 0 && last.compareTo(Duration.ofMillis(100)) < 0,
                "near the deadline a probe gets what is left: " + last);
        assertTrue(log().contains("not registered: readiness tcp:8001 did not pass within 1.5s"), log());
    }

    @Test
    void readiness_withoutTimeout_saysStillWaitingOncePerMinute_andProbesWithASecond() {
        Registrar r = registrar(readyAt(Long.MAX_VALUE), null, 6, 130_000);
        assertEquals(Registrar.End.NEVER_READY, r.run());
        assertEquals(2, count("rendezvous svc: still waiting for tcp:8001 (connection refused)"), log());
        assertTrue(probeTimeouts.stream().allMatch(d -> d.equals(Duration.ofSeconds(1))), probeTimeouts.toString());
        assertTrue(
                log().contains("the task ended before tcp:8001 passed (connection refused); nothing registered"),
                log());
        assertTrue(store().latest("svc").isEmpty());
    }

    @Test
    void stop_beforeRun_registersNothing() {
        Registrar r = registrar(readyAt(0), null, 6, Long.MAX_VALUE);
        r.stop();
        assertEquals(Registrar.End.NEVER_READY, r.run());
        assertTrue(store().latest("svc").isEmpty());
        Thread.interrupted();
    }

    @Test
    void stop_whileTheProbePasses_registersNothing() {
        Registrar[] self = new Registrar[1];
        Probe stopsThenPasses = new Probe() {
            @Override
            public String attempt(Duration timeout) {
                self[0].stop();
                return null;
            }

            @Override
            public String spec() {
                return "tcp:8001";
            }
        };
        self[0] = registrar(stopsThenPasses, null, 6, Long.MAX_VALUE);
        assertEquals(Registrar.End.NEVER_READY, self[0].run());
        assertTrue(store().latest("svc").isEmpty());
        Thread.interrupted();
    }

    @Test
    void stop_afterRegistering_deregisters() {
        Registrar r = registrar(readyAt(0), null, 6, Long.MAX_VALUE);
        clock.at(3000, r::stop);
        assertEquals(Registrar.End.DEREGISTERED, r.run());
        assertTrue(store().latest("svc").isEmpty());
        assertTrue(clock.elapsedMillis() <= 3050, "" + clock.elapsedMillis());
        assertEquals(1, count("deregistered rendezvous svc"), log());
    }

    @Test
    void renewal_isDueExactlyAtAThirdOfTheTtl() {
        // ttl 5 s: renewed every 1.666 s; at 1.68 s the record already carries the second it was renewed in
        List<Long> seen = new ArrayList<>();
        clock.at(1680, () -> seen.add(store().latest("svc").orElseThrow().registeredAt()));
        Registrar r = registrar(readyAt(0), null, 5, 1700);
        assertEquals(Registrar.End.DEREGISTERED, r.run());
        assertEquals(List.of(1_000_001L), seen);
        assertTrue(log().contains("renewed every 1.7s"), log());
        assertEquals(0, count("was gone"), "a renewal that found its record says nothing: " + log());
    }

    @Test
    void renewal_failingForAWhile_warnsOnce_retriesEverySecond_thenRenews() {
        Path latest = tmp.resolve("rendezvous/svc/latest.json");
        List<Boolean> renewedAfterRepair = new ArrayList<>();
        at(1000, () -> {
            Files.delete(latest);
            Files.createDirectory(latest);
        });
        at(4500, () -> Files.delete(latest));
        clock.at(5200, () -> renewedAfterRepair.add(Files.isRegularFile(latest)));
        Registrar r = registrar(readyAt(0), null, 6, 8000);
        assertEquals(Registrar.End.DEREGISTERED, r.run());
        assertEquals(1, count("cannot renew rendezvous svc: "), log());
        assertEquals(List.of(true), renewedAfterRepair, "retried within a second of the repair");
        // once, for the renewal that found latest.json gone; not for the renewal at 7 s that found it back
        assertEquals(1, count("latest.json was gone; registering again"), log());
    }

    @Test
    void end_anotherJobsRecord_isLeftInPlace_andSaidSo() {
        clock.at(2300, () -> store().register("svc", "8", null, "n2", 9000, "http", "/", 6, Map.of()));
        Registrar r = registrar(readyAt(0), null, 6, 2500);
        assertEquals(Registrar.End.DEREGISTERED, r.run());
        assertEquals("8", store().latest("svc").orElseThrow().jobId());
        assertTrue(log().contains("rendezvous svc belongs to another job now; left in place"), log());
    }

    @Test
    void end_recordAlreadyGone_saysSo() {
        clock.at(2300, () -> store().deregister("svc", "7"));
        Registrar r = registrar(readyAt(0), null, 6, 2500);
        assertEquals(Registrar.End.DEREGISTERED, r.run());
        assertTrue(log().contains("rendezvous svc was already gone"), log());
    }

    @Test
    void end_damagedRecord_cannotDeregister_andSaysItLapsesByTtl() {
        Path latest = tmp.resolve("rendezvous/svc/latest.json");
        at(2300, () -> {
            Files.delete(latest);
            Files.createDirectory(latest);
        });
        Registrar r = registrar(readyAt(0), null, 6, 2500);
        assertEquals(Registrar.End.DEREGISTERED, r.run());
        assertTrue(log().contains("cannot deregister rendezvous svc: "), log());
        assertTrue(log().contains("; the record lapses by its TTL"), log());
    }
}
