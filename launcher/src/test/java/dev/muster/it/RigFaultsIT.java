package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Fields;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Network faults between the rig's nodes (docs/test-cluster.md): a firewall in one node's namespace, and rank 0's
 * node lost in the middle of the wait. The sync directory is on the rig's caching mount. These tests change the
 * network of a node of the shared test cluster for a few seconds and always undo it.
 */
class RigFaultsIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    private static final Jdk JDK = Jdk.J25;
    private static final String NFT_TABLE = "muster_rig_faults_it";

    private List<String> nodes;
    private Path sync;

    @BeforeEach
    void rig() throws IOException {
        if (!Cluster.rig()) {
            Slurm.unavailable("the Slurm cluster is not the rig (scripts/local-slurm with LOCAL_SLURM_RIG=1)");
        }
        Run.Result r = cluster.run(Duration.ofSeconds(15), Map.of(), List.of("sinfo", "-h", "-N", "-o", "%N"));
        nodes = Arrays.stream(r.out().split("\\s+"))
                .filter(s -> !s.isEmpty())
                .distinct()
                .sorted()
                .collect(Collectors.toList());
        assertTrue(nodes.size() >= 3, "three nodes at least\n" + r.describe());
        String shared = System.getenv("LOCAL_SLURM_SHARED");
        assertTrue(shared != null && !shared.isEmpty(), "LOCAL_SLURM_SHARED is set (eval start.sh's exports)");
        sync = cluster.extraDir(Path.of(shared), "rig-faults-it-", "rwx------");
    }

    /** Runs {@code cmd} in node {@code node}'s network namespace, from the root namespace. */
    private Run.Result inNode(String node, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", "ls-" + node));
        c.addAll(List.of(cmd));
        return cluster.run(Duration.ofSeconds(15), Map.of(), c);
    }

    private Path task(String special, String options) throws IOException {
        Path d = cluster.dir();
        return cluster.script(
                "task.sh",
                ""
                        + "r=$SLURM_PROCID\n"
                        + special + "\n"
                        + "echo $$ > " + d + "/pid.$r\n"
                        + "t0=$(date +%s%N)\n"
                        + Cluster.musterShell(JDK) + " run --sync-dir " + sync + " " + options + " -- true\n"
                        + "rc=$?\n"
                        + "echo \"end rank=$r rc=$rc t0=$t0 ns=$(date +%s%N)\" >> " + d + "/ends\n"
                        + "exit $rc");
    }

    private Map<Integer, Map<String, String>> ends() {
        Map<Integer, Map<String, String>> m = new TreeMap<>();
        for (Map<String, String> e : Fields.records(Run.read(cluster.dir().resolve("ends")), "end ")) {
            m.put(Integer.parseInt(e.get("rank")), e);
        }
        return m;
    }

    private String err(int rank) {
        return Run.read(cluster.dir().resolve("err." + rank));
    }

    private String diagnosis(int tasks) {
        StringBuilder b = new StringBuilder("--- ends ---\n")
                .append(Run.read(cluster.dir().resolve("ends")));
        for (int r = 0; r < tasks; r++) {
            b.append("--- err.").append(r).append(" ---\n").append(err(r));
        }
        return b.toString();
    }

    private static long millis(Map<String, String> end, String from, String to) {
        return (Long.parseLong(end.get(to)) - Long.parseLong(end.get(from))) / 1_000_000L;
    }

    @Test
    @Timeout(90)
    void firewallDropsTrafficToRankZero_theBarrierCompletesByFilesAndSaysWhyOnce() throws Exception {
        String a = nodes.get(0);
        String b = nodes.get(1);
        // in b's namespace: drop every TCP packet to a's addresses on ephemeral ports, where rank 0 listens
        // (Slurm's own ports are below them); nothing comes back, so a connect can only time out
        for (String rule : List.of(
                "add table inet " + NFT_TABLE,
                "add chain inet " + NFT_TABLE + " out { type filter hook output priority 0 ; policy accept ; }",
                "add rule inet " + NFT_TABLE + " out ip daddr { " + address(a, 1) + ", " + address(a, 2)
                        + " } tcp dport 32768-65535 drop")) {
            Run.Result fw = inNode(b, "nft", rule);
            assertEquals(0, fw.exit(), "nft " + rule + " in " + b + "'s namespace\n" + fw.describe());
        }
        try {
            // rank 1 (on a) comes 2 s late, so that ranks 2-3 read rank 0's endpoint and try to connect while the
            // barrier is still open; the release then comes by files
            Path task = task("if [ $r = 1 ]; then sleep 2; fi", "--timeout 40");
            Run.Result r = cluster.srun(
                    Duration.ofSeconds(70),
                    Cluster.env(JDK),
                    "--kill-on-bad-exit=0",
                    "--error",
                    cluster.dir().resolve("err.%t").toString(),
                    "-N",
                    "2",
                    "--ntasks-per-node=2",
                    "-w",
                    a + "," + b,
                    task.toString());
            assertEquals(0, r.exit(), r.describe() + diagnosis(4));
            Map<Integer, Map<String, String>> ends = ends();
            for (int rank = 0; rank < 4; rank++) {
                Map<String, String> e = ends.get(rank);
                assertEquals("0", e.get("rc"), "rank " + rank + "\n" + diagnosis(4));
                long took = millis(e, "t0", "ns");
                // bounded: a connect attempt times out (5 s), then the file protocol on a 3 s cache
                assertTrue(took < 20_000, "rank " + rank + " took " + took + " ms\n" + diagnosis(4));
                long warnings = err(rank)
                        .lines()
                        .filter(l -> l.contains("cannot reach rank 0"))
                        .count();
                assertEquals(
                        rank >= 2 ? 1 : 0,
                        warnings,
                        "rank " + rank + " says why once (ranks 2-3 are behind " + "the firewall)\n" + diagnosis(4));
                for (String line : err(rank).lines().collect(Collectors.toList())) {
                    assertTrue(line.startsWith("muster[" + rank + "]"), "rank " + rank + " stderr line: " + line);
                }
            }
        } finally {
            inNode(b, "nft", "delete table inet " + NFT_TABLE);
        }
    }

    /**
     * In the small waiter's case this is the waiter whose rank 0 vanishes without closing the connection: it
     * gives up at its own deadline, as the JVM does.
     */
    @ParameterizedTest
    @EnumSource(Waiters.class)
    @Timeout(90)
    void rankZerosNodeLostAfterTheOthersConnected_everyOtherTaskExits75AtItsDeadlineNamingIt(Waiters w)
            throws Exception {
        w.require();
        String a = nodes.get(0);
        Path d = cluster.dir();
        String connected = Waiters.CONNECTED;
        // rank 5 never arrives, so the barrier cannot complete; rank 0's node is then cut off and frozen
        Path task = task("if [ $r = 5 ]; then sleep 120; exit 0; fi", "--timeout 12 --verbose " + w.option);
        Process srun = cluster.start(
                Cluster.env(JDK),
                List.of(
                        "srun",
                        "--job-name",
                        cluster.jobName(),
                        "--kill-on-bad-exit=0",
                        "--error",
                        d.resolve("err.%t").toString(),
                        "-N",
                        "3",
                        "--ntasks-per-node=2",
                        "-w",
                        a + "," + nodes.get(1) + "," + nodes.get(2),
                        task.toString()),
                "srun");
        try {
            Awaitility.await()
                    .atMost(Duration.ofSeconds(40))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() ->
                            List.of(2, 3, 4).stream().allMatch(rank -> err(rank).contains(connected)));
            for (int rank : new int[] {0, 1}) {
                String pid = Run.read(d.resolve("pid." + rank)).trim();
                cluster.run(Duration.ofSeconds(10), Map.of(), List.of("pkill", "-STOP", "-P", pid));
                cluster.run(Duration.ofSeconds(10), Map.of(), List.of("kill", "-STOP", pid));
            }
            assertEquals(0, inNode(a, "ip", "link", "set", "eth0", "down").exit());
            assertEquals(0, inNode(a, "ip", "link", "set", "fab0", "down").exit());

            Awaitility.await()
                    .atMost(Duration.ofSeconds(40))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> List.of(2, 3, 4).stream().allMatch(rank -> ends().containsKey(rank)));
            Map<Integer, Map<String, String>> ends = ends();
            for (int rank : new int[] {2, 3, 4}) {
                Map<String, String> e = ends.get(rank);
                assertEquals("75", e.get("rc"), "rank " + rank + "\n" + diagnosis(6));
                long took = millis(e, "t0", "ns");
                assertTrue(
                        took >= 11_000 && took <= 16_000,
                        "rank " + rank + " gave up " + took + " ms after it started, --timeout 12 s\n" + diagnosis(6));
                String unresponsive = err(rank)
                        .lines()
                        .filter(l -> l.contains("unresponsive"))
                        .collect(Collectors.joining("\n"));
                assertTrue(
                        unresponsive.contains("rank 0") && unresponsive.contains(a),
                        "rank " + rank + " names rank 0 and its node " + a + " as unresponsive\n" + diagnosis(6));
                assertTrue(w.tookIt(err(rank)), "rank " + rank + " waited as " + w + "\n" + diagnosis(6));
            }
        } finally {
            inNode(a, "ip", "link", "set", "eth0", "up");
            inNode(a, "ip", "link", "set", "fab0", "up");
            for (int rank : new int[] {0, 1}) {
                String pid = Run.read(d.resolve("pid." + rank)).trim();
                if (!pid.isEmpty()) {
                    cluster.run(Duration.ofSeconds(10), Map.of(), List.of("kill", "-CONT", pid));
                }
            }
            srun.destroy();
        }
    }

    /** Node {@code node}'s address on subnet {@code subnet} (1 management, 2 fabric), from its own namespace. */
    private String address(String node, int subnet) {
        Run.Result r = inNode(node, "ip", "-4", "-o", "addr", "show", "dev", subnet == 1 ? "eth0" : "fab0");
        String[] f = r.out().trim().split("\\s+");
        assertTrue(f.length >= 4, r.describe());
        return f[3].substring(0, f[3].indexOf('/'));
    }
}
