package dev.coro.net;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/** The {@code java.io} output view of a {@link TcpConnection}: each write parks the coroutine while the socket's buffer is full. */
final class ConnectionOutput extends OutputStream {

    private final TcpConnection connection;
    /**
     * The buffer of {@link #write(int)}, made at its first call and used again by each call that finds
     * no write under way on the connection; null until then.
     */
    private ByteBuffer single;

    ConnectionOutput(TcpConnection connection) {
        this.connection = connection;
    }

    /**
     * Writes the byte {@code b} (its low eight bits), parking while the socket's send buffer is full,
     * with nothing allocated: the view keeps a one-byte buffer for it. A call that finds another
     * coroutine's write parked part way (which may be a {@code write(int)} parked with that buffer)
     * takes a buffer of its own and waits behind it, so the byte the parked write sends is never
     * changed. One byte goes out whole or not at all: a call cut short (a {@code withTimeout}, a close
     * of the caller) or failed sent nothing, and adds nothing to the signal that unwinds it.
     */
    @Override
    public void write(int b) throws IOException {
        ByteBuffer src = connection.noWriteUnderWay() ? kept() : ByteBuffer.allocate(1);
        connection.write(src.put(0, (byte) b).clear());
    }

    /** The kept buffer of {@link #write(int)}, made at its first use. */
    private ByteBuffer kept() {
        ByteBuffer s = single;
        return s != null ? s : (single = ByteBuffer.allocate(1));
    }

    /** Writes all of {@code b}, as {@link #write(byte[], int, int)}; a null {@code b} is refused naming it. */
    @Override
    public void write(byte[] b) throws IOException {
        write(Objects.requireNonNull(b, "b"), 0, b.length);
    }

    /**
     * Writes all {@code len} bytes, parking while the socket's send buffer is full. The caller does
     * not see the buffer whose position would say how far a failed write got, so a failure after
     * some of the bytes went out says how many in its message (with the same cause; one of a subclass
     * of {@link IOException} is thrown unchanged, the count in an {@code IOException} added to its
     * suppressed exceptions); one cut short
     * part way (a {@code withTimeout} that expired, a close of the caller, or any other failure thrown
     * into it, such as a child's failure reaching a parked main) adds an {@link IOException} saying how
     * many to the suppressed exceptions of what unwinds it (the signal: the cause of a
     * {@code CoroutineTimeoutException}). A null {@code b}
     * is refused naming it, a range that does not fit it with an {@link IndexOutOfBoundsException}
     * naming the caller, the call, the connection and the range.
     */
    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        connection.checkArray("write to", b, off, len);
        ByteBuffer src = ByteBuffer.wrap(b, off, len);
        try {
            connection.write(src);
        } catch (IOException e) {
            throw src.position() == off ? e : connection.partly(e, true, src.position() - off, len);
        } catch (RuntimeException | Error x) { // a signal that unwinds it (CoroutineExit), or a failure thrown into it
            if (src.position() != off) {
                connection.note(x, connection.interrupted(true, src.position() - off, len));
            }
            throw x;
        }
    }

    /**
     * Does nothing, the view buffering nothing, from any thread, on an open or a closed connection, as
     * {@link #close()} answers any thread: a buffering wrapper's {@code close()} flushes (its buffer
     * empty) before it closes the connection, perhaps from another thread, perhaps once the connection is
     * closed; a wrapper holding bytes still has the write of its flush refused from another thread.
     */
    @Override
    public void flush() {
        // nothing buffered, nothing to do
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }

    /**
     * The view and its connection, e.g. {@code output of TcpConnection[/127.0.0.1:40000 -> /127.0.0.1:8080, open]},
     * as a log line or a debugger shows it; any thread may ask, as the connection's own.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "output of " + connection;
    }
}
