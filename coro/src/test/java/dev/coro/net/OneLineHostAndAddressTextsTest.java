package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.FreshThread;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The host of a look-up and the address of a connect or a bind are named in their failures as every other
 * text of the library names a user's object, safe for one line: a host between quotes with its line breaks,
 * backslashes and quotes escaped, an address (and the resolver's exception) with its line breaks escaped, and an
 * address whose {@code toString()} throws by its class, identity hash and what it threw, instead of a message split
 * over lines or the failure of that text thrown in its place. The resolver and the sockets are a test's.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class OneLineHostAndAddressTextsTest {

    /** A host name that would split a message's line and end its quotes. */
    private static final String HOST = "evil\nhost'x";

    private final NameLookup.Resolver realResolver = NameLookup.resolver;
    private final TcpConnection.Opener realOpener = TcpConnection.opener;

    @AfterEach
    void restore() {
        NameLookup.resolver = realResolver;
        TcpConnection.opener = realOpener;
    }

    /** A resolved address of the user's whose text spans two lines. */
    private static final class TwoLines extends InetSocketAddress {
        TwoLines() {
            super(InetAddress.getLoopbackAddress(), 9);
        }

        @Override
        public String toString() {
            return "two\nlines";
        }
    }

    /** A resolved address of the user's whose text cannot be made. */
    private static final class Mute extends InetSocketAddress {
        Mute() {
            super(InetAddress.getLoopbackAddress(), 9);
        }

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

    /** A look-up's three failures (no such host, no address found, the resolver broke) name the host escaped. */
    @Test
    void aLookUpsFailuresNameAHostWithALineBreakAndAQuoteEscapedOnOneLine() {
        String address = "evil\\nhost'x/<unresolved>:80";
        NameLookup.resolver = host -> {
            throw new UnknownHostException(host + ": Name or service not known");
        };
        assertThatThrownBy(() -> TcpConnection.connect(HOST, 80)).isInstanceOf(UnknownHostException.class)
                .hasMessage("main context 'main' cannot connect to " + address + ": host 'evil\\nhost\\'x' has no address"
                        + " (java.net.UnknownHostException: evil\\nhost'x: Name or service not known)")
                .cause().isInstanceOf(UnknownHostException.class);
        NameLookup.resolver = host -> new InetAddress[0];
        assertThatThrownBy(() -> TcpConnection.connect(HOST, 80)).isInstanceOf(UnknownHostException.class)
                .hasMessage("main context 'main' cannot connect to " + address + ": host 'evil\\nhost\\'x' has no address"
                        + " (its look-up found none)");
        NameLookup.resolver = host -> {
            throw new IllegalStateException("the resolver broke");
        };
        assertThatThrownBy(() -> TcpConnection.connect(HOST, 80)).isInstanceOf(UnknownHostException.class)
                .hasMessage("main context 'main' cannot connect to " + address + ": the look-up of host 'evil\\nhost\\'x'"
                        + " failed (java.lang.IllegalStateException: the resolver broke)")
                .cause().isInstanceOf(IllegalStateException.class);
    }

    /** A port out of range is refused naming the host given on one line, before any look-up. */
    @Test
    void aPortOutOfRangeIsRefusedNamingTheHostOnOneLine() {
        assertThatThrownBy(() -> TcpConnection.connect(HOST, 70000)).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage(Callers.plainThread() + " cannot connect to evil\\nhost'x:70000: the port is out of range"
                        + " (0 to 65535)");
    }

    /**
     * A connect and a bind to an address past the address check (an {@link InetSocketAddress}) whose socket cannot
     * be opened fail with the {@code IOException} naming the address on one line, or by its class if its text
     * throws; that text's exception came out of them instead.
     */
    @Test
    void aConnectAndABindThatFailNameAnAddressOfTheUsersOnOneLineOrByItsClass() {
        IOException none = new IOException("no descriptor left");
        TcpConnection.opener = () -> {
            throw none;
        };
        TcpListener.Opener noListener = () -> {
            throw none;
        };
        Mute mute = new Mute();
        for (InetSocketAddress address : new InetSocketAddress[] {new TwoLines(), mute}) {
            String text = address == mute ? named(mute) : "two\\nlines";
            assertThatThrownBy(() -> TcpConnection.connect(address)).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot connect to " + text + ": java.io.IOException: no descriptor left")
                    .hasCause(none);
            assertThatThrownBy(() -> TcpListener.bind(address, false, noListener)).isExactlyInstanceOf(IOException.class)
                    .hasMessage("main context 'main' cannot bind a listener to " + text
                            + ": java.io.IOException: no descriptor left")
                    .hasCause(none);
        }
    }
}
