package dev.muster.agent.bind;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.nio.channels.NetworkChannel;

/**
 * Where the advice lands. The advice is inlined into JDK classes (java.base) and into the application's await
 * method, so it may name JDK types only: it finds this class through the system class loader (which loads the
 * agent jar) by reflection. Reflection needs no read edge from java.base to the class path, no class injected
 * into the bootstrap loader and no object parked in the system properties, where applications that list them
 * expect strings. A bind or an entry into the await method is rare, so the reflective call costs nothing that
 * matters. Holds no byte-buddy type, so that the default path may load it too.
 */
public final class Hooks {
    /** What the agent wants to hear about. */
    public interface Listener {
        void bound(int port);

        void entered();
    }

    private static volatile Listener listener;

    private Hooks() {}

    public static void listen(Listener l) {
        listener = l;
    }

    /** Called after a successful bind of a {@link ServerSocket} or a server-socket channel. */
    public static void bound(Object socket) {
        Listener l = listener;
        if (l == null || dev.muster.core.OwnSockets.isOwn(socket)) {
            return; // muster's own listener is never the application's port
        }
        int port = portOf(socket);
        if (port > 0) {
            l.bound(port);
        }
    }

    /** Called on every entry into the await method; blocks the first callers until the release. */
    public static void entered() {
        Listener l = listener;
        if (l != null) {
            l.entered();
        }
    }

    /** The bound TCP port; 0 for a Unix-domain socket or anything unknown. */
    static int portOf(Object socket) {
        try {
            if (socket instanceof ServerSocket s) {
                return Math.max(0, s.getLocalPort());
            }
            if (socket instanceof NetworkChannel c) {
                SocketAddress a = c.getLocalAddress();
                return a instanceof InetSocketAddress i ? i.getPort() : 0;
            }
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
