package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short soak that CI runs: {@code scripts/soak --count 300 --real 40} (real {@code muster local} steps and
 * in-process barriers, each with a fault), and not one early release, hung task, wrong exit code or leftover.
 */
class SoakIT {
    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void soak300_nothingReleasedEarly_nothingHung_noWrongCode_noLeftovers() throws Exception {
        Path rootDir = Path.of(System.getProperty("muster.root", ".."));
        Path script = rootDir.resolve("scripts/soak");
        assumeTrue(Files.isExecutable(script), "needs scripts/soak (-Dmuster.root)");
        Process p = new ProcessBuilder(
                        script.toString(),
                        "--count",
                        "300",
                        "--real",
                        "40",
                        "--seed",
                        Long.toString(System.currentTimeMillis()))
                .redirectErrorStream(false)
                .start();
        p.getOutputStream().close();
        byte[] err = p.getErrorStream().readAllBytes();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Map<String, String> counters = new TreeMap<>();
        out.lines()
                .filter(l -> l.contains("="))
                .forEach(l -> counters.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        String all = out
                + new String(err, StandardCharsets.UTF_8)
                        .lines()
                        .filter(l -> l.startsWith("soak:"))
                        .reduce("", (a, b) -> a + "\n" + b);
        assertEquals("300", counters.get("barriers"), all); // harness_errors below: none may go uncounted
        assertEquals("40", counters.get("real_steps"), all);
        for (String zero : new String[] {"early_releases", "hung", "wrong_code", "leftovers", "harness_errors"}) {
            assertEquals("0", counters.get(zero), zero + ": " + all);
        }
        assertTrue(p.exitValue() == 0, all);
    }
}
