package dev.muster.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ContainerStateTest {
    private static ContainerState read(String s) {
        return ContainerState.read(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8)), 1024);
    }

    private static String fails(String s) {
        MusterException e = assertThrows(MusterException.class, () -> read(s));
        assertEquals(65, e.status());
        assertTrue(e.getMessage().startsWith("hook: the container state on stdin "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void runcState_givesIdAndBundle() {
        ContainerState s = read("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":1,"
                + "\"bundle\":\"/tmp/b/./x/..\",\"annotations\":{\"a\":\"b\"}}");
        assertEquals("c1", s.id());
        assertEquals(Path.of("/tmp/b"), s.bundle());
    }

    @Test
    void badStates_areOneLineAnd65() {
        assertTrue(fails("").contains("is empty"));
        assertTrue(fails(" \n").contains("is empty"));
        assertTrue(fails("{").contains("is not JSON"));
        assertTrue(fails("[]").contains("not a JSON object"));
        assertTrue(fails("{\"id\":\"c1\"}").contains("no \"bundle\""));
        assertTrue(fails("{\"bundle\":7}").contains("no \"bundle\""));
        assertTrue(fails("{\"bundle\":\"rel/dir\"}").contains("not an absolute path: rel/dir"));
        assertTrue(fails("{\"bundle\":\"/a\\u0000b\"}").contains("not an absolute path: /a\\x00b"));
        assertTrue(fails("{\"bundle\":\"/" + "x".repeat(2000) + "\"}").contains("larger than 1 KiB"));
    }

    @Test
    void notUtf8_isRefused() {
        MusterException e = assertThrows(
                MusterException.class,
                () -> ContainerState.read(new ByteArrayInputStream(new byte[] {'{', (byte) 0xff, '}'}), 1024));
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
    }
}
