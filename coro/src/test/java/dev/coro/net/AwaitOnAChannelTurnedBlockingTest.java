package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Io#await} on a channel put in blocking mode after its up-front check of the mode, before the
 * thread's selector registers it (by another thread, or by the caller's own code between the two), is
 * refused as a channel found blocking up front is, naming the caller and the wait, the JDK's
 * message-less {@link IllegalBlockingModeException} its cause; it had escaped bare.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class AwaitOnAChannelTurnedBlockingTest {

    @Test
    @Timeout(30)
    void aChannelPutInBlockingModeAsTheWaitRegistersItIsRefusedAsBlockingNamingTheCallerWithTheJdksRefusalAsCause() throws Exception {
        try (TurnsBlockingChannel ch = new TurnsBlockingChannel()) {
            assertThatThrownBy(() -> Io.await(ch, SelectionKey.OP_READ))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot await OP_READ on TurnsBlockingChannel"
                            + ": it is in blocking mode; call configureBlocking(false) first")
                    .cause().isExactlyInstanceOf(IllegalBlockingModeException.class);
            assertThat(ch.isBlocking()).isTrue();
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing is registered").isFalse();
        }
    }

    @Test
    @Timeout(30)
    void aCoroutineWhoseChannelIsPutInBlockingModeAsItsWaitRegistersItIsRefusedNamingTheCoroutineAndNotParked() throws Exception {
        try (TurnsBlockingChannel ch = new TurnsBlockingChannel()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Coroutine waiter = Coroutine.create("waiter", () -> {
                try {
                    Io.await(ch, SelectionKey.OP_READ);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            waiter.join();
            assertThat(failure.get()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("coroutine 'waiter' cannot await OP_READ on TurnsBlockingChannel"
                            + ": it is in blocking mode; call configureBlocking(false) first")
                    .cause().isExactlyInstanceOf(IllegalBlockingModeException.class);
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing is registered").isFalse();
        }
    }

    /**
     * A channel of the default provider, open and in non-blocking mode, that is put in blocking mode
     * the moment a selector registers it, and so refused by the JDK's check of the mode there, as a
     * channel another thread made blocking between the caller's check and the registration is:
     * {@code AbstractSelectableChannel.register} throws the same bare exception. Its {@code register}
     * is final there, so the stub is a {@link SelectableChannel} of its own.
     */
    private static final class TurnsBlockingChannel extends SelectableChannel {
        private volatile boolean blocking;

        @Override
        public SelectorProvider provider() {
            return SelectorProvider.provider();
        }

        @Override
        public int validOps() {
            return SelectionKey.OP_READ;
        }

        @Override
        public boolean isRegistered() {
            return false;
        }

        @Override
        public SelectionKey keyFor(Selector sel) {
            return null;
        }

        @Override
        public SelectionKey register(Selector sel, int ops, Object att) {
            blocking = true; // another thread's configureBlocking(true), just before the JDK's check
            throw new IllegalBlockingModeException();
        }

        @Override
        public SelectableChannel configureBlocking(boolean block) {
            blocking = block;
            return this;
        }

        @Override
        public boolean isBlocking() {
            return blocking;
        }

        @Override
        public Object blockingLock() {
            return this;
        }

        @Override
        protected void implCloseChannel() {
        }

        @Override
        public String toString() {
            return "TurnsBlockingChannel";
        }
    }
}
