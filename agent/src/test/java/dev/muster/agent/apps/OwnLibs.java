package dev.muster.agent.apps;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** An application with its own Jackson and SLF4J: both must keep working next to the agent jar. */
public final class OwnLibs {
    private OwnLibs() {}

    public static void main(String[] args) throws Exception {
        Logger log = LoggerFactory.getLogger(OwnLibs.class);
        log.info("slf4j works");
        String json = new ObjectMapper().writeValueAsString(Map.of("k", "v"));
        System.out.println("json " + json);
        System.out.println("jackson "
                + ObjectMapper.class.getProtectionDomain().getCodeSource().getLocation());
        System.out.println(
                "slf4j " + LoggerFactory.getILoggerFactory().getClass().getName());
    }
}
