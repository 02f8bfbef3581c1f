package dev.muster.it;

import java.util.Map;
import java.util.TreeMap;

/** The syscall table of {@code strace -c}. */
final class StraceCounts {
    private StraceCounts() {}

    /** syscall → calls. */
    static Map<String, Long> parse(String out) {
        Map<String, Long> m = new TreeMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            // % time, seconds, usecs/call, calls, [errors,] syscall
            if (f.length < 5 || !f[0].matches("[0-9.]+") || f[f.length - 1].equals("total")) {
                continue;
            }
            m.put(f[f.length - 1], Long.parseLong(f[3]));
        }
        return m;
    }

    /** Calls of the stat family. */
    static long stats(Map<String, Long> calls) {
        long n = 0;
        for (String s : new String[] {"stat", "lstat", "fstat", "newfstatat", "statx", "fstatat64"}) {
            n += calls.getOrDefault(s, 0L);
        }
        return n;
    }
}
