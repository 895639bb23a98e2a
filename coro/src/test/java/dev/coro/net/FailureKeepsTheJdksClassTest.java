package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.internal.IoBridge;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.HttpRetryException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The one helper that makes every failure of the network package wrapping a JDK exception,
 * {@link IoBridge#failure}, gives it the JDK's exception's own class when that is one of
 * {@code java.net}'s public subclasses of {@link IOException} with a message constructor (so that a
 * {@code catch (ConnectException e)} written for {@code java.net.Socket} matches), the library's message
 * and the JDK's exception as its cause; and a plain {@code IOException} for any other class. Before,
 * every such failure was a plain {@code IOException}.
 */
class FailureKeepsTheJdksClassTest {

    private static final String MESSAGE = "coroutine 'c' cannot connect to /127.0.0.1:9: java.net.ConnectException: Connection refused";

    @Test
    void eachOfJavaNetsSubclassesOfIOExceptionIsMadeAgainOfItsOwnClassWithTheLibrarysMessageAndTheJdksAsItsCause() {
        List<IOException> jdks = List.of(new ConnectException("Connection refused"), new BindException("Address already in use"),
                new NoRouteToHostException("No route to host"), new PortUnreachableException("ICMP Port Unreachable"),
                new SocketException("Connection reset"), new SocketTimeoutException("Read timed out"),
                new UnknownHostException("nowhere.invalid"), new ProtocolException("Protocol error"));
        for (IOException jdk : jdks) {
            IOException made = IoBridge.failure(MESSAGE, jdk);
            assertThat(made).as("%s", jdk.getClass()).isExactlyInstanceOf(jdk.getClass()).isNotSameAs(jdk)
                    .hasMessage(MESSAGE).cause().isSameAs(jdk);
            assertThat(made.getSuppressed()).as("%s", jdk.getClass()).isEmpty();
        }
    }

    @Test
    void anyOtherClassIsWrappedInAPlainIOExceptionWithTheLibrarysMessageAndTheJdksAsItsCause() {
        List<IOException> others = List.of(new IOException("Broken pipe"), new ClosedChannelException(),
                new AsynchronousCloseException(), new EOFException("ended"), new InterruptedIOException("interrupted"),
                new HttpRetryException("retry", 307), new UsersSocketException("the user's own"));
        for (IOException jdk : others) {
            IOException made = IoBridge.failure(MESSAGE, jdk);
            assertThat(made).as("%s", jdk.getClass()).isExactlyInstanceOf(IOException.class)
                    .hasMessage(MESSAGE).cause().isSameAs(jdk);
        }
    }

    /** A subclass of a class the helper knows, whose constructors it cannot know: never made again by reflection. */
    private static final class UsersSocketException extends SocketException {
        private static final long serialVersionUID = 1L;

        UsersSocketException(String message) {
            super(message);
        }
    }
}
