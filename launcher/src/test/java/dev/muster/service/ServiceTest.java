package dev.muster.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Clock;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code --start} service as real processes: its first process's exit code, a stop on request, and a stop when
 * the task it belongs to ends (the task here is a {@code sleep} this test starts and kills).
 */
class ServiceTest {
    private static final Map<String, String> ENV = Map.of("PATH", "/usr/bin:/bin");

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    @Timeout(60)
    void exitCode_isMinusOneWhileRunning_thenTheFirstProcesssCode() {
        Service s =
                Service.start("read x < /dev/null; exit 3", ENV, Posix.pid(), Duration.ofSeconds(1), "", Clock.SYSTEM);
        try {
            assertEquals("read x < /dev/null; exit 3", s.command());
            Await.until("the command exits", Duration.ofSeconds(50), () -> s.exitCode() == 3);
        } finally {
            s.requestStop();
            assertTrue(s.awaitStopped(Duration.ofSeconds(50)));
        }
    }

    @Test
    @Timeout(60)
    void theService_seesOnlyTheGivenEnvironmentAndItsMarker_inASessionOfItsOwn(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("env");
        Map<String, String> env = Map.of("PATH", "/usr/bin:/bin", "ONLY", "x", "OUT", out.toString());
        Service s = Service.start(
                "echo \"$ONLY:$HOME:${MUSTER_SERVICE_ID:+marked}\" > \"$OUT\"; exec sleep 300",
                env,
                Posix.pid(),
                Duration.ofSeconds(1),
                "",
                Clock.SYSTEM);
        try {
            Await.until(
                    "the service wrote its environment",
                    Duration.ofSeconds(50),
                    () -> Files.isRegularFile(out) && Files.size(out) > 0);
            assertEquals("x::marked\n", Files.readString(out));
            String stat = Files.readString(Path.of("/proc/" + s.pid() + "/stat"), StandardCharsets.US_ASCII);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(Long.toString(s.pid()), f[3], "setsid: the service leads a session of its own");
        } finally {
            s.requestStop();
            assertTrue(s.awaitStopped(Duration.ofSeconds(50)));
        }
    }

    @Test
    @Timeout(60)
    void requestStop_endsTheServiceAndItsStateDirectory() {
        Service s = Service.start("sleep 300", ENV, Posix.pid(), Duration.ofSeconds(1), "", Clock.SYSTEM);
        assertTrue(alive(s.pid()), "running");
        assertEquals(-1, s.exitCode(), "still running: no code");
        assertFalse(s.awaitStopped(Duration.ofMillis(100)), "nothing stops it before it is asked");
        s.requestStop();
        s.requestStop(); // asking twice is no error
        assertTrue(s.awaitStopped(Duration.ofSeconds(50)));
        Await.until("the service is gone", Duration.ofSeconds(50), () -> !alive(s.pid()));
    }

    @Test
    @Timeout(60)
    void theTaskEnding_stopsTheService() throws IOException {
        Process task = new ProcessBuilder("sleep", "300").start();
        Service s = Service.start("sleep 300", ENV, task.pid(), Duration.ofSeconds(1), "", Clock.SYSTEM);
        try {
            assertTrue(alive(s.pid()));
            task.destroyForcibly();
            Await.until("the service follows its task", Duration.ofSeconds(50), () -> !alive(s.pid()));
            assertTrue(s.awaitStopped(Duration.ofSeconds(50)));
        } finally {
            task.destroyForcibly();
            s.requestStop();
        }
    }

    @Test
    void startTicks_isField22OfStat_andAMissingProcessIsAnInternalError() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.US_ASCII);
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        assertEquals(f[19], Service.startTicks(ProcessHandle.current().pid()));
        MusterException e = assertThrows(MusterException.class, () -> Service.startTicks(Integer.MAX_VALUE));
        assertEquals(70, e.status());
        assertTrue(e.getMessage().endsWith("; --start needs /proc"), e.getMessage());
    }
}
