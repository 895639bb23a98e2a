package dev.coro.net;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/** The {@code java.io} output view of a {@link TcpConnection}: each write parks the coroutine while the socket's buffer is full. */
final class ConnectionOutput extends OutputStream {

    private final TcpConnection connection;

    ConnectionOutput(TcpConnection connection) {
        this.connection = connection;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        connection.write(ByteBuffer.wrap(b, off, len));
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }
}
