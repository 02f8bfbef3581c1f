package dev.muster.core;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The one downcall muster makes through the Foreign Function &amp; Memory API (Java 22+): the variadic libc
 * {@code syscall(nr, a1..a5)} with errno captured. Exec, statx and the non-blocking open all go through it, so the
 * JVM generates one stub for the three: every downcall shape costs a cold JVM generated classes and tens of
 * milliseconds (docs/performance.md#launcher-start-up).
 *
 * <p>Compiled by any JDK 17+ against the stand-in API in {@code src/ffm-api} (see launcher/pom.xml): only its
 * callers' Java 22+ paths may load it.
 */
public final class Syscall {
    private static volatile Handle handle;

    private record Handle(MethodHandle syscall, StructLayout state, VarHandle errno) {}

    private Syscall() {}

    /** Links the downcall without calling it (while waiting, and in the dry run that trains the start-up archive). */
    public static void prepare() {
        handle();
    }

    @SuppressWarnings("restricted") // native access is the point of this class; the manifest and scripts enable it
    private static Handle handle() {
        Handle h = handle;
        if (h == null) {
            Linker linker = Linker.nativeLinker();
            StructLayout state = Linker.Option.captureStateLayout();
            MethodHandle syscall = linker.downcallHandle(
                    linker.defaultLookup().find("syscall").orElseThrow(),
                    FunctionDescriptor.of(
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1),
                    Linker.Option.captureCallState("errno"));
            h = new Handle(syscall, state, state.varHandle(MemoryLayout.PathElement.groupElement("errno")));
            handle = h;
        }
        return h;
    }

    /**
     * Calls system call {@code nr}; pointers are passed as {@link MemorySegment#address()} of segments of
     * {@code arena}, which also holds the captured errno.
     *
     * @return the call's result, or minus the errno when it failed
     * @throws IllegalStateException when the downcall itself fails
     */
    public static long call(Arena arena, long nr, long a1, long a2, long a3, long a4, long a5) {
        Handle h = handle();
        MemorySegment state = arena.allocate(h.state);
        long rc;
        try {
            rc = (long) h.syscall.invokeExact(state, nr, a1, a2, a3, a4, a5);
        } catch (Throwable t) {
            throw new IllegalStateException("system call " + nr + " through the FFM API failed: " + t, t);
        }
        return rc != -1 ? rc : -(int) h.errno.get(state, 0L);
    }
}
