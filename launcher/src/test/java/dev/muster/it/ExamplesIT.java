package dev.muster.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.muster.testing.Run;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The examples of examples/, run verbatim on the local Slurm, so that they cannot rot. */
class ExamplesIT {
    @RegisterExtension
    final Cluster cluster = new Cluster();

    private Map<String, String> env() {
        Map<String, String> env = new HashMap<>(Cluster.env(Cluster.Jdk.J25));
        env.put("MUSTER_SYNC_DIR", cluster.sync().toString());
        env.put("SLURM_JOB_NAME", cluster.jobName()); // srun and sbatch take the job name from here
        return env;
    }

    private static Set<Integer> ranks(Pattern p, String text) {
        Set<Integer> out = new TreeSet<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(Integer.parseInt(m.group(1)));
        }
        return out;
    }

    @Test
    @Timeout(90)
    void srunHello_startsSixteenTasksOnFourNodes() {
        Run.Result r = cluster.run(
                Duration.ofSeconds(80),
                env(),
                List.of(Cluster.root().resolve("examples/srun-hello.sh").toString()));
        assertEquals(0, r.exit(), r.describe());
        // the cluster's node names (n1..n4 by default; a second test cluster has its own prefix)
        String nodes = String.join(
                "|",
                cluster.run(Duration.ofSeconds(15), Map.of(), List.of("sinfo", "-h", "-N", "-o", "%N"))
                        .out()
                        .trim()
                        .split("\\s+"));
        assertEquals(
                range(16),
                ranks(Pattern.compile("rank (\\d+) of 16 on (?:" + nodes + ") started at"), r.out()),
                r.describe());
    }

    @Test
    @Timeout(150)
    void sbatchPipeline_runsTheMpiStepAndThePipelineStep() {
        Path log = cluster.dir().resolve("job.out");
        Map<String, String> env = env();
        env.put("MUSTER_HOME", Cluster.root().toString());
        env.put("WORK_DIR", cluster.dir().toString());
        Run.Result r = cluster.run(
                Duration.ofSeconds(140),
                env,
                List.of(
                        "sbatch",
                        "--wait",
                        "--output",
                        log.toString(),
                        Cluster.root().resolve("examples/sbatch-pipeline.sh").toString()));
        String out = Run.read(log);
        assertEquals(0, r.exit(), r.describe() + "\n--- job output ---\n" + out);
        assertEquals(range(8), ranks(Pattern.compile("hello from rank (\\d+) of 8 \\(allreduce 8\\)"), out), out);
        assertEquals(range(8), ranks(Pattern.compile("rank (\\d+) words: 6"), out), out);
    }

    private static Set<Integer> range(int n) {
        Set<Integer> s = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            s.add(i);
        }
        return s;
    }
}
