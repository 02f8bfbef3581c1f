package dev.muster.core;

/** The exit codes of DESIGN §7; the README carries the same table. */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int USAGE = 2;
    public static final int CORRUPT = 65;
    public static final int NOT_RESOLVED = 69;
    public static final int INTERNAL = 70;
    public static final int TIMEOUT = 75;
    public static final int PEER_ABORTED = 76;
    public static final int UNUSABLE_DIR = 77;
    public static final int IDENTITY = 78;
    public static final int NOT_EXECUTABLE = 126;
    public static final int NOT_FOUND = 127;

    private ExitCodes() {}
}
