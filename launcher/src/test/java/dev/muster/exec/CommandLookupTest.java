package dev.muster.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pre-flight lookup of the program, as execvp searches: 127 not found, 126 not executable, else its path. */
class CommandLookupTest {
    @TempDir
    Path tmp;

    private Path file(String dir, String name, String mode) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(dir));
        Path f = Files.writeString(d.resolve(name), "#!/bin/sh\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private CommandLookup.Result find(String command, String... dirs) {
        StringBuilder path = new StringBuilder();
        for (String d : dirs) {
            path.append(path.length() > 0 || d.isEmpty() ? ":" : "")
                    .append(d.isEmpty() ? "" : tmp.resolve(d).toString());
        }
        return CommandLookup.find(command, Map.of("PATH", path.toString()));
    }

    @Test
    void searchesPathInOrder_skippingANonExecutableForALaterExecutable() throws IOException {
        file("a", "app", "rw-r--r--");
        Path b = file("b", "app", "rwxr-xr-x");
        file("c", "app", "rwxr-xr-x");
        CommandLookup.Result r = find("app", "none", "a", "b", "c");
        assertTrue(r.ok());
        assertEquals(0, r.code());
        assertEquals(b, r.path());
        assertEquals("", r.problem());
    }

    @Test
    void onlyNonExecutableOrDirectoryCandidates_is126_namingTheFirst() throws IOException {
        Path a = file("a", "app", "rw-r--r--");
        file("b", "app", "rw-r--r--");
        CommandLookup.Result r = find("app", "a", "b");
        assertFalse(r.ok());
        assertEquals(126, r.code());
        assertNull(r.path());
        assertEquals("command app is not executable: " + a + "; chmod +x it", r.problem());
        Files.createDirectories(tmp.resolve("d/app"));
        CommandLookup.Result dir = find("app", "d", "a");
        assertEquals(126, dir.code());
        assertEquals("command app is a directory: " + tmp.resolve("d/app"), dir.problem());
    }

    @Test
    void nowhereOnPath_is127() {
        CommandLookup.Result r = find("app", "a", "b");
        assertFalse(r.ok());
        assertEquals(127, r.code());
        assertEquals("command not found: app (not in PATH); check the name, or give its path", r.problem());
        CommandLookup.Result empty = CommandLookup.find("", Map.of());
        assertEquals(127, empty.code());
        assertEquals("the command is an empty string", empty.problem());
    }

    @Test
    void withoutPath_searchesTheDefault_andAnEmptyEntryIsTheWorkingDirectory() {
        CommandLookup.Result sh = CommandLookup.find("sh", Map.of());
        assertTrue(sh.ok(), sh.toString());
        assertTrue(sh.path().toString().matches("/(usr/)?bin/sh"), sh.path().toString());
        // the working directory of the tests is the module's directory, which holds pom.xml (not executable)
        CommandLookup.Result cwd = CommandLookup.find("pom.xml", Map.of("PATH", ":/nonexistent"));
        assertEquals(126, cwd.code());
        assertEquals(
                "command pom.xml is not executable: " + Path.of("pom.xml").toAbsolutePath() + "; chmod +x it",
                cwd.problem());
    }

    @Test
    void aCommandWithASlash_isNotSearched() throws IOException {
        Path app = file("a", "app", "rwxr-xr-x");
        CommandLookup.Result r = CommandLookup.find(app.toString(), Map.of("PATH", "/nonexistent"));
        assertTrue(r.ok());
        assertEquals(app, r.path());
        Path missing = tmp.resolve("a/none");
        CommandLookup.Result gone = CommandLookup.find(missing.toString(), Map.of());
        assertEquals(127, gone.code());
        assertEquals("command not found: " + missing + " (no such file " + missing + ")", gone.problem());
        CommandLookup.Result relative = CommandLookup.find("./pom.xml", Map.of());
        assertEquals(126, relative.code(), "./pom.xml is taken as a path, not searched");
    }
}
