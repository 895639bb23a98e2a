package dev.coro.net;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.LoopProbe;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link AcceptorsOutOfDescriptorsTest}, run with a small descriptor limit: two
 * coroutines wait in {@code accept()} while the process runs out of file descriptors and two clients
 * connect. It prints what happened, one line each, and exits with 0.
 */
public final class AcceptorsOutOfDescriptorsMain {

    /** How many times the loop asks its selector while nobody accepts: every 64th scheduling point does, while a context waits on I/O. */
    private static final int SELECTS = 8;

    private AcceptorsOutOfDescriptorsMain() {
    }

    /**
     * Runs the scenario twice: once with the accepts failing as the JDK's do without descriptors, while
     * there are some to spare (so that every class it needs is loaded while class files can still be
     * opened), then with none left.
     *
     * @param args none
     * @throws Exception if anything goes wrong; the JVM then exits with 1
     */
    public static void main(String[] args) throws Exception {
        int[] attempts = {0};
        boolean[] faking = {false};
        TcpListener.Accepter real = TcpListener.accepter;
        TcpListener.accepter = channel -> {
            attempts[0]++;
            if (faking[0]) {
                throw new IOException("Too many open files");
            }
            return real.accept(channel);
        };
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            System.out.println("listener " + listener.localAddress());
            System.out.println("engine " + LoopProbe.engine());
            scenario(listener, attempts, faking, false);
            scenario(listener, attempts, faking, true);
            System.out.println("listener at the end: " + listener);
        }
        System.out.println("done");
    }

    /**
     * Two acceptors wait, two clients connect, and the accepts fail for want of descriptors ({@code exhaust}:
     * really, else as the JDK's do, while {@code faking}); once descriptors are free the acceptors accept
     * again. Prints what each was told, how many accepts the library made meanwhile and how often the
     * selector reported the listener while nobody accepted, prefixed with the round.
     */
    private static void scenario(TcpListener listener, int[] attempts, boolean[] faking, boolean exhaust) throws Exception {
        String round = exhaust ? "exhausted: " : "faked: ";
        Channel<String> toMain = new Channel<>("to-main", 4);
        Channel<String> retry = new Channel<>("retry", 2);
        Crew crew = new Crew();
        for (String name : List.of("a1", "a2")) {
            crew.spawn(name, () -> {
                TcpConnection c;
                try {
                    c = listener.accept();
                } catch (IOException e) {
                    toMain.send(name + " failed: " + e.getMessage());
                    retry.receive();
                    c = listener.accept();
                }
                c.close();
                toMain.send(name + " accepted");
            });
        }
        Coroutine.yield(); // both wait in accept, a1 first
        int before = attempts[0];
        SocketChannel first = SocketChannel.open(); // their descriptors now, while there are some
        SocketChannel second = SocketChannel.open();
        Pipe pipe = Pipe.open(); // its descriptors too: a channel that never becomes ready
        pipe.source().configureBlocking(false);
        List<FileInputStream> hogs = new ArrayList<>();
        faking[0] = !exhaust;
        if (exhaust) {
            try {
                while (hogs.size() < 100_000) {
                    hogs.add(new FileInputStream("/dev/null"));
                }
            } catch (IOException e) {
                // none left
            }
        }
        first.connect(listener.localAddress()); // blocking; completed by the kernel through the backlog
        second.connect(listener.localAddress());
        List<String> told = new ArrayList<>(List.of(toMain.receive(), toMain.receive()));
        told.sort(null); // a1's first: who tells main first is the run queue's business
        for (String t : told) {
            System.out.println(round + t);
        }
        System.out.println(round + "accept attempts of the woken acceptors: " + (attempts[0] - before));
        // nobody accepts now, and the connections wait in the backlog: the selector reports the listener
        // ready at each select while it watches it, so it must stop watching it. A wait on I/O (of a
        // channel never ready) makes every 64th scheduling point select
        Coroutine waiter = Coroutine.create("waiter", () -> {
            try {
                Io.await(pipe.source(), SelectionKey.OP_READ);
            } catch (IOException e) {
                System.out.println(round + "the waiter failed: " + e);
            }
        });
        Coroutine.yield();
        long reports = LoopProbe.readyReports();
        for (int i = 0; i < 64 * SELECTS; i++) {
            Coroutine.yield();
        }
        long reported = LoopProbe.readyReports() - reports;
        System.out.println(round + "readiness reports in " + SELECTS + " selects with nobody accepting: at most one: "
                + (reported <= 1) + (reported <= 1 ? "" : " (" + reported + ")"));
        waiter.close();
        System.out.println(round + "listener after the failures: " + listener);
        for (int i = 0; i < 8 && !hogs.isEmpty(); i++) {
            hogs.remove(hogs.size() - 1).close();
        }
        faking[0] = false;
        retry.send("retry");
        retry.send("retry");
        told = new ArrayList<>(List.of(toMain.receive(), toMain.receive()));
        told.sort(null);
        for (String t : told) {
            System.out.println(round + "then " + t);
        }
        crew.join();
        first.close();
        second.close();
        pipe.source().close();
        pipe.sink().close();
        for (FileInputStream f : hogs) {
            f.close();
        }
    }
}
