package dev.muster.property;

import java.util.Random;

/**
 * Seeded generation for the property and fuzz tests: every failure names the seed, and
 * {@code -Dmuster.seed=N} replays it. Plain JUnit and {@link Random} instead of a property-testing library: the
 * cases here are small and a seed is all a replay needs.
 */
final class Gen {
    /** The run's seed: {@code -Dmuster.seed}, else a fixed one, so that the normal suite is reproducible. */
    static long seed() {
        return Long.getLong("muster.seed", 0x6d75737465L);
    }

    private static final String ALPHABET =
            "abzAZ09._-/ \\\"=\n\r\t\u0000\u001b\u007f\u00e9\u2028\u202e\ud83d\ude00:,{}[]%$'`";

    private Gen() {}

    /** A string of up to {@code max} characters drawn mostly from the characters that break parsers and lines. */
    static String string(Random r, int max) {
        int n = r.nextInt(max + 1);
        StringBuilder b = new StringBuilder(n);
        while (b.length() < n) {
            int pick = r.nextInt(10);
            if (pick < 7) {
                char c = ALPHABET.charAt(r.nextInt(ALPHABET.length()));
                if (Character.isHighSurrogate(c)) {
                    b.append("\ud83d\ude00");
                } else if (!Character.isLowSurrogate(c)) {
                    b.append(c);
                }
            } else if (pick < 9) {
                b.append((char) (' ' + r.nextInt(95)));
            } else {
                b.appendCodePoint(0x80 + r.nextInt(0x2000));
            }
        }
        return b.toString();
    }

    /** {@link #string} without the characters a record's printed fields may not hold (SafeText.unsafe). */
    static String printable(Random r, int max) {
        String s = string(r, max);
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            if (!dev.muster.core.SafeText.unsafe(s, i)) {
                b.append(s.charAt(i));
            }
        }
        return b.toString();
    }

    /** A valid rendezvous name. */
    static String name(Random r) {
        String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        while (true) {
            int n = 1 + r.nextInt(20);
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < n; i++) {
                b.append(chars.charAt(r.nextInt(chars.length())));
            }
            String s = b.toString();
            if (!s.equals(".") && !s.equals("..")) {
                return s;
            }
        }
    }

    /** {@code text} with one to four random edits: flips, deletions, insertions, duplications, a cut. */
    static String mutate(Random r, String text) {
        StringBuilder b = new StringBuilder(text);
        int edits = 1 + r.nextInt(4);
        for (int e = 0; e < edits && b.length() > 0; e++) {
            int at = r.nextInt(b.length());
            switch (r.nextInt(6)) {
                case 0 -> b.setCharAt(at, (char) (b.charAt(at) ^ (1 << r.nextInt(7))));
                case 1 -> b.deleteCharAt(at);
                case 2 -> b.insert(at, string(r, 3));
                case 3 -> b.insert(at, b.substring(at, Math.min(b.length(), at + 1 + r.nextInt(40))));
                case 4 -> b.setLength(at);
                default -> b.insert(at, "\"\\u" + Integer.toHexString(r.nextInt(0x10000)));
            }
        }
        return b.toString();
    }
}
