package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.BindException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link TcpListener#bind(SocketAddress, boolean)}: listeners bound with {@code SO_REUSEPORT} share
 * a port, each on a thread of its own, and serve every connection once between them; without the
 * option on both the second bind fails naming the address; a platform that lacks the option is
 * refused naming the bind and the reason.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ReusePortTest {

    @Test
    void twoListenersSharingAPortOnTwoPoolThreadsServeEveryConnectionOnceBetweenThem() throws Exception {
        int clients = 40;
        List<String> served = Collections.synchronizedList(new ArrayList<>()); // the lines read, by both threads
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<Integer> counts = new ArrayList<>();
        List<String> replies = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            try {
                // two long-lived bodies: placement puts them on the pool's two threads, one each
                CompletableFuture<SocketAddress> firstBound = new CompletableFuture<>();
                CompletableFuture<Integer> first = pool.submit(() -> serveUntil(LOOPBACK, "first", firstBound, done, served));
                SocketAddress address = Coroutine.await(firstBound);
                CompletableFuture<SocketAddress> secondBound = new CompletableFuture<>();
                CompletableFuture<Integer> second = pool.submit(() -> serveUntil(address, "second", secondBound, done, served));
                assertThat(Coroutine.await(secondBound)).as("the same address, port included").isEqualTo(address);

                Crew crew = new Crew(); // the clients: coroutines of this thread
                for (int i = 0; i < clients; i++) {
                    String line = "client " + i;
                    crew.spawn(line, () -> {
                        try (TcpConnection c = TcpConnection.connect(address)) {
                            c.output().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                            replies.add(new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8)).readLine());
                        }
                    });
                }
                crew.join();
                done.complete(null); // every client has its reply: each listener closes
                counts.add(Coroutine.await(first));
                counts.add(Coroutine.await(second));
            } finally {
                done.complete(null); // after a failure too: the pool's close does not wait for ever
            }
        }
        assertThat(counts.get(0) + counts.get(1)).as("connections accepted by the two listeners").isEqualTo(clients);
        String[] lines = IntStream.range(0, clients).mapToObj(i -> "client " + i).toArray(String[]::new);
        assertThat(served).as("each connection served once, by one listener").containsExactlyInAnyOrder(lines);
        assertThat(replies).hasSize(clients).allMatch(r -> r.matches("(first|second) served client \\d+"));
        assertThat(replies.stream().map(r -> r.substring(r.indexOf("client")))).containsExactlyInAnyOrder(lines);
    }

    /**
     * A pool thread's body: binds a listener with {@code SO_REUSEPORT} to {@code address}, tells where
     * it is bound, serves each connection (a line read, a line written back naming {@code name}) in a
     * coroutine of its own until {@code done}, then closes; returns how many connections it accepted.
     */
    private static int serveUntil(SocketAddress address, String name, CompletableFuture<SocketAddress> bound,
                                  CompletableFuture<Void> done, List<String> served) {
        int[] accepted = {0};
        Crew crew = new Crew();
        try (TcpListener listener = TcpListener.bind(address, true)) {
            bound.complete(listener.localAddress());
            Coroutine acceptor = crew.spawn(name + " acceptor", () -> {
                while (accepted[0] < 1_000) {
                    TcpConnection c = listener.accept();
                    accepted[0]++;
                    crew.spawn(name + " serving", () -> {
                        try (c) {
                            String line = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8)).readLine();
                            served.add(line);
                            c.output().write((name + " served " + line + "\n").getBytes(StandardCharsets.UTF_8));
                        }
                    });
                }
            });
            Coroutine.await(done);
            acceptor.close(); // unwinds it out of accept
            crew.join();
        } catch (IOException e) {
            bound.completeExceptionally(e);
            throw new java.io.UncheckedIOException(e);
        }
        return accepted[0];
    }

    @Test
    void withoutTheOptionOnBothListenersTheSecondBindFailsNamingTheAddress() throws Exception {
        for (boolean[] options : new boolean[][] {{false, false}, {true, false}, {false, true}}) {
            try (TcpListener first = options[0] ? TcpListener.bind(LOOPBACK, true) : TcpListener.bind(LOOPBACK)) {
                SocketAddress address = first.localAddress();
                String with = options[1] ? " with SO_REUSEPORT" : "";
                assertThatThrownBy(() -> TcpListener.bind(address, options[1]).close())
                        .as("first bound %s the option, second %s", options[0] ? "with" : "without", options[1] ? "with" : "without")
                        .isExactlyInstanceOf(BindException.class) // the JDK's class, so that a catch of it matches
                        .hasMessageStartingWith("main context 'main' cannot bind a listener to " + address + with + ": java.net.BindException")
                        .hasCauseInstanceOf(BindException.class);
                // the first still listens
                try (SocketChannel client = SocketChannel.open(address);
                     TcpConnection accepted = first.accept()) {
                    assertThat(accepted.remoteAddress()).isEqualTo(client.getLocalAddress());
                }
            }
        }
    }

    @Test
    void aPlatformWithoutReusePortIsRefusedNamingTheBindAndTheReasonAndLeavesNoSocketOpen() throws Exception {
        NoReusePort socket = new NoReusePort();
        assertThatThrownBy(() -> TcpListener.bind(LOOPBACK, true, () -> socket))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage(Callers.plainThread() + " cannot bind a listener to " + LOOPBACK + " with SO_REUSEPORT: this "
                        + "platform's sockets do not support that option ('SO_REUSEPORT' not supported); bind a single "
                        + "listener without it")
                .cause().isInstanceOf(UnsupportedOperationException.class).hasMessage("'SO_REUSEPORT' not supported");
        assertThat(socket.isOpen()).as("the socket opened for the bind").isFalse();
        assertThat(socket.bound).as("no bind was tried").isFalse();
    }

    /** A server socket of a platform whose sockets lack {@code SO_REUSEPORT}, refusing it as the JDK does. */
    private static final class NoReusePort extends StubServerSocketChannel {
        boolean bound;

        @Override
        public ServerSocketChannel bind(SocketAddress local, int backlog) {
            bound = true;
            throw new AssertionError("not reached");
        }

        @Override
        public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }

        @Override
        public <T> T getOption(SocketOption<T> name) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }

        @Override
        public Set<SocketOption<?>> supportedOptions() {
            return Set.of(StandardSocketOptions.SO_REUSEADDR);
        }
    }

}
