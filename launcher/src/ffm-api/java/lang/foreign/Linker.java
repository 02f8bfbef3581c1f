package java.lang.foreign;

// Compile-time stand-in for the part of the JDK's Foreign Function & Memory API (final in Java 22) that
// dev.muster.exec.NativeExec uses, with the JDK's own names, types and hierarchy, so that a JDK 17 compiles the
// exec class. Never packaged: at run time on Java 22+ these names resolve to java.base. See launcher/pom.xml.

import java.lang.invoke.MethodHandle;

public interface Linker {
    static Linker nativeLinker() {
        throw new UnsupportedOperationException();
    }

    MethodHandle downcallHandle(MemorySegment address, FunctionDescriptor function, Option... options);

    SymbolLookup defaultLookup();

    interface Option {
        static Option firstVariadicArg(int index) {
            throw new UnsupportedOperationException();
        }

        static Option captureCallState(String... names) {
            throw new UnsupportedOperationException();
        }

        static StructLayout captureStateLayout() {
            throw new UnsupportedOperationException();
        }
    }
}
