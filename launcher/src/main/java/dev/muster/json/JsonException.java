package dev.muster.json;

/** Malformed JSON: the message says what was expected and where (line and column, 1-based). */
public final class JsonException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean endOfInput;

    JsonException(String message, boolean endOfInput) {
        super(message);
        this.endOfInput = endOfInput;
    }

    /**
     * True when the text stopped before the value was complete. A reader that raced a writer (a short read on
     * a shared file system) sees exactly this, so it may retry instead of calling the file corrupt.
     */
    public boolean endOfInput() {
        return endOfInput;
    }
}
