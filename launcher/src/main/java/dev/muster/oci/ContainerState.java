package dev.muster.oci;

import dev.muster.core.MusterException;
import dev.muster.json.JsonException;
import dev.muster.json.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * The container state that an OCI runtime writes on a hook's stdin (runtime-spec "State"): {@code ociVersion},
 * {@code id}, {@code status}, {@code pid}, {@code bundle}, {@code annotations}. Only {@code bundle} is required;
 * the rest is for messages.
 */
public record ContainerState(String id, Path bundle) {
    /** A real state is a few hundred bytes; annotations may add some. More is not a state. */
    public static final int MAX_BYTES = 64 * 1024;

    /** Reads and checks the state; every problem is one line and exit 65, never a stack trace or a hang. */
    public static ContainerState read(InputStream in, int limit) {
        byte[] bytes = readBounded(in, limit);
        String text = utf8(bytes);
        if (text.isBlank()) {
            throw bad("is empty; muster hook must be run by an OCI runtime (runc, crun, Sarus, Podman), which writes "
                    + "the container state as JSON on the hook's stdin");
        }
        Object v;
        try {
            v = JsonParser.parse(text);
        } catch (JsonException e) {
            throw bad("is not JSON (" + e.getMessage() + "); muster hook expects the OCI container state");
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw bad("is not a JSON object; muster hook expects the OCI container state");
        }
        Object b = m.get("bundle");
        if (!(b instanceof String bundle) || bundle.isEmpty()) {
            throw bad("has no \"bundle\" string; muster hook expects the OCI container state (runtime-spec)");
        }
        if (bundle.indexOf('\0') >= 0 || !bundle.startsWith("/")) {
            throw bad("has a \"bundle\" that is not an absolute path: " + Text.safe(bundle));
        }
        Object id = m.get("id");
        return new ContainerState(
                id instanceof String s ? s : "?", Path.of(bundle).normalize());
    }

    private static byte[] readBounded(InputStream in, int limit) {
        try {
            byte[] bytes = in.readNBytes(limit + 1);
            if (bytes.length > limit) {
                throw bad("is larger than " + limit / 1024 + " KiB; that is no OCI container state");
            }
            return bytes;
        } catch (IOException e) {
            throw bad("cannot be read (" + e.getMessage() + ")");
        }
    }

    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw bad("is not UTF-8; muster hook expects the OCI container state as JSON");
        }
    }

    private static MusterException bad(String what) {
        return MusterException.corrupt("hook: the container state on stdin " + what);
    }
}
