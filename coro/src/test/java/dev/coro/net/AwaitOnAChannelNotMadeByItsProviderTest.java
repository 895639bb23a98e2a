package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Io#await} on a channel that names the JDK's default selector provider but is a class of its
 * own (built on {@code AbstractSelectableChannel} with that provider, as a wrapper or a test double
 * is), which the thread's selector cannot watch, is refused naming the caller, the wait, the channel's
 * class and the provider, the JDK's message-less {@link IllegalSelectorException} (an
 * {@code IllegalArgumentException} naming nothing) its cause; that exception had escaped bare.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class AwaitOnAChannelNotMadeByItsProviderTest {

    @Test
    @Timeout(30)
    void aChannelOfItsOwnClassNamingTheDefaultProviderIsRefusedNamingTheCallerTheClassAndTheProvider() throws Exception {
        String provider = SelectorProvider.provider().getClass().getName();
        try (OwnChannel ch = new OwnChannel()) {
            ch.configureBlocking(false);
            assertThatThrownBy(() -> Io.await(ch, SelectionKey.OP_READ))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("main context 'main' cannot await OP_READ on OwnChannel: it names the default selector provider ("
                            + provider + ") but is a channel of its own class (" + OwnChannel.class.getName()
                            + "), not one that provider made, and the thread's event loop watches only those")
                    .cause().isExactlyInstanceOf(IllegalSelectorException.class);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Coroutine waiter = Coroutine.create("waiter", () -> {
                try {
                    Io.await(ch, SelectionKey.OP_READ);
                } catch (IOException | RuntimeException e) {
                    failure.set(e);
                }
            });
            waiter.join();
            assertThat(failure.get()).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("coroutine 'waiter' cannot await OP_READ on OwnChannel: it names the default selector provider (")
                    .cause().isExactlyInstanceOf(IllegalSelectorException.class);
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.registeredChannels()).isZero();
            assertThat(LoopProbe.selectorOpen()).as("nothing is registered").isFalse();
        }
    }

    /** A channel of the default provider's by its name alone, in the mode it is set to, supporting {@code OP_READ}. */
    private static final class OwnChannel extends AbstractSelectableChannel {
        OwnChannel() {
            super(SelectorProvider.provider());
        }

        @Override
        public int validOps() {
            return SelectionKey.OP_READ;
        }

        @Override
        protected void implCloseSelectableChannel() {
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
        }

        @Override
        public String toString() {
            return "OwnChannel";
        }
    }
}
