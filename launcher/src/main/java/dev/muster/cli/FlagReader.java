package dev.muster.cli;

/** Reads one of a command's own options from {@link Args}; false when {@code flag} is not one of them. */
interface FlagReader {
    boolean read(String flag, Args a);
}
