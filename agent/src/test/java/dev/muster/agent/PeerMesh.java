package dev.muster.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import javax.tools.ToolProvider;

/** Compiles examples/peer-mesh/Peers.java as it is, once per test run. */
final class PeerMesh {
    private static Path classes;

    private PeerMesh() {}

    static synchronized Path compile() throws Exception {
        if (classes == null) {
            Path root = Path.of(System.getProperty("muster.root", ".."));
            Path out = Files.createDirectories(Path.of("target", "peer-mesh")).toAbsolutePath();
            int rc = ToolProvider.getSystemJavaCompiler()
                    .run(
                            null,
                            null,
                            null,
                            "--release",
                            "17",
                            "-d",
                            out.toString(),
                            root.resolve("examples/peer-mesh/Peers.java").toString());
            if (rc != 0) {
                throw new AssertionError("javac examples/peer-mesh/Peers.java failed: " + rc);
            }
            classes = out;
        }
        return classes;
    }

    /**
     * A base port whose next {@code n} ports are free right now, below the kernel's ephemeral range (32768 and
     * up), where outgoing connections of every other process on the machine would collide with fixed ports.
     */
    static int freeBasePort(int n) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = 10000 + ThreadLocalRandom.current().nextInt(200) * 100;
            boolean free = true;
            for (int p = base; p < base + n && free; p++) {
                try (ServerSocket s = new ServerSocket()) {
                    s.setReuseAddress(true);
                    s.bind(new InetSocketAddress(p));
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new AssertionError("no " + n + " free ports in a row between 10000 and 30000");
    }
}
