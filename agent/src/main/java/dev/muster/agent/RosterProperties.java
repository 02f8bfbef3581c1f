package dev.muster.agent;

import dev.muster.barrier.Card;
import dev.muster.barrier.Roster;
import dev.muster.core.Log;
import dev.muster.core.Posix;
import dev.muster.roster.AddressChoice;
import dev.muster.task.TaskIdentity;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The roster as system properties, set before {@code main} (docs/roster.md#the-agent): {@code muster.rank},
 * {@code muster.size}, {@code muster.hosts} (nodes in rank order, comma-separated), {@code muster.addresses}
 * (advertised addresses in rank order); and with {@code cluster=}, the properties the named libraries read
 * themselves, so that their members find each other with no configuration file change. A property the user set
 * already (on the command line) is left as it is.
 */
final class RosterProperties {
    /** JGroups' TCP port (TCP bind_port's default in its stock tcp.xml). */
    static final int JGROUPS_PORT = 7800;

    private RosterProperties() {}

    /** This JVM's card: node, pid, local rank, the node name's address. */
    static Card card(TaskIdentity id) {
        AddressChoice a = AddressChoice.resolve(null, id.node());
        return new Card(id.rank(), id.node(), Posix.pid(), id.localRank(), a.address(), null, Map.of(), Map.of());
    }

    static void set(byte[] roster, List<String> clusters, int rank) {
        List<Map<String, Object>> ranks = Roster.ranks(roster);
        StringBuilder hosts = new StringBuilder();
        StringBuilder addresses = new StringBuilder();
        Set<String> distinct = new LinkedHashSet<>();
        for (Map<String, Object> r : ranks) {
            String sep = hosts.length() == 0 ? "" : ",";
            hosts.append(sep).append(r.get("node"));
            addresses.append(sep).append(r.get("address"));
            distinct.add(String.valueOf(r.get("address")));
        }
        put("muster.rank", Integer.toString(rank));
        put("muster.size", Integer.toString(ranks.size()));
        put("muster.hosts", hosts.toString());
        put("muster.addresses", addresses.toString());
        for (String c : clusters) {
            if (c.equals("hazelcast")) {
                // Hazelcast 4.1+ reads hz.* system properties as overrides of the configuration it loads itself
                // (SystemPropertiesConfigParser.member(): prefix "hz.", root "hazelcast"). Members without a port:
                // Hazelcast tries 5701 and the next ports, so two members on one node are both found.
                put("hz.network.join.multicast.enabled", "false");
                put("hz.network.join.tcp-ip.enabled", "true");
                put("hz.network.join.tcp-ip.members", String.join(",", distinct));
            } else if (c.equals("jgroups")) {
                // org.jgroups.Global.TCPPING_INITIAL_HOSTS, read by the stock tcp.xml
                StringBuilder b = new StringBuilder();
                for (String a : distinct) {
                    b.append(b.length() == 0 ? "" : ",")
                            .append(a)
                            .append('[')
                            .append(JGROUPS_PORT)
                            .append(']');
                }
                put("jgroups.tcpping.initial_hosts", b.toString());
            }
        }
    }

    private static void put(String k, String v) {
        if (System.getProperty(k) != null) {
            Log.debug("-D" + k + " is set already: left as it is");
            return;
        }
        System.setProperty(k, v);
    }
}
