/**
 * Replacing muster with the program: the command lookup before the barrier, {@code execve} on Java 22+
 * ({@code NativeExec}, in src/main/java-ffm, built against a stand-in of the FFM API), the supervised child on
 * Java 17-21, inherited descriptors and signals
 * (docs/exec.md). Uses {@code core} only; must not import {@code cli} or {@code agent}.
 */
package dev.muster.exec;
