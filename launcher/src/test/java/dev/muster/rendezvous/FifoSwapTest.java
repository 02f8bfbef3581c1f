package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.muster.core.Caller;
import dev.muster.core.Clock;
import dev.muster.core.FifoSwapper;
import dev.muster.core.MusterException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader that hung: {@code latest.json} swapped with a FIFO between the type check and the open blocked
 * {@code resolve} in open(2) for good. In-process on the running Java (22+: O_NONBLOCK through FFM);
 * {@code FifoSwapIT} runs the same loop on the packaged jar, on this Java and on a JDK 17 (the bounded open).
 */
class FifoSwapTest {
    @TempDir
    Path tmp;

    @Test
    void resolve_latestSwappedWithFifo_neverBlocksPastItsTimeout() throws Exception {
        Map<String, Integer> seen = swapLoop(tmp, 200, 3_000);
        assertTrue(seen.getOrDefault("fifo", 0) > 0, "the swapper never got a FIFO in front of a resolve: " + seen);
        assertTrue(seen.getOrDefault("found", 0) > 0, "no resolve found the record between swaps: " + seen);
    }

    /**
     * {@code count} resolves of a name whose latest.json a separate process keeps swapping with a FIFO; fails when
     * one takes longer than {@code timeoutMillis}. Returns how often each outcome came up.
     */
    public static Map<String, Integer> swapLoop(Path cache, int count, long timeoutMillis) throws Exception {
        Store store = new Store(new CacheDir(cache.toString(), Caller.self()), Clock.SYSTEM);
        Store.Registration reg = store.register("svc", "1", null, "node1", 8000, "http", null, 3600, Map.of());
        Path latest = store.nameDir("svc").resolve(Store.LATEST);
        byte[] good = reg.record().toJson().getBytes(StandardCharsets.UTF_8);
        Map<String, Integer> seen = new java.util.TreeMap<>();
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "resolve");
            t.setDaemon(true); // a hung resolve must not keep the test JVM alive
            return t;
        });
        try (FifoSwapper swapper = FifoSwapper.start(latest, good)) {
            for (int i = 0; i < count; i++) {
                Future<String> call = pool.submit(() -> {
                    try {
                        return store.resolve("svc").isPresent() ? "found" : "absent";
                    } catch (MusterException e) {
                        return e.getMessage().contains("FIFO") ? "fifo" : "refused: " + e.getMessage();
                    }
                });
                try {
                    seen.merge(call.get(timeoutMillis, TimeUnit.MILLISECONDS), 1, Integer::sum);
                } catch (TimeoutException e) {
                    fail("resolve " + (i + 1) + " of " + count + " blocked for more than " + timeoutMillis
                            + " ms; outcomes so far " + seen);
                }
                assertTrue(swapper.alive(), "the swapper process died");
            }
        } finally {
            pool.shutdownNow();
        }
        Files.deleteIfExists(latest);
        return seen;
    }
}
