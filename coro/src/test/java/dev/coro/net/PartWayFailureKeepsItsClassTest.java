package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.FreshThread;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A failure of a {@code java.io} view's call that had done part of its work keeps its class: an
 * exception of a subclass of {@link IOException} ({@code SocketException}, {@code ClosedChannelException},
 * {@code AsynchronousCloseException}, {@code EOFException} …) is thrown itself, so that a {@code catch}
 * of its class matches, with the count in an {@code IOException} added to its suppressed exceptions;
 * a plain {@code IOException}, as the connection's own failures are, gets the count in its message,
 * its cause and suppressed exceptions kept. Before, every failure was made again as a plain
 * {@code IOException}, its class and its suppressed exceptions dropped.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class PartWayFailureKeepsItsClassTest {

    @Test
    @Timeout(30)
    void aFailureOfASubclassOfIOExceptionIsThrownItselfWithTheCountInASuppressedIOException() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            List<IOException> failures = List.of(new SocketException("Connection reset"), new ClosedChannelException(),
                    new AsynchronousCloseException(), new ClosedByInterruptException(), new EOFException("ended"),
                    new SocketTimeoutException("timed out"), new ConnectException("refused"));
            for (IOException e : failures) {
                Throwable before = new IllegalStateException("suppressed before");
                e.addSuppressed(before);
                String message = e.getMessage();
                IOException thrown = c.partly(e, false, 3, 10);
                assertThat(thrown).as("%s", e.getClass()).isSameAs(e).hasMessage(message);
                assertThat(thrown.getSuppressed()).hasSize(2);
                assertThat(thrown.getSuppressed()[0]).isSameAs(before);
                assertThat(thrown.getSuppressed()[1]).isExactlyInstanceOf(IOException.class)
                        .hasMessage("main context 'main' failed reading from " + name(c)
                                + " (open): 3 of the 10 bytes of this read were read into the array before it");
            }
            SocketException reset = new SocketException("Connection reset");
            assertThat(c.partly(reset, true, 4, 9)).isSameAs(reset);
            assertThat(reset.getSuppressed()[0]).hasMessage("main context 'main' failed writing to " + name(c)
                    + " (open): 4 of the 9 bytes of this write were written before it");
            SocketException skipped = new SocketException("Connection reset");
            assertThat(c.partly(skipped, "skipping bytes of", "3 of the 10 bytes of this skip were skipped", "")).isSameAs(skipped);
            assertThat(skipped.getSuppressed()[0]).hasMessage("main context 'main' failed skipping bytes of " + name(c)
                    + " (open): 3 of the 10 bytes of this skip were skipped before it");
        }
    }

    @Test
    @Timeout(30)
    void aPlainIOExceptionIsMadeAgainWithTheCountInItsMessageItsCauseAndSuppressedKept() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress());
             TcpConnection c = listener.accept()) {
            SocketException cause = new SocketException("Connection reset");
            IOException e = new IOException("coroutine 'r' cannot read from " + name(c) + " (open): Connection reset", cause);
            Throwable before = new IllegalStateException("suppressed before");
            e.addSuppressed(before);
            IOException thrown = c.partly(e, false, 3, 10);
            assertThat(thrown).isExactlyInstanceOf(IOException.class).hasCause(cause)
                    .hasMessage("coroutine 'r' cannot read from " + name(c) + " (open): Connection reset"
                            + "; 3 of the 10 bytes of this read were read into the array before it failed");
            assertThat(thrown.getSuppressed()).containsExactly(before);
            assertThat(thrown.getStackTrace()).isEqualTo(e.getStackTrace());
        }
    }
}
