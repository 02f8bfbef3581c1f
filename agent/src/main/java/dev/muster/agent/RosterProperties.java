package dev.muster.agent;

import dev.muster.barrier.Card;
import dev.muster.barrier.Roster;
import dev.muster.core.Log;
import dev.muster.core.Posix;
import dev.muster.roster.AddressChoice;
import dev.muster.task.TaskIdentity;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The roster as system properties, set before {@code main} (docs/roster.md#the-agent): {@code muster.rank},
 * {@code muster.size}, {@code muster.hosts} (nodes in rank order, comma-separated), {@code muster.addresses}
 * (advertised addresses in rank order), {@code muster.members} (address:port in rank order); and with
 * {@code cluster=}, the properties the named libraries read themselves ({@link ClusterProperties}). A property
 * the user set already (on the command line) is left as it is.
 */
final class RosterProperties {
    /** The card's port name for the port the application bound (arrive=bind). */
    static final String BIND_PORT = "bind";

    private RosterProperties() {}

    /** This JVM's card: node, pid, local rank, the advertised address and the ports the agent knows of. */
    static Card card(TaskIdentity id, AddressChoice a, Map<String, Integer> ports) {
        return new Card(id.rank(), id.node(), Posix.pid(), id.localRank(), a.address(), a.iface(), ports, Map.of());
    }

    static void set(byte[] roster, List<String> clusters, int rank) {
        values(Roster.ranks(roster), clusters, rank).forEach(RosterProperties::put);
    }

    /** Everything {@link #set} sets, in order (no side effect: the unit tests feed it to the libraries). */
    static Map<String, String> values(List<Map<String, Object>> ranks, List<String> clusters, int rank) {
        StringBuilder hosts = new StringBuilder();
        StringBuilder addresses = new StringBuilder();
        for (Map<String, Object> r : ranks) {
            String sep = hosts.length() == 0 ? "" : ",";
            hosts.append(sep).append(r.get("node"));
            addresses.append(sep).append(r.get("address"));
        }
        Map<String, String> p = new LinkedHashMap<>();
        p.put("muster.rank", Integer.toString(rank));
        p.put("muster.size", Integer.toString(ranks.size()));
        p.put("muster.hosts", hosts.toString());
        p.put("muster.addresses", addresses.toString());
        String members = members(ranks, clusters);
        if (members != null) {
            p.put("muster.members", members);
        }
        for (String c : clusters) {
            p.putAll(ClusterProperties.members(c, ranks));
        }
        return p;
    }

    /**
     * {@code address:port} per rank, in rank order: the port the application bound ({@code arrive=bind}), else
     * the port chosen for the first {@code cluster=} library; null when a rank's card has neither.
     */
    static String members(List<Map<String, Object>> ranks, List<String> clusters) {
        StringBuilder b = new StringBuilder();
        for (Map<String, Object> r : ranks) {
            Integer port = ClusterProperties.port(r, BIND_PORT);
            if (port == null && !clusters.isEmpty()) {
                port = ClusterProperties.port(r, clusters.get(0));
            }
            if (port == null) {
                return null;
            }
            b.append(b.length() == 0 ? "" : ",")
                    .append(ClusterProperties.hostPort(String.valueOf(r.get("address")), port));
        }
        return b.toString();
    }

    static void put(String k, String v) {
        if (System.getProperty(k) != null) {
            Log.debug("-D" + k + " is set already: left as it is");
            return;
        }
        System.setProperty(k, v);
    }
}
