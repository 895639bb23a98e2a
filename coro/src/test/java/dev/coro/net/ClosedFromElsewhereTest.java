package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A listener or a connection that a context of another thread tries to close, or uses once its owner
 * has closed it, while its owner's thread runs: each call is refused with an
 * {@code IllegalStateException} naming the calling context and its thread, the call, what it was made
 * on, its state and the owner, and changes nothing: an accept parked meanwhile still takes the next
 * connection, and a closed connection stays closed.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ClosedFromElsewhereTest {

    /** The owner as a refusal names it. */
    private static String owner() {
        Thread t = Thread.currentThread();
        return "'" + t.getName() + "' (#" + t.threadId() + ")";
    }

    @Test
    @Timeout(30)
    void aCloseOfAListenerFromAnotherThreadWhileMainIsParkedInItsAcceptIsRefusedAndTheAcceptTakesTheNextConnection()
            throws Exception {
        String owner = owner();
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            List<String> refusals = new ArrayList<>();
            List<TcpConnection> clients = new ArrayList<>();
            // runs once main parks in accept: another thread tries to close the listener, then a client connects
            Coroutine helper = Coroutine.create("helper", () -> {
                CompletableFuture<String> refused = new CompletableFuture<>();
                Thread.ofPlatform().name("closer").start(() -> {
                    try {
                        listener.close();
                        refused.complete("closed it");
                    } catch (Throwable e) {
                        refused.complete(e.getClass().getSimpleName() + ": " + e.getMessage()
                                + " [#" + Thread.currentThread().threadId() + "]");
                    }
                });
                refusals.add(Coroutine.await(refused));
                try {
                    clients.add(TcpConnection.connect(listener.localAddress()));
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            try (TcpConnection accepted = listener.accept()) {
                assertThat(refusals).hasSize(1);
                String id = refusals.get(0).substring(refusals.get(0).lastIndexOf("[#") + 2, refusals.get(0).length() - 1);
                assertThat(refusals.get(0)).isEqualTo("IllegalStateException: thread 'closer' (#" + id + ") cannot close listener "
                        + listener.localAddress() + " (open): it belongs to thread " + owner + " [#" + id + "]");
                assertThat(listener.isOpen()).isTrue();
                helper.join(); // its connect may finish after the accept
                assertThat(clients).singleElement().satisfies(c -> assertThat(c.localAddress()).isEqualTo(accepted.remoteAddress()));
                clients.get(0).close();
            }
        }
    }

    @Test
    @Timeout(30)
    void aConnectionClosedByItsOwnerIsRefusedToACoroutineOfAnotherThreadNamingItsStateClosed() throws Exception {
        String owner = owner();
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            String c = name(client);
            client.close();
            List<String> refusals = new ArrayList<>();
            Thread t = Thread.ofPlatform().name("intruder").unstarted(() -> Coroutine.create("user", () -> {
                for (Call call : List.<Call>of(
                        () -> client.read(ByteBuffer.allocate(1)),
                        () -> client.write(bytes("x")),
                        () -> client.write(ByteBuffer.allocate(0)),
                        client::shutdownOutput,
                        client::close,
                        () -> client.input().read(),
                        () -> client.output().write(1))) {
                    try {
                        call.call();
                        refusals.add("returned");
                    } catch (IllegalStateException e) {
                        refusals.add(e.getMessage());
                    } catch (IOException e) {
                        refusals.add("IOException: " + e.getMessage());
                    }
                }
            }).switchTo());
            t.start();
            t.join();
            String user = "coroutine 'user' of thread 'intruder' (#" + t.threadId() + ")";
            String tail = c + " (closed): it belongs to thread " + owner;
            assertThat(refusals).containsExactly(
                    user + " cannot read from " + tail,
                    user + " cannot write to " + tail,
                    user + " cannot write to " + tail,
                    user + " cannot shut down the output of " + tail,
                    user + " cannot close " + tail,
                    user + " cannot read from " + tail,
                    user + " cannot write to " + tail);
            assertThat(client.isOpen()).isFalse();
            assertThat(server.read(ByteBuffer.allocate(1))).as("the peer reads the end of the stream").isEqualTo(-1);
        }
    }

    /** A call of a connection. */
    @FunctionalInterface
    private interface Call {
        void call() throws IOException;
    }
}
