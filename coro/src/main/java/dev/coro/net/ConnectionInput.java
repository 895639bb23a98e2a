package dev.coro.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/** The {@code java.io} input view of a {@link TcpConnection}: each read parks the coroutine until bytes arrive. */
final class ConnectionInput extends InputStream {

    private final TcpConnection connection;
    /** The byte of {@link #read()}, made at its first call (only the connection's thread reads). */
    private byte[] one;

    ConnectionInput(TcpConnection connection) {
        this.connection = connection;
    }

    @Override
    public int read() throws IOException {
        byte[] one = this.one;
        if (one == null) {
            one = this.one = new byte[1];
        }
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return connection.read(ByteBuffer.wrap(b, off, len));
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }
}
