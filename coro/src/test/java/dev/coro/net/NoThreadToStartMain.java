package dev.coro.net;

import dev.coro.BlockedLoops;
import dev.coro.Coroutine;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link NoThreadToStartTest}, run under a limit of its address space: the process
 * maps a sparse file into what is left of it until nothing is, so that the JVM can start no thread (a
 * thread's stack is a mapping too). So it opens the JVM's first socket, which would start the socket
 * cleaner's thread, and connects to a host by name, whose look-up needs a look-up thread: once with no
 * look-up thread running, then with one running, idle; and it turns the blocked-loop detector on, whose
 * thread cannot start either. It prints what happened, one line each, and
 * exits with 0.
 */
public final class NoThreadToStartMain {

    /** The sizes of the mappings that fill the address space, largest first: the last leaves no room for a stack. */
    private static final long[] CHUNKS = {64L << 20, 1L << 20, 64L << 10};

    private NoThreadToStartMain() {
    }

    /**
     * Binds the JVM's first listener with no thread to be started, then with threads to be started
     * connects to it; then connects to {@code db.test} (which the test's resolver answers with the
     * loopback) with no thread to be started and no look-up thread, with threads to be started (which
     * starts one), and with none to be started again and that look-up thread idle.
     *
     * @param args none
     * @throws Exception if anything goes wrong; the JVM then exits with 1
     */
    public static void main(String[] args) throws Exception {
        NameLookup.resolver = host -> new InetAddress[] {InetAddress.ofLiteral("127.0.0.1")};
        Coroutine.yield(); // the thread's scheduler, made while there is room
        System.out.println("engine " + LoopProbe.engine());
        Path file = Files.createTempFile("coro-address-space", ".bin");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(CHUNKS[0]); // sparse: mapped, never read, it takes no memory
        }
        try (FileChannel source = FileChannel.open(file)) {
            List<Arena> hogs = fill(source);
            System.out.println("a thread with no room left: " + startAThread());
            TcpListener first = null;
            try {
                first = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
                System.out.println("the first bind of the JVM with no room left: " + first.toString().replace(
                        String.valueOf(first.localAddress()), "LISTENER"));
            } catch (IOException | RuntimeException | Error e) {
                System.out.println("the first bind of the JVM with no room left: " + e + ", caused by " + e.getCause());
            }
            empty(hogs);
            System.out.println("the socket cleaner runs: " + cleanerRuns());

            try (TcpListener listener = first != null ? first : TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                int port = ((InetSocketAddress) listener.localAddress()).getPort();
                System.out.println("port " + port);
                Coroutine acceptor = Coroutine.create("acceptor", () -> { // parked in accept throughout: the selector stays open
                    try {
                        while (true) {
                            listener.accept().close();
                        }
                    } catch (IOException e) {
                        System.out.println("the acceptor failed: " + e);
                    }
                });
                // the classes of a connect loaded while the JVM can still map: an address literal is not looked up
                System.out.println("a connect to an address with room: " + connect("127.0.0.1", port));
                System.out.println("the socket cleaner runs: " + cleanerRuns());

                hogs = fill(source);
                System.out.println("look-up threads running: " + NameLookup.EXECUTOR.getPoolSize());
                System.out.println("a connect by name with no room left: " + connect("db.test", port));
                empty(hogs);
                System.out.println("a connect by name with room again: " + connect("db.test", port));

                hogs = fill(source);
                System.out.println("look-up threads running: " + NameLookup.EXECUTOR.getPoolSize());
                System.out.println("a connect by name with no room left: " + connect("db.test", port));
                empty(hogs);
                acceptor.close();

                // the blocked-loop detector, its classes and the JVM's MBean server loaded with room, but its thread
                // never started before (the C library keeps the stack of a thread that ended, for the next to reuse)
                System.out.println("the detector's threshold with room: " + BlockedLoops.threshold()
                        + ", MBeans " + (ManagementFactory.getPlatformMBeanServer().getMBeanCount() > 0));
                hogs = fill(source);
                System.out.println("the detector turned on with no room left: " + detect());
                empty(hogs);
                System.out.println("the detector's threshold then: " + BlockedLoops.threshold());
                System.out.println("the detector turned on with room again: " + detect());
                BlockedLoops.stop();
            }
        } finally {
            Files.delete(file);
        }
        System.out.println("done");
    }

    /** Connects to {@code host} on {@code port} and closes the connection; how that ended. */
    private static String connect(String host, int port) {
        try {
            TcpConnection.connect(host, port).close();
            return "connected";
        } catch (IOException | RuntimeException | Error e) {
            return e.getClass().getName() + ": " + e.getMessage() + (e.getCause() == null ? "" : ", caused by " + e.getCause());
        }
    }

    /** Turns the blocked-loop detector on; how that ended, and its threshold after. */
    private static String detect() {
        try {
            BlockedLoops.detect(Duration.ofSeconds(30));
            return "on, threshold " + BlockedLoops.threshold();
        } catch (RuntimeException | Error e) {
            return e.toString();
        }
    }

    /** Starts a thread that does nothing and waits for it to end; how that went. */
    private static String startAThread() throws InterruptedException {
        try {
            Thread t = new Thread(() -> { });
            t.start();
            t.join();
            return "started";
        } catch (OutOfMemoryError e) {
            return e.toString();
        }
    }

    /** Whether the library's socket cleaning thread has been started. */
    private static boolean cleanerRuns() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("coro-socket-cleaner"));
    }

    /** Maps {@code source} again and again, smaller each time it no longer fits, until nothing does. */
    private static List<Arena> fill(FileChannel source) {
        List<Arena> hogs = new ArrayList<>();
        for (long size : CHUNKS) {
            while (true) {
                Arena arena = Arena.ofShared();
                try {
                    source.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                    hogs.add(arena);
                } catch (IOException | OutOfMemoryError e) {
                    arena.close();
                    break;
                }
            }
        }
        return hogs;
    }

    /** Unmaps every mapping of {@code hogs}. */
    private static void empty(List<Arena> hogs) {
        for (Arena a : hogs) {
            a.close();
        }
    }
}
