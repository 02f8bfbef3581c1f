package dev.muster.task;

import java.util.ArrayList;
import java.util.List;

/** Slurm's compact list notations: task counts "2(x3),1" and host lists "n[1-3,5],login". */
public final class SlurmLists {
    private SlurmLists() {}

    /** "2(x3),1" → [2, 2, 2, 1]. */
    public static List<Integer> expandCounts(String spec) {
        List<Integer> out = new ArrayList<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String part : spec.trim().split(",")) {
            int paren = part.indexOf("(x");
            if (paren < 0) {
                out.add(Integer.parseInt(part.trim()));
            } else {
                int count = Integer.parseInt(part.substring(0, paren).trim());
                int times = Integer.parseInt(
                        part.substring(paren + 2, part.indexOf(')')).trim());
                for (int i = 0; i < times; i++) {
                    out.add(count);
                }
            }
        }
        return out;
    }

    /** "n[1-3,05],login" → [n1, n2, n3, n05, login]; zero padding is kept. */
    public static List<String> expandHosts(String spec) {
        List<String> out = new ArrayList<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        int depth = 0;
        int start = 0;
        for (int i = 0; i <= spec.length(); i++) {
            char c = i < spec.length() ? spec.charAt(i) : ',';
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                expandOne(spec.substring(start, i).trim(), out);
                start = i + 1;
            }
        }
        return out;
    }

    private static void expandOne(String host, List<String> out) {
        int open = host.indexOf('[');
        if (open < 0) {
            if (!host.isEmpty()) {
                out.add(host);
            }
            return;
        }
        int close = host.indexOf(']', open);
        String prefix = host.substring(0, open);
        String suffix = host.substring(close + 1);
        for (String range : host.substring(open + 1, close).split(",")) {
            int dash = range.indexOf('-');
            if (dash < 0) {
                expandOne(prefix + range + suffix, out);
                continue;
            }
            String lo = range.substring(0, dash);
            String hi = range.substring(dash + 1);
            int width = lo.length();
            for (int n = Integer.parseInt(lo); n <= Integer.parseInt(hi); n++) {
                String num = Integer.toString(n);
                while (num.length() < width) {
                    num = "0" + num;
                }
                expandOne(prefix + num + suffix, out);
            }
        }
    }
}
