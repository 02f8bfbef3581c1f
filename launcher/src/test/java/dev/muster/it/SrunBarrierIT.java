package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.testing.Fields;
import dev.muster.testing.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The step barrier under a real {@code srun} on the local 4-node Slurm: nobody starts before the last arrival, and
 * the directory of the released step is removed.
 */
class SrunBarrierIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    @Test
    @Timeout(60)
    void srun_withOneRankTwoSecondsLate_startsAllSixteenAfterItsArrival() throws Exception {
        Path trace = cluster.dir().resolve("trace");
        Path probe = cluster.script("probe.sh", "echo \"start rank=$MUSTER_RANK ns=$(date +%s%N)\"");
        // rank 5 reaches muster 2 s after the others: nobody may start before it has arrived
        Path task = cluster.script(
                "task.sh",
                "if [ \"$SLURM_PROCID\" = 5 ]; then sleep 2; fi\n"
                        + "exec " + Cluster.musterShell(Cluster.Jdk.J25) + " run --timeout 40 --sync-dir "
                        + cluster.sync()
                        + " --trace " + trace + " -- " + probe);

        Run.Result r = cluster.srun(
                Duration.ofSeconds(50),
                Cluster.env(Cluster.Jdk.J25),
                "-N",
                "4",
                "--ntasks-per-node=4",
                "--overcommit",
                task.toString());

        assertEquals(0, r.exit(), r.describe());
        Map<Integer, Long> startNs = new TreeMap<>();
        for (Map<String, String> s : Fields.records(r.out(), "start ")) {
            startNs.put(Integer.parseInt(s.get("rank")), Long.parseLong(s.get("ns")));
        }
        assertEquals(
                IntStream.range(0, 16).boxed().collect(Collectors.toList()),
                List.copyOf(startNs.keySet()),
                "every one of the 16 programs starts\n" + r.describe());

        Map<Integer, Map<String, String>> traced = new TreeMap<>();
        for (Map<String, String> t : Fields.records(Run.read(trace), "rank=")) {
            traced.put(Integer.parseInt(t.get("rank")), t);
        }
        assertEquals(16, traced.size(), "one trace line per task:\n" + Run.read(trace));
        long lateArrivalUs = Long.parseLong(traced.get(5).get("arrive_us"));
        long lastArrivalUs = traced.values().stream()
                .mapToLong(t -> Long.parseLong(t.get("arrive_us")))
                .max()
                .orElseThrow();
        long firstOtherArrivalUs = traced.entrySet().stream()
                .filter(e -> e.getKey() != 5)
                .mapToLong(e -> Long.parseLong(e.getValue().get("arrive_us")))
                .min()
                .orElseThrow();
        // the test means something only if rank 5 really was late
        assertTrue(
                lateArrivalUs - firstOtherArrivalUs >= 1_000_000L,
                "rank 5 arrived " + (lateArrivalUs - firstOtherArrivalUs) / 1000
                        + " ms after the first arrival, expected ~2 s late");
        for (Map.Entry<Integer, Long> s : startNs.entrySet()) {
            long startUs = s.getValue() / 1000;
            assertTrue(
                    startUs >= lateArrivalUs,
                    "rank " + s.getKey() + "'s program started " + (lateArrivalUs - startUs) / 1000.0
                            + " ms before rank 5 arrived");
            assertTrue(
                    startUs >= lastArrivalUs,
                    "rank " + s.getKey() + "'s program started " + (lastArrivalUs - startUs) / 1000.0
                            + " ms before the last arrival");
        }
        for (Map.Entry<Integer, Map<String, String>> t : traced.entrySet()) {
            long releaseUs = Long.parseLong(t.getValue().get("release_us"));
            assertTrue(
                    releaseUs >= lastArrivalUs,
                    "rank " + t.getKey() + " released " + (lastArrivalUs - releaseUs) / 1000.0
                            + " ms before the last arrival");
        }
        // the released step's directory is removed by rank 0's clean-up helper once every task has departed (its
        // polls back off to 1 s; 20 s is that many times over, for a loaded machine)
        Awaitility.await("the released step's directory removed")
                .atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> stepDirs(cluster.sync()).isEmpty());
        long lastStartUs =
                startNs.values().stream().mapToLong(ns -> ns / 1000).max().orElseThrow();
        System.out.printf(
                "SrunBarrierIT: last arrival -> last program start %.1f ms (16 tasks, 4 nodes)%n",
                (lastStartUs - lastArrivalUs) / 1000.0);
    }

    /** Step directories (those holding an arrival directory) anywhere under {@code sync}. */
    static List<Path> stepDirs(Path sync) throws IOException {
        try (Stream<Path> s = Files.walk(sync)) {
            return s.filter(p -> p.getFileName().toString().equals("arrival"))
                    .map(Path::getParent)
                    .collect(Collectors.toList());
        }
    }
}
