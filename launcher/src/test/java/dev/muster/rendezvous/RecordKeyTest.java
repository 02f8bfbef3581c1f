package dev.muster.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.muster.core.Caller;
import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordKeyTest {
    @TempDir
    Path tmp;

    private Path keyFile(String name, String content, String perms) throws IOException {
        Path f = Files.writeString(tmp.resolve(name), content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }

    private Store store(RecordKey key) {
        return new Store(
                new CacheDir(tmp.resolve("cache").toString(), Caller.self()),
                dev.muster.testing.ManualClock.atEpochSeconds(1_000),
                key);
    }

    private RecordKey key(String name, String secret) throws IOException {
        return RecordKey.load(keyFile(name, secret + "\n", "rw-------"), Caller.self());
    }

    @Test
    void signed_roundTrip_andUnsignedBytesUnchanged() throws IOException {
        RecordKey k = key("k", "0123456789abcdef0123456789abcdef");
        Store.Registration reg = store(k).register("svc", "7", "s", "node1", 80, "http", "/p", 60, Map.of("a", "b"));
        assertEquals(reg.record(), store(k).resolve("svc").orElseThrow());
        String text = Files.readString(store(k).nameDir("svc").resolve(Store.LATEST));
        assertTrue(
                text.contains("  \"cache_dir\": ")
                        && text.matches("(?s).*\"cache_dir\": \"[^\"]*\",\n  \"muster_signature"
                                + "\": \"hmac-sha256:[0-9a-f]{64}\",\n  \"metadata\": \\{.*"),
                text);
        // hpc-compose's readers: the line reader finds what it found before; the JSON reader ignores the field
        Map<String, String> lines = new TreeMap<>(Conformance.lineReader(text));
        lines.remove("muster_signature");
        assertEquals(new TreeMap<>(Conformance.lineReader(reg.record().toJson())), lines);
        assertEquals(reg.record(), Record.parse(text, "f"));
        // without a key a client reads the signed record like any other
        assertEquals(reg.record(), store(null).resolve("svc").orElseThrow());
        // and without a key the bytes are exactly the unsigned contract bytes
        store(null).register("plain", "7", "s", "node1", 80, "http", "/p", 60, Map.of("a", "b"));
        assertEquals(
                Record.create(
                                "plain",
                                "7",
                                "s",
                                "node1",
                                80,
                                "http",
                                "/p",
                                1_000,
                                60,
                                tmp.resolve("cache").toString(),
                                Map.of("a", "b"))
                        .toJson(),
                Files.readString(store(null).nameDir("plain").resolve(Store.LATEST)));
    }

    @Test
    void keyedClient_refusesUnsigned_otherKey_andAltered() throws IOException {
        RecordKey mine = key("mine", "0123456789abcdef0123456789abcdef");
        RecordKey other = key("other", "fedcba9876543210fedcba9876543210");
        store(null).register("unsigned", "1", null, "h", 80, "http", null, 60, Map.of());
        store(other).register("foreign", "1", null, "h", 80, "http", null, 60, Map.of());
        store(mine).register("altered", "1", null, "h", 80, "http", null, 60, Map.of());
        Path altered = store(mine).nameDir("altered").resolve(Store.LATEST);
        Files.writeString(
                altered,
                Files.readString(altered)
                        .replace("\"h\"", "\"attacker\"")
                        .replace("http://h:80", "http://attacker:80"));
        assertRefused(() -> store(mine).resolve("unsigned"), "is not signed");
        assertRefused(() -> store(mine).resolve("foreign"), "does not match the key");
        assertRefused(() -> store(mine).resolve("altered"), "does not match the key");
        assertRefused(() -> store(mine).list(), "altered/latest.json has a signature"); // the first name
        // a signature copied with its record into another name's directory is still refused by the name rule
        store(mine).register("y", "1", null, "h", 80, "http", null, 60, Map.of());
        Path x = Files.createDirectories(store(mine).nameDir("x"));
        Files.copy(store(mine).nameDir("y").resolve(Store.LATEST), x.resolve(Store.LATEST));
        assertRefused(() -> store(mine).resolve("x"), "not the name of its directory");
    }

    private static void assertRefused(Runnable r, String expected) {
        MusterException e = assertThrows(MusterException.class, r::run);
        assertEquals(ExitCodes.CORRUPT, e.status(), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void keyFile_checkedLikeTheSyncDir() throws IOException {
        String secret = "0123456789abcdef0123456789abcdef";
        MusterException open = assertThrows(
                MusterException.class, () -> RecordKey.load(keyFile("world", secret, "rw-r--r--"), Caller.self()));
        assertEquals(ExitCodes.UNUSABLE_DIR, open.status());
        assertTrue(open.getMessage().contains("chmod o-rwx"), open.getMessage());
        Path mine = keyFile("mine", secret, "rw-------");
        MusterException foreign = assertThrows(
                MusterException.class,
                () -> RecordKey.load(mine, new Caller(Caller.self().uid() + 4242, Set.of(4242))));
        assertEquals(ExitCodes.UNUSABLE_DIR, foreign.status());
        assertTrue(foreign.getMessage().contains("neither yours nor one of your groups"), foreign.getMessage());
        int gid = (Integer) Files.getAttribute(mine, "unix:gid");
        RecordKey.load(
                keyFile("group", secret, "rw-r-----"), new Caller(Caller.self().uid() + 4242, Set.of(gid)));
        Files.createSymbolicLink(tmp.resolve("link"), mine);
        assertEquals(
                ExitCodes.UNUSABLE_DIR,
                assertThrows(MusterException.class, () -> RecordKey.load(tmp.resolve("link"), Caller.self()))
                        .status());
        for (String bad : List.of("short\n", "")) {
            assertEquals(
                    ExitCodes.USAGE,
                    assertThrows(
                                    MusterException.class,
                                    () -> RecordKey.load(keyFile("bad", bad, "rw-------"), Caller.self()))
                            .status());
        }
        assertEquals(
                ExitCodes.USAGE,
                assertThrows(MusterException.class, () -> RecordKey.load(tmp.resolve("absent"), Caller.self()))
                        .status());
        byte[] big = new byte[RecordKey.MAX_BYTES + 1];
        java.util.Arrays.fill(big, (byte) 'k');
        Path huge = Files.write(tmp.resolve("huge"), big);
        Files.setPosixFilePermissions(huge, PosixFilePermissions.fromString("rw-------"));
        assertEquals(
                ExitCodes.USAGE,
                assertThrows(MusterException.class, () -> RecordKey.load(huge, Caller.self()))
                        .status());
        assertEquals(32, secret.getBytes(StandardCharsets.US_ASCII).length);
    }
}
