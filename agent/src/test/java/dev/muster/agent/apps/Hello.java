package dev.muster.agent.apps;

/**
 * A stand-in application for the forked-JVM tests: prints when main started (epoch ms) and the system properties
 * it was asked about; with "wait", blocks until stdin closes, and a shutdown hook says whether it ran.
 */
public final class Hello {
    private Hello() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("main " + System.currentTimeMillis());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("hook ran"), "hello-hook"));
        for (String a : args) {
            if (a.startsWith("prop=")) {
                String k = a.substring(5);
                System.out.println(k + "=" + System.getProperty(k));
            } else if (a.equals("wait")) {
                System.out.println("waiting");
                System.out.flush();
                while (System.in.read() >= 0) {
                    // until stdin closes or a signal ends the JVM
                }
            }
        }
        System.out.flush();
    }
}
