package dev.muster.agent.apps;

/**
 * A stand-in application for the forked-JVM tests: prints when main started (epoch ms) and the system properties
 * it was asked about, or which class loader defined a class; with "wait", sleeps a minute, and a shutdown hook says whether it ran.
 */
public final class Hello {
    private Hello() {}

    public static void main(String[] args) throws Exception {
        System.out.println("main " + System.currentTimeMillis());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("hook ran"), "hello-hook"));
        for (String a : args) {
            if (a.startsWith("prop=")) {
                String k = a.substring(5);
                System.out.println(k + "=" + System.getProperty(k));
            } else if (a.startsWith("loader=")) {
                // which loader defined an agent class: "null" is the bootstrap loader
                String k = a.substring(7);
                System.out.println(k + " loader=" + Class.forName(k).getClassLoader());
            } else if (a.equals("wait")) {
                System.out.println("waiting");
                System.out.flush();
                Thread.sleep(60_000); // until a signal ends the JVM
            }
        }
        System.out.flush();
    }
}
