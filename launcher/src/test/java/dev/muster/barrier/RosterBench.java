package dev.muster.barrier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (run by scripts/bench-roster, skipped unless {@code -Dmuster.bench=1}): one TCP barrier of
 * 8, 64, 1,024 and 4,096 in-process participants, without a roster and with one (every rank a card with a port and
 * two values, 16 ranks per node name), interleaved. Per size: rank 0's bytes sent with the release and the release latency (last arrival
 * to every participant released, roster in hand), median of the runs, and the ratio roster / plain.
 */
class RosterBench {
    @Test
    void bytesAndLatency_withAndWithoutRoster() throws IOException {
        Assumptions.assumeTrue("1".equals(System.getProperty("muster.bench")), "a benchmark: -Dmuster.bench=1");
        String sizes = System.getProperty("muster.bench.sizes", "8 64 1024 4096");
        Path out = Path.of("target", "bench-roster.txt");
        Files.deleteIfExists(out);
        for (String s : sizes.trim().split("\\s+")) {
            int n = Integer.parseInt(s);
            int reps = n >= 4096 ? 1 : n >= 1024 ? 3 : 5;
            long[] plainMs = new long[reps];
            long[] rosterMs = new long[reps];
            long plainBytes = 0;
            long rosterBytes = 0;
            long rosterSize = 0;
            String via = "";
            for (int i = 0; i < reps; i++) {
                long[] p = once(n, false, "p" + n + "-" + i);
                long[] r = once(n, true, "r" + n + "-" + i);
                plainMs[i] = p[0];
                rosterMs[i] = r[0];
                plainBytes = p[1];
                rosterBytes = r[1];
                rosterSize = r[2];
                via = r[3] == 1 ? "tcp" : r[3] == 2 ? RosterRelay.NODE : "file";
            }
            double pm = median(plainMs) / 1e6;
            double rm = median(rosterMs) / 1e6;
            String line = String.format(
                    Locale.ROOT,
                    "n=%d reps=%d roster_bytes=%d roster_via=%s | plain: release_ms=%.1f "
                            + "rank0_sent=%d | roster: release_ms=%.1f rank0_sent=%d | ratio latency=%.2f bytes=%.2f%n",
                    n,
                    reps,
                    rosterSize,
                    via,
                    pm,
                    plainBytes,
                    rm,
                    rosterBytes,
                    rm / pm,
                    (double) rosterBytes / Math.max(1, plainBytes));
            System.out.print("bench-roster " + line);
            Files.writeString(out, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /** One barrier: {latency ns, rank 0 bytes sent, roster bytes, 1 streamed to all, 2 per node, 0 by file}. */
    private static long[] once(int n, boolean roster, String key) throws IOException {
        Path root = Files.createTempDirectory("bench-roster");
        Ranks r = new Ranks(root, key, n, Transport.Mode.TCP, Duration.ofSeconds(100), Duration.ofMillis(100));
        if (roster) {
            r.cards = RosterTest::card;
        }
        Map<String, String> data = roster
                ? Map.of(Release.MASTER_ADDR, "10.0.0.1", Roster.WANTED, "1")
                : Map.of(Release.MASTER_ADDR, "10.0.0.1");
        try {
            List<CompletableFuture<Ranks.Result>> fs = new ArrayList<>();
            for (int i = 0; i < n - 1; i++) {
                fs.add(r.start(i, data));
            }
            await().atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> r.connected() == n - 2);
            fs.add(r.start(n - 1, data));
            long lastArrival = 0;
            long lastDone = 0;
            for (CompletableFuture<Ranks.Result> f : fs) {
                Ranks.Result res = f.join();
                assertEquals(0, res.code(), () -> "rank " + res.rank() + ": " + res.failure());
                lastArrival = Math.max(lastArrival, res.arrivedNanos());
                lastDone = Math.max(lastDone, res.doneNanos());
            }
            Ranks.Result zero = fs.get(0).join();
            long size = zero.roster() == null ? 0 : zero.roster().length;
            String via = zero.outcome().data().get(Roster.VIA);
            long code = "tcp".equals(via) ? 1 : RosterRelay.NODE.equals(via) ? 2 : 0;
            return new long[] {lastDone - lastArrival, r.sentBytes(), size, code};
        } finally {
            r.close();
            Sweep.deleteTree(root);
        }
    }

    private static long median(long[] v) {
        long[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
