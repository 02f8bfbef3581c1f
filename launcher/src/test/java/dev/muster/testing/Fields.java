package dev.muster.testing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** {@code k=v k=v} output (trace lines, probe output, doctor's report) as maps. */
public final class Fields {
    private Fields() {}

    /** Parses {@code k=v k=v} words (trace lines, probe output). */
    public static Map<String, String> fields(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String w : line.trim().split("\\s+")) {
            int eq = w.indexOf('=');
            if (eq > 0) {
                m.put(w.substring(0, eq), w.substring(eq + 1));
            }
        }
        return m;
    }

    /** Lines of {@code text} that start with {@code prefix}, as field maps. */
    public static List<Map<String, String>> records(String text, String prefix) {
        return text.lines()
                .filter(l -> l.startsWith(prefix))
                .map(Fields::fields)
                .collect(Collectors.toList());
    }
}
