package dev.muster.probe;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Ready when the file exists (a server that writes a ready marker, a socket file, ...). */
public record FileProbe(String spec, Path file) implements Probe {
    @Override
    public String attempt(Duration timeout) {
        return Files.exists(file) ? null : file + " does not exist yet";
    }
}
