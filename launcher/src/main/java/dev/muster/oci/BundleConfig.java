package dev.muster.oci;

import dev.muster.json.JsonException;
import dev.muster.json.JsonParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the hook needs from a bundle's {@code config.json}: the container process's environment (where the Slurm
 * variables are, as the Sarus hook reads them) and its user ({@code process.user}: whose files the hook creates).
 *
 * @param hasProcess false when the config has no {@code process}: then there is no task to hold
 */
public record BundleConfig(Path file, Map<String, String> env, ContainerUser user, boolean hasProcess) {

    public BundleConfig {
        env = Map.copyOf(env);
    }

    public static BundleConfig read(Path bundle) {
        Path file = bundle.resolve("config.json");
        return parse(file, ContainerState.utf8(ConfigFile.read(file, ConfigFile.MAX_BYTES)));
    }

    static BundleConfig parse(Path file, String text) {
        Object v;
        try {
            v = JsonParser.parse(text);
        } catch (JsonException e) {
            // the position only: the file may be one the user pointed root at, so its bytes are not echoed
            throw ConfigFile.bad(file, "is not valid JSON (" + e.getMessage().replaceAll("'.*'", "'...'") + ")");
        }
        if (!(v instanceof Map<?, ?> root)) {
            throw ConfigFile.bad(file, "is not a JSON object");
        }
        Object p = root.get("process");
        if (p == null) {
            return new BundleConfig(file, Map.of(), ContainerUser.NONE, false);
        }
        if (!(p instanceof Map<?, ?> process)) {
            throw ConfigFile.bad(file, "has a \"process\" that is not an object");
        }
        return new BundleConfig(file, env(file, process.get("env")), user(file, process.get("user")), true);
    }

    /** {@code NAME=VALUE} strings, as execve takes them; a later duplicate wins, as in {@code System.getenv()}. */
    private static Map<String, String> env(Path file, Object v) {
        Map<String, String> env = new LinkedHashMap<>();
        if (v == null) {
            return env;
        }
        if (!(v instanceof List<?> list)) {
            throw ConfigFile.bad(file, "has a \"process.env\" that is not a list of strings");
        }
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw ConfigFile.bad(file, "has a \"process.env\" entry that is not a string");
            }
            int eq = s.indexOf('=');
            if (eq > 0) {
                env.put(s.substring(0, eq), s.substring(eq + 1));
            }
        }
        return env;
    }

    private static ContainerUser user(Path file, Object v) {
        if (v == null) {
            return ContainerUser.NONE;
        }
        if (!(v instanceof Map<?, ?> u)) {
            throw ConfigFile.bad(file, "has a \"process.user\" that is not an object");
        }
        int uid = id(file, "process.user.uid", u.get("uid"));
        int gid = id(file, "process.user.gid", u.get("gid"));
        List<Integer> groups = new ArrayList<>();
        Object g = u.get("additionalGids");
        if (g != null) {
            if (!(g instanceof List<?> list)) {
                throw ConfigFile.bad(file, "has a \"process.user.additionalGids\" that is not a list of ids");
            }
            for (Object o : list) {
                groups.add(id(file, "process.user.additionalGids", o));
            }
        }
        return new ContainerUser(uid, gid, groups);
    }

    private static int id(Path file, String field, Object v) {
        if (v == null) {
            return 0; // runtime-spec: uid and gid default to 0 where a runtime allows leaving them out
        }
        if (!(v instanceof Long n) || n < 0 || n > 0xfffffffeL) {
            throw ConfigFile.bad(file, "has a \"" + field + "\" that is not a user or group id");
        }
        return (int) (long) n;
    }
}
