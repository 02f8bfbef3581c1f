package dev.muster.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;
import org.awaitility.core.ThrowingRunnable;

/**
 * Waiting for a condition instead of sleeping, with the polling the tests share: Awaitility, polled every 10 ms
 * (the conditions are cheap file and stream reads), with the condition's name in the failure.
 */
public final class Await {
    private static final Duration POLL = Duration.ofMillis(10);

    private Await() {}

    /** Returns once {@code condition} holds; fails the test after {@code atMost}. */
    public static void until(String what, Duration atMost, Callable<Boolean> condition) {
        Awaitility.await(what).pollInterval(POLL).atMost(atMost).until(condition);
    }

    /** Returns once {@code assertion} passes; fails with its last failure after {@code atMost}. */
    public static void untilAsserted(String what, Duration atMost, ThrowingRunnable assertion) {
        Awaitility.await(what).pollInterval(POLL).atMost(atMost).untilAsserted(assertion);
    }
}
