package dev.coro.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/** The {@code java.io} input view of a {@link TcpConnection}: each read parks the coroutine until bytes arrive. */
final class ConnectionInput extends InputStream {

    private final TcpConnection connection;
    private final byte[] one = new byte[1];

    ConnectionInput(TcpConnection connection) {
        this.connection = connection;
    }

    @Override
    public int read() throws IOException {
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
