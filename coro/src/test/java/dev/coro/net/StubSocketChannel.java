package dev.coro.net;

import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Set;

/**
 * A socket channel of the tests' own that opens no socket: every call a test does not expect fails
 * with {@code AssertionError("not reached")}; a fake overrides the calls its test makes.
 */
abstract class StubSocketChannel extends SocketChannel {

    StubSocketChannel() {
        super(SelectorProvider.provider());
    }

    /** A channel of {@code provider}, another than the default one say. */
    StubSocketChannel(SelectorProvider provider) {
        super(provider);
    }

    @Override
    public SocketChannel bind(SocketAddress local) {
        throw new AssertionError("not reached");
    }

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws java.io.IOException { // a fake's may fail as the JDK's does
        throw new AssertionError("not reached");
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws java.io.IOException { // a fake's may fail as the JDK's does
        throw new AssertionError("not reached");
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return Set.of();
    }

    @Override
    public SocketChannel shutdownInput() {
        throw new AssertionError("not reached");
    }

    @Override
    public SocketChannel shutdownOutput() throws java.io.IOException { // a fake's may fail as the JDK's does
        throw new AssertionError("not reached");
    }

    @Override
    public Socket socket() {
        throw new AssertionError("not reached");
    }

    @Override
    public boolean isConnected() {
        return false;
    }

    @Override
    public boolean isConnectionPending() {
        return false;
    }

    @Override
    public boolean connect(SocketAddress remote) throws java.io.IOException {
        throw new AssertionError("not reached");
    }

    @Override
    public boolean finishConnect() {
        throw new AssertionError("not reached");
    }

    @Override
    public SocketAddress getRemoteAddress() {
        return null;
    }

    @Override
    public SocketAddress getLocalAddress() {
        return null;
    }

    @Override
    public int read(ByteBuffer dst) {
        throw new AssertionError("not reached");
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) {
        throw new AssertionError("not reached");
    }

    @Override
    public int write(ByteBuffer src) throws java.io.IOException { // a fake's may fail as the JDK's does
        throw new AssertionError("not reached");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new AssertionError("not reached");
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
    }
}
