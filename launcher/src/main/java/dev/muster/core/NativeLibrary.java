package dev.muster.core;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * libmuster.so (native/muster-jni.c, built by scripts/build-native): muster's system calls over JNI. Where it is
 * present, exec is a true {@code execve} on every Java 17+, and costs a cold JVM no generated FFM stub
 * (docs/exec.md). Looked for beside the jar: {@code native/linux-<arch>/} in an installed layout
 * ({@code lib/muster.jar}), {@code ../../target/native/linux-<arch>/} in a source tree
 * ({@code launcher/target/muster.jar}). Missing, of another ABI or refused, muster uses its fallbacks.
 * {@code MUSTER_NATIVE=0} turns it off.
 *
 * <p>Only the launcher loads it (its {@code main} calls {@link #allow}): an application that loaded the agent gets
 * no library it did not ask for, and on Java 24+ no native-access warning. The launcher loads it on first use
 * ({@link #loaded}), so a command that neither execs nor opens a shared file ({@code --version}, {@code rendezvous},
 * {@code sweep}) does not pay for the lookup, the ELF check and the load in a cold JVM.
 */
public final class NativeLibrary {
    /** native/muster-jni.c's MUSTER_NATIVE_ABI. */
    private static final int ABI = 4;

    private static final int PT_GNU_STACK = 0x6474e551;
    private static final int PF_X = 1;

    private static volatile boolean allowed;

    private NativeLibrary() {}

    /** Lets this JVM load the library on its first use; only the launcher's {@code main} calls it. */
    public static void allow() {
        allowed = true;
    }

    /**
     * Whether the library is loaded: the first call after {@link #allow} loads it, if present and allowed, and
     * every later call returns the same answer. Always false in a JVM that never called {@link #allow}.
     */
    public static boolean loaded() {
        return allowed && Holder.LOADED;
    }

    /** Initialised by the first {@link #loaded} after {@link #allow}: class initialisation runs {@link #load} once. */
    private static final class Holder {
        static final boolean LOADED = load();
    }

    private static boolean load() {
        Path lib = find();
        if (lib == null || !nonExecutableStack(lib) || !nativeAccessEnabled()) {
            return false;
        }
        try {
            System.load(lib.toString());
            boolean ours = abi() == ABI;
            if (!ours) {
                Log.debug(lib + " is of another version of muster: not used");
            }
            return ours;
        } catch (UnsatisfiedLinkError | SecurityException e) {
            Log.debug("cannot load " + lib + ": " + e);
            return false;
        }
    }

    private static Path find() {
        if ("0".equals(System.getenv("MUSTER_NATIVE"))) {
            return null;
        }
        String cp = System.getProperty("java.class.path", "");
        if (!cp.endsWith(".jar") || cp.indexOf(java.io.File.pathSeparatorChar) >= 0) {
            return null; // not run as `java -jar muster.jar`
        }
        Path dir = Path.of(cp).toAbsolutePath().getParent();
        String arch = System.getProperty("os.arch");
        String sub = "native/linux-" + ("amd64".equals(arch) ? "x86_64" : arch) + "/libmuster.so";
        for (Path p : new Path[] {dir.resolve(sub), dir.resolve("../../target/" + sub)}) {
            if (Files.isRegularFile(p)) {
                return p.normalize();
            }
        }
        return null;
    }

    /**
     * Whether {@code lib} is a 64-bit little-endian ELF file whose PT_GNU_STACK header asks for no executable stack.
     * HotSpot prints a warning about the stack guard before loading any other file (garbage, a truncated copy, a
     * library built without that header), and without -XX:+DisplayVMOutputToStderr on stdout, which after the exec
     * is the program's: such a file is left alone.
     */
    static boolean nonExecutableStack(Path lib) {
        byte[] head = new byte[4096];
        int n;
        try (java.io.InputStream in = Files.newInputStream(lib)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(head, 0, n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (n < 64 || b.getInt(0) != 0x464c457f || head[4] != 2 || head[5] != 1) {
            return false; // not "\177ELF", ELFCLASS64, ELFDATA2LSB
        }
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xffff;
        int phnum = b.getShort(56) & 0xffff;
        for (int i = 0; i < phnum; i++) {
            long at = phoff + (long) i * phentsize;
            if (phentsize < 8 || at < 0 || at + 8 > n) {
                return false;
            }
            if (b.getInt((int) at) == PT_GNU_STACK) {
                return (b.getInt((int) at + 4) & PF_X) == 0;
            }
        }
        return false;
    }

    /**
     * Whether this code may load a library without the JVM printing a warning: always before Java 22; on Java 22+
     * under {@code java -jar muster.jar} (its manifest's Enable-Native-Access) and {@code scripts/muster}, not in
     * an application that loaded the agent. Asked reflectively because {@code Module.isNativeAccessEnabled} is new
     * in Java 22.
     */
    public static boolean nativeAccessEnabled() {
        try {
            return (Boolean) Module.class.getMethod("isNativeAccessEnabled").invoke(NativeLibrary.class.getModule());
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private static native int abi();

    /**
     * {@code execve} after marking every descriptor from 3 up but those in {@code keep} close-on-exec (none when
     * {@code keep} is null) and restoring {@code sigmask} (when {@code >= 0}); returns only on failure, with errno.
     *
     * @param block the path, {@code argc} arguments and {@code envc} environment entries, each UTF-8 and
     *     NUL-terminated
     * @param keep the descriptors to leave as they are, ascending
     */
    public static native int execve(byte[] block, int argc, int envc, int[] keep, long sigmask);

    /**
     * The descriptor of this process's TCP connection from local port {@code local} to remote port
     * {@code remote}, or -1: each open descriptor is asked for its addresses. (A library built before it fails
     * the ABI check and is never loaded.)
     */
    public static native int socketFd(int local, int remote);

    /** {@code NonBlockingOpen.open}'s call: a descriptor, or minus the errno. */
    static native int open(byte[] path, boolean write, boolean create);

    static native void close(int fd);

    /** {@code Statx.attributes}'s call: 0 or the errno. */
    static native int statx(byte[] path);

    /** A path for the calls above: UTF-8, NUL-terminated. */
    static byte[] path(String path) {
        byte[] b = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(b, b.length + 1);
    }

    /**
     * Takes {@code signals} from HotSpot: each is written as one byte into a new pipe, whose read end (not
     * close-on-exec) is returned, or minus the errno. Once per process; {@link #restoreSignals} undoes it.
     */
    public static native int catchSignals(int[] signals);

    /** Gives the signals {@link #catchSignals} took back to HotSpot; returns those caught in between, one a byte. */
    public static native byte[] restoreSignals();
}
