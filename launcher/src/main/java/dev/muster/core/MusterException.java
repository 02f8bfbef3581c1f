package dev.muster.core;

/**
 * The one failure type of muster: an exit status and a one-line message that names the input and the fix.
 * Thrown anywhere, turned into a line on stderr and {@code System.exit} once, in {@code Main}.
 */
public final class MusterException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public MusterException(int status, String message) {
        this(status, message, null);
    }

    public MusterException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static MusterException usage(String message) {
        return new MusterException(ExitCodes.USAGE, message);
    }

    public static MusterException corrupt(String message) {
        return new MusterException(ExitCodes.CORRUPT, message);
    }

    public static MusterException unusableDir(String message) {
        return new MusterException(ExitCodes.UNUSABLE_DIR, message);
    }

    public static MusterException identity(String message) {
        return new MusterException(ExitCodes.IDENTITY, message);
    }

    public static MusterException internal(String message, Throwable cause) {
        return new MusterException(ExitCodes.INTERNAL, message, cause);
    }
}
