package dev.coro.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The count of the sockets this process has open, from {@code /proc/self/fd} (Linux), by which the tests of
 * the network package and the programs over it check that every socket they opened was closed.
 */
public final class OpenSockets {

    static {
        try {
            // the JDK opens a socket of its own for good at the first socket a JVM uses (the end of a socket pair that
            // its asynchronous closes dup over a descriptor): opened here, before any count, a count made before a
            // test's first socket does not miss it after
            new java.net.Socket().close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private OpenSockets() {
    }

    /**
     * How many sockets this process has open now; a test without a {@code /proc} file system is skipped, not passed.
     *
     * @return the count of descriptors that are sockets
     */
    public static long count() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        Assumptions.assumeTrue(Files.isDirectory(fds), "a /proc file system");
        try (Stream<Path> all = Files.list(fds)) {
            return all.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }
}
