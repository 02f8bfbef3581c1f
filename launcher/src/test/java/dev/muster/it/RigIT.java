package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The test cluster's rig is real (scripts/local-slurm, LOCAL_SLURM_RIG=1): every node sees the shared directory
 * through its own caching mount, has its own addresses, and node-to-node TCP crosses the nodes' veth pairs. Under
 * {@code MUSTER_REQUIRE_SLURM=1} a flat cluster is a failure here, as a missing Slurm is.
 */
class RigIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    private static final Pattern RIG =
            Pattern.compile("^# rig=1 prefix=(\\S+) net=(\\S+) cache_s=(\\d+) shared=(\\S+)", Pattern.MULTILINE);

    private int cacheSeconds;
    private Path shared;
    private List<String> nodes;

    @BeforeEach
    void rig() throws IOException {
        Path conf = Path.of(System.getenv().getOrDefault("SLURM_CONF", "/etc/slurm/slurm.conf"));
        Matcher m = RIG.matcher(Files.exists(conf) ? Files.readString(conf) : "");
        if (!m.find()) {
            Slurm.unavailable("the Slurm cluster at " + conf + " is not the rig (start it with LOCAL_SLURM_RIG=1)");
        }
        cacheSeconds = Integer.parseInt(m.group(3));
        shared = Path.of(m.group(4));
        Run.Result r = cluster.run(Duration.ofSeconds(15), Map.of(), List.of("sinfo", "-h", "-N", "-o", "%N"));
        nodes = Arrays.stream(r.out().split("\\s+"))
                .filter(s -> !s.isEmpty())
                .distinct()
                .sorted()
                .collect(Collectors.toList());
        assertTrue(nodes.size() >= 2, "two nodes at least\n" + r.describe());
    }

    /** Two tasks on the first two nodes; the step's output, stdout lines prefixed by task with -l. */
    private Run.Result onTwoNodes(Duration timeout, Path script) {
        return cluster.srun(
                timeout,
                Map.of(),
                "-N",
                "2",
                "-n",
                "2",
                "--ntasks-per-node=1",
                "-l",
                "-w",
                nodes.get(0) + "," + nodes.get(1),
                script.toString());
    }

    private static Map<String, String> fields(String out) {
        Map<String, String> f = new HashMap<>();
        for (String line : out.split("\n")) {
            String l = line.replaceFirst("^\\s*\\d+: ", "");
            int eq = l.indexOf('=');
            if (eq > 0) {
                f.put(l.substring(0, eq), l.substring(eq + 1).trim());
            }
        }
        return f;
    }

    @Test
    @Timeout(60)
    void aFileCreatedOnOneNodeStaysInvisibleOnAnotherUntilItsCacheTimesOut() throws Exception {
        assertTrue(cacheSeconds >= 2, "this test needs LOCAL_SLURM_CACHE_S >= 2, the rig has " + cacheSeconds);
        // the shared directory is on a FUSE mount in every node; the handshake between the two tasks goes
        // through this test's directory in /tmp, which every node sees directly
        Path top = cluster.extraDir(shared, "rig-it-", "rwx------");
        Path d = cluster.dir();
        Path script = cluster.script(
                "cache.sh",
                ""
                        + "now() { date +%s%N; }\n"
                        + "f=" + top + "/made-on-node0\n"
                        + "echo fs=$(stat -f -c %T " + top + ")\n"
                        + "if [ \"$SLURM_PROCID\" = 1 ]; then\n"
                        + "  test -e $f && { echo early=1; exit 3; }\n" // the lookup that the node's cache keeps
                        + "  touch " + d + "/looked\n"
                        + "  while ! test -e $f; do sleep 0.05; done; echo seen=$(now)\n"
                        + "else\n"
                        + "  while ! test -e " + d + "/looked; do sleep 0.02; done\n"
                        + "  touch $f; echo made=$(now)\n"
                        + "  test -e $f && echo here=$(now)\n"
                        + "fi\n");
        Run.Result r = onTwoNodes(Duration.ofSeconds(45), script);
        assertEquals(0, r.exit(), r.describe());
        Map<String, String> f = fields(r.out());
        // stat(1) names FUSE's magic number "fuseblk" whatever the mount's type string says
        assertTrue(
                String.valueOf(f.get("fs")).startsWith("fuse"),
                "the shared directory is a FUSE mount on the " + "nodes\n" + r.describe());
        long made = Long.parseLong(f.get("made"));
        long here = Long.parseLong(f.get("here"));
        long seen = Long.parseLong(f.get("seen"));
        assertTrue(here - made < 500_000_000L, "the creating node sees its file at once\n" + r.describe());
        // the negative entry cached at the lookup lives cacheSeconds from then; the file was made after it
        long hiddenMs = (seen - made) / 1_000_000L;
        assertTrue(
                hiddenMs >= (cacheSeconds - 1) * 1000L && hiddenMs <= (cacheSeconds + 3) * 1000L,
                "the other node sees the file only when its cache times out (" + cacheSeconds + " s): after " + hiddenMs
                        + " ms\n" + r.describe());
    }

    @Test
    @Timeout(60)
    void nodesHaveTheirOwnAddressesAndTcpBetweenThemCrossesTheirVethPairs() throws Exception {
        Path d = cluster.dir();
        int mb = 4;
        // task 0 listens on its node; task 1 resolves task 0's node name and sends it mb MiB
        Path script = cluster.script(
                "tcp.sh",
                ""
                        + "addr=$(ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)\n"
                        + "echo addr=$addr\n"
                        + "echo hostname=$(hostname)\n"
                        + "if [ \"$SLURM_PROCID\" = 0 ]; then\n"
                        + "  exec python3 -c '\n"
                        + "import socket, sys\n"
                        + "s = socket.socket(); s.bind((\"0.0.0.0\", 0)); s.listen(1)\n"
                        + "open(sys.argv[1] + \".tmp\", \"w\").write(str(s.getsockname()[1])); "
                        + "import os; os.rename(sys.argv[1] + \".tmp\", sys.argv[1])\n"
                        + "c, peer = s.accept(); n = 0\n"
                        + "while True:\n"
                        + "    b = c.recv(65536)\n"
                        + "    if not b: break\n"
                        + "    n += len(b)\n"
                        + "print(\"peer=\" + peer[0]); print(\"received=%d\" % n)\n"
                        + "' " + d + "/port\n"
                        + "else\n"
                        + "  while ! test -e " + d + "/port; do sleep 0.02; done\n"
                        + "  echo resolved=$(getent hosts " + nodes.get(0) + " | awk '{print $1}')\n"
                        + "  exec python3 -c '\n"
                        + "import socket, sys\n"
                        + "c = socket.create_connection((sys.argv[1], int(open(sys.argv[2]).read())))\n"
                        + "c.sendall(b\"x\" * (" + mb + " << 20)); c.close()\n"
                        + "' " + nodes.get(0) + " " + d + "/port\n"
                        + "fi\n");
        long[] before = {veth(nodes.get(0), "rx"), veth(nodes.get(1), "tx")};
        Run.Result r = onTwoNodes(Duration.ofSeconds(45), script);
        long[] after = {veth(nodes.get(0), "rx"), veth(nodes.get(1), "tx")};
        assertEquals(0, r.exit(), r.describe());

        Map<String, String> zero = fields(lines(r.out(), "0: "));
        Map<String, String> one = fields(lines(r.out(), "1: "));
        assertEquals(nodes.get(0), zero.get("hostname"), "a node's hostname is its node name\n" + r.describe());
        assertNotEquals(zero.get("addr"), one.get("addr"), "each node has its own address\n" + r.describe());
        assertEquals(
                zero.get("addr"),
                one.get("resolved"),
                "node names resolve to their management address on " + "every node\n" + r.describe());
        assertEquals(one.get("addr"), zero.get("peer"), "the listener sees the other node's address\n" + r.describe());
        assertEquals(Long.toString((long) mb << 20), zero.get("received"), r.describe());
        // the veth ends in the root namespace counted the bytes: into node 0, out of node 1
        long bytes = (long) mb << 20;
        assertTrue(
                after[0] - before[0] >= bytes,
                "node 0's veth carried the data towards it: " + (after[0] - before[0]) + " bytes\n" + r.describe());
        assertTrue(
                after[1] - before[1] >= bytes,
                "node 1's veth carried the data from it: " + (after[1] - before[1]) + " bytes\n" + r.describe());
    }

    @Test
    @Timeout(60)
    void doctorOnTwoNodes_reportsTheCachingMountAndBothVisibilityTimes() throws Exception {
        Path top = cluster.extraDir(shared, "rig-it-doctor-", "rwx------");
        Run.Result r = cluster.srun(
                Duration.ofSeconds(50),
                Cluster.env(Cluster.Jdk.J25),
                "-N",
                "2",
                "-n",
                "2",
                "--ntasks-per-node=1",
                "-w",
                nodes.get(0) + "," + nodes.get(1),
                "--output",
                cluster.dir().resolve("out.%t").toString(),
                "--error",
                cluster.dir().resolve("err.%t").toString(),
                Cluster.musterShell(Cluster.Jdk.J25),
                "doctor",
                "--sync-dir",
                top.toString(),
                "--timeout",
                "20s");
        String out = Run.read(cluster.dir().resolve("out.0"));
        String err = Run.read(cluster.dir().resolve("err.0"));
        assertEquals(0, r.exit(), r.describe() + out + err);
        assertTrue(out.contains("sync_dir.fuse caching=possible"), out);
        assertTrue(out.contains("sync_dir.polls statx-sync-held"), "Java 22+ forces the attributes\n" + out);
        assertTrue(err.contains("is a FUSE mount"), err);
        Matcher w = Pattern.compile("visibility\\.write_ms ([0-9.]+)").matcher(out);
        Matcher f = Pattern.compile("visibility\\.forced_write_ms ([0-9.]+)").matcher(out);
        assertTrue(w.find() && f.find(), out);
        double plain = Double.parseDouble(w.group(1));
        double forced = Double.parseDouble(f.group(1));
        // open()+read() waits for the node's attribute cache; a forced poll does not
        assertTrue(
                plain >= cacheSeconds * 1000 / 4.0,
                "a write shows by open()+read() only when the cache expires: " + plain + " ms\n" + out);
        assertTrue(forced < plain / 2, "a forced poll sees it sooner: " + forced + " ms vs " + plain + " ms\n" + out);
    }

    private static String lines(String out, String prefix) {
        return Arrays.stream(out.split("\n"))
                .map(String::strip)
                .filter(l -> l.startsWith(prefix.strip()))
                .collect(Collectors.joining("\n"));
    }

    /**
     * Byte counter of a node's management veth, read at its end in the root namespace, from the node's side:
     * "rx" = bytes the node received (the root end transmitted them), "tx" = bytes the node sent.
     */
    private static long veth(String node, String nodeSide) throws IOException {
        String rootSide = nodeSide.equals("rx") ? "tx" : "rx";
        Path p = Path.of("/sys/class/net/ls-" + node + "-m/statistics/" + rootSide + "_bytes");
        if (!Files.exists(p)) {
            fail("no veth " + p.getParent().getParent() + " in the root namespace: not the rig");
        }
        return Long.parseLong(Files.readString(p).trim());
    }
}
