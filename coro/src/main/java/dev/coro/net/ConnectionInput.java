package dev.coro.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
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

    /** Reads into {@code b} from its start, as {@link #read(byte[], int, int)}; a null {@code b} is refused naming it. */
    @Override
    public int read(byte[] b) throws IOException {
        return read(Objects.requireNonNull(b, "b"), 0, b.length);
    }

    /**
     * Reads up to {@code len} bytes into {@code b} at {@code off}, parking until at least one has
     * arrived; a null {@code b} is refused naming it, a range that does not fit it with an
     * {@link IndexOutOfBoundsException} naming the caller, the call, the connection and the range.
     */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        connection.checkArray("read from", b, off, len);
        return connection.read(ByteBuffer.wrap(b, off, len));
    }

    /**
     * As {@link InputStream#readNBytes(byte[], int, int)}; a null {@code b} or a range that does not
     * fit it is refused as {@link #read(byte[], int, int)} refuses them, and so is one of no bytes
     * from another thread or on a closed connection, as that read does. The bytes it took from the
     * connection are in {@code b}, but a call that does not return cannot give their count: one that
     * fails after some were read says how many in its exception's message (with the same cause; one of
     * a subclass of {@link IOException}, such as the {@code SocketException} of a read a reset peer
     * fails, is thrown unchanged, the count in an {@code IOException} added to its suppressed
     * exceptions), and
     * one cut short part way (a {@code withTimeout} that expired, a close of the caller, or any other
     * failure thrown into it) adds an {@link IOException} saying how many to the suppressed exceptions
     * of what unwinds it (the signal: the cause of a {@code CoroutineTimeoutException}), as a write
     * of the {@link TcpConnection#output()} view does.
     */
    @Override
    public int readNBytes(byte[] b, int off, int len) throws IOException {
        connection.checkArray("read from", b, off, len);
        if (len == 0) {
            return connection.read(ByteBuffer.wrap(b, off, 0)); // 0, but a call still: refused from another thread, failing once closed
        }
        int n = 0;
        try {
            while (n < len) {
                int count = connection.read(ByteBuffer.wrap(b, off + n, len - n));
                if (count < 0) {
                    break;
                }
                n += count;
            }
        } catch (IOException e) {
            throw n == 0 ? e : connection.partly(e, false, n, len);
        } catch (RuntimeException | Error x) { // a signal that unwinds it (CoroutineExit), or a failure thrown into it
            if (n != 0) {
                connection.note(x, connection.interrupted(false, n, len));
            }
            throw x;
        }
        return n;
    }

    /**
     * As {@link InputStream#readNBytes(int)}; a negative {@code len} is refused naming the caller, the
     * connection and its state, and a {@code len} of 0 as {@link #readNBytes(byte[], int, int)} of
     * no bytes is. A call that does not return loses the bytes it took with the array it would have
     * returned, and says how many: as {@link #readNBytes(byte[], int, int)}, in its exception's
     * message if it fails part way, in an {@link IOException} added to the suppressed exceptions of
     * what unwinds it if it is cut short part way. Past the largest array the JVM makes it fails as
     * {@link #readAllBytes()} does.
     */
    @Override
    public byte[] readNBytes(int len) throws IOException {
        if (len < 0) {
            throw connection.negativeLength("read from", len);
        }
        if (len == 0) {
            connection.read(ByteBuffer.wrap(new byte[0])); // a call still: refused from another thread, failing once closed
            return new byte[0];
        }
        return readUpTo(len, false);
    }

    /**
     * As {@link InputStream#readAllBytes()}; a call that does not return says how many bytes it
     * took, lost with the array it would have returned, as {@link #readNBytes(int)} does. A stream that
     * ends at the largest array the JVM makes ({@code Integer.MAX_VALUE - 8} bytes) is read whole; one that
     * goes on past it fails with an {@link OutOfMemoryError} once a byte more came, as the JDK's does, naming
     * the caller, the call, the connection, its state and that size.
     */
    @Override
    public byte[] readAllBytes() throws IOException {
        return readUpTo(Integer.MAX_VALUE, true);
    }

    /**
     * The largest array {@link #readAllBytes()} and {@link #readNBytes(int)} make: the JDK's own loops' (a
     * test lowers it, so as to reach it without a gigabyte of bytes).
     */
    static int maxArray = Integer.MAX_VALUE - 8;

    /** Up to {@code len} bytes, fewer only at the end of the stream; {@code all} for {@link #readAllBytes()}, whose messages name no length. */
    private byte[] readUpTo(int len, boolean all) throws IOException {
        byte[] buf = new byte[Math.min(len, 8192)];
        int n = 0;
        try {
            while (n < len) {
                if (n == buf.length) {
                    if (n >= maxArray) {
                        // no larger array can be made, but the stream may end right here: the JDK's loops too
                        // read on before they refuse, and a byte that came is lost with the rest
                        int more = connection.read(ByteBuffer.allocate(1));
                        if (more < 0) {
                            break;
                        }
                        n += more;
                        if (more > 0) {
                            throw connection.pastLargestArray(all, len, maxArray);
                        }
                        continue;
                    }
                    buf = Arrays.copyOf(buf, (int) Math.min(Math.min(2L * n, len), maxArray));
                }
                int count = connection.read(ByteBuffer.wrap(buf, n, buf.length - n));
                if (count < 0) {
                    break;
                }
                n += count;
            }
        } catch (IOException e) {
            throw n == 0 ? e : connection.partly(e, "reading from", readDone(n, len, all), LOST);
        } catch (RuntimeException | Error x) { // a signal that unwinds it, or a failure thrown into it
            if (n != 0) {
                connection.note(x, connection.interrupted("reading from", readDone(n, len, all), LOST));
            }
            throw x;
        }
        return n == buf.length ? buf : Arrays.copyOf(buf, n);
    }

    private static final String LOST = "; they are lost with the array it did not return";

    private static String readDone(int n, int len, boolean all) {
        return all ? n + " bytes of this read to the end of the stream were read"
                : n + " of the " + len + " bytes of this read were read";
    }

    /**
     * As {@link InputStream#skip(long)}: reads and drops up to {@code n} bytes, parking until they
     * have arrived or the stream has ended; 0 for an {@code n} of 0 or less. A call that does not
     * return says how many it skipped, as {@link #readNBytes(byte[], int, int)} says how many it read:
     * in its exception's message if it fails part way, in an {@link IOException} added to the
     * suppressed exceptions of what unwinds it if it is cut short part way. One of no bytes is a call
     * still, as {@link #readNBytes(byte[], int, int)} of none is: refused from another thread, failing
     * on a closed connection.
     */
    @Override
    public long skip(long n) throws IOException {
        if (n <= 0) {
            connection.read(ByteBuffer.wrap(new byte[0])); // 0, but a call still: refused from another thread, failing once closed
            return 0;
        }
        byte[] buf = new byte[(int) Math.min(n, 2048)];
        long done = 0;
        try {
            while (done < n) {
                int count = connection.read(ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, n - done)));
                if (count < 0) {
                    break;
                }
                done += count;
            }
        } catch (IOException e) {
            throw done == 0 ? e : connection.partly(e, "skipping bytes of", skipDone(done, n), "");
        } catch (RuntimeException | Error x) { // a signal that unwinds it, or a failure thrown into it
            if (done != 0) {
                connection.note(x, connection.interrupted("skipping bytes of", skipDone(done, n), ""));
            }
            throw x;
        }
        return done;
    }

    private static String skipDone(long done, long n) {
        return done + " of the " + n + " bytes of this skip were skipped";
    }

    /**
     * As {@link InputStream#skipNBytes(long)}, through {@link #skip(long)}, which says how many bytes
     * a call that does not return skipped; the end of the stream before {@code n} bytes is an
     * {@link java.io.EOFException} naming the caller, the connection, its state and how many were
     * skipped. One of no bytes is a call still, as {@link #skip(long)} of none is.
     */
    @Override
    public void skipNBytes(long n) throws IOException {
        long done = skip(n);
        if (done < n) {
            throw connection.endedSkipping(done, n);
        }
    }

    /**
     * As {@link InputStream#transferTo(OutputStream)}; a null {@code out} is refused naming it. A call
     * that does not return says how many bytes it wrote to {@code out}: in its exception's message if
     * a read of the connection fails part way (as {@link #readNBytes(byte[], int, int)} says it: one
     * of a subclass of {@code IOException} takes it in a suppressed one), in an {@link IOException} added to the suppressed
     * exceptions of what unwinds it if it is cut short part way or {@code out} fails (naming the bytes
     * read and being written to {@code out} then, of which {@code out} tells what it took).
     */
    @Override
    public long transferTo(OutputStream out) throws IOException {
        Objects.requireNonNull(out, "out");
        byte[] buf = new byte[16384];
        long done = 0;
        int writing = -1; // the bytes being written to out, -1 while reading
        try {
            int count;
            while ((count = connection.read(ByteBuffer.wrap(buf))) >= 0) {
                writing = count;
                out.write(buf, 0, count);
                writing = -1;
                done += count;
            }
        } catch (IOException e) {
            if (writing >= 0) { // out's failure
                addTransferred(e, done, writing);
                throw e;
            }
            throw done == 0 ? e : connection.partly(e, "transferring from", transferDone(done), "");
        } catch (RuntimeException | Error x) { // a signal that unwinds it, or a failure thrown into it
            addTransferred(x, done, writing);
            throw x;
        }
        return done;
    }

    /** Adds to {@code x} what a transfer that did not return had done, unless it had done nothing. */
    private void addTransferred(Throwable x, long done, int writing) {
        if (done != 0 || writing > 0) {
            connection.note(x, connection.interrupted("transferring from", transferDone(done),
                    writing > 0 ? ", and the " + writing + " read after them were being written to it" : ""));
        }
    }

    private static String transferDone(long done) {
        return done + " bytes of this transfer were written to its output";
    }

    /** The bytes that arrived and were not read, which a read takes without waiting; refused from another thread, and failing once closed. */
    @Override
    public int available() throws IOException {
        return connection.available();
    }

    /**
     * Does nothing, the view keeping no mark ({@link #markSupported()} is false), but is a call on the
     * connection as every other of the view: refused from another thread (but for a detached connection's,
     * which is no thread's: from any thread it does nothing, as on its own).
     */
    @Override
    public void mark(int readlimit) {
        connection.checkView("mark the input of");
    }

    /** Fails: the view keeps no mark ({@link #markSupported()} is false); the message names the caller, the connection and its state. */
    @Override
    public void reset() throws IOException {
        throw connection.noMark();
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }

    /**
     * The view and its connection, e.g. {@code input of TcpConnection[/127.0.0.1:40000 -> /127.0.0.1:8080, open]},
     * as a log line or a debugger shows it; any thread may ask, as the connection's own.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "input of " + connection;
    }
}
