package dev.muster.exec;

import dev.muster.core.Syscall;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    // x86_64 and aarch64 system call numbers, for the one downcall muster links (Syscall).
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

    private NativeExec() {}

    /** Links the downcall without calling it (a dry run trains the start-up archive with it). */
    public static void prepare() {
        Syscall.prepare();
    }

    /**
     * Replaces the process image; returns only on failure, with errno.
     *
     * @param cloexec descriptors to mark close-on-exec first
     * @param sigmask the signal mask to restore first (Linux bit layout: bit n-1 for signal n), or -1 to keep
     */
    public static int execve(String path, List<String> argv, List<String> envp, List<Integer> cloexec, long sigmask) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment file = arena.allocateFrom(path);
            MemorySegment args = strings(arena, argv);
            MemorySegment env = strings(arena, envp);
            for (int fd : cloexec) {
                long flags = Syscall.call(arena, SYS_FCNTL, fd, F_GETFD, 0, 0, 0);
                if (flags >= 0) {
                    Syscall.call(arena, SYS_FCNTL, fd, F_SETFD, flags | FD_CLOEXEC, 0, 0);
                }
            }
            if (sigmask >= 0) {
                // execve keeps the calling thread's mask: give the program the one the task started with
                MemorySegment set = arena.allocate(KERNEL_SIGSET_BYTES);
                set.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sigmask);
                Syscall.call(arena, SYS_RT_SIGPROCMASK, SIG_SETMASK, set.address(), 0, KERNEL_SIGSET_BYTES, 0);
            }
            long rc = Syscall.call(arena, SYS_EXECVE, file.address(), args.address(), env.address(), 0, 0);
            return (int) -rc;
        }
    }

    /** Sets the calling thread's signal mask (after an execve that failed with a mask of its own). */
    static void sigmask(long mask) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(KERNEL_SIGSET_BYTES);
            set.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, mask);
            Syscall.call(arena, SYS_RT_SIGPROCMASK, SIG_SETMASK, set.address(), 0, KERNEL_SIGSET_BYTES, 0);
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
