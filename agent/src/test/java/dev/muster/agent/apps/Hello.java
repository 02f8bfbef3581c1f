package dev.muster.agent.apps;

/**
 * A stand-in application for the forked-JVM tests: prints when main started (epoch ms) and the system properties
 * it was asked about; with "wait", sleeps a minute, and a shutdown hook says whether it ran.
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
                Thread.sleep(60_000); // until a signal ends the JVM
            }
        }
        System.out.flush();
    }
}
