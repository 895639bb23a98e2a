package dev.coro.net;

import dev.coro.Coroutine;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A minimal HTTP/1.1 server and client over {@link TcpConnection}, as a user would write one: messages
 * with a {@code Content-Length} body, keep-alive unless a side says {@code Connection: close}. For the
 * tests that meet the library with what real servers meet (keep-alive, pipelining, slow and vanishing
 * clients, shutdown); not a web server.
 */
final class MiniHttp {

    private MiniHttp() {
    }

    /** A request as read off the wire. */
    record Request(String method, String target, Map<String, String> headers, byte[] body) {
        /** Whether the client asked to end the connection after this request. */
        boolean close() {
            return "close".equalsIgnoreCase(headers.get("connection"));
        }
    }

    /** A response as read off the wire. */
    record Response(int status, Map<String, String> headers, byte[] body) {
        /** The body as text, one char per byte. */
        String text() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * Reads HTTP messages off a connection through a buffer of its own, so bytes of the next message that
     * came with this one (pipelining) wait for the next call.
     */
    static final class Reader {
        private final TcpConnection connection;
        private ByteBuffer buf;
        /** How many bytes it has read off the connection so far. */
        long bytesRead;

        /** A reader of the messages {@code connection} carries, from the next byte it reads. */
        Reader(TcpConnection connection) {
            this.connection = connection;
            this.buf = ByteBuffer.allocate(4096).flip();
        }

        /** The next request; null if the stream ends cleanly between two. */
        Request request() throws IOException {
            String head = head();
            if (head == null) {
                return null;
            }
            String[] lines = head.split("\r\n");
            String[] start = lines[0].split(" ");
            if (start.length != 3 || !start[2].startsWith("HTTP/1.")) {
                throw new ProtocolException("bad request line: " + lines[0]);
            }
            Map<String, String> headers = headers(lines);
            return new Request(start[0], start[1], headers, body(headers));
        }

        /** The next response; fails if the stream ends before it. */
        Response response() throws IOException {
            String head = head();
            if (head == null) {
                throw new ProtocolException("the stream ended before a response");
            }
            String[] lines = head.split("\r\n");
            String[] start = lines[0].split(" ", 3);
            Map<String, String> headers = headers(lines);
            return new Response(Integer.parseInt(start[1]), headers, body(headers));
        }

        /** The head of the next message, up to its blank line (left out); null if the stream ends before any byte of it. */
        private String head() throws IOException {
            int scanned = 0;
            while (true) {
                for (int i = buf.position() + Math.max(0, scanned - 3); i + 3 < buf.limit(); i++) {
                    if (buf.get(i) == '\r' && buf.get(i + 1) == '\n' && buf.get(i + 2) == '\r' && buf.get(i + 3) == '\n') {
                        byte[] b = new byte[i - buf.position()];
                        buf.get(b);
                        buf.position(buf.position() + 4);
                        return new String(b, StandardCharsets.ISO_8859_1);
                    }
                }
                scanned = buf.remaining();
                if (fill() < 0) {
                    if (buf.hasRemaining()) {
                        throw new ProtocolException("the stream ended inside a message head, after " + buf.remaining() + " bytes");
                    }
                    return null;
                }
            }
        }

        private static Map<String, String> headers(String[] lines) throws ProtocolException {
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    throw new ProtocolException("bad header line: " + lines[i]);
                }
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
            return headers;
        }

        private byte[] body(Map<String, String> headers) throws IOException {
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            byte[] body = new byte[length];
            int n = Math.min(length, buf.remaining());
            buf.get(body, 0, n);
            while (n < length) {
                int r = connection.read(ByteBuffer.wrap(body, n, length - n));
                if (r < 0) {
                    throw new ProtocolException("the stream ended after " + n + " of the " + length + " bytes of a body");
                }
                bytesRead += r;
                n += r;
            }
            return body;
        }

        /** Reads more into the buffer (growing it when full); the count, or -1 at the end of the stream. */
        private int fill() throws IOException {
            buf.compact();
            if (!buf.hasRemaining()) {
                ByteBuffer bigger = ByteBuffer.allocate(buf.capacity() * 2);
                bigger.put(buf.flip());
                buf = bigger;
            }
            try {
                int n = connection.read(buf);
                if (n > 0) {
                    bytesRead += n;
                }
                return n;
            } finally {
                buf.flip();
            }
        }
    }

    /** The bytes of a request; {@code close} adds {@code Connection: close}. */
    static byte[] request(String method, String target, byte[] body, boolean close) {
        String head = method + " " + target + " HTTP/1.1\r\nHost: test\r\n"
                + (body.length > 0 ? "Content-Length: " + body.length + "\r\n" : "")
                + (close ? "Connection: close\r\n" : "") + "\r\n";
        return concat(head.getBytes(StandardCharsets.ISO_8859_1), body);
    }

    /** A GET of {@code target}, kept alive. */
    static byte[] get(String target) {
        return request("GET", target, new byte[0], false);
    }

    /** The bytes of a response with {@code body}; {@code close} adds {@code Connection: close}. */
    static byte[] response(int status, byte[] body, boolean close) {
        String head = "HTTP/1.1 " + status + (status == 200 ? " OK" : " Status") + "\r\nContent-Length: " + body.length + "\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n";
        return concat(head.getBytes(StandardCharsets.ISO_8859_1), body);
    }

    /** {@code a}'s bytes, then {@code b}'s. */
    static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /**
     * Serves one connection until the client ends it or asks to close: each request's answer is
     * {@code handler}'s body, written in one write. Does not close the connection.
     *
     * @return how many requests it served
     */
    static int serve(TcpConnection c, Function<Request, byte[]> handler) throws IOException {
        Reader in = new Reader(c);
        int served = 0;
        while (true) {
            Request r = in.request();
            if (r == null) {
                return served;
            }
            c.write(ByteBuffer.wrap(response(200, handler.apply(r), r.close())));
            served++;
            if (r.close()) {
                return served;
            }
        }
    }

    /**
     * Starts the server's accept loop on {@code listener} as a coroutine {@code acceptor} of {@code crew},
     * and a coroutine {@code conn-K} of {@code crew} for the K-th connection, which {@link #serve serves}
     * it with {@code handler}, then closes it. Each logs how it ended: {@code conn-K served N} or
     * {@code conn-K: } and its failure, {@code acceptor: } and the failure that ended the loop.
     *
     * @return the acceptor
     */
    static Coroutine acceptLoop(TcpListener listener, Crew crew, Function<Request, byte[]> handler, List<String> log) {
        return crew.spawn("acceptor", () -> {
            int k = 0;
            try {
                while (true) {
                    TcpConnection c = listener.accept();
                    String name = "conn-" + k++;
                    crew.spawn(name, () -> {
                        try (c) {
                            log.add(name + " served " + serve(c, handler));
                        } catch (IOException e) {
                            log.add(name + ": " + e.getClass().getName() + ": " + e.getMessage());
                        }
                    });
                }
            } catch (IOException e) {
                log.add("acceptor: " + e.getClass().getName() + ": " + e.getMessage());
            }
        });
    }

    /**
     * The bytes {@code /bytes/N} answers: {@code N} bytes, the i-th {@code 'a' + (i * 7 + i / 251) % 26}, so
     * that a byte lost, doubled or out of place shows.
     */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7 + i / 251) % 26);
        }
        return b;
    }

    /**
     * A handler: {@code GET /bytes/N} answers {@link #pattern(int) pattern(N)}, any other request its
     * method, target and body.
     */
    static byte[] answer(Request r) {
        if (r.target().startsWith("/bytes/")) {
            return pattern(Integer.parseInt(r.target().substring("/bytes/".length())));
        }
        return concat((r.method() + " " + r.target() + " ").getBytes(StandardCharsets.ISO_8859_1), r.body());
    }
}
