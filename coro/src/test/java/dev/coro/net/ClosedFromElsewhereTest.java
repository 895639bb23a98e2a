package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
 * A listener or a connection that a context of another thread closes, or uses once its owner has closed
 * it, while its owner's thread runs: a close is posted to the owner's thread and fails an accept parked
 * there, a close of one closed already returns at once, and every other call is refused with an
 * {@code IllegalStateException} naming the calling context and its thread, the call, what it was made on,
 * its state and the owner, and changes nothing: a closed connection stays closed.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ClosedFromElsewhereTest {

    /** The owner as a refusal names it. */
    private static String owner() {
        Thread t = Thread.currentThread();
        return "'" + t.getName() + "' (#" + t.threadId() + ")";
    }

    /**
     * A close of a listener from a plain thread while main is parked in its accept is posted to main's
     * thread and run there: the accept fails as for a close on its own thread, and the close returns once
     * the listener is closed.
     */
    @Test
    @Timeout(30)
    void aCloseOfAListenerFromAnotherThreadWhileMainIsParkedInItsAcceptFailsTheAccept() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            List<String> closes = new ArrayList<>();
            // runs once main parks in accept: another thread closes the listener
            Coroutine helper = Coroutine.create("helper", () -> {
                CompletableFuture<String> closed = new CompletableFuture<>();
                Thread.ofPlatform().name("closer").start(() -> {
                    try {
                        listener.close();
                        closed.complete("closed it, open: " + listener.isOpen());
                    } catch (Throwable e) {
                        closed.complete(e.toString());
                    }
                });
                closes.add(Coroutine.await(closed));
            });
            assertThatThrownBy(listener::accept)
                    .isInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot accept on listener " + listener.localAddress()
                            + " (closed): the listener was closed while it waited");
            helper.join();
            assertThat(closes).containsExactly("closed it, open: false");
            assertThat(listener.isOpen()).isFalse();
        }
    }

    @Test
    @Timeout(30)
    void aConnectionClosedByItsOwnerIsRefusedToACoroutineOfAnotherThreadNamingItsStateClosedButItsCloseReturns() throws Exception {
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
                    "returned", // closed already: nothing to post to its thread, blocked in a join meanwhile
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
