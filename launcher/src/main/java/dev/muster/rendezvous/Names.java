package dev.muster.rendezvous;

import dev.muster.core.MusterException;

/** Rendezvous names: one safe path component, with hpc-compose's messages in hpc-compose's order. */
public final class Names {
    private Names() {}

    /** @throws MusterException (usage) with the first rule {@code name} breaks */
    public static void validate(String name) {
        if (name == null || name.isBlank()) {
            throw MusterException.usage("rendezvous name must not be empty");
        }
        if (name.equals(".") || name.equals("..")) {
            throw MusterException.usage("rendezvous name must not be '.' or '..'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == '-';
            if (!ok) {
                throw MusterException.usage(
                        "rendezvous name must contain only ASCII letters, digits, '.', '_', or '-'");
            }
        }
    }

    /**
     * The environment token of a name: ASCII letters and digits upper-cased, everything else {@code _}, and
     * {@code _} for an empty name.
     */
    public static String envToken(String name) {
        if (name.isEmpty()) {
            return "_";
        }
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if ((c >= 'a' && c <= 'z')) {
                b.append((char) (c - 'a' + 'A'));
            } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
                b.append(c);
            } else {
                b.append('_');
            }
        }
        return b.toString();
    }

    /** A history file's token: characters outside {@code [A-Za-z0-9_.-]} become {@code _}. */
    static String fileToken(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == '-';
            b.append(ok ? c : '_');
        }
        return b.toString();
    }
}
