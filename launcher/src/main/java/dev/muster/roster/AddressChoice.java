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
import java.nio.file.Files;
import java.nio.file.Path;
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
                return new AddressChoice(usableAddress(ni, all), spec);
            }
        }
        if (kernelHasInterface(spec)) {
            // Java lists only interfaces that have an address: this one exists but has none
            throw MusterException.usage(
                    "--address " + spec + ": the interface has no address; this node has " + describe(all));
        }
        throw MusterException.usage(
                "--address " + spec + ": no such interface, CIDR, route or node; this node has " + describe(all));
    }

    /**
     * The interface's address a peer on another node can use: IPv4 first (what Gloo and most JVM clusters expect),
     * never a link-local one (fe80::, 169.254/16), which means nothing without this node's scope.
     */
    private static String usableAddress(NetworkInterface ni, List<NetworkInterface> all) {
        InetAddress best = null;
        for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
            InetAddress a = ia.getAddress();
            if (!a.isLinkLocalAddress()
                    && (best == null || (a instanceof Inet4Address && !(best instanceof Inet4Address)))) {
                best = a;
            }
        }
        if (best == null) {
            String what = ni.getInterfaceAddresses().isEmpty()
                    ? "has no address"
                    : "has only a link-local address, which a peer on another node cannot use";
            throw MusterException.usage(
                    "--address " + ni.getName() + ": the interface " + what + "; this node has " + describe(all));
        }
        return best.getHostAddress();
    }

    /**
     * Whether this task's network namespace has an interface of that name, with or without an address: the
     * interface table of {@code /proc/self/net/dev} ({@code /sys/class/net} shows the namespace /sys was mounted
     * in, which need not be ours).
     */
    private static boolean kernelHasInterface(String name) {
        try (java.util.stream.Stream<String> lines = Files.lines(Path.of("/proc/self/net/dev"))) {
            return lines.map(String::trim).anyMatch(l -> l.startsWith(name + ":"));
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return false;
        }
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
            return new ArrayList<>(Collections.list(NetworkInterface.getNetworkInterfaces()));
        } catch (SocketException e) {
            // what Java says of a node none of whose interfaces has an address (a network namespace of its own)
            dev.muster.core.Log.debug("listing the interfaces: " + e.getMessage());
            return List.of();
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
        if (m.isEmpty()) {
            return "no interface with an address";
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
