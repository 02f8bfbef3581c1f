package dev.muster.it;

import dev.muster.json.Json;
import dev.muster.json.JsonParser;
import dev.muster.testing.Run;
import dev.muster.testing.Slurm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;

/**
 * Real OCI containers for the hook's tests: Debian's {@code runc} and a busybox root file system (from
 * {@code busybox-static}). Each srun task writes its own bundle (the task's whole environment becomes the
 * container's {@code process.env}, so the hook sees the Slurm identity only there) and runs {@code runc run} on
 * it. Two createContainer hooks: the first writes {@code out/created.<container id>} (host clock, ns), the second
 * is muster's. The container's process writes {@code out/start.<rank>} with the time as it sees it
 * ({@code adjtimex}: microseconds, the same CLOCK_REALTIME), so the tests compare times written from inside.
 */
final class OciBundles {
    /** Task script settings (environment of srun): a rank that starts late, one that never starts its container. */
    static final String LATE = "HOOK_IT_LATE";

    static final String MISSING = "HOOK_IT_MISSING";
    /** A rank that waits for the file {@code dir/go} before it starts its container. */
    static final String HOLD = "HOOK_IT_HOLD";
    /** A rank whose muster hook the runtime kills after 2 s (the hook entry's {@code timeout}). */
    static final String KILL = "HOOK_IT_KILL";
    /** The container's uid and gid ({@code process.user}). */
    static final String USER = "HOOK_IT_UID";

    private final Path dir;
    final Path out;
    final Path task;

    private OciBundles(Path dir) throws IOException {
        this.dir = dir;
        this.out = dir.resolve("out");
        Files.createDirectory(out);
        // the container's process may run as nobody and writes here
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path rootfs = dir.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.setPosixFilePermissions(rootfs, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "adjtimex", "cat", "sleep")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.createDirectory(rootfs.resolve("proc"));
        Files.createDirectory(rootfs.resolve("dev"));
        Files.createDirectory(rootfs.resolve("out"));
        Files.writeString(dir.resolve("mkbundle.py"), MKBUNDLE);
        task = dir.resolve("task.sh");
        Files.writeString(
                task,
                "#!/bin/sh\n"
                        + "d=" + dir + "; r=$SLURM_PROCID; b=$d/bundle.$r\n"
                        + "python3 $d/mkbundle.py $b $d/rootfs $d/out $d/hooks.json || exit 9\n"
                        + "[ \"$r\" = \"${" + LATE + ":-x}\" ] && sleep 1\n"
                        + "[ \"$r\" = \"${" + MISSING + ":-x}\" ] && exit 0\n"
                        + "if [ \"$r\" = \"${" + HOLD + ":-x}\" ]; then while [ ! -e $d/go ]; do sleep 0.05; done; fi\n"
                        + "runc --root $d/runc run --bundle $b c-$SLURM_JOB_ID-$SLURM_STEP_ID-${SLURM_RESTART_COUNT:-0}-$r"
                        + " > $d/out/runc.$r.out 2> $d/out/runc.$r.err\n"
                        + "echo $? > $d/out/rc.$r\n");
        Files.setPosixFilePermissions(task, PosixFilePermissions.fromString("rwx------"));
    }

    // The container: its process writes the time it started; identity only in process.env; no network namespace
    // of its own (as Sarus runs containers), so the hook releases over TCP on the host's network. /dev is a tmpfs
    // of each container's own: runc creates /dev/ptmx and friends there, and containers sharing one root file
    // system would race to create them in it ("symlink pts/ptmx ...: file exists").
    private static final String MKBUNDLE = """
            import json, os, sys
            b, rootfs, out, hooks = sys.argv[1:5]
            os.makedirs(b, exist_ok=True)
            uid = int(os.environ.get('HOOK_IT_UID', '0'))
            env = ['PATH=/bin'] + ['%s=%s' % kv for kv in sorted(os.environ.items())
                                   if not kv[0].startswith(('MUSTER_', 'LD_', 'JAVA', 'HOOK_IT_'))]
            hooks = json.load(open(hooks))
            if os.environ.get('HOOK_IT_KILL') == os.environ.get('SLURM_PROCID'):
                hooks['createContainer'][-1]['timeout'] = 2
            cfg = {
                'ociVersion': '1.0.2',
                'process': {'terminal': False, 'user': {'uid': uid, 'gid': uid}, 'cwd': '/', 'env': env,
                            'args': ['/bin/sh', '-c', 'adjtimex > /out/start.$SLURM_PROCID'],
                            'noNewPrivileges': True},
                'root': {'path': rootfs, 'readonly': True},
                'hostname': 'c' + os.environ.get('SLURM_PROCID', 'x'),
                'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'},
                           {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',
                            'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},
                           {'destination': '/out', 'type': 'bind', 'source': out, 'options': ['rbind', 'rw']}],
                'hooks': hooks,
                'linux': {'namespaces': [{'type': t} for t in ('pid', 'ipc', 'uts', 'mount')]},
            }
            with open(os.path.join(b, 'config.json'), 'w') as f:
                json.dump(cfg, f)
            """;

    /** Skips (or fails under MUSTER_REQUIRE_SLURM=1) where runc or busybox-static is missing or we are not root. */
    static OciBundles in(Path dir) throws IOException {
        String why = null;
        if (!"root".equals(System.getProperty("user.name"))) {
            why = "runc needs root";
        } else if (Stream.of("/usr/sbin/runc", "/usr/bin/runc").noneMatch(p -> Files.isExecutable(Path.of(p)))) {
            why = "no runc (apt-get install runc)";
        } else if (!Files.isExecutable(Path.of("/bin/busybox"))) {
            why = "no /bin/busybox (apt-get install busybox-static)";
        }
        if (why != null) {
            Slurm.unavailable(why); // skips, or fails under MUSTER_REQUIRE_SLURM=1
        }
        return new OciBundles(dir);
    }

    /**
     * The createContainer hooks of every container: the marker, then muster as in
     * {@code examples/oci-hook/runc-hooks.json} with its path, arguments and environment replaced.
     */
    void hooks(String path, List<String> args, List<String> env) throws IOException {
        Map<String, Object> muster = new LinkedHashMap<>();
        muster.put("path", path);
        muster.put("args", args);
        muster.put("env", env);
        muster.put("timeout", 120L);
        writeHooks(muster);
    }

    /** The muster hook of {@code examples/oci-hook/runc-hooks.json}, with {@code replace} applied to its fields. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> exampleRuncHook() throws IOException {
        Map<String, Object> example = (Map<String, Object>)
                JsonParser.parse(Files.readString(Cluster.root().resolve("examples/oci-hook/runc-hooks.json")));
        return new LinkedHashMap<>(((List<Map<String, Object>>) example.get("createContainer")).get(0));
    }

    /** The {@code hook} object of {@code examples/oci-hook/slurm-global-sync.json} (Sarus/Podman hooks.d). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> exampleHooksD() throws IOException {
        Map<String, Object> example = (Map<String, Object>)
                JsonParser.parse(Files.readString(Cluster.root().resolve("examples/oci-hook/slurm-global-sync.json")));
        Assertions.assertEquals(List.of("createContainer"), example.get("stages"));
        return new LinkedHashMap<>((Map<String, Object>) example.get("hook"));
    }

    void writeHooks(Map<String, Object> muster) throws IOException {
        Map<String, Object> marker = new LinkedHashMap<>();
        marker.put("path", "/bin/sh");
        marker.put(
                "args",
                List.of(
                        "sh",
                        "-c",
                        "id=$(sed 's/.*\"id\":\"\\([^\"]*\\)\".*/\\1/'); date +%s%N > " + out + "/created.$id"));
        Map<String, Object> hooks = new LinkedHashMap<>();
        hooks.put("createContainer", List.of(marker, muster));
        Files.writeString(dir.resolve("hooks.json"), Json.pretty(hooks));
    }

    /** The hook's environment for scripts/muster: the JDK and jar under test. */
    static List<String> musterEnv(Cluster.Jdk jdk, String... more) {
        List<String> env = new ArrayList<>();
        Cluster.env(jdk).forEach((k, v) -> {
            if (k.startsWith("MUSTER_")) {
                env.add(k + "=" + v);
            }
        });
        env.addAll(List.of(more));
        return env;
    }

    /** Exit code of each rank's {@code runc run}, by rank (ranks that never ran it are absent). */
    Map<Integer, Integer> exits() throws IOException {
        Map<Integer, Integer> rc = new TreeMap<>();
        for (Path p : list("rc.")) {
            rc.put(rank(p), Integer.parseInt(Files.readString(p).trim()));
        }
        return rc;
    }

    String runcErr(int rank) {
        return Run.read(out.resolve("runc." + rank + ".err"));
    }

    /** When each container's process started (µs, from inside the container), by rank. */
    Map<Integer, Long> starts() throws IOException {
        Map<Integer, Long> t = new TreeMap<>();
        for (Path p : list("start.")) {
            long sec = -1;
            long usec = -1;
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                if (line.contains("time.tv_sec:")) {
                    sec = Long.parseLong(f[f.length - 1]);
                } else if (line.contains("time.tv_usec:")) {
                    usec = Long.parseLong(f[f.length - 1]);
                }
            }
            Assertions.assertTrue(sec > 0 && usec >= 0, p + ": " + Files.readString(p));
            t.put(rank(p), sec * 1_000_000 + usec);
        }
        return t;
    }

    /** When each container was created (µs, written by the first createContainer hook), by rank. */
    Map<Integer, Long> created() throws IOException {
        Map<Integer, Long> t = new TreeMap<>();
        for (Path p : list("created.")) {
            t.put(rank(p), Long.parseLong(Files.readString(p).trim()) / 1000);
        }
        return t;
    }

    String describe() throws IOException {
        StringBuilder b = new StringBuilder();
        for (Path p : list("")) {
            b.append("--- ").append(p.getFileName()).append(" ---\n").append(Run.read(p));
        }
        return b.toString();
    }

    private List<Path> list(String prefix) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    private static int rank(Path p) {
        String n = p.getFileName().toString();
        String last = n.substring(n.lastIndexOf(n.startsWith("created.") ? '-' : '.') + 1);
        return Integer.parseInt(last);
    }
}
