package dev.muster.rendezvous;

import dev.muster.core.Caller;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.SafeText;
import dev.muster.core.SharedFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A project's shared secret for signed records ({@code --key-file}, {@code MUSTER_RDZV_KEY_FILE}): providers that
 * hold it add an HMAC-SHA256 over the record's fields, and clients that hold it accept only records whose HMAC
 * matches. Whoever can write the cache directory but lacks the key can still delete or replay records (a replayed
 * record expires by its own registered_at), but can no longer make a client connect where they choose.
 *
 * <p>What is signed: a version tag and the record's contract bytes without the signature, i.e. every field as
 * muster writes them (metadata sorted), so a reader recomputes the same bytes from the parsed fields. The key file
 * is checked like the directories it guards: a regular file (no link, no FIFO), owned by the caller or by one of
 * the caller's groups, and neither readable nor writable by others.
 */
public final class RecordKey {
    /** Enough entropy for HMAC-SHA256 from e.g. {@code head -c 32 /dev/urandom | base64}. */
    static final int MIN_BYTES = 16;

    static final int MAX_BYTES = 4096;
    private static final String PREFIX = "hmac-sha256:";
    private static final byte[] DOMAIN = "muster-rendezvous-record-v1\n".getBytes(StandardCharsets.US_ASCII);

    private final Path file;
    private final byte[] key;

    private RecordKey(Path file, byte[] key) {
        this.file = file;
        this.key = key;
    }

    public Path file() {
        return file;
    }

    /** The environment variable that names the key file when no flag does. */
    public static final String ENV = "MUSTER_RDZV_KEY_FILE";

    /**
     * The key named by {@code flag}, else by {@link #ENV}; null when neither names one (records unsigned, as
     * hpc-compose writes them).
     */
    public static RecordKey choose(String flag, Map<String, String> env, Caller caller) {
        String f = flag != null ? flag : env.get(ENV);
        if (f == null) {
            return null;
        }
        if (f.isEmpty()) {
            throw MusterException.usage((flag != null ? "--key-file" : ENV) + " is empty; give the path of the"
                    + " project's rendezvous key file or leave it unset");
        }
        return load(Path.of(f).toAbsolutePath(), caller);
    }

    /** For tests and for the soak: a key held in memory. */
    static RecordKey of(Path file, byte[] key) {
        return new RecordKey(file, key.clone());
    }

    /**
     * Reads and checks the key file.
     *
     * @throws MusterException (usage) when it is missing, empty or too short; (unusable) when a link, not a
     *         regular file, owned by someone else or open to others
     */
    public static RecordKey load(Path file, Caller caller) {
        byte[] bytes;
        try (FileChannel ch = SharedFiles.openRegular(file)) {
            checkOwnerAndMode(file, caller);
            ByteBuffer buf = ByteBuffer.allocate(MAX_BYTES + 1);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // bounded: a key is short
            }
            if (!buf.hasRemaining()) {
                throw MusterException.usage("rendezvous key file " + file + " is larger than " + MAX_BYTES
                        + " bytes; a key is e.g. 32 random bytes, base64: head -c 32 /dev/urandom | base64");
            }
            bytes = Arrays.copyOf(buf.array(), buf.position());
        } catch (NoSuchFileException e) {
            throw MusterException.usage("rendezvous key file " + file + " does not exist; create one with umask 077: "
                    + "head -c 32 /dev/urandom | base64 > " + file);
        } catch (SharedFiles.NotRegularFile e) {
            throw MusterException.unusableDir("rendezvous key file " + file + " is " + e.kind()
                    + ", not a regular file; point --key-file at the key itself");
        } catch (IOException e) {
            throw MusterException.unusableDir(
                    "cannot read rendezvous key file " + file + " (" + CacheDir.reason(e) + "); check its permissions");
        }
        int n = bytes.length;
        while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r' || bytes[n - 1] == ' ')) {
            n--; // `echo key > file` adds a newline that is no part of the key
        }
        if (n < MIN_BYTES) {
            throw MusterException.usage("rendezvous key file " + file + " holds " + n + " bytes, fewer than "
                    + MIN_BYTES + "; make a key with head -c 32 /dev/urandom | base64 > " + file);
        }
        return new RecordKey(file, Arrays.copyOf(bytes, n));
    }

    private static void checkOwnerAndMode(Path file, Caller caller) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
        int uid = (Integer) a.get("uid");
        int gid = (Integer) a.get("gid");
        int mode = (Integer) a.get("mode");
        boolean mine = uid == caller.uid();
        boolean groupTrusted = caller.groups().contains(gid);
        if (!mine && !groupTrusted) {
            throw MusterException.unusableDir("rendezvous key file " + file + " belongs to uid " + uid + " and gid "
                    + gid + ", neither yours nor one of your groups; use a key file you or your project group own");
        }
        if ((mode & 0007) != 0) {
            throw new MusterException(
                    ExitCodes.UNUSABLE_DIR,
                    "rendezvous key file " + file + " is open to others" + " (mode "
                            + Integer.toOctalString(mode & 07777) + "); chmod o-rwx " + file);
        }
        if ((mode & 0020) != 0 && !groupTrusted) {
            throw MusterException.unusableDir("rendezvous key file " + file + " is writable by group " + gid
                    + ", not one of yours; chmod g-w " + file);
        }
    }

    /** The signature field's value for {@code r}. */
    public String sign(Record r) {
        return PREFIX + HexFormat.of().formatHex(mac(r));
    }

    /**
     * Accepts {@code s} only when it carries a signature that this key made over exactly these fields.
     *
     * @throws MusterException (corrupt) naming the file and what is wrong
     */
    public Record verify(Record.Signed s, Path source) {
        if (s.signature() == null) {
            throw MusterException.corrupt("rendezvous record " + source + " is not signed, and the key " + file
                    + " asks for signed records; have the provider register with the same --key-file");
        }
        byte[] given = null;
        if (s.signature().startsWith(PREFIX) && s.signature().length() == PREFIX.length() + 64) {
            try {
                given = HexFormat.of()
                        .parseHex(s.signature(), PREFIX.length(), s.signature().length());
            } catch (IllegalArgumentException e) {
                given = null;
            }
        }
        if (given == null) {
            throw MusterException.corrupt("rendezvous record " + source + " has a malformed " + Record.SIGNATURE_FIELD
                    + " " + SafeText.quote(s.signature()) + "; have the provider register again");
        }
        if (!MessageDigest.isEqual(given, mac(s.record()))) {
            throw MusterException.corrupt("rendezvous record " + source + " has a signature that does not match the"
                    + " key " + file + " (signed with another key, or altered since); have the provider register"
                    + " again with the project's key");
        }
        return s.record();
    }

    private byte[] mac(Record r) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(DOMAIN);
            return mac.doFinal(r.toJson().getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw MusterException.internal("HMAC-SHA256 is not available in this Java: " + e, e);
        }
    }
}
