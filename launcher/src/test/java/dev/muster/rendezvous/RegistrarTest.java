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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistrarTest {
    @TempDir
    Path tmp;

    private final ManualClock clock = new ManualClock();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @AfterEach
    void restoreLog() {
        Log.to(System.err);
    }

    private Store store() {
        return new Store(new CacheDir(tmp.toString(), Caller.self()), clock);
    }

    /** A probe that passes from {@code readyAtMillis} on. */
    private Probe readyAt(long readyAtMillis) {
        return new Probe() {
            @Override
            public String attempt(Duration timeout) {
                return clock.elapsedMillis() >= readyAtMillis ? null : "connection refused";
            }

            @Override
            public String spec() {
                return "tcp:8001";
            }
        };
    }

    private Registrar.Spec spec(String job, Probe ready, Duration readyTimeout) {
        return new Registrar.Spec("svc", job, null, "n1", 8001, "http", "/", 6, Map.of(), ready, readyTimeout);
    }

    private String log() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void run_registersOnceReady_renewsEveryThirdOfTheTtl_andDeregistersWhenTheTaskEnds() {
        Log.to(new PrintStream(err, true, StandardCharsets.UTF_8));
        List<Long> registeredAt = new ArrayList<>();
        clock.at(
                300,
                () -> registeredAt.add(
                        store().latest("svc").map(Record::registeredAt).orElse(-1L)));
        for (long t = 2400; t <= 9000; t += 2000) {
            clock.at(
                    t,
                    () -> registeredAt.add(store().latest("svc").orElseThrow().registeredAt()));
        }
        Registrar r =
                new Registrar(store(), clock, spec("7", readyAt(250), null), () -> clock.elapsedMillis() < 10_000);
        assertEquals(Registrar.End.DEREGISTERED, r.run());
        // not before readiness (at 250 ms); then renewed every 2 s (ttl 6 s)
        long start = clock.epochMillis() / 1000;
        assertEquals(List.of(start, start + 2, start + 4, start + 6, start + 8), registeredAt);
        assertTrue(store().latest("svc").isEmpty(), "deregistered");
        assertTrue(clock.elapsedMillis() <= 10_000 + 60, "left within one watch interval: " + clock.elapsedMillis());
        assertTrue(
                log().contains("registered rendezvous svc at http://n1:8001/ (job 7, ttl 6s, renewed every 2s)"),
                log());
        assertTrue(log().contains("deregistered rendezvous svc"), log());
    }

    @Test
    void run_anotherProvidersNewerRecord_wins_andThisOneSaysSoOnceAndLeavesIt() {
        Log.to(new PrintStream(err, true, StandardCharsets.UTF_8));
        clock.at(1000, () -> store().register("svc", "8", null, "n2", 9000, "http", "/", 6, Map.of()));
        Registrar r = new Registrar(store(), clock, spec("7", readyAt(0), null), () -> clock.elapsedMillis() < 60_000);
        assertEquals(Registrar.End.LOST, r.run());
        assertEquals("8", store().latest("svc").orElseThrow().jobId(), "the newer record stays");
        assertEquals(1, log().split("this provider stops renewing its lease", -1).length - 1, log());
    }

    @Test
    void run_taskEndsBeforeReady_registersNothing() {
        Registrar r = new Registrar(
                store(), clock, spec("7", readyAt(Long.MAX_VALUE), null), () -> clock.elapsedMillis() < 2000);
        assertEquals(Registrar.End.NEVER_READY, r.run());
        assertTrue(store().latest("svc").isEmpty());
    }

    @Test
    void run_readyTimeout_registersNothing_andSaysWhichProbe() {
        Log.to(new PrintStream(err, true, StandardCharsets.UTF_8));
        Registrar r =
                new Registrar(store(), clock, spec("7", readyAt(Long.MAX_VALUE), Duration.ofSeconds(3)), () -> true);
        assertEquals(Registrar.End.READY_TIMEOUT, r.run());
        assertTrue(store().latest("svc").isEmpty());
        assertTrue(log().contains("readiness tcp:8001 did not pass within 3s (connection refused)"), log());
    }

    @Test
    void run_recordRemovedMeanwhile_isRegisteredAgain() {
        clock.at(1000, () -> store().deregister("svc", "7"));
        Registrar r = new Registrar(store(), clock, spec("7", readyAt(0), null), () -> clock.elapsedMillis() < 2500);
        clock.at(2200, () -> assertTrue(store().latest("svc").isPresent(), "registered again at the renewal"));
        assertEquals(Registrar.End.DEREGISTERED, r.run());
    }
}
