package dev.coro.bench.net;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One closed-loop client connection of the load generator: the request in flight (its bytes, when it was
 * sent, how much of the echo is back) and the connection's fairness record.
 *
 * <p>Everything is allocated once, when the connection opens; a request only rewrites the 64 bytes.
 */
final class ClientConnection {

    final int id;
    final SocketChannel channel;
    SelectionKey key;
    /** The request's bytes, different for every connection and request, so a misrouted echo is caught. */
    final byte[] request;
    final ByteBuffer out;
    /** Requests sent so far on this connection. */
    long sequence;
    /** When the request in flight was written, {@code System.nanoTime()}. */
    long sentAt;
    /** Echo bytes back for the request in flight. */
    int received;
    /** True while a request is in flight. */
    boolean waiting;
    /** Requests still to send in the count-bounded mode; unused ({@code -1}) in the timed mode. */
    long quota = -1;
    /** Requests completed in the current sub-window of the measured window. */
    int completedInSubWindow;
    /** True once a whole sub-window went by without a completed request. */
    boolean missedSubWindow;
    /** The longest wait for an echo in the measured window, nanoseconds. */
    long worstWait;
    boolean closed;

    ClientConnection(int id, SocketChannel channel, int size) {
        this.id = id;
        this.channel = channel;
        this.request = new byte[size];
        this.out = ByteBuffer.wrap(request);
    }

    /** Fills the next request's bytes from (connection, sequence) and rewinds the output buffer. */
    void nextRequest() {
        sequence++;
        int seed = id * 0x9E3779B1 + (int) sequence * 0x85EBCA6B;
        for (int i = 0; i < request.length; i++) {
            request[i] = (byte) (seed + i * 31);
            if ((i & 7) == 7) {
                seed = Integer.rotateLeft(seed, 5) ^ i;
            }
        }
        out.clear();
        received = 0;
        waiting = true;
    }
}
