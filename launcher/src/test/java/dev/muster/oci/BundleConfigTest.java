package dev.muster.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BundleConfigTest {
    private static final Path FILE = Path.of("/b/config.json");

    @Test
    void processEnvAndUser_areRead_laterDuplicateWins() {
        BundleConfig c = BundleConfig.parse(
                FILE,
                "{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":1000,"
                        + "\"gid\":100,\"additionalGids\":[5,6]},\"env\":[\"SLURM_PROCID=3\",\"A=x=y\",\"NOEQUALS\","
                        + "\"SLURM_PROCID=4\",\"=bad\"]}}");
        assertTrue(c.hasProcess());
        assertEquals(Map.of("SLURM_PROCID", "4", "A", "x=y"), c.env());
        assertEquals(new ContainerUser(1000, 100, List.of(5, 6)), c.user());
    }

    @Test
    void noProcess_isNoTask() {
        BundleConfig c = BundleConfig.parse(FILE, "{\"ociVersion\":\"1.0.2\"}");
        assertFalse(c.hasProcess());
        assertEquals(Map.of(), c.env());
    }

    @Test
    void badConfigs_are65_withoutEchoingTheFile() {
        for (String bad : List.of(
                "root:x:0:0:root:/root:/bin/bash",
                "[1]",
                "{\"process\":[]}",
                "{\"process\":{\"env\":\"A=1\"}}",
                "{\"process\":{\"env\":[1]}}",
                "{\"process\":{\"user\":7}}",
                "{\"process\":{\"user\":{\"uid\":-1}}}",
                "{\"process\":{\"user\":{\"uid\":1.5}}}",
                "{\"process\":{\"user\":{\"uid\":1,\"additionalGids\":\"5\"}}}")) {
            MusterException e = assertThrows(MusterException.class, () -> BundleConfig.parse(FILE, bad), bad);
            assertEquals(65, e.status(), bad);
            assertTrue(e.getMessage().startsWith("hook: /b/config.json "), e.getMessage());
            assertFalse(e.getMessage().contains("root:"), e.getMessage());
        }
    }
}
