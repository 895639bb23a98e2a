package dev.coro.net;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Set;

/**
 * A server socket channel of the tests' own that opens no socket, as {@link StubSocketChannel} is for
 * connections: every call a test does not expect fails with {@code AssertionError("not reached")}; it has no
 * option, no local address, and closes and changes its blocking mode without doing anything; a fake
 * overrides the calls its test makes.
 */
abstract class StubServerSocketChannel extends ServerSocketChannel {

    StubServerSocketChannel() {
        super(SelectorProvider.provider());
    }

    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        throw new AssertionError("not reached");
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        throw new AssertionError("not reached");
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        throw new AssertionError("not reached");
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return Set.of();
    }

    @Override
    public ServerSocket socket() {
        throw new AssertionError("not reached");
    }

    @Override
    public SocketChannel accept() {
        throw new AssertionError("not reached");
    }

    @Override
    public SocketAddress getLocalAddress() {
        return null;
    }

    @Override
    protected void implCloseSelectableChannel() throws IOException {
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
    }

    /** A stub that binds at once, without a descriptor, and says it listens at the loopback address. */
    abstract static class BoundAtOnce extends StubServerSocketChannel {

        @Override
        public ServerSocketChannel bind(SocketAddress local, int backlog) {
            return this;
        }

        @Override
        public SocketAddress getLocalAddress() {
            return TcpConnectionTest.LOOPBACK;
        }
    }
}
