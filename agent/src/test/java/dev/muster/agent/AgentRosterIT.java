package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The roster as system properties, set before main, in three forked JVMs of one local step: muster's own
 * (muster.rank, muster.size, muster.hosts, muster.members) and, with cluster=hazelcast;jgroups, the properties
 * Hazelcast's configuration override and JGroups' stock tcp.xml read. A property given on the command line wins.
 * Each member is given a port of its own before main (the card's), and every member list names those ports.
 * The node names do not resolve here, so each card advertises its node name as its address.
 */
class AgentRosterIT {
    @Test
    void clusterOption_setsRosterAndLibraryProperties_beforeMain() throws Exception {
        Path sync = Files.createTempDirectory("muster-agent-it");
        String job = "roster-" + UUID.randomUUID();
        Jvm[] t = new Jvm[3];
        for (int r = 0; r < 3; r++) {
            Jvm j = Jvm.task(Jvm.JAVA25, job, r, 3, sync).env("MUSTER_NODE", "node" + r);
            if (r == 2) {
                j.arg("-Dhz.network.join.tcp-ip.members=given-by-user");
            }
            t[r] = j.agent("cluster=hazelcast;jgroups")
                    .main(
                            "dev.muster.agent.apps.Hello",
                            "prop=muster.rank",
                            "prop=muster.size",
                            "prop=muster.hosts",
                            "prop=muster.members",
                            "prop=hz.network.port.port",
                            "prop=hz.network.port.auto-increment",
                            "prop=hz.network.public-address",
                            "prop=jgroups.bind_port",
                            "prop=jgroups.bind_addr",
                            "prop=hz.network.join.multicast.enabled",
                            "prop=hz.network.join.tcp-ip.enabled",
                            "prop=hz.network.join.tcp-ip.members",
                            "prop=jgroups.tcpping.initial_hosts")
                    .start();
        }
        String[] out = new String[3];
        for (int r = 0; r < 3; r++) {
            assertEquals(0, t[r].await(60), t[r]::toString);
            out[r] = t[r].out();
        }
        // the ports each member was given before main: its card's, and so the others' member lists
        String hzMembers = "";
        String jgHosts = "";
        for (int r = 0; r < 3; r++) {
            int hz = Integer.parseInt(value(out[r], "hz.network.port.port"));
            int jg = Integer.parseInt(value(out[r], "jgroups.bind_port"));
            assertTrue(hz > 0 && jg > 0 && hz != jg, out[r]);
            assertEquals("node" + r + ":" + hz, value(out[r], "hz.network.public-address"));
            assertEquals("node" + r, value(out[r], "jgroups.bind_addr"));
            hzMembers += (r == 0 ? "" : ",") + "node" + r + ":" + hz;
            jgHosts += (r == 0 ? "" : ",") + "node" + r + "[" + jg + "]";
        }
        for (int r = 0; r < 3; r++) {
            String o = out[r];
            assertEquals(Integer.toString(r), value(o, "muster.rank"), o);
            assertEquals("3", value(o, "muster.size"), o);
            assertEquals("node0,node1,node2", value(o, "muster.hosts"), o);
            assertEquals(hzMembers, value(o, "muster.members"), o); // the first library's port
            assertEquals("false", value(o, "hz.network.port.auto-increment"), o);
            assertEquals("false", value(o, "hz.network.join.multicast.enabled"), o);
            assertEquals("true", value(o, "hz.network.join.tcp-ip.enabled"), o);
            assertEquals(r == 2 ? "given-by-user" : hzMembers, value(o, "hz.network.join.tcp-ip.members"), o);
            assertEquals(jgHosts, value(o, "jgroups.tcpping.initial_hosts"), o);
        }
    }

    @Test
    void arriveOnBind_membersCarryThePortEachApplicationBound() throws Exception {
        Path sync = Files.createTempDirectory("muster-agent-it");
        String job = "members-" + UUID.randomUUID();
        Jvm[] t = new Jvm[3];
        for (int r = 0; r < 3; r++) {
            t[r] = Jvm.task(Jvm.JAVA25, job, r, 3, sync)
                    .env("MUSTER_NODE", "node" + r)
                    .agent("roster=true,arrive=bind,await=dev.muster.agent.apps.BoundMember#ready")
                    .main("dev.muster.agent.apps.BoundMember")
                    .start();
        }
        String members = "";
        for (int r = 0; r < 3; r++) {
            assertEquals(0, t[r].await(60), t[r]::toString);
            members += (r == 0 ? "" : ",") + "node" + r + ":"
                    + t[r].out().split("\n")[0].substring("listening ".length());
        }
        for (int r = 0; r < 3; r++) {
            assertEquals(members, value(t[r].out(), "muster.members"), t[r]::toString);
        }
    }

    private static String value(String out, String key) {
        for (String line : out.split("\n")) {
            if (line.startsWith(key + "=")) {
                return line.substring(key.length() + 1);
            }
        }
        throw new AssertionError(key + " not printed:\n" + out);
    }
}
