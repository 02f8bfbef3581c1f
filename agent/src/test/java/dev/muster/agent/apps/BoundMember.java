package dev.muster.agent.apps;

import java.net.ServerSocket;

/**
 * Listens on a port the OS picks, says which, then enters {@link #ready} (the agent's await method in the tests)
 * and prints the roster's {@code muster.members} as it is once that method runs.
 */
public final class BoundMember {
    private BoundMember() {}

    public static void main(String[] args) throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            System.out.println("listening " + s.getLocalPort());
            ready();
            System.out.println("muster.members=" + System.getProperty("muster.members"));
        }
    }

    /** Held by the agent until the release (await=dev.muster.agent.apps.BoundMember#ready). */
    public static void ready() {}
}
