package dev.muster.agent.bind;

import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of {@code bind(SocketAddress, int)} of {@code java.net.ServerSocket} and the NIO server
 * channels (only when bind returned normally). JDK types only: see {@link Hooks}.
 */
final class BindAdvice {
    private BindAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object self) throws Exception {
        ClassLoader.getSystemClassLoader()
                .loadClass("dev.muster.agent.bind.Hooks")
                .getMethod("bound", Object.class)
                .invoke(null, self);
    }
}
