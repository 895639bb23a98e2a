package dev.coro.net;

import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * What {@link TcpConnection#connect(java.net.SocketAddress, SocketConfigurer)} runs on its socket before connecting it:
 * the options that must be set before the handshake to take effect ({@code SO_RCVBUF}, from which Linux chooses the
 * window scale the connection agrees in its handshake, and with it the largest window it may ever advertise;
 * {@code SO_SNDBUF}), {@code SO_REUSEADDR}, or a {@code bind} to a local address or port.
 *
 * <pre>{@code
 * TcpConnection c = TcpConnection.connect(backend, ch -> {
 *     ch.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20); // before the handshake: a wide window
 *     ch.bind(local);                                          // leave from this address
 * });
 * }</pre>
 *
 * <p>It is a function of the JDK's own {@link SocketChannel}, not a list of options, since a bind and any option of the
 * JDK's (its extended ones too) are set on the socket as the JDK sets them; and it may throw the {@link IOException}
 * that {@code setOption} and {@code bind} throw, which a {@code Consumer} could not.
 */
@FunctionalInterface
public interface SocketConfigurer {

    /**
     * Sets up {@code channel}, a TCP socket the connect has opened and not connected yet, non-blocking: it runs on the
     * caller's thread, in the caller, so it must not block that thread; it must leave the socket open, unconnected and
     * non-blocking (the connect is refused otherwise), and must not keep it: the connection is its owner from then on.
     *
     * @param channel the unconnected socket
     * @throws IOException what a {@code setOption} or a {@code bind} of it threw: the connect closes the socket and
     *                     throws it as it is
     */
    void configure(SocketChannel channel) throws IOException;
}
