package dev.coro.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * An echo server with one coroutine per connection on a {@link TcpListener}, and its client: code
 * that reads like blocking socket code, where every wait parks a coroutine and the thread serves
 * the others meanwhile.
 *
 * <p>Run with no argument (or as the {@code echo_server} example) it starts the server and three
 * client coroutines in one thread: each client sends its lines and reads their echoes; main waits
 * for the three, then prints every transcript in client order and the server's counts, so the
 * output is the same on every run however the connections interleave. As separate programs:
 * <pre>
 * java -cp ... dev.coro.examples.EchoServer server 7000            # serves until killed
 * java -cp ... dev.coro.examples.EchoServer client 7000 hello there  # prints the echo
 * </pre>
 */
public final class EchoServer implements Closeable {
    /** How many clients the example runs. */
    private static final int CLIENTS = 3;
    /** What each client of the example says, one line at a time. */
    private static final List<String> WORDS = List.of("hello", "coroutines", "goodbye");

    private final TcpListener listener;
    private final Consumer<String> log;
    /** The coroutines of the connections being served: {@link #close()} unwinds them. */
    private final Set<Coroutine> connections = new LinkedHashSet<>();
    private Coroutine acceptor;
    private int accepted;
    private long echoed;

    /**
     * A server on {@code listener}; nothing is accepted until {@link #serve()} runs.
     *
     * @param listener where connections come from; {@link #close()} closes it
     * @param log      where a line goes whenever a connection ends
     */
    public EchoServer(TcpListener listener, Consumer<String> log) {
        this.listener = listener;
        this.log = log;
    }

    /**
     * Binds a server to {@code address} and starts its accept loop in a coroutine of its own,
     * {@code "echo server"}; it runs once the caller parks or yields.
     *
     * @param address where to listen; port 0 for any free port ({@link #address()} tells which)
     * @param log     where a line goes whenever a connection ends
     * @return the server, owned by the calling thread
     * @throws IOException if the address cannot be bound
     */
    public static EchoServer start(SocketAddress address, Consumer<String> log) throws IOException {
        EchoServer server = new EchoServer(TcpListener.bind(address), log);
        server.acceptor = Coroutine.create("echo server", server::serve);
        return server;
    }

    /**
     * Accepts connections, each served by a coroutine of its own, until the listener is closed
     * ({@link #close()}); runs in the calling context (main or a coroutine) until then, or until
     * that context is closed.
     */
    public void serve() {
        while (true) {
            TcpConnection c;
            try {
                c = listener.accept();                             // parks until a client connects
            } catch (IOException e) {
                if (!listener.isOpen()) {                          // closed: no accept will ever succeed
                    return;
                }
                log.accept(e.getMessage() + "; accepting again in 100 ms");  // e.g. out of file descriptors
                Coroutine.sleep(Duration.ofMillis(100));
                continue;
            }
            accepted++;
            connections.add(Coroutine.create("echo " + c.remoteAddress(), () -> echo(c)));
        }
    }

    /** Writes back every byte read from {@code c} until the client closes it (or resets it). */
    private void echo(TcpConnection c) {
        long bytes = 0;
        try (c) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            int n;
            while ((n = c.read(buf.clear())) >= 0) {               // parks until bytes arrive; -1 at the end
                c.write(buf.flip());                               // parks while the send buffer is full
                bytes += n;
                echoed += n;
            }
            log.accept(c.remoteAddress() + " closed after " + bytes + " bytes");
        } catch (IOException e) {
            log.accept(e.getMessage());                            // a reset client: nothing left to echo
        } finally {
            connections.remove(Coroutine.current());
        }
    }

    /**
     * The address the server listens on.
     *
     * @return the listener's address, with the real port
     */
    public SocketAddress address() {
        return listener.localAddress();
    }

    /**
     * How many connections the server has accepted.
     *
     * @return the count since it started
     */
    public int accepted() {
        return accepted;
    }

    /**
     * How many bytes the server has echoed, over all its connections.
     *
     * @return the count since it started
     */
    public long echoed() {
        return echoed;
    }

    /**
     * Stops the server: unwinds the accept loop started by {@link #start} and every connection's
     * coroutine (each closes its connection on the way out), then closes the listener (a loop that
     * {@link #serve()} runs in another context ends there, its accept failing). Call it from
     * the server's thread, from a context other than the server's own coroutines.
     *
     * @throws IOException if the listener fails to close
     */
    @Override
    public void close() throws IOException {
        if (acceptor != null) {
            acceptor.close();
        }
        for (Coroutine c : List.copyOf(connections)) {
            c.close();
        }
        listener.close();
    }

    /**
     * The client: connects to {@code server}, sends each line and reads its echo, then half-closes
     * the connection and reads the end of the stream, so the server has closed its end (and its
     * counts include this connection) when this returns.
     *
     * @param server where the echo server listens
     * @param lines  what to send, one line at a time
     * @return the echoes, one per line
     * @throws IOException if the connection fails, or the server sends more than the echoes
     */
    public static List<String> talk(SocketAddress server, List<String> lines) throws IOException {
        try (TcpConnection c = TcpConnection.connect(server)) {   // parks until connected
            PrintWriter out = new PrintWriter(new OutputStreamWriter(c.output(), UTF_8), true);
            BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), UTF_8));
            List<String> echoes = new ArrayList<>();
            for (String line : lines) {
                out.println(line);                                 // println flushes: one write
                echoes.add(in.readLine());                         // parks until the echo is back
            }
            c.shutdownOutput();                                    // the server reads the end and closes
            if (in.read() != -1) {
                throw new IOException(c + " sent more than the echoes of " + lines);
            }
            return echoes;
        }
    }

    /**
     * Runs the example on the calling thread (which must have no live coroutine): a server and
     * three clients, printing to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        try (EchoServer server = start(new InetSocketAddress("127.0.0.1", 0), line -> { })) {
            List<List<String>> transcripts = new ArrayList<>(Collections.nCopies(CLIENTS, List.of()));
            Channel<Integer> done = new Channel<>("done", CLIENTS);
            for (int i = 0; i < CLIENTS; i++) {
                int id = i;
                Coroutine.create("client " + (id + 1), () -> {
                    List<String> lines = WORDS.stream().map(w -> w + " from client " + (id + 1)).toList();
                    try {
                        transcripts.set(id, talk(server.address(), lines));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    done.send(id);
                });
            }
            for (int i = 0; i < CLIENTS; i++) {
                done.receive();                                    // main parks; the others run meanwhile
            }
            for (int i = 0; i < CLIENTS; i++) {
                out.printf(Locale.ROOT, "client %d got back %s%n", i + 1, transcripts.get(i));
            }
            out.printf(Locale.ROOT, "server: %d connections accepted, %d bytes echoed, %d still open%n",
                    server.accepted(), server.echoed(), server.connections.size());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * With no argument, runs the example; {@code server <port>} serves on 127.0.0.1 until killed;
     * {@code client <port> <message...>} sends the message as one line and prints its echo.
     *
     * @param args nothing, {@code server <port>} or {@code client <port> <message...>}
     * @throws IOException if the port cannot be bound, or the connection fails
     */
    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            run(System.out);
        } else if (args.length == 2 && args[0].equals("server")) {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
            try (EchoServer server = new EchoServer(TcpListener.bind(address), System.out::println)) {
                System.out.println("echo server listening on " + server.address());
                server.serve();                                    // in main, for ever
            }
        } else if (args.length >= 3 && args[0].equals("client")) {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1]));
            String message = String.join(" ", List.of(args).subList(2, args.length));
            System.out.println(talk(address, List.of(message)).getFirst());
        } else {
            System.err.println("usage: EchoServer [server <port> | client <port> <message...>]");
            System.exit(2);
        }
    }
}
