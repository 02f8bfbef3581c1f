package dev.muster.exec;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * True {@code execve} through the Foreign Function & Memory API (Java 22+): the task's PID, descriptors and
 * signals become the program's own. Before the call, the JVM's own descriptors are marked close-on-exec
 * (inherited ones are kept) and the signal mask the task started with is restored: HotSpot blocks SIGQUIT in
 * every Java thread, and execve keeps the calling thread's mask.
 */
public final class NativeExec {
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int SIG_SETMASK = 2;
    /** glibc's sigset_t: 1024 bits. */
    private static final long SIGSET_BYTES = 128;

    private static volatile Handles handles;

    private record Handles(MethodHandle execve, MethodHandle fcntl, MethodHandle sigmask, StructLayout state,
            VarHandle errno) {
    }

    private NativeExec() {
    }

    public static boolean available() {
        return true;
    }

    public static void prepare() {
        handles();
    }

    @SuppressWarnings("restricted") // native access is the point of this class; the manifest and scripts enable it
    private static Handles handles() {
        Handles h = handles;
        if (h == null) {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            StructLayout state = Linker.Option.captureStateLayout();
            MethodHandle execve = linker.downcallHandle(libc.find("execve").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS),
                    Linker.Option.captureCallState("errno"));
            MethodHandle fcntl = linker.downcallHandle(libc.find("fcntl").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT),
                    Linker.Option.firstVariadicArg(2));
            MethodHandle sigmask = linker.downcallHandle(libc.find("pthread_sigmask").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS));
            VarHandle errno = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            h = new Handles(execve, fcntl, sigmask, state, errno);
            handles = h;
        }
        return h;
    }

    public static int execve(String path, List<String> argv, List<String> envp, List<Integer> cloexec,
            long sigmask) {
        Handles h = handles();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment file = arena.allocateFrom(path);
            MemorySegment args = strings(arena, argv);
            MemorySegment env = strings(arena, envp);
            MemorySegment state = arena.allocate(h.state);
            for (int fd : cloexec) {
                int flags = (int) h.fcntl.invokeExact(fd, F_GETFD, 0);
                if (flags >= 0) {
                    int ignored = (int) h.fcntl.invokeExact(fd, F_SETFD, flags | FD_CLOEXEC);
                }
            }
            if (sigmask >= 0) {
                MemorySegment set = arena.allocate(SIGSET_BYTES);
                set.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sigmask);
                int ignored = (int) h.sigmask.invokeExact(SIG_SETMASK, set, MemorySegment.NULL);
            }
            int rc = (int) h.execve.invokeExact(state, file, args, env);
            return rc == 0 ? 0 : (int) h.errno.get(state, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("execve through the FFM API failed: " + t, t);
        }
    }

    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, values.size() + 1L);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(ValueLayout.ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }
}
