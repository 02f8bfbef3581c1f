package dev.muster.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java 17-21 fallback in this JVM: the program runs as a real child with the given environment, its exit code
 * is returned after the after-child hook, and a signal sent to muster reaches the child.
 */
class ChildExecTest {
    @TempDir
    Path tmp;

    @AfterEach
    void giveSignalsBack() {
        Signals.restoreOriginal(Signals.FORWARDED);
    }

    @Test
    @Timeout(60)
    void exitCode_isTheChilds_afterTheHookRan_withOnlyTheGivenEnvironment() throws Exception {
        AtomicBoolean hook = new AtomicBoolean();
        Path out = tmp.resolve("env");
        int code = ChildExec.run(
                "/bin/sh",
                List.of("sh", "-c", "echo \"$ONLY:$HOME\" > \"$OUT\"; exit 3"),
                Map.of("ONLY", "x", "OUT", out.toString()),
                () -> hook.set(true));
        assertEquals(3, code);
        assertTrue(hook.get());
        assertEquals("x:\n", Files.readString(out), "nothing but the given environment");
        assertEquals(0, ChildExec.run("/bin/sh", List.of("ignored", "-c", "exit 0"), Map.of(), () -> {
            throw new IllegalStateException("a failing hook is only a warning");
        }));
    }

    @Test
    void aProgramThatCannotStart_is126() {
        MusterException e =
                assertThrows(MusterException.class, () -> ChildExec.run(tmp.toString(), List.of("x"), Map.of(), null));
        assertEquals(126, e.status());
        assertTrue(e.getMessage().startsWith("cannot start " + tmp + ": "), e.getMessage());
    }

    @Test
    @Timeout(60)
    void usr1ToMuster_isForwardedToTheChild() throws Exception {
        Path ready = tmp.resolve("ready");
        String script = "trap 'exit 7' USR1; : > \"$READY\"; i=0; while [ $i -lt 500 ]; do sleep 0.1; i=$((i+1)); "
                + "done; exit 9";
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> ChildExec.run(
                "/bin/sh",
                List.of("sh", "-c", script),
                Map.of("READY", ready.toString(), "PATH", "/usr/bin:/bin"),
                null));
        Await.until("the child has set its trap", Duration.ofSeconds(50), () -> Files.exists(ready));
        Signals.send(Posix.pid(), "USR1");
        assertEquals(7, code.get(55, TimeUnit.SECONDS));
    }
}
