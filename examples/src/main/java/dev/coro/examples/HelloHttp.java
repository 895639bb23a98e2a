package dev.coro.examples;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A tiny HTTP/1.1 server, a coroutine per connection: {@code GET /} answers {@code hello}, anything
 * else 404; a connection is kept alive (HTTP/1.1's default) until the client closes it or asks
 * {@code Connection: close}. As the {@code hello_http} example, a client coroutine sends four
 * requests on one connection, the last one asking to close it. {@code java -cp ... dev.coro.examples.HelloHttp 8080}
 * serves on 127.0.0.1:8080 until killed.
 */
public final class HelloHttp implements Closeable {
    private final TcpListener listener;
    private final Set<Coroutine> connections = new HashSet<>();
    private Coroutine acceptor;

    private HelloHttp(TcpListener listener) {
        this.listener = listener;
    }

    /**
     * Binds a server to {@code address}; its accept loop, a coroutine, runs once the caller parks or yields.
     *
     * @param address where to listen; port 0 for any free port ({@link #address()} tells which)
     * @return the server, owned by the calling thread
     * @throws IOException if the address cannot be bound
     */
    public static HelloHttp start(SocketAddress address) throws IOException {
        HelloHttp server = new HelloHttp(TcpListener.bind(address));
        server.acceptor = Coroutine.create("http server", server::accept);
        return server;
    }

    private void accept() {
        while (true) {
            try {
                TcpConnection c = listener.accept();               // parks until a client connects
                connections.add(Coroutine.create("http " + c.remoteAddress(), () -> serve(c)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);                 // reaches the server's creator
            }
        }
    }

    /** Answers the requests of one connection, one after the other, while it is kept alive. */
    private void serve(TcpConnection c) {
        try (c) {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), ISO_8859_1));
            boolean keepAlive = true;
            for (String request; keepAlive && (request = in.readLine()) != null; ) {  // parks until one comes
                String[] words = request.split(" ");
                boolean valid = words.length == 3 && words[2].startsWith("HTTP/1.");
                keepAlive = valid && words[2].equals("HTTP/1.1");              // HTTP/1.0 closes by default
                long length = 0;
                for (String h; (h = in.readLine()) != null && !h.isEmpty(); ) {  // the headers
                    String name = h.substring(0, Math.max(0, h.indexOf(':'))).strip();
                    String value = h.substring(h.indexOf(':') + 1).strip();
                    if (name.equalsIgnoreCase("Connection")) {
                        keepAlive = valid && (value.equalsIgnoreCase("keep-alive") || keepAlive && !value.equalsIgnoreCase("close"));
                    } else if (name.equalsIgnoreCase("Content-Length")) {
                        length = Long.parseLong(value);
                    }
                }
                while (length > 0 && in.read() >= 0) {                 // a body, unread (ISO-8859-1: a char a byte)
                    length--;
                }
                boolean hello = valid && words[0].equals("GET") && words[1].equals("/");
                String status = !valid ? "400 Bad Request" : hello ? "200 OK" : "404 Not Found";
                String body = hello ? "hello" : status.substring(4).toLowerCase(Locale.ROOT);
                c.output().write(("HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: "
                        + body.length() + (keepAlive ? "" : "\r\nConnection: close") + "\r\n\r\n" + body)
                        .getBytes(ISO_8859_1));                       // one write; parks if the buffer is full
            }
        } catch (IOException | NumberFormatException e) {
            // a reset client, a malformed Content-Length: the connection is closed
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
     * Stops the server: unwinds the accept loop and every connection's coroutine, then closes the
     * listener. Call it from the server's thread, from a context other than its own coroutines.
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
     * Runs the example on the calling thread (which must have no live coroutine): a client
     * coroutine sends four requests on one connection and prints each answer to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        try (HelloHttp server = start(new InetSocketAddress("127.0.0.1", 0))) {
            Channel<Boolean> done = new Channel<>("done", 1);
            Coroutine.create("client", () -> {
                client(server.address(), out);
                done.send(true);
            });
            done.receive();                                        // main parks; the server and the client run
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends four requests on one connection, the last asking to close it, and prints the answers; a
     * server that closes the connection before an answer is whole is an {@link EOFException}.
     */
    static void client(SocketAddress server, PrintStream out) {
        try (TcpConnection c = TcpConnection.connect(server)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), ISO_8859_1));
            String[][] requests = {{"/", ""}, {"/", ""}, {"/missing", ""}, {"/", "Connection: close"}};
            for (String[] r : requests) {
                String headers = "Host: localhost\r\n" + (r[1].isEmpty() ? "" : r[1] + "\r\n");
                c.output().write(("GET " + r[0] + " HTTP/1.1\r\n" + headers + "\r\n").getBytes(ISO_8859_1));
                out.print("GET " + r[0] + (r[1].isEmpty() ? "" : " (" + r[1] + ")") + " -> " + line(in, "the status line"));
                int length = 0;
                for (String h; !(h = line(in, "the end of the headers")).isEmpty(); ) { // parks until the answer is in
                    length = h.startsWith("Content-Length: ") ? Integer.parseInt(h.substring(16)) : length;
                }
                StringBuilder body = new StringBuilder();
                for (int ch; body.length() < length; body.append((char) ch)) {
                    if ((ch = in.read()) < 0) {
                        throw new EOFException("the server closed the connection " + body.length() + " characters into a body of " + length);
                    }
                }
                out.println(": " + body);
            }
            out.println("then the server " + (in.read() < 0 ? "closed the connection" : "sent more"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next line of an answer; the server closing the connection before it is an {@link EOFException}. */
    private static String line(BufferedReader in, String what) throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new EOFException("the server closed the connection before " + what);
        }
        return line;
    }

    /**
     * With no argument, runs the example; with a port, serves on 127.0.0.1 until killed.
     *
     * @param args nothing, or {@code <port>}
     * @throws IOException if the port cannot be bound
     */
    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            run(System.out);
            return;
        }
        HelloHttp server = new HelloHttp(TcpListener.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]))));
        System.out.println("serving http://" + server.address().toString().replaceFirst("^.*/", ""));
        server.accept();                                           // in main, for ever
    }
}
