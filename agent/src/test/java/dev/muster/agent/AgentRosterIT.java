package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The roster as system properties, set before main, in three forked JVMs of one local step: muster's own
 * (muster.rank, muster.size, muster.hosts) and, with cluster=hazelcast;jgroups, the properties
 * Hazelcast's configuration override and JGroups' stock tcp.xml read. A property given on the command line wins.
 * The node names do not resolve here, so each card advertises its node name as its address.
 */
class AgentRosterIT {
    @Test
    void clusterOption_setsRosterAndLibraryProperties_beforeMain() throws Exception {
        Path sync = Files.createTempDirectory("muster-agent-it");
        String job = "roster-" + UUID.randomUUID();
        Jvm[] t = new Jvm[3];
        for (int r = 0; r < 3; r++) {
            Jvm j = new Jvm(Jvm.JAVA25)
                    .env("MUSTER_LOCAL_JOB", job)
                    .env("MUSTER_RANK", Integer.toString(r))
                    .env("MUSTER_SIZE", "3")
                    .env("MUSTER_SYNC_DIR", sync.toString())
                    .env("MUSTER_NODE", "node" + r);
            if (r == 2) {
                j.arg("-Dhz.network.join.tcp-ip.members=given-by-user");
            }
            t[r] = j.agent("cluster=hazelcast;jgroups")
                    .main(
                            "dev.muster.agent.apps.Hello",
                            "prop=muster.rank",
                            "prop=muster.size",
                            "prop=muster.hosts",
                            "prop=hz.network.join.multicast.enabled",
                            "prop=hz.network.join.tcp-ip.enabled",
                            "prop=hz.network.join.tcp-ip.members",
                            "prop=jgroups.tcpping.initial_hosts")
                    .start();
        }
        for (int r = 0; r < 3; r++) {
            Jvm j = t[r];
            assertEquals(0, j.await(60), j::toString);
            String out = j.out();
            assertTrue(out.contains("muster.rank=" + r + "\n"), j::toString);
            assertTrue(out.contains("muster.size=3\n"), j::toString);
            assertTrue(out.contains("muster.hosts=node0,node1,node2\n"), j::toString);
            assertTrue(out.contains("hz.network.join.multicast.enabled=false\n"), j::toString);
            assertTrue(out.contains("hz.network.join.tcp-ip.enabled=true\n"), j::toString);
            assertTrue(
                    out.contains("hz.network.join.tcp-ip.members=" + (r == 2 ? "given-by-user" : "node0,node1,node2")
                            + "\n"),
                    j::toString);
            assertTrue(
                    out.contains("jgroups.tcpping.initial_hosts=node0[7800],node1[7800],node2[7800]\n"), j::toString);
        }
    }
}
