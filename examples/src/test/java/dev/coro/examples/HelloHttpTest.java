package dev.coro.examples;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The tiny HTTP server, on a thread of its own, answers a plain blocking socket of the test's thread
 * and the JDK's {@link HttpClient}: keep-alive, pipelining, 404, HTTP/1.0, {@code Connection: close},
 * a request body, a malformed request. Every wait is bounded by a guard against a hang, not a timing threshold.
 */
class HelloHttpTest {

    /** A guard against a hang, not a timing threshold. */
    private static final int GUARD_MILLIS = 60_000;

    private static ServerThread startServer() throws Exception {
        return ServerThread.start(address -> {
            HelloHttp server = HelloHttp.start(address);
            return new ServerThread.Started(server.address(), server);
        });
    }

    /** A connection of the test's thread, with a reader of the answers. */
    private static final class Client implements AutoCloseable {
        final Socket socket = new Socket();
        final BufferedReader in;
        final OutputStream out;

        Client(ServerThread server) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), GUARD_MILLIS);
            socket.setSoTimeout(GUARD_MILLIS);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), ISO_8859_1));
            out = socket.getOutputStream();
        }

        void send(String request) throws IOException {
            out.write(request.getBytes(ISO_8859_1));
        }

        /** The next answer: its status line, its headers (one a line) and its body, as one string. */
        String answer() throws IOException {
            StringBuilder b = new StringBuilder(in.readLine()).append('\n');
            int length = -1;
            for (String h; !(h = in.readLine()).isEmpty(); ) {
                b.append(h).append('\n');
                if (h.startsWith("Content-Length: ")) {
                    length = Integer.parseInt(h.substring(16));
                }
            }
            assertThat(length).as("Content-Length of %s", b).isNotNegative();
            b.append('\n');
            for (int i = 0; i < length; i++) {
                b.append((char) in.read());
            }
            return b.toString();
        }

        /** Whether the server closed the connection: the end of the stream comes next. */
        boolean closedByServer() throws IOException {
            return in.read() == -1;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static final String HELLO = "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\nhello";
    private static final String NOT_FOUND = "HTTP/1.1 404 Not Found\nContent-Type: text/plain\nContent-Length: 9\n\nnot found";

    private static String get(String path, String... headers) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + String.join("", headers) + "\r\n";
    }

    @Test
    void twoKeepAliveRequestsOnOneConnectionAreBothAnsweredHelloThenA404AndTheConnectionStaysOpen() throws Exception {
        try (ServerThread server = startServer(); Client c = new Client(server)) {
            c.send(get("/"));
            assertThat(c.answer()).isEqualTo(HELLO);
            c.send(get("/"));
            assertThat(c.answer()).isEqualTo(HELLO);
            c.send(get("/nothing/here"));
            assertThat(c.answer()).isEqualTo(NOT_FOUND);
            c.send(get("/"));
            assertThat(c.answer()).as("still open after a 404").isEqualTo(HELLO);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (ServerThread server = startServer(); Client c = new Client(server)) {
            c.send(get("/") + get("/missing") + get("/"));      // one write, three requests
            assertThat(List.of(c.answer(), c.answer(), c.answer())).containsExactly(HELLO, NOT_FOUND, HELLO);
        }
    }

    @Test
    void connectionCloseIsAnsweredThenTheServerCloses() throws Exception {
        try (ServerThread server = startServer(); Client c = new Client(server)) {
            c.send(get("/", "Connection: close\r\n"));
            assertThat(c.answer()).isEqualTo(
                    "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\nConnection: close\n\nhello");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void anHttp10RequestIsAnsweredThenClosedUnlessItAsksForKeepAlive() throws Exception {
        try (ServerThread server = startServer()) {
            try (Client c = new Client(server)) {
                c.send("GET / HTTP/1.0\r\n\r\n");
                assertThat(c.answer()).endsWith("Connection: close\n\nhello");
                assertThat(c.closedByServer()).isTrue();
            }
            try (Client c = new Client(server)) {
                c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                assertThat(c.answer()).isEqualTo(HELLO);
                c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                assertThat(c.answer()).isEqualTo(HELLO);
            }
        }
    }

    @Test
    void aRequestBodyIsSkippedAndTheNextRequestOnTheConnectionIsServed() throws Exception {
        try (ServerThread server = startServer(); Client c = new Client(server)) {
            c.send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nGET / HTTP/");  // unskipped, a 400
            assertThat(c.answer()).as("only GET / is hello").isEqualTo(NOT_FOUND);
            c.send(get("/"));
            assertThat(c.answer()).isEqualTo(HELLO);
        }
    }

    @Test
    void aMalformedRequestLineGets400AndTheConnectionCloses() throws Exception {
        try (ServerThread server = startServer(); Client c = new Client(server)) {
            c.send("HELLO\r\n\r\n");
            assertThat(c.answer()).isEqualTo(
                    "HTTP/1.1 400 Bad Request\nContent-Type: text/plain\nContent-Length: 11\nConnection: close\n\nbad request");
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void theJdkHttpClientGetsHelloAndA404() throws Exception {
        try (ServerThread server = startServer();
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .connectTimeout(Duration.ofMillis(GUARD_MILLIS)).build()) {
            List<String> got = new ArrayList<>();
            for (String path : List.of("/", "/", "/nope")) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + server.port() + path))
                        .timeout(Duration.ofMillis(GUARD_MILLIS)).build(), HttpResponse.BodyHandlers.ofString());
                got.add(r.statusCode() + " " + r.body());
            }
            assertThat(got).containsExactly("200 hello", "200 hello", "404 not found");
        }
    }

    /**
     * The example's own client against a server (a plain socket of another thread) that reads the
     * request, writes {@code partial} and closes: the client says what it was reading when the
     * connection ended, and prints only the status line it had.
     */
    private static String clientAgainstAServerThatStopsAfter(String partial, ByteArrayOutputStream printed) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = listener.accept()) {
                    s.setSoTimeout(GUARD_MILLIS);
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), ISO_8859_1));
                    while (!in.readLine().isEmpty()) {
                        // the request's lines, up to the blank one that ends it
                    }
                    s.getOutputStream().write(partial.getBytes(ISO_8859_1));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try {
                HelloHttp.client(listener.getLocalSocketAddress(), new PrintStream(printed, true, ISO_8859_1));
                throw new AssertionError("the client took a cut answer as whole: " + printed.toString(ISO_8859_1));
            } catch (UncheckedIOException e) {
                assertThat(e.getCause()).isInstanceOf(EOFException.class);
                return e.getCause().getMessage();
            } finally {
                served.get(GUARD_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
    }

    @Test
    void theClientSaysTheServerClosedTheConnectionInTheHeaders() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        assertThat(clientAgainstAServerThatStopsAfter("HTTP/1.1 200 OK\r\nContent-Le", printed))
                .isEqualTo("the server closed the connection before the end of the headers");
        assertThat(printed.toString(ISO_8859_1)).isEqualTo("GET / -> HTTP/1.1 200 OK");
    }

    @Test
    void theClientSaysTheServerClosedTheConnectionInTheBody() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        assertThat(clientAgainstAServerThatStopsAfter("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", printed))
                .isEqualTo("the server closed the connection 3 characters into a body of 5");
    }

    @Test
    void theClientSaysTheServerClosedTheConnectionBeforeAnswering() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        assertThat(clientAgainstAServerThatStopsAfter("", printed))
                .isEqualTo("the server closed the connection before the status line");
        assertThat(printed.toString(ISO_8859_1)).isEmpty();
    }
}
