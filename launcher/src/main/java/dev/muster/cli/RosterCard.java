package dev.muster.cli;

import dev.muster.barrier.Card;
import dev.muster.barrier.Roster;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.roster.AddressChoice;
import dev.muster.roster.RosterFile;
import dev.muster.task.TaskIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code run}'s side of the roster: this task's card from {@code --address}, {@code --port} and {@code --publish}
 * (checked on the task's node, before it arrives), and after the release the variables the program gets
 * (docs/roster.md#environment).
 */
record RosterCard(Card card, AddressChoice address) {

    static RosterCard make(RunFlags f, TaskIdentity id, Map<String, String> env) {
        // a step that starts sweeps what killed ones left on this node (their remover loops died with them)
        RosterFile.sweep(env, false);
        AddressChoice a = AddressChoice.resolve(f.address, id.node(), rankZeroNode(id, env));
        Map<String, Integer> ports = new TreeMap<>();
        for (String name : f.ports) {
            Card.checkKey("--port", name);
            ports.put(name, a.freePort());
        }
        Map<String, String> values = new TreeMap<>();
        for (Map.Entry<String, String> e : f.publish.entrySet()) {
            Card.checkKey("--publish", e.getKey());
            String v = e.getValue();
            if (v.equals("\0missing")) {
                throw MusterException.usage(
                        "--publish " + Shell.quote(e.getKey()) + ": write KEY=VALUE or " + "KEY=@FILE");
            }
            if (v.startsWith("@")) {
                v = readValue(e.getKey(), Path.of(v.substring(1)));
            }
            values.put(e.getKey(), v);
        }
        Card c = new Card(id.rank(), id.node(), Posix.pid(), id.localRank(), a.address(), a.iface(), ports, values);
        c.check();
        return new RosterCard(c, a);
    }

    /** Rank 0's node: the step's first node under Slurm's default block distribution; null when unknown. */
    static String rankZeroNode(TaskIdentity id, Map<String, String> env) {
        if (id.launcher().equals("local")) {
            return "127.0.0.1";
        }
        String list = env.get("SLURM_STEP_NODELIST");
        if (list == null || list.isEmpty()) {
            return null;
        }
        java.util.List<String> nodes = dev.muster.task.SlurmLists.expandHosts(list);
        return nodes.isEmpty() ? null : nodes.get(0);
    }

    private static String readValue(String key, Path file) {
        try {
            if (Files.size(file) > Card.MAX_VALUE) {
                throw MusterException.usage("--publish " + key + "=@" + file + ": the file has more than "
                        + Card.MAX_VALUE + " bytes; publish its path instead");
            }
            return Files.readString(file);
        } catch (IOException e) {
            throw MusterException.usage("--publish " + key + "=@" + file + ": cannot read it (" + e.getMessage() + ")");
        }
    }

    /** MUSTER_ROSTER, the compact variables, MUSTER_PORT_NAME, and for torch the chosen address and interface. */
    Map<String, String> exports(byte[] roster, Map<String, String> env, String key, TaskIdentity id) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("MUSTER_ROSTER", RosterFile.write(env, key, id.rank(), roster).toString());
        Map<String, String> compact = Roster.env(roster);
        out.putAll(compact);
        for (Map.Entry<String, Integer> p : card.ports().entrySet()) {
            out.put(
                    "MUSTER_PORT_" + p.getKey().toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"),
                    Integer.toString(p.getValue()));
        }
        if (!card.address().isEmpty()) {
            out.put("MUSTER_ADDRESS", card.address());
        }
        if (address.iface() != null) {
            out.put("GLOO_SOCKET_IFNAME", address.iface());
            out.put("NCCL_SOCKET_IFNAME", address.iface());
        }
        return out;
    }
}
