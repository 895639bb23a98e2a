package dev.coro.net;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.channels.SocketChannel;

/**
 * The tests' probe of whether something still accepts connections at an address, for those that wait until
 * a listening socket the library should close is closed.
 */
final class Listening {

    private Listening() {
    }

    /**
     * Whether something accepts a connection at {@code address} (the connection is closed at once). A refusal
     * says no, and so does a reset during the handshake: the listening socket was closed as the connection
     * reached its queue.
     *
     * @throws IOException if the connection fails otherwise
     */
    static boolean at(SocketAddress address) throws IOException {
        try {
            SocketChannel.open(address).close();
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (SocketException e) {
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return false;
            }
            throw e;
        }
    }
}
