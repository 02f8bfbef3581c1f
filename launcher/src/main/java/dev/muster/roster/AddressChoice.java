package dev.muster.roster;

import dev.muster.core.MusterException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code --address}: what a task advertises in its card, decided on the task's own node. An interface name
 * ({@code ib0}), a CIDR ({@code 10.1.0.0/16}), or {@code node} (the node name's address, the default). A value
 * that matches nothing here is a usage error (exit 2) listing the interfaces this node has.
 */
public record AddressChoice(String address, String iface) {

    public static AddressChoice resolve(String spec, String node) {
        return resolve(spec, node, null);
    }

    /**
     * @param rankZeroNode where rank 0 runs, for {@code route} (the first node of the step under Slurm's default
     *                     block distribution); null when unknown
     */
    public static AddressChoice resolve(String spec, String node, String rankZeroNode) {
        if ("route".equals(spec)) {
            return route(rankZeroNode == null ? node : rankZeroNode);
        }
        if (spec == null || spec.equals("node")) {
            try {
                return new AddressChoice(InetAddress.getByName(node).getHostAddress(), null);
            } catch (IOException e) {
                return new AddressChoice(node, null); // the name itself: resolved by the peers
            }
        }
        List<NetworkInterface> all = interfaces();
        if (spec.contains("/")) {
            for (NetworkInterface ni : all) {
                for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                    if (inCidr(ia.getAddress(), spec)) {
                        return new AddressChoice(ia.getAddress().getHostAddress(), ni.getName());
                    }
                }
            }
            throw MusterException.usage(
                    "--address " + spec + ": no address of this node is in that range; it has " + describe(all));
        }
        for (NetworkInterface ni : all) {
            if (ni.getName().equals(spec)) {
                InetAddress best = null;
                for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                    InetAddress a = ia.getAddress();
                    if (best == null || (a instanceof Inet4Address && !(best instanceof Inet4Address))) {
                        best = a; // IPv4 first: what Gloo and most JVM clusters expect
                    }
                }
                if (best == null) {
                    throw MusterException.usage("--address " + spec + ": the interface has no address; this node "
                            + "has " + describe(all));
                }
                return new AddressChoice(best.getHostAddress(), spec);
            }
        }
        throw MusterException.usage(
                "--address " + spec + ": no such interface, CIDR, route or node; this node has " + describe(all));
    }

    /**
     * The address and interface of this node's route toward {@code target}: a connected UDP socket sends nothing,
     * but the kernel picks its source address by the routing table.
     */
    static AddressChoice route(String target) {
        try (java.net.DatagramSocket d = new java.net.DatagramSocket()) {
            d.connect(InetAddress.getByName(target), 9);
            InetAddress local = d.getLocalAddress();
            NetworkInterface ni = NetworkInterface.getByInetAddress(local);
            if (local.isAnyLocalAddress() || ni == null) {
                throw new IOException("no route");
            }
            return new AddressChoice(local.getHostAddress(), ni.getName());
        } catch (IOException e) {
            throw MusterException.usage("--address route: no route toward rank 0's node " + target + " ("
                    + e.getMessage() + "); name an interface or CIDR; this node has " + describe(interfaces()));
        }
    }

    /** A port free on this address now, for {@code --port NAME} (docs/roster.md#ports says what is left of the race). */
    public int freePort() {
        try (ServerSocket s = dev.muster.core.OwnSockets.mark(new ServerSocket())) {
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw MusterException.usage(
                    "--port: cannot bind a port on " + address + " (" + e.getMessage() + "); choose another --address");
        }
    }

    static boolean inCidr(InetAddress a, String cidr) {
        int slash = cidr.indexOf('/');
        try {
            byte[] net = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
            int bits = Integer.parseInt(cidr.substring(slash + 1));
            byte[] b = a.getAddress();
            if (b.length != net.length || bits < 0 || bits > b.length * 8) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int m = 0x80 >> (i % 8);
                if ((b[i / 8] & m) != (net[i / 8] & m)) {
                    return false;
                }
            }
            return true;
        } catch (IOException | NumberFormatException e) {
            throw MusterException.usage("--address " + cidr + ": not a CIDR such as 10.1.0.0/16");
        }
    }

    private static List<NetworkInterface> interfaces() {
        try {
            List<NetworkInterface> l = new ArrayList<>(Collections.list(NetworkInterface.getNetworkInterfaces()));
            return l;
        } catch (SocketException e) {
            throw MusterException.usage("--address: cannot list this node's interfaces: " + e.getMessage());
        }
    }

    /** {@code lo (127.0.0.1), eth0 (10.0.0.2)} — what the one-line error lists. */
    static String describe(List<NetworkInterface> all) {
        Map<String, List<String>> m = new TreeMap<>();
        for (NetworkInterface ni : all) {
            List<String> as = new ArrayList<>();
            for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                if (ia.getAddress().isLinkLocalAddress()) {
                    if (as.isEmpty()) {
                        as.add("link-local only"); // fe80::: never what a peer on another node should be given
                    }
                    continue;
                }
                as.remove("link-local only");
                as.add(ia.getAddress().getHostAddress() + "/" + ia.getNetworkPrefixLength());
            }
            m.put(ni.getName(), as);
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, List<String>> e : m.entrySet()) {
            b.append(b.length() == 0 ? "" : ", ")
                    .append(e.getKey())
                    .append(" (")
                    .append(e.getValue().isEmpty() ? "no address" : String.join(" ", e.getValue()))
                    .append(')');
        }
        return b.toString();
    }
}
