package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.task.JobStatus;
import dev.muster.testing.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientWaitTest {
    @TempDir
    Path tmp;

    /** No jitter, so that intervals can be checked exactly. */
    private static final Random NO_JITTER = new Random() {
        private static final long serialVersionUID = 1L;

        @Override
        public double nextDouble() {
            return 0;
        }
    };

    private final ManualClock clock = new ManualClock();

    private Store store() {
        return new Store(new CacheDir(tmp.toString(), Caller.self()), clock);
    }

    private void register(String name, String job, int port) {
        store().register(name, job, null, "n1", port, "http", "/", 120, Map.of());
    }

    private static ClientWait.Request required(String name, long timeoutMillis) {
        return new ClientWait.Request(name, true, Duration.ofMillis(timeoutMillis));
    }

    @Test
    void await_waitsForAllNamesAtOnce_eachWithItsOwnDeadline() {
        clock.at(1000, () -> register("a", "11", 8001));
        ClientWait.Result r = new ClientWait(store(), clock, JobStatus.TTL_ONLY, null, NO_JITTER)
                .await(List.of(required("a", 5000), required("b", 2000)));
        assertEquals(List.of("a"), r.resolved().stream().map(Record::name).toList());
        assertEquals(
                List.of("b"),
                r.missing().keySet().stream().map(ClientWait.Request::name).toList());
        assertFalse(r.complete());
        // b gave up at its own 2 s deadline, not a's 5 s; a was seen within one poll of appearing
        assertTrue(clock.elapsedMillis() >= 2000 && clock.elapsedMillis() <= 2000 + 50, "" + clock.elapsedMillis());
        assertEquals("no live record", r.missing().values().iterator().next());
    }

    @Test
    void await_returnsWithinOnePollOfTheLastName() {
        clock.at(300, () -> register("a", "11", 8001));
        clock.at(1700, () -> register("b", "12", 8002));
        ClientWait.Result r = new ClientWait(store(), clock, JobStatus.TTL_ONLY, null, NO_JITTER)
                .await(List.of(required("b", 30_000), required("a", 30_000)));
        assertTrue(r.complete());
        assertTrue(
                clock.elapsedMillis() <= 1700 + ClientWait.FAST_MAX_INTERVAL_NANOS / 1_000_000L,
                "" + clock.elapsedMillis());
        // command-line order, not the order they appeared: the generic variables describe the last name given
        assertEquals(List.of("b", "a"), r.resolved().stream().map(Record::name).toList());
        Map<String, String> env = ClientEnv.of(r.resolved());
        assertEquals("http://n1:8001/", env.get("HPC_COMPOSE_RDZV_URL"));
        assertEquals("http://n1:8002/", env.get("HPC_COMPOSE_RDZV_B_URL"));
    }

    @Test
    void await_backsOffFrom20msTo50ms_forAMinute_thenTo250ms() {
        ClientWait.Result r = new ClientWait(store(), clock, JobStatus.TTL_ONLY, null, NO_JITTER)
                .await(List.of(required("a", 90_000)));
        assertFalse(r.complete());
        List<Long> ms = clock.sleeps().stream().map(n -> n / 1_000_000L).toList();
        assertEquals(List.of(20L, 30L, 45L, 50L, 50L), ms.subList(0, 5));
        long elapsed = 0;
        for (long m : ms) {
            assertTrue(elapsed < 60_000 ? m <= 50 : m <= 250, m + " ms after " + elapsed + " ms");
            elapsed += m;
        }
        assertEquals(250L, ms.get(ms.size() - 2), "a long wait polls every 250 ms");
        assertEquals(90_000, clock.elapsedMillis(), "the last pause ends exactly at the deadline");
    }

    @Test
    void await_skipsARecordOfAFinishedJob_untilALiveProviderRegisters() {
        register("a", "41", 8001);
        clock.at(500, () -> register("a", "42", 8002));
        List<String> asked = new ArrayList<>();
        JobStatus jobs = id -> {
            asked.add(id);
            return id.equals("41") ? JobStatus.State.FINISHED : JobStatus.State.ACTIVE;
        };
        ClientWait.Result r = new ClientWait(store(), clock, jobs, null, NO_JITTER).await(List.of(required("a", 5000)));
        assertTrue(r.complete());
        assertEquals("42", r.resolved().get(0).jobId());
        assertTrue(clock.elapsedMillis() >= 500);
    }

    @Test
    void await_neverHandsOutAFinishedJobsRecord_andSaysWhy() {
        register("a", "41", 8001);
        ClientWait.Result r = new ClientWait(store(), clock, id -> JobStatus.State.FINISHED, null, NO_JITTER)
                .await(List.of(required("a", 1000)));
        assertTrue(r.resolved().isEmpty());
        assertTrue(r.missing().values().iterator().next().contains("job 41, which Slurm reports finished"));
    }

    @Test
    void await_withVerify_waitsUntilTheEndpointAnswers() {
        register("a", "11", 8001);
        ClientWait.Verifier verifier = (rec, timeout) -> clock.elapsedMillis() < 400 ? "connection refused" : null;
        ClientWait.Result r = new ClientWait(store(), clock, JobStatus.TTL_ONLY, verifier, NO_JITTER)
                .await(List.of(required("a", 5000)));
        assertTrue(r.complete());
        assertTrue(clock.elapsedMillis() >= 400 && clock.elapsedMillis() <= 450, "" + clock.elapsedMillis());
    }

    @Test
    void await_verifyThatNeverPasses_missesWithTheReason() {
        register("a", "11", 8001);
        ClientWait.Result r = new ClientWait(
                        store(), clock, JobStatus.TTL_ONLY, (rec, t) -> "connection refused", NO_JITTER)
                .await(List.of(required("a", 300)));
        assertTrue(r.missing().values().iterator().next().contains("does not answer yet (connection refused)"));
    }

    @Test
    void await_optionalNameMissing_isStillComplete() {
        register("a", "11", 8001);
        ClientWait.Result r = new ClientWait(store(), clock, JobStatus.TTL_ONLY, null, NO_JITTER)
                .await(List.of(required("a", 1000), new ClientWait.Request("opt", false, Duration.ofMillis(500))));
        assertTrue(r.complete());
        assertEquals(500, clock.elapsedMillis(), "the optional name's own deadline ends the wait");
        assertEquals(List.of("a"), r.resolved().stream().map(Record::name).toList());
    }

    @Test
    void await_expiredRecord_isNotResolved() {
        register("a", "11", 8001);
        clock.advance(Duration.ofNanos(121_000_000_000L));
        ClientWait.Result r =
                new ClientWait(store(), clock, JobStatus.TTL_ONLY, null, NO_JITTER).await(List.of(required("a", 200)));
        assertFalse(r.complete());
    }
}
