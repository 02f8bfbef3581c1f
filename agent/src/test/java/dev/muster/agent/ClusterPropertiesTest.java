package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.NetworkConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jgroups.JChannel;
import org.jgroups.PhysicalAddress;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.junit.jupiter.api.Test;

/**
 * The property names of cluster=... checked against the libraries themselves: the values the agent sets are
 * handed to Hazelcast's own Config.load() and to a JGroups channel built from its own stock tcp.xml, and the
 * configuration those build must hold the roster's addresses and ports. A misspelt name would leave the library's
 * default (Hazelcast even accepts an unknown name with only a warning), and these assertions would fail.
 */
class ClusterPropertiesTest {
    /** Two ranks of a roster as the agent parses it: addresses and the ports chosen for each library. */
    private static List<Map<String, Object>> roster(String a0, String a1) {
        List<Map<String, Object>> ranks = new ArrayList<>();
        ranks.add(entry(0, "n1", a0, 15701L, 17800L));
        ranks.add(entry(1, "n2", a1, 15702L, 17801L));
        return ranks;
    }

    private static Map<String, Object> entry(int rank, String node, String address, long hz, long jg) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("rank", (long) rank);
        e.put("node", node);
        e.put("address", address);
        e.put("ports", Map.of("hazelcast", hz, "jgroups", jg));
        return e;
    }

    @Test
    void hazelcast_configLoad_takesPortPublicAddressAndMembers() throws Exception {
        List<Map<String, Object>> ranks = roster("10.0.0.1", "10.0.0.2");
        Map<String, String> p = new LinkedHashMap<>(ClusterProperties.own("hazelcast", "10.0.0.1", 15701));
        p.putAll(RosterProperties.values(ranks, List.of("hazelcast"), 0));
        NetworkConfig n = withProperties(p, () -> Config.load().getNetworkConfig());
        assertEquals(15701, n.getPort());
        assertFalse(n.isPortAutoIncrement());
        assertEquals("10.0.0.1:15701", n.getPublicAddress());
        assertFalse(n.getJoin().getMulticastConfig().isEnabled());
        assertTrue(n.getJoin().getTcpIpConfig().isEnabled());
        List<String> members = n.getJoin().getTcpIpConfig().getMembers();
        assertTrue(members.containsAll(List.of("10.0.0.1:15701", "10.0.0.2:15702")), members.toString());
        assertEquals("10.0.0.1:15701,10.0.0.2:15702", p.get("muster.members"));
    }

    @Test
    void jgroups_stockTcpXml_takesBindAddressPortAndInitialHosts() throws Exception {
        List<Map<String, Object>> ranks = roster("127.0.0.1", "127.0.0.2");
        Map<String, String> p = new LinkedHashMap<>(ClusterProperties.own("jgroups", "127.0.0.1", 17800));
        p.putAll(RosterProperties.values(ranks, List.of("jgroups"), 0));
        assertEquals("127.0.0.1[17800],127.0.0.2[17801]", p.get("jgroups.tcpping.initial_hosts"));
        withProperties(p, () -> {
            try (JChannel ch = new JChannel("tcp.xml")) { // built and initialised, not connected
                TCP tcp = ch.getProtocolStack().findProtocol(TCP.class);
                assertEquals(17800, tcp.getBindPort());
                assertEquals("127.0.0.1", tcp.getBindAddress().getHostAddress());
                List<String> hosts = new ArrayList<>();
                for (PhysicalAddress a : ch.getProtocolStack()
                        .<TCPPING>findProtocol(TCPPING.class)
                        .getInitialHosts()) {
                    hosts.add(a.printIpAddress());
                }
                assertTrue(hosts.containsAll(List.of("127.0.0.1:17800", "127.0.0.2:17801")), hosts.toString());
            }
            return null;
        });
    }

    @Test
    void members_portOfTheBindFirst_elseOfTheFirstLibrary_elseNone() {
        Map<String, Object> r = new HashMap<>(entry(0, "n1", "fe80::1", 5701, 7800));
        assertEquals("[fe80::1]:7800", RosterProperties.members(List.of(r), List.of("jgroups", "hazelcast")));
        r.put("ports", Map.of("bind", 4000L, "hazelcast", 5701L));
        assertEquals("[fe80::1]:4000", RosterProperties.members(List.of(r), List.of("hazelcast")));
        r.put("ports", Map.of());
        assertNull(RosterProperties.members(List.of(r), List.of("hazelcast")));
        assertFalse(RosterProperties.values(List.of(r), List.of(), 0).containsKey("muster.members"));
    }

    /** Runs {@code body} with these system properties set, then restores the previous ones. */
    private static <T> T withProperties(Map<String, String> p, Callable<T> body) throws Exception {
        Map<String, String> before = new HashMap<>();
        p.keySet().forEach(k -> before.put(k, System.getProperty(k)));
        p.forEach(System::setProperty);
        try {
            return body.call();
        } finally {
            before.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
    }
}
