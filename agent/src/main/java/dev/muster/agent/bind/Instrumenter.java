package dev.muster.agent.bind;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.muster.core.Log;
import java.lang.instrument.Instrumentation;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.Nexus;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * The only class that touches byte-buddy (relocated into the agent jar). Its signature holds JDK types only, so
 * that {@code Agent} can call it without loading byte-buddy on the default path.
 */
public final class Instrumenter {
    /** Where a server socket gets bound: classic sockets, NIO channels (Netty's NIO transport), async channels. */
    private static final String[] BIND_TYPES = {
        "java.net.ServerSocket", "sun.nio.ch.ServerSocketChannelImpl", "sun.nio.ch.AsynchronousServerSocketChannelImpl"
    };

    private Instrumenter() {}

    public static void install(Instrumentation inst, boolean bind, String awaitClass, String awaitMethod) {
        // The advice is inlined: no loaded-type initializer, so the Nexus (and its use of Unsafe, which JDK 24+
        // warns about) is never needed. The property name is relocated with byte-buddy, so this touches no
        // other byte-buddy in the application.
        System.setProperty(Nexus.PROPERTY, "true");
        ElementMatcher.Junction<TypeDescription> bindTypes = namedOneOf(BIND_TYPES);
        ElementMatcher.Junction<TypeDescription> ours = bind ? bindTypes : null;
        if (awaitClass != null) {
            ours = ours == null ? named(awaitClass) : ours.or(named(awaitClass));
        }
        if (ours == null) {
            return;
        }
        AgentBuilder builder = new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(AgentBuilder.TypeStrategy.Default.DECORATE)
                // the default rule ignores the bootstrap loader's classes, which ServerSocket is one of: ignore
                // everything but our few types instead
                .ignore(not(ours))
                .with(new Errors());
        if (bind) {
            builder = builder.type(bindTypes)
                    .transform((b, type, loader, module, pd) ->
                            b.visit(Advice.to(BindAdvice.class).on(named("bind").and(takesArguments(2)))));
        }
        if (awaitClass != null) {
            builder = builder.type(named(awaitClass))
                    .transform((b, type, loader, module, pd) ->
                            b.visit(Advice.to(AwaitAdvice.class).on(named(awaitMethod))));
        }
        builder.installOn(inst);
    }

    /** A type that cannot be rewritten means no arrival or no hold: say so. */
    private static final class Errors extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable t) {
            Log.warn("cannot add advice to " + typeName + ": " + t);
        }
    }
}
