package dev.muster.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The agent jar next to an application with its own, different Jackson and SLF4J. */
class AgentClassPathIT {
    @Test
    void applicationKeepsItsOwnJacksonAndSlf4j() throws Exception {
        String libs;
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("muster.app.libs", "target/app-libs")))) {
            libs = s.map(Path::toString).sorted().collect(Collectors.joining(File.pathSeparator));
        }
        // the agent jar alone on the class path, and as an agent on the byte-buddy path (it loads the most)
        for (String agent : new String[] {null, "arrive=bind"}) {
            Jvm jvm = new Jvm(Jvm.JAVA25);
            if (agent != null) {
                jvm.agent(agent);
            }
            jvm.arg(
                    "-cp",
                    Jvm.classPath(Jvm.agentJar().toString(), Jvm.testClasses(), libs),
                    "dev.muster.agent.apps.OwnLibs");
            assertEquals(0, jvm.run(30), jvm::toString);
            assertTrue(jvm.out().contains("json {\"k\":\"v\"}"), jvm::toString);
            assertTrue(jvm.out().contains("jackson-databind-2.17.2.jar"), jvm::toString);
            assertTrue(jvm.out().contains("slf4j org.slf4j.simple.SimpleLoggerFactory"), jvm::toString);
            assertTrue(jvm.err().contains("slf4j works"), jvm::toString);
        }
    }
}
