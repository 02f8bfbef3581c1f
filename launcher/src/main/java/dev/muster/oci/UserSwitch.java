package dev.muster.oci;

import dev.muster.core.ExitCodes;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.json.Json;
import dev.muster.json.JsonException;
import dev.muster.json.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The runtime runs hooks as root; the barrier's files must be the container user's (docs/oci-hook.md). The hook
 * does not create files as root and chown them: root working inside a directory tree that the user owns can be
 * steered by the user (a component swapped for a symbolic link between a check and a create or chown puts root's
 * file anywhere). It drops to the user first: the parent, as root, has read the state and config.json; it starts
 * itself again under {@code setpriv} with the container user's uid, gid and groups, hands over what it read on
 * the child's stdin (one JSON line, never through the child's environment, which the JVM would read), keeps that
 * pipe open while the child waits, and exits with the child's code. The barrier code then runs exactly as in
 * {@code muster barrier}: its ownership checks compare against the process's own uid. The child watches the
 * pipe: if the runtime kills the parent (its hook timeout), the child aborts the step at once, so the other
 * tasks fail now rather than at their deadline.
 */
public final class UserSwitch {
    private static final List<String> SETPRIV = List.of("/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv");

    private UserSwitch() {}

    /** What the parent hands to the child. */
    public record Handover(int uid, String containerId, Map<String, String> env) {
        public Handover {
            env = Map.copyOf(env);
        }

        String encode() {
            StringJoiner e = new StringJoiner(",", "{", "}");
            // sorted: the same handover gives the same bytes
            new java.util.TreeMap<>(env).forEach((k, v) -> e.add(Json.quote(k) + ":" + Json.quote(v)));
            return "{\"uid\":" + Integer.toUnsignedString(uid) + ",\"id\":" + Json.quote(containerId) + ",\"env\":" + e
                    + "}\n";
        }

        /** Reads one line (bounded) from the parent; the stream stays open for {@link #watchParent}. */
        public static Handover read(InputStream in) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            try {
                int c;
                while ((c = in.read()) != '\n') {
                    if (c < 0 || line.size() > ConfigFile.MAX_BYTES * 2) {
                        throw MusterException.usage("hook --as-user is muster's own second stage: it reads what the "
                                + "first stage (muster hook, run by the container runtime as root) hands over; run "
                                + "muster hook instead");
                    }
                    line.write(c);
                }
                Object v = JsonParser.parse(line.toString(StandardCharsets.UTF_8));
                Map<?, ?> m = (Map<?, ?>) v;
                Map<String, String> env = new LinkedHashMap<>();
                ((Map<?, ?>) m.get("env")).forEach((k, val) -> env.put((String) k, (String) val));
                return new Handover((int) (long) (Long) m.get("uid"), (String) m.get("id"), env);
            } catch (IOException | JsonException | ClassCastException | NullPointerException e) {
                throw MusterException.usage("hook --as-user: the handover from muster hook is unreadable (" + e
                        + "); run muster hook, not its second stage");
            }
        }
    }

    /** True when this process must become the container's user before it touches the sync directory. */
    public static boolean needed(ContainerUser user) {
        return Posix.uid() == 0 && user.uid() != 0;
    }

    /**
     * Runs {@code self} (this JVM's command line up to the jar, plus {@code args}) as {@code user} and returns its
     * exit code.
     */
    public static int runAs(ContainerUser user, List<String> self, Handover handover) {
        List<String> cmd = new ArrayList<>();
        cmd.add(setpriv());
        cmd.add("--reuid=" + Integer.toUnsignedString(user.uid()));
        cmd.add("--regid=" + Integer.toUnsignedString(user.gid()));
        if (user.additionalGids().isEmpty()) {
            cmd.add("--clear-groups");
        } else {
            StringJoiner g = new StringJoiner(",");
            user.additionalGids().forEach(id -> g.add(Integer.toUnsignedString(id)));
            cmd.add("--groups=" + g);
        }
        // as the Sarus hook does after its setresuid: nothing the second stage runs can gain privileges again
        cmd.add("--no-new-privs");
        cmd.add("--");
        cmd.addAll(self);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        Process child;
        try {
            child = pb.start();
        } catch (IOException e) {
            throw MusterException.unusableDir("hook: cannot start muster as uid " + user.uid() + " (" + e.getMessage()
                    + "); muster needs setpriv (util-linux) to create the sync files as the container's user");
        }
        try {
            OutputStream pipe = child.getOutputStream();
            pipe.write(handover.encode().getBytes(StandardCharsets.UTF_8));
            pipe.flush();
            // not closed: the child takes its end closing for this process's death (see the class comment)
            return child.waitFor();
        } catch (IOException e) {
            // the child died before it read: its own exit code says why
            return waitFor(child);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.INTERNAL;
        }
    }

    private static int waitFor(Process child) {
        try {
            return child.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.INTERNAL;
        }
    }

    private static String setpriv() {
        for (String p : SETPRIV) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        throw MusterException.unusableDir("hook: setpriv (util-linux) not found in " + SETPRIV + "; muster needs it "
                + "to create the sync files as the container's user instead of root");
    }

    /**
     * In the child: calls {@code onParentGone} when the parent's end of {@code in} closes, i.e. when the runtime
     * killed the parent. A daemon thread blocked in read costs nothing while the barrier waits.
     */
    public static void watchParent(InputStream in, Runnable onParentGone) {
        Thread t = new Thread(
                () -> {
                    try {
                        while (in.read() >= 0) {
                            // the parent writes nothing more; only the end matters
                        }
                    } catch (IOException e) {
                        // the same: the parent is gone
                    }
                    onParentGone.run();
                },
                "muster-hook-parent");
        t.setDaemon(true);
        t.start();
    }
}
