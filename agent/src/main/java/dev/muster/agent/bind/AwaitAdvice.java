package dev.muster.agent.bind;

import net.bytebuddy.asm.Advice;

/** Inlined at the start of the await method: holds the caller until the release. JDK types only: see {@link Hooks}. */
final class AwaitAdvice {
    private AwaitAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter() throws Exception {
        ClassLoader.getSystemClassLoader()
                .loadClass("dev.muster.agent.bind.Hooks")
                .getMethod("entered")
                .invoke(null);
    }
}
