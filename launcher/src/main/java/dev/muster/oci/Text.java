package dev.muster.oci;

/** Strings from the container's files, made safe for one line on a terminal: no control characters, bounded. */
final class Text {
    private Text() {}

    static String safe(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return s.length() > 200 ? b + "..." : b.toString();
    }
}
