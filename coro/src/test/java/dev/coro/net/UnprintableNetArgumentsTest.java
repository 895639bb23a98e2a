package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.FreshThread;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The documented refusals of {@link Io#await}, {@link TcpConnection#connect(SocketAddress)} and
 * {@link TcpListener#bind(SocketAddress)} are thrown as documented also for a channel or an address of
 * the user's that cannot say what it is (its {@code toString()} throws): the message names it by its class
 * and identity hash and what its text threw, as a select names such a value and a dump such a future,
 * instead of the refusal giving way to the failure of that text.
 */
@ExtendWith(FreshThread.class)
class UnprintableNetArgumentsTest {

    /** A socket channel of the user's whose text cannot be made. */
    private static final class Mute extends StubSocketChannel {
        /** Whether it says that its connect is in progress. */
        boolean pending;

        @Override
        public boolean isConnectionPending() {
            return pending;
        }

        @Override
        protected void implCloseSelectableChannel() {
        }

        @Override
        public String toString() {
            throw new IllegalStateException("no text");
        }
    }

    /** An address of the user's, not an IP one, whose text cannot be made. */
    private static final class MuteAddress extends SocketAddress {
        @Override
        public String toString() {
            throw new IllegalStateException("no text");
        }
    }

    /** How a message names {@code o}, whose {@code toString()} throws an {@code IllegalStateException}. */
    private static String named(Object o) {
        return o.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(o))
                + " (its toString() threw java.lang.IllegalStateException)";
    }

    /**
     * An await of no operation, one on a channel in blocking mode, one for a connect that is not in
     * progress, and one for a write while a connect is in progress are refused with
     * {@code IllegalArgumentException}, and one on a closed channel with
     * {@code ClosedChannelException}, each naming the caller, the wait and the channel: its toString()'s
     * {@code IllegalStateException} came out of each instead.
     */
    @Test
    void awaitOnAChannelWhoseTextThrowsIsRefusedAsDocumentedNamingTheChannelByItsClass() throws Exception {
        try (Mute open = new Mute()) {
            String on = " on " + named(open);
            assertThat(catchThrowable(() -> Io.await(open, 0))).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await 0x0" + on + ": it supports OP_READ|OP_WRITE|OP_CONNECT");
            assertThat(catchThrowable(() -> Io.await(open, SelectionKey.OP_READ))).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await OP_READ" + on
                            + ": it is in blocking mode; call configureBlocking(false) first");
            open.configureBlocking(false);
            assertThat(catchThrowable(() -> Io.await(open, SelectionKey.OP_CONNECT))).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await OP_CONNECT" + on + ": no connect is in progress; call connect first");
            open.pending = true;
            assertThat(catchThrowable(() -> Io.await(open, SelectionKey.OP_WRITE))).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage(Callers.plainThread() + " cannot await OP_WRITE" + on
                            + ": its connect is in progress; await OP_CONNECT and call finishConnect first");
        }
        Mute closed = new Mute();
        closed.configureBlocking(false);
        closed.close();
        assertThat(catchThrowable(() -> Io.await(closed, SelectionKey.OP_READ))).isInstanceOf(ClosedChannelException.class)
                .hasMessage(Callers.plainThread() + " cannot await OP_READ on " + named(closed) + " (closed): a closed channel is never ready");
    }

    /**
     * A connect and a bind to an address that is no IP address are refused with the documented
     * {@code IllegalArgumentException} naming the caller and the address, also when the address's text
     * cannot be made: its toString()'s {@code IllegalStateException} came out of them instead.
     */
    @Test
    void connectAndBindToAnAddressWhoseTextThrowsAreRefusedAsDocumentedNamingItByItsClass() {
        MuteAddress address = new MuteAddress();
        String refused = Callers.plainThread() + " cannot %s " + named(address) + ": TCP needs an InetSocketAddress, not a MuteAddress";
        assertThat(catchThrowable(() -> TcpConnection.connect(address))).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage(refused.formatted("connect to"));
        assertThat(catchThrowable(() -> TcpListener.bind(address))).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage(refused.formatted("bind a listener to"));
    }
}
