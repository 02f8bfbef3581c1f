package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.Clock;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.task.JobStatus;
import dev.muster.testing.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a waiting client says and when, what it checks first, the verifier's time budget, and an interrupt. */
class ClientWaitProgressTest {
    @TempDir
    Path tmp;

    private final ManualClock clock = new ManualClock();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

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

    private Store store(Clock c) {
        return new Store(new CacheDir(tmp.toString(), Caller.self()), c);
    }

    private static ClientWait.Request req(String name, boolean required, long timeoutMillis) {
        return new ClientWait.Request(name, required, Duration.ofMillis(timeoutMillis));
    }

    @Test
    void waiting_isAnnouncedOnce_thenEveryTenSecondsWithTheTimeWaited() {
        AtomicInteger warmUps = new AtomicInteger();
        JobStatus jobs = new JobStatus() {
            @Override
            public State state(String jobId) {
                return State.UNKNOWN;
            }

            @Override
            public void warmUp() {
                warmUps.incrementAndGet();
            }
        };
        ClientWait.Result r = new ClientWait(store(clock), clock, jobs, null, new Random(1))
                .await(List.of(req("a", true, 25_000), req("b", false, 25_000)));
        assertEquals(2, r.missing().size());
        assertTrue(log().contains("waiting for rendezvous a, b (optional) under " + tmp.resolve("rendezvous")), log());
        assertTrue(log().contains("still waiting for rendezvous a, b (optional) (10s)"), log());
        assertTrue(log().contains("still waiting for rendezvous a, b (optional) (20s)"), log());
        assertEquals(2, log().split("still waiting", -1).length - 1, log());
        assertEquals(1, warmUps.get(), "Slurm is warmed up once, when waiting starts");
    }

    @Test
    void resolvedAtOnce_saysNothingAtInfo_andWarmsNothingUp() {
        store(clock).register("a", "11", null, "n1", 8001, "http", "/", 120, Map.of());
        AtomicInteger warmUps = new AtomicInteger();
        JobStatus jobs = new JobStatus() {
            @Override
            public State state(String jobId) {
                return State.ACTIVE;
            }

            @Override
            public void warmUp() {
                warmUps.incrementAndGet();
            }
        };
        assertTrue(new ClientWait(store(clock), clock, jobs, null, new Random(1))
                .await(List.of(req("a", true, 5000)))
                .complete());
        assertEquals(0, warmUps.get());
        assertTrue(log().contains("rendezvous a resolved: http://n1:8001/ (job 11)"), log());
        assertTrue(clock.sleeps().isEmpty());
    }

    @Test
    void namesSharingAnEnvironmentToken_areRefusedBeforeAnyWait() {
        MusterException e = assertThrows(
                MusterException.class,
                () -> new ClientWait(store(clock), clock, JobStatus.TTL_ONLY, null, new Random(1))
                        .await(List.of(req("a-b", true, 5000), req("a.b", true, 5000))));
        assertEquals(ExitCodes.USAGE, e.status());
        assertTrue(clock.sleeps().isEmpty());
    }

    @Test
    void verifier_getsWhatIsLeftOfTheDeadline_betweenFiftyMillisecondsAndASecond() {
        store(clock).register("a", "11", null, "n1", 8001, "http", "/", 120, Map.of());
        List<Duration> budgets = new ArrayList<>();
        ClientWait.Verifier never = (rec, timeout) -> {
            budgets.add(timeout);
            return "refused";
        };
        ClientWait.Result r = new ClientWait(store(clock), clock, JobStatus.TTL_ONLY, never, new Random(1))
                .await(List.of(req("a", true, 1300)));
        assertEquals(
                "the endpoint does not answer yet (refused)",
                r.missing().values().iterator().next());
        assertEquals(Duration.ofSeconds(1), budgets.get(0));
        assertTrue(budgets.get(budgets.size() - 2).compareTo(Duration.ofMillis(300)) < 0, budgets.toString());
        assertEquals(Duration.ofMillis(50), budgets.get(budgets.size() - 1), "at the deadline: the floor");
    }

    @Test
    void interruptedWhileWaiting_is130_andTheInterruptIsKept() {
        Clock interrupting = clock.interruptingSleep();
        try {
            MusterException e = assertThrows(
                    MusterException.class,
                    () -> new ClientWait(store(interrupting), interrupting, JobStatus.TTL_ONLY, null, new Random(1))
                            .await(List.of(req("a", true, 5000))));
            assertEquals(130, e.status());
            assertTrue(e.getMessage().contains("interrupted while waiting for rendezvous a"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }
}
