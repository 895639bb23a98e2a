package dev.coro.net;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.LoopProbe;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The child JVM of {@link OutOfDescriptorsTest}, run with a small descriptor limit: a coroutine waits
 * in {@code accept()} while the process runs out of file descriptors and a client connects; the
 * accept fails saying so, the listener stays open (a connect and a bind then fail naming the caller
 * and the address), and once some descriptors are free the same
 * connection is accepted and works. It prints what happened, one line each, and exits with 0.
 */
public final class OutOfDescriptorsMain {

    private OutOfDescriptorsMain() {
    }

    /**
     * Runs the scenario twice: once with descriptors to spare (so that every class it needs is loaded
     * while files can still be opened), then with none left.
     *
     * @param args none
     * @throws Exception if anything goes wrong; the JVM then exits with 1
     */
    public static void main(String[] args) throws Exception {
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            System.out.println("listener " + listener.localAddress());
            System.out.println("engine " + LoopProbe.engine());
            scenario(listener, false);
            scenario(listener, true);
        }
        System.out.println("done");
    }

    private static void scenario(TcpListener listener, boolean exhaust) throws Exception {
        Pipe pipe = Pipe.open(); // its descriptors now, while there are some
        pipe.source().configureBlocking(false);
        Channel<String> toMain = new Channel<>("to-main", 1);
        Channel<String> toAcceptor = new Channel<>("to-acceptor", 1);
        Crew crew = new Crew();
        crew.spawn("acceptor", () -> {
            TcpConnection c;
            try {
                c = listener.accept();
                toMain.send("accepted");
            } catch (IOException e) {
                toMain.send("failed: " + e.getMessage());
                toAcceptor.receive();
                c = listener.accept();
                toMain.send("accepted on the second try");
            }
            try (TcpConnection accepted = c) {
                ByteBuffer buf = ByteBuffer.allocate(4);
                while (buf.hasRemaining() && accepted.read(buf) >= 0) {
                    // until the four bytes are in
                }
                toMain.send("read '" + StandardCharsets.UTF_8.decode(buf.flip()) + "'");
            }
        });
        SocketChannel client = SocketChannel.open(); // its descriptor now, while there are some
        FirstRead reader = exhaust ? new FirstRead() : null; // its connection now, while there are some
        FirstAccept acceptor = exhaust ? new FirstAccept() : null; // its listener now, while there are some
        ServerSocketChannel dialed = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0)); // its socket now too
        Coroutine.yield();
        System.out.println((exhaust ? "exhausted: " : "spare: ") + "acceptor " + Coroutine.dump().lines()
                .filter(l -> l.contains("'acceptor'")).findFirst().orElse("?").trim());
        List<FileInputStream> hogs = new ArrayList<>();
        if (exhaust) {
            try {
                while (hogs.size() < 100_000) {
                    hogs.add(new FileInputStream("/dev/null"));
                }
            } catch (IOException e) {
                System.out.println("opening files failed after " + hogs.size() + ": " + e.getMessage());
            }
        }
        client.connect(listener.localAddress()); // blocking; completed by the kernel through the backlog
        String first = toMain.receive();
        System.out.println("first accept: " + first);
        if (!exhaust) { // the classes of a bind, a connect and a first wait, loaded while files can be opened
            System.out.println("bind and connect with some left: " + failure(() -> bindAndConnect()));
            System.out.println("a first wait of a thread with some left: " + firstWaitOfAThread(pipe, true));
            System.out.println("a connect of a thread with some left: " + connectOfAThread(hogs, dialed));
        }
        if (first.startsWith("failed")) {
            System.out.println("listener after the failure: " + listener);
            System.out.println("connect with none left: " + failure(() -> TcpConnection.connect(listener.localAddress()).close()));
            System.out.println("bind with none left: " + failure(() -> bindAndConnect()));
            System.out.println("a first wait of a thread with none left: " + firstWaitOfAThread(pipe, false));
            System.out.println("a first read of a thread with none left: " + reader.result());
            System.out.println("a first accept of a thread with one left: " + acceptor.result(hogs));
            System.out.println("a connect of a thread with one left: " + connectOfAThread(hogs, dialed));
            for (int i = 0; i < 8; i++) {
                hogs.remove(hogs.size() - 1).close();
            }
            toAcceptor.send("retry");
            System.out.println("then: " + toMain.receive());
        }
        client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)));
        System.out.println("then: " + toMain.receive());
        crew.join();
        client.close();
        dialed.close();
        for (FileInputStream f : hogs) {
            f.close();
        }
    }

    /**
     * On a new thread, whose loop has no selector yet, awaits the pipe's source ({@code ready}: with a
     * byte in it); returns how that ended, the source named {@code SOURCE}.
     */
    private static String firstWaitOfAThread(Pipe pipe, boolean ready) throws Exception {
        if (ready) {
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        }
        String[] result = {"?"};
        Thread t = new Thread(() -> result[0] = failure(() -> Io.await(pipe.source(), SelectionKey.OP_READ)));
        t.start();
        t.join();
        if (ready) {
            pipe.source().read(ByteBuffer.allocate(1));
        }
        return result[0].replace(String.valueOf(pipe.source()), "SOURCE");
    }

    /**
     * On a new thread, whose loop has no selector yet, connects to {@code server}, with exactly one
     * descriptor free if {@code hogs} hold them (all but one): the socket takes it, and the selector
     * the connect parks in cannot be opened. Returns how that ended, the address named {@code SERVER};
     * a hog takes the descriptor again.
     */
    private static String connectOfAThread(List<FileInputStream> hogs, ServerSocketChannel server) throws Exception {
        String address = String.valueOf(server.getLocalAddress());
        boolean exhausted = !hogs.isEmpty();
        if (exhausted) {
            try {
                for (int i = 0; i < 100_000; i++) { // the descriptors the calls before freed, taken again
                    hogs.add(new FileInputStream("/dev/null"));
                }
            } catch (IOException e) {
                hogs.remove(hogs.size() - 1).close();
            }
        }
        String[] result = {"?"};
        Thread t = new Thread(() -> result[0] = failure(() -> TcpConnection.connect(server.getLocalAddress()).close()));
        t.start();
        t.join();
        if (exhausted) {
            hogs.add(new FileInputStream("/dev/null"));
        }
        return result[0].replace(address, "SERVER");
    }

    /**
     * A thread that accepts a connection while descriptors are free (a peer of this thread's connects
     * first, so the accept takes it at once, without a wait: the thread's loop never opens a selector;
     * a connect would, and keep it for the connection's registration), then, once {@link #result()} is
     * asked, reads from the connection, which has no byte: the first wait of a loop without a selector.
     */
    private static final class FirstRead {
        private final CompletableFuture<SocketAddress> bound = new CompletableFuture<>();
        private final CompletableFuture<Void> dialed = new CompletableFuture<>();
        private final CompletableFuture<Void> connected = new CompletableFuture<>();
        private final CompletableFuture<Void> go = new CompletableFuture<>();
        private final String[] result = {"?"};
        private final Thread thread;
        private final SocketChannel peer;

        FirstRead() throws Exception {
            thread = new Thread(() -> {
                TcpConnection accepted;
                try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                    bound.complete(listener.localAddress());
                    dialed.join();
                    accepted = listener.accept(); // waiting in the backlog already: no wait
                } catch (IOException e) {
                    bound.completeExceptionally(e);
                    connected.completeExceptionally(e);
                    return;
                }
                try (TcpConnection c = accepted) {
                    String name = c.toString();
                    connected.complete(null);
                    go.join();
                    result[0] = failure(() -> c.read(ByteBuffer.allocate(1))).replace(name.substring(
                            "TcpConnection[".length(), name.lastIndexOf(',')), "CONNECTION");
                } catch (IOException e) {
                    result[0] = "close failed: " + e;
                }
            });
            thread.start();
            peer = SocketChannel.open(bound.get()); // blocking; completed by the kernel through the backlog
            dialed.complete(null);
            connected.get();
        }

        /** How the read ended, the connection named {@code CONNECTION}. */
        String result() throws Exception {
            go.complete(null);
            thread.join();
            peer.close();
            return result[0];
        }
    }

    /**
     * A thread that binds a listener while descriptors are free, then, once {@link #result} is
     * asked, creates a coroutine and accepts with no connection waiting: the wait is the first of a
     * loop without a selector, which cannot be opened.
     */
    private static final class FirstAccept {
        private final CompletableFuture<String> bound = new CompletableFuture<>();
        private final CompletableFuture<Void> go = new CompletableFuture<>();
        private final List<String> log = new ArrayList<>();
        private final Thread thread;
        private final String address;

        FirstAccept() throws Exception {
            thread = new Thread(() -> {
                try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                    bound.complete(String.valueOf(listener.localAddress()));
                    go.join();
                    Coroutine.create("other", () -> log.add("other ran")); // as one that would close a file
                    log.add(failure(() -> listener.accept().close()));
                } catch (IOException e) {
                    bound.completeExceptionally(e);
                }
            });
            thread.start();
            address = bound.get();
        }

        /**
         * What happened on the thread, in order, the listener's address named {@code LISTENER}; run with
         * exactly one descriptor free (the kernel's accept takes one before it looks at the backlog, so with
         * none free the accept fails there): {@code hogs} take all but one first, and that one again after.
         */
        String result(List<FileInputStream> hogs) throws Exception {
            try {
                for (int i = 0; i < 100_000; i++) { // the descriptors the calls before freed, taken again
                    hogs.add(new FileInputStream("/dev/null"));
                }
            } catch (IOException e) {
                hogs.remove(hogs.size() - 1).close();
            }
            go.complete(null);
            thread.join();
            hogs.add(new FileInputStream("/dev/null"));
            return String.join(", then ", log).replace(address, "LISTENER");
        }
    }

    /** Binds a listener, connects to it, and closes both. */
    private static void bindAndConnect() throws IOException {
        try (TcpListener other = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             TcpConnection c = TcpConnection.connect(other.localAddress())) {
            System.out.println("bound " + other + ", connected " + c.isOpen());
        }
    }

    /** A call that is to fail. */
    private interface Call {
        void run() throws IOException;
    }

    /** How {@code call} failed: its exception's class and message, or {@code no failure}. */
    private static String failure(Call call) {
        try {
            call.run();
            return "no failure";
        } catch (IOException | RuntimeException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }
}
