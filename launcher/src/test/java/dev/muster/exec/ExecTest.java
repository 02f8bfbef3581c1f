package dev.muster.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The parts of exec that do not replace this JVM: the Java version rule and the signal mask it hands on. */
class ExecTest {
    @Test
    void ffm_isThereFromJava22_andNativeExecUnlessMusterExecIsChild() {
        int feature = Runtime.version().feature();
        assertEquals(feature >= 22, Exec.ffmAvailable());
        assertEquals(feature >= 22 && !"child".equals(System.getenv("MUSTER_EXEC")), Exec.nativeExec());
    }

    @Test
    void originalSigmask_isTheMainThreadsSigBlk() throws IOException {
        long pid = ProcessHandle.current().pid();
        String line = Files.readAllLines(Path.of("/proc/self/task/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("SigBlk:"))
                .findFirst()
                .orElseThrow();
        assertEquals(Long.parseUnsignedLong(line.substring(7).trim(), 16), Exec.originalSigmask());
    }
}
