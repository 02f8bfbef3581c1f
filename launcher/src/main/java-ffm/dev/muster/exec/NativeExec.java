package dev.muster.exec;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * True {@code execve} through the Foreign Function & Memory API (Java 22+): the task's PID, descriptors and
 * signals become the program's own. Before the call, the JVM's own descriptors are marked close-on-exec
 * (inherited ones are kept) and the signal mask the task started with is restored: HotSpot blocks SIGQUIT in
 * every Java thread, and execve keeps the calling thread's mask.
 *
 * <p>Compiled by any JDK 17+ against the stand-in API in {@code src/ffm-api} (see launcher/pom.xml), so this class
 * must only be loaded on Java 22+: {@link Exec#ffmAvailable()} decides.
 */
public final class NativeExec {
    // x86_64 and aarch64 system call numbers: one variadic downcall for all three calls, because every
    // downcall handle costs the JVM generated classes and tens of milliseconds of a cold start.
    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    private static final long SYS_FCNTL = AARCH64 ? 25 : 72;
    private static final long SYS_RT_SIGPROCMASK = AARCH64 ? 135 : 14;
    private static final long SYS_EXECVE = AARCH64 ? 221 : 59;
    private static final long F_GETFD = 1;
    private static final long F_SETFD = 2;
    private static final long FD_CLOEXEC = 1;
    private static final long SIG_SETMASK = 2;
    /** The kernel's sigset_t: 64 bits. */
    private static final long KERNEL_SIGSET_BYTES = 8;

    private static volatile Handles handles;

    private record Handles(MethodHandle syscall, StructLayout state, VarHandle errno) {}

    private NativeExec() {}

    /** Builds the native handles without calling them (a dry run trains the start-up archive with them). */
    public static void prepare() {
        handles();
    }

    @SuppressWarnings("restricted") // native access is the point of this class; the manifest and scripts enable it
    private static Handles handles() {
        Handles h = handles;
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
                            ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1),
                    Linker.Option.captureCallState("errno"));
            VarHandle errno = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            h = new Handles(syscall, state, errno);
            handles = h;
        }
        return h;
    }

    /**
     * Replaces the process image; returns only on failure, with errno.
     *
     * @param cloexec descriptors to mark close-on-exec first
     * @param sigmask the signal mask to restore first (Linux bit layout: bit n-1 for signal n), or -1 to keep
     */
    public static int execve(String path, List<String> argv, List<String> envp, List<Integer> cloexec, long sigmask) {
        Handles h = handles();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment file = arena.allocateFrom(path);
            MemorySegment args = strings(arena, argv);
            MemorySegment env = strings(arena, envp);
            MemorySegment state = arena.allocate(h.state);
            for (int fd : cloexec) {
                long flags = (long) h.syscall.invokeExact(state, SYS_FCNTL, (long) fd, F_GETFD, 0L, 0L);
                if (flags >= 0) {
                    long ignored =
                            (long) h.syscall.invokeExact(state, SYS_FCNTL, (long) fd, F_SETFD, flags | FD_CLOEXEC, 0L);
                }
            }
            if (sigmask >= 0) {
                // execve keeps the calling thread's mask: give the program the one the task started with
                MemorySegment set = arena.allocate(KERNEL_SIGSET_BYTES);
                set.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sigmask);
                long ignored = (long) h.syscall.invokeExact(
                        state, SYS_RT_SIGPROCMASK, SIG_SETMASK, set.address(), 0L, KERNEL_SIGSET_BYTES);
            }
            long rc =
                    (long) h.syscall.invokeExact(state, SYS_EXECVE, file.address(), args.address(), env.address(), 0L);
            return rc == 0 ? 0 : (int) h.errno.get(state, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("execve through the FFM API failed: " + t, t);
        }
    }

    /** Sets the calling thread's signal mask (after an execve that failed with a mask of its own). */
    static void sigmask(long mask) {
        Handles h = handles();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(h.state);
            MemorySegment set = arena.allocate(KERNEL_SIGSET_BYTES);
            set.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, mask);
            long ignored = (long) h.syscall.invokeExact(
                    state, SYS_RT_SIGPROCMASK, SIG_SETMASK, set.address(), 0L, KERNEL_SIGSET_BYTES);
        } catch (Throwable t) {
            throw new IllegalStateException("rt_sigprocmask through the FFM API failed: " + t, t);
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
