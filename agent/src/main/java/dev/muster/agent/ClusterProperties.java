package dev.muster.agent;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.OwnSockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code cluster=}: the system properties JVM cluster libraries read themselves, so that their members find each
 * other with no configuration file change (docs/roster.md#the-agent). Each name was checked against the library's
 * own code, not its documentation alone; {@code ClusterPropertiesTest} feeds these values to the libraries' own
 * configuration loaders.
 *
 * <p>Two steps. Before the barrier ({@link #own}): the port muster chose for this member (free on the advertised
 * address, like {@code run --port}), which the library must bind exactly, and the address it must advertise: the
 * card carries the port, so the roster lists where every member really listens. After the release
 * ({@link #members}): every member's address and port, as the library's static member list.
 */
final class ClusterProperties {
    static final String HAZELCAST = "hazelcast";
    static final String JGROUPS = "jgroups";
    static final List<String> LIBRARIES = List.of(HAZELCAST, JGROUPS);

    /*
     * Hazelcast 4.1+ (checked in 5.5): Config.load() (what Hazelcast.newHazelcastInstance() with no Config uses)
     * applies "hz."-prefixed system properties over the configuration it found
     * (com.hazelcast.internal.config.override.SystemPropertiesConfigParser: prefix "hz.", root "hazelcast"), with
     * the YAML schema's names: network.port is an object, so the port itself is network.port.port ("hz.network.port"
     * alone is refused as "Unrecognized"). Members given as a list are appended to the default file's 127.0.0.1.
     */
    static final String HZ_PORT = "hz.network.port.port";
    static final String HZ_AUTO_INCREMENT = "hz.network.port.auto-increment";
    static final String HZ_PUBLIC_ADDRESS = "hz.network.public-address";
    static final String HZ_MULTICAST = "hz.network.join.multicast.enabled";
    static final String HZ_TCP_IP = "hz.network.join.tcp-ip.enabled";
    static final String HZ_MEMBERS = "hz.network.join.tcp-ip.members";

    /*
     * JGroups (checked in 5.3): org.jgroups.Global.BIND_ADDR, BIND_PORT and TCPPING_INITIAL_HOSTS, read by its
     * stock tcp.xml as ${jgroups.bind_addr:site_local}, ${jgroups.bind_port:7800} and
     * ${jgroups.tcpping.initial_hosts:...}. site_local takes any site-local address: on a node with several
     * interfaces, not necessarily the one the peers reach.
     */
    static final String JG_BIND_ADDR = "jgroups.bind_addr";
    static final String JG_BIND_PORT = "jgroups.bind_port";
    static final String JG_INITIAL_HOSTS = "jgroups.tcpping.initial_hosts";

    private ClusterProperties() {}

    /** The property a library binds its port from: a value the user gave there is the card's port. */
    static String portProperty(String lib) {
        return lib.equals(HAZELCAST) ? HZ_PORT : JG_BIND_PORT;
    }

    /**
     * This member's ports, one per library (the card's port names are the library names): the user's own
     * {@code -D} value of the library's port property, else a port free now on the advertised address.
     */
    static Map<String, Integer> ports(List<String> libs, Properties system) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String lib : libs) {
            String given = system.getProperty(portProperty(lib));
            int port;
            try {
                port = given == null ? freePort() : Integer.parseInt(given.trim());
            } catch (NumberFormatException e) {
                port = freePort(); // not a number: the library will refuse it itself, in its own words
            }
            ports.put(lib, port);
        }
        return ports;
    }

    /**
     * A port free now on every address of this node: Hazelcast binds the wildcard address by default, so a port
     * free only on the advertised address could still be taken on another (docs/roster.md#ports says what is
     * left of the race). muster's own socket: the bind advice never takes it for the application's.
     */
    static int freePort() {
        try (ServerSocket s = OwnSockets.mark(new ServerSocket())) {
            s.bind(new InetSocketAddress(0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new MusterException(
                    ExitCodes.USAGE,
                    "cluster=: no free port on this node (" + e.getMessage() + "); give the library's port with -D"
                            + HZ_PORT + " or -D" + JG_BIND_PORT);
        }
    }

    /** Before main: bind exactly the card's port and advertise the card's address. */
    static Map<String, String> own(String lib, String address, int port) {
        Map<String, String> p = new LinkedHashMap<>();
        if (lib.equals(HAZELCAST)) {
            p.put(HZ_PORT, Integer.toString(port));
            // another port than the roster's would leave this member unknown to the others: fail to start instead
            p.put(HZ_AUTO_INCREMENT, "false");
            p.put(HZ_PUBLIC_ADDRESS, hostPort(address, port));
        } else {
            p.put(JG_BIND_ADDR, address);
            p.put(JG_BIND_PORT, Integer.toString(port));
        }
        return p;
    }

    /** After the release: every member, from the roster's entries in rank order. */
    static Map<String, String> members(String lib, List<Map<String, Object>> ranks) {
        StringBuilder b = new StringBuilder();
        for (Map<String, Object> r : ranks) {
            String a = String.valueOf(r.get("address"));
            Integer port = port(r, lib);
            b.append(b.length() == 0 ? "" : ",");
            if (lib.equals(HAZELCAST)) {
                // no port: Hazelcast tries 5701 and the two next ones
                b.append(port == null ? a : hostPort(a, port));
            } else {
                b.append(a).append('[').append(port == null ? 7800 : port).append(']');
            }
        }
        Map<String, String> p = new LinkedHashMap<>();
        if (lib.equals(HAZELCAST)) {
            p.put(HZ_MULTICAST, "false");
            p.put(HZ_TCP_IP, "true");
            p.put(HZ_MEMBERS, b.toString());
        } else {
            p.put(JG_INITIAL_HOSTS, b.toString());
        }
        return p;
    }

    /** A roster entry's port {@code name}, or null. */
    static Integer port(Map<String, Object> rank, String name) {
        if (rank.get("ports") instanceof Map<?, ?> ports && ports.get(name) instanceof Number n) {
            return n.intValue();
        }
        return null;
    }

    /** {@code host:port}, with an IPv6 address in brackets as both libraries parse it. */
    static String hostPort(String address, int port) {
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }
}
