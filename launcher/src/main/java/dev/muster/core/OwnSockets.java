package dev.muster.core;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The listening sockets muster opens for itself (rank 0's TCP release listener, the probes that find a free port),
 * marked before they bind. The agent's bind advice reports every bind in the JVM to find the application's port;
 * it skips these, so that a registered or roster port never comes from muster's own sockets. Weak: a socket is
 * forgotten once it is garbage, and sockets do not override equals, so this is an identity set.
 */
public final class OwnSockets {
    private static final Map<Object, Boolean> OWN = Collections.synchronizedMap(new WeakHashMap<>());

    private OwnSockets() {}

    /** Marks {@code socket} (a ServerSocket or server channel) as muster's; call before it binds. */
    public static <T> T mark(T socket) {
        OWN.put(socket, Boolean.TRUE);
        return socket;
    }

    public static boolean isOwn(Object socket) {
        return OWN.containsKey(socket);
    }
}
