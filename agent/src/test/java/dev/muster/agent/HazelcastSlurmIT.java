package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real Hazelcast 5.5 cluster (Maven Central's jar, test scope) of 8 members on the 4 nodes of the local Slurm
 * rig, each node in its own network namespace. The member program ({@code apps/HazelcastMember}) calls
 * {@code Hazelcast.newHazelcastInstance()} with no configuration and no member list.
 *
 * <ul>
 * <li>Control, without the agent: Hazelcast's TCP-IP join (multicast off, as on networks that block it) and no
 *     member list. Each member finds at most the other member of its node, through the 127.0.0.1 of Hazelcast's
 *     default file; never one of another node. (Hazelcast's default multicast join is not the control: the rig's
 *     fabric bridge passes multicast, and what forms within a few seconds varies from run to run, see
 *     docs/roster.md#the-agent.)
 * <li>With {@code -javaagent:muster-agent.jar=cluster=hazelcast} and the same flags: every member reports a
 *     cluster of 8, at the address of its node's name (its card's, not the fabric address Hazelcast picks by
 *     itself) and the port muster chose for it: 8 distinct members, 2 per node.
 * </ul>
 *
 * The two steps run one after the other: a member under the agent also tries Hazelcast's default 127.0.0.1
 * (ports 5701-5703), where a member of the other step would listen (docs/roster.md#the-agent).
 */
class HazelcastSlurmIT {
    private static final Pattern LINE = Pattern.compile("(?m)^cluster of (\\d+) local ([0-9.]+):(\\d+)$");

    @BeforeAll
    static void slurm() throws Exception {
        LocalSlurm.require();
    }

    @Test
    void eightMembersOnFourNodes_formOneCluster_onlyUnderTheAgent() throws Exception {
        // without muster: the members of one node find each other through 127.0.0.1, and no one else
        Result alone = members(null, 10);
        assertEquals(0, alone.code, alone::toString);
        for (String[] m : lines(alone)) {
            assertTrue(Integer.parseInt(m[0]) <= 2, alone::toString);
        }

        // with the agent: one cluster of 8, at the nodes' own addresses, 2 members per node
        Result joined = members("cluster=hazelcast", 90);
        assertEquals(0, joined.code, joined::toString);
        Map<String, Integer> perHost = new TreeMap<>();
        List<String> members = new ArrayList<>();
        for (String[] m : lines(joined)) {
            assertEquals("8", m[0], joined::toString);
            perHost.merge(m[1], 1, Integer::sum);
            members.add(m[1] + ":" + m[2]);
        }
        assertEquals(8, members.stream().distinct().count(), joined::toString);
        Map<String, Integer> expected = new TreeMap<>();
        for (String n : List.of("n1", "n2", "n3", "n4")) {
            expected.put(InetAddress.getByName(n).getHostAddress(), 2); // the node name's address: the card's
        }
        assertEquals(expected, perHost, joined::toString);
    }

    /** The 8 result lines, one per member: {cluster size, host, port}. */
    private static List<String[]> lines(Result r) {
        List<String[]> l = new ArrayList<>();
        Matcher m = LINE.matcher(r.out);
        while (m.find()) {
            l.add(new String[] {m.group(1), m.group(2), m.group(3)});
        }
        assertEquals(8, l.size(), r::toString);
        return l;
    }

    /** One srun of 8 members on 4 nodes; {@code agentOptions} null: no agent. */
    private static Result members(String agentOptions, int waitSeconds) throws Exception {
        Path sync = Files.createTempDirectory("muster-agent-it");
        Path err = Files.createTempFile("hazelcast", ".err");
        List<String> cmd = new ArrayList<>(
                List.of("srun", "-N", "4", "--ntasks-per-node=2", "--overcommit", "--time=3", Jvm.JAVA25));
        // small and quick JVMs; Hazelcast's own start-up settings only (the same in both steps)
        cmd.addAll(List.of(
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Xshare:auto",
                "-XX:-UsePerfData",
                "-Xmx128m",
                "-Dhazelcast.phone.home.enabled=false",
                "-Dhazelcast.wait.seconds.before.join=1"));
        if (agentOptions != null) {
            cmd.add("-javaagent:" + Jvm.agentJar().toAbsolutePath() + "=" + agentOptions);
        } else {
            // what a user writes where multicast is blocked; the member list is what muster adds
            cmd.add("-Dhz.network.join.multicast.enabled=false");
            cmd.add("-Dhz.network.join.tcp-ip.enabled=true");
        }
        cmd.addAll(List.of(
                "-cp",
                hazelcastJar() + File.pathSeparator + Path.of(Jvm.testClasses()).toAbsolutePath(),
                "dev.muster.agent.apps.HazelcastMember",
                "8",
                Integer.toString(waitSeconds)));
        ProcessBuilder pb = LocalSlurm.command(cmd).redirectError(err.toFile());
        pb.environment().put("MUSTER_SYNC_DIR", sync.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("srun still running after 150 s:\n" + out);
        }
        return new Result(p.exitValue(), out, Files.readString(err, StandardCharsets.UTF_8));
    }

    private static String hazelcastJar() throws Exception {
        Path libs = Path.of(System.getProperty("muster.cluster.libs", "target/cluster-libs"));
        try (Stream<Path> s = Files.list(libs)) {
            return s.filter(f -> f.getFileName().toString().startsWith("hazelcast-"))
                    .findFirst()
                    .orElseThrow()
                    .toAbsolutePath()
                    .toString();
        }
    }

    private record Result(int code, String out, String err) {
        @Override
        public String toString() {
            String tail = err.length() > 4000 ? err.substring(err.length() - 4000) : err;
            return "srun exit " + code + "\n--- stdout\n" + out + "--- stderr (tail)\n" + tail;
        }
    }
}
