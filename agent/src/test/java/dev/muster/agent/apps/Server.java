package dev.muster.agent.apps;

import java.net.ServerSocket;

/** Listens on port 0 (the OS picks), says which, and serves until stdin closes. */
public final class Server {
    private Server() {}

    public static void main(String[] args) throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            System.out.println("listening " + s.getLocalPort());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until stdin closes
            }
        }
    }
}
