package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** Opens the built agent jar: nothing of anyone else's may reach an application's class path. */
class AgentJarContentsIT {
    /** Every entry must start with one of these (or be a parent directory of one). */
    private static final List<String> ALLOWED = List.of("dev/muster/", "META-INF/");

    @Test
    void onlyMustersOwnPackagesAndMetaInf() throws Exception {
        List<String> outside = new ArrayList<>();
        List<String> unrelocated = new ArrayList<>();
        try (JarFile jar = new JarFile(Jvm.agentJar().toFile())) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                boolean allowed = ALLOWED.stream().anyMatch(p -> name.startsWith(p) || p.startsWith(name));
                if (!allowed) {
                    outside.add(name);
                }
                // relocation leaves META-INF/versions/N/<original package> as it was: none may remain
                if (name.matches("(META-INF/versions/\\d+/)?(net/bytebuddy|com/fasterxml|org/slf4j)/.*")) {
                    unrelocated.add(name);
                }
                if (name.startsWith("dev/muster/cli/")) {
                    outside.add(name + " (the launcher's CLI)");
                }
            }
        }
        assertEquals(List.of(), outside, "entries outside the allow-list " + ALLOWED);
        assertEquals(List.of(), unrelocated, "unrelocated third-party classes");
    }

    @Test
    void manifest_premainOnly_noClassPath() throws Exception {
        try (JarFile jar = new JarFile(Jvm.agentJar().toFile())) {
            Attributes main = jar.getManifest().getMainAttributes();
            assertEquals("dev.muster.agent.AgentMain", main.getValue("Premain-Class"));
            assertNull(main.getValue("Class-Path"), "Class-Path");
            // the jar's own name: the bootstrap loader then loads (and does not verify) the agent's classes
            assertEquals(
                    Jvm.agentJar().getFileName().toString(),
                    main.getValue("Boot-Class-Path"),
                    "Boot-Class-Path names the jar itself");
            assertNull(main.getValue("Agent-Class"), "no agentmain is implemented");
            assertNull(main.getValue("Main-Class"), "byte-buddy's Main-Class must not survive the shading");
            assertEquals("true", main.getValue("Can-Retransform-Classes"));
            assertTrue(
                    jar.getEntry("dev/muster/agent/shaded/bytebuddy/agent/builder/AgentBuilder.class") != null,
                    "byte-buddy is relocated under dev.muster.agent.shaded");
        }
    }
}
