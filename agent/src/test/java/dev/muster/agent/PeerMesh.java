package dev.muster.agent;

import javax.tools.ToolProvider;
import java.nio.file.Files;
import java.nio.file.Path;

/** Compiles examples/peer-mesh/Peers.java as it is, once per test run. */
final class PeerMesh {
    private static Path classes;

    private PeerMesh() {
    }

    static synchronized Path compile() throws Exception {
        if (classes == null) {
            Path root = Path.of(System.getProperty("muster.root", ".."));
            Path out = Files.createDirectories(Path.of("target", "peer-mesh")).toAbsolutePath();
            int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-d",
                    out.toString(), root.resolve("examples/peer-mesh/Peers.java").toString());
            if (rc != 0) {
                throw new AssertionError("javac examples/peer-mesh/Peers.java failed: " + rc);
            }
            classes = out;
        }
        return classes;
    }
}
