package dev.muster.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Posix;
import dev.muster.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Signal names and numbers (Linux x86-64 and arm64), and a real signal to this JVM reaching a handler. */
class SignalsTest {
    @Test
    void numbersAndNames_areLinuxs_andUnknownOnesSaySo() {
        String[] names = {
            "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
            "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
            "WINCH", "IO", "PWR", "SYS"
        };
        for (int n = 1; n <= 31; n++) {
            assertEquals(n, Signals.number(names[n - 1]), names[n - 1]);
            assertEquals(names[n - 1], Signals.name(n));
        }
        assertEquals(-1, Signals.number("NOPE"));
        assertNull(Signals.name(0));
        assertNull(Signals.name(32));
    }

    @Test
    void handle_receivesASignalSentToThisProcess() {
        List<String> got = new CopyOnWriteArrayList<>();
        assertTrue(Signals.handle("WINCH", got::add));
        Signals.send(Posix.pid(), "WINCH");
        Await.until("WINCH reaches the handler", Duration.ofSeconds(30), () -> got.contains("WINCH"));
        assertTrue(Signals.restoreOriginal("WINCH"));
        assertTrue(Signals.restoreOriginal("XFSZ"), "never handled: left alone");
    }
}
