package dev.muster.cli;

import dev.muster.barrier.StepSync;
import dev.muster.barrier.SyncRoot;
import dev.muster.core.ExitCodes;
import dev.muster.core.Log;
import dev.muster.core.MusterException;
import dev.muster.core.Posix;
import dev.muster.oci.BundleConfig;
import dev.muster.oci.ContainerState;
import dev.muster.oci.UserSwitch;
import dev.muster.task.IdentityResolver;
import dev.muster.task.TaskIdentity;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code muster hook}: the step barrier as an OCI hook (docs/oci-hook.md). The state comes on stdin, identity from
 * the bundle's {@code process.env}, settings from the hook's own arguments and environment; as root it continues
 * as the container's user ({@link UserSwitch}). Exit 0 lets the container start.
 */
final class HookCommand implements Command {
    private final InputStream stdin;
    private Map<String, String> env;

    /** {@code stdin}: where the runtime writes the container state (the process's own stdin, a buffer in tests). */
    HookCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public String name() {
        return "hook";
    }

    @Override
    public String help() {
        return """
            usage: muster hook [options]        (run by an OCI runtime: the container state on stdin)

            The step barrier as an OCI hook (stage createContainer): holds the container until every task's
            container of the Slurm step exists. Identity comes from the bundle's config.json process.env, the user
            from process.user; as root muster continues as that user (setpriv), so every file it creates is theirs.
            A container that is not a task of a step passes at once. Exit 0 lets the container start; 65 bad state
            or config.json; 75 timeout (naming the missing ranks); 76 or the aborting task's code; 77 unusable sync
            directory; 78 unclear identity. Keep --timeout below the runtime's hook timeout (docs/oci-hook.md).
            """ + Options.HELP;
    }

    @Override
    public int run(List<String> argv, Context ctx) {
        env = ctx.env();
        Options o = new Options(env);
        boolean[] asUser = {false};
        FlagReader own = (flag, a) -> {
            if (flag.equals("--as-user")) {
                // hidden: the second stage, started by the first through setpriv (UserSwitch)
                a.noValue(flag);
                asUser[0] = true;
                return true;
            }
            return o.read(flag, a);
        };
        if (!optionsOnly(argv, own, ctx)) {
            return ExitCodes.OK;
        }
        return asUser[0] ? asUser(o) : asRuntime(o, argv);
    }

    /** The first stage, run by the runtime: reads the state and config.json, then waits here or as the user. */
    private int asRuntime(Options o, List<String> argv) {
        ContainerState state = ContainerState.read(stdin, ContainerState.MAX_BYTES);
        BundleConfig config = BundleConfig.read(state.bundle());
        TaskIdentity id = IdentityResolver.resolve(config.env());
        if (!config.hasProcess() || !id.inStep()) {
            // as the Sarus hook: a container that is not a task of a step is none of the hook's business
            Log.debug("hook: container " + state.id() + " is not a task of a step (launcher " + id.launcher()
                    + "); letting it start");
            return ExitCodes.OK;
        }
        Log.rank(id.rank());
        if (!UserSwitch.needed(config.user())) {
            return await(o, id, config.env(), false);
        }
        Log.debug("hook: container " + state.id() + " continues as uid "
                + config.user().uid());
        List<String> self = new ArrayList<>();
        for (String word : JvmPrefix.of()) {
            // root's start-up archive lives under root's home, which the container's user may not read
            if (!word.startsWith("-XX:AOTCache=") && !word.startsWith("-XX:SharedArchiveFile=")) {
                self.add(word);
            }
        }
        self.add("hook");
        self.add("--as-user");
        self.addAll(argv);
        return UserSwitch.runAs(
                config.user(), self, new UserSwitch.Handover(config.user().uid(), state.id(), config.env()));
    }

    /** The second stage, started by the first through setpriv: what the first read comes on stdin. */
    private int asUser(Options o) {
        UserSwitch.Handover h = UserSwitch.Handover.read(stdin);
        if (Posix.uid() != h.uid()) {
            throw MusterException.internal(
                    "hook --as-user runs as uid " + Posix.uid() + ", not as the container's uid " + h.uid()
                            + "; please report it",
                    null);
        }
        TaskIdentity id = IdentityResolver.resolve(h.env());
        Log.rank(id.rank());
        return await(o, id, h.env(), true);
    }

    /** The barrier, as {@code muster barrier} runs it, with the container's environment for identity and layout. */
    private int await(Options o, TaskIdentity id, Map<String, String> containerEnv, boolean watchParent) {
        StepSync sync = new StepSync(
                        id,
                        StepSync.key(id, o.name),
                        SyncRoot.resolve(o.syncDir, env).prepare(),
                        o.settings(),
                        o.transport,
                        o.trace,
                        containerEnv)
                .lastDepartureCleans();
        sync.prepare();
        if (watchParent) {
            UserSwitch.watchParent(stdin, () -> {
                try {
                    sync.abort(ExitCodes.PEER_ABORTED, "its hook was killed (by the runtime's hook timeout?)");
                } catch (RuntimeException e) {
                    // ending anyway; the others time out instead
                }
                Log.error("this hook's first stage was killed (by the runtime's hook timeout?); aborted the step");
                // nobody waits for this process any more; end it now rather than at the barrier's deadline
                Runtime.getRuntime().halt(ExitCodes.PEER_ABORTED);
            });
        }
        sync.await(Map.of());
        Log.debug("hook: released");
        return ExitCodes.OK;
    }
}
