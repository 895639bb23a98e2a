package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.FreshThread;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connect to an address no TCP connection can reach comes out as from {@code java.net.Socket}: a
 * multicast or a broadcast address fails with the kernel's {@code SocketException} (the class a
 * {@code java.net.Socket} throws), naming the caller and the address, the JDK's exception its cause;
 * the any-local address reaches a listener on the loopback, as the JDK connects it. In main and in a
 * coroutine.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class AddressMistakesAsJavaNetSocketTest {

    @Test
    @Timeout(30)
    void aConnectToAMulticastOrABroadcastAddressFailsWithTheSocketExceptionAJavaNetSocketThrows() throws Exception {
        for (String host : new String[] {"224.0.0.1", "255.255.255.255"}) {
            InetSocketAddress target = new InetSocketAddress(host, 9);
            String jdk = jdkFailure(target);
            Crew.inMainAndInACoroutine("dialer", caller -> {
                try {
                    TcpConnection.connect(target).close();
                    throw new AssertionError("connected to " + target);
                } catch (SocketException e) {
                    assertThat(e).isExactlyInstanceOf(SocketException.class)
                            .hasMessage(caller + " cannot connect to " + target + ": " + jdk)
                            .cause().isExactlyInstanceOf(SocketException.class).hasToString(jdk);
                }
            });
        }
    }

    @Test
    @Timeout(30)
    void aConnectToTheAnyLocalAddressReachesAListenerOnTheLoopbackAsTheJdkConnectsIt() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            Crew.inMainAndInACoroutine("dialer", caller -> {
                try (TcpConnection c = TcpConnection.connect(new InetSocketAddress("0.0.0.0", port));
                     TcpConnection s = listener.accept()) {
                    assertThat(c.remoteAddress()).isEqualTo(listener.localAddress());
                    assertThat(s.remoteAddress()).isEqualTo(c.localAddress());
                    c.write(ByteBuffer.wrap(new byte[] {42}));
                    ByteBuffer got = ByteBuffer.allocate(1);
                    assertThat(s.read(got)).isEqualTo(1);
                    assertThat(got.get(0)).isEqualTo((byte) 42);
                }
            });
        }
    }

    /** What the JDK's own blocking connect to {@code target} throws, as its {@code toString()}: the class a {@code java.net.Socket} user meets. */
    private static String jdkFailure(InetSocketAddress target) {
        try (SocketChannel ch = SocketChannel.open(target)) {
            throw new AssertionError("the JDK connected to " + target + ": " + ch);
        } catch (IOException e) {
            assertThat(e).isExactlyInstanceOf(SocketException.class);
            return e.toString();
        }
    }
}
