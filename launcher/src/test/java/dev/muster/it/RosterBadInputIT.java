package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.it.Cluster.Jdk;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad roster input under {@code muster local -n 2} (real tasks, real step directory; no Slurm needed): each task
 * prints one line naming the value, exit 2, and the step ends at once (the task aborts it before arriving) instead
 * of at the 60 s timeout.
 */
class RosterBadInputIT {
    @RegisterExtension
    final Cluster cluster = Cluster.withoutSlurm();

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "--address|nosuch0|no such interface",
                "--address|203.0.113.0/24|no address of this node is in that range",
                "--publish|a b=1|'a b'",
                "--publish|novalue|KEY=VALUE",
                "--publish|big=@BIG|more than 1024 bytes",
                "--port|bad/name|'bad/name'"
            })
    @Timeout(40)
    void badRosterInput_oneLinePerTask_exit2_atOnce(String flag, String value, String named) throws Exception {
        java.nio.file.Path big = cluster.dir().resolve("big");
        Files.writeString(big, "x".repeat(1025));
        List<String> cmd = new ArrayList<>(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of(
                "local", "-n", "2", "--timeout", "60", flag, value.replace("BIG", big.toString()), "--", "true"));
        endsAtOnceWithOneLinePerTask(cmd, named);
    }

    /**
     * {@code --address} naming an interface that exists but has no address a peer could use, in a private network
     * namespace of its own ({@code unshare -n}, root) holding a veth pair: down, the pair has no address at all (and
     * Java does not list it); up, each end has only its IPv6 link-local address, which must not be advertised.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {"down|the interface has no address", "up|the interface has only a link-local address"})
    @Timeout(40)
    void addressOfAnInterfaceWithNoUsableAddress_oneLinePerTask_exit2_atOnce(String state, String named)
            throws Exception {
        if (Caller.self().uid() != 0) {
            Slurm.unavailable("needs root to make a network namespace (unshare -n)");
        }
        String setUp = "ip link add mv0 type veth peer name mv1 || exit 99\n"
                + ("up".equals(state)
                        ? "ip link set mv1 up && ip link set mv0 up || exit 99\n"
                                // the kernel adds the link-local address once the link has a carrier
                                + "i=0; until ip -o -6 addr show dev mv0 | grep -q fe80; do\n"
                                + "  i=$((i+1)); [ $i -lt 100 ] || exit 98; sleep 0.1\n"
                                + "done\n"
                        : "")
                + "exec \"$@\"\n";
        List<String> cmd = new ArrayList<>(List.of("unshare", "-n", "sh", "-c", setUp, "sh"));
        cmd.addAll(Cluster.muster(Jdk.J25));
        cmd.addAll(List.of("local", "-n", "2", "--timeout", "60", "--address", "mv0", "--", "true"));
        endsAtOnceWithOneLinePerTask(cmd, "--address mv0: " + named);
    }

    /** Runs the two-task step: exit 2 well before its 60 s timeout, and one line per task that names the value. */
    private void endsAtOnceWithOneLinePerTask(List<String> cmd, String named) {
        Run.Result r = cluster.run(Duration.ofSeconds(35), Cluster.env(Jdk.J25), cmd);
        assertEquals(2, r.exit(), r.describe());
        assertTrue(r.took().toSeconds() < 30, "ended at once, not at the timeout\n" + r.describe());
        List<String> lines = r.errLines();
        assertEquals(2, lines.size(), "one line per task\n" + r.describe());
        for (String l : lines) {
            assertTrue(l.startsWith("muster[") && l.contains(named), l);
        }
    }
}
