package dev.muster.roster;

import dev.muster.barrier.Roster;
import dev.muster.core.MusterException;
import dev.muster.task.SlurmLists;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The forms {@code muster roster} prints: the roster's nodes in rank order ({@code hosts}), Open MPI's host file
 * ({@code host slots=N}, nodes in order of their first rank), or from a batch script with no roster, the same
 * two from the allocation ({@code SLURM_JOB_NODELIST}, {@code SLURM_TASKS_PER_NODE}).
 */
public final class RosterFormat {
    private RosterFormat() {}

    /** Every rank's node in rank order. */
    public static List<String> hosts(byte[] json) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> r : Roster.ranks(json)) {
            out.add(String.valueOf(r.get("node")));
        }
        return out;
    }

    /** The allocation's slots in rank order (block distribution, as srun's default), from Slurm's variables. */
    public static List<String> hostsFromSlurm(Map<String, String> env) {
        String nodes = env.get("SLURM_JOB_NODELIST");
        String tasks = env.get("SLURM_TASKS_PER_NODE");
        if (nodes == null || tasks == null) {
            throw MusterException.usage("roster: no MUSTER_ROSTER (not after a muster release) and no "
                    + "SLURM_JOB_NODELIST/SLURM_TASKS_PER_NODE (not in a Slurm job); run it under muster run "
                    + "--roster or in a batch script");
        }
        List<String> hosts = SlurmLists.expandHosts(nodes);
        List<Integer> counts = SlurmLists.expandCounts(tasks);
        if (hosts.size() != counts.size()) {
            throw MusterException.usage("roster: SLURM_JOB_NODELIST names " + hosts.size() + " nodes but "
                    + "SLURM_TASKS_PER_NODE " + counts.size());
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            for (int k = 0; k < counts.get(i); k++) {
                out.add(hosts.get(i));
            }
        }
        return out;
    }

    /** Open MPI's host file: {@code node slots=N}, one line per node, in order of its first rank. */
    public static String hostfile(List<String> hosts) {
        Map<String, Integer> slots = new LinkedHashMap<>();
        for (String h : hosts) {
            slots.merge(h, 1, Integer::sum);
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Integer> e : slots.entrySet()) {
            b.append(e.getKey()).append(" slots=").append(e.getValue()).append('\n');
        }
        return b.toString();
    }
}
