package dev.coro.net;

import dev.coro.internal.IoBridge;
import java.io.IOException;

/**
 * The exceptions of a socket option's {@code setOption} or {@code getOption} of a {@link TcpConnection} or a
 * {@link TcpListener} that the JDK refuses or fails, made one way for both: each names the caller, the call
 * (e.g. {@code set SO_RCVBUF of}), the socket and its state, the JDK's exception, which names the option at
 * most, its cause.
 */
final class SocketOptions {

    private SocketOptions() {
    }

    /**
     * The failure of an option's {@code operation} on {@code target} ({@link TcpConnection#socketFailure}: of the
     * JDK's exception's class when that is one of {@code java.net}'s, a {@code SocketException} when it is a plain
     * {@code IOException}): an option refused is no failure of the socket, so not recorded as one.
     */
    static IOException failed(IoBridge io, String operation, String target, String state, IOException e) {
        return TcpConnection.socketFailure(io.caller() + " cannot " + operation + " " + target + " (" + state + "): "
                + io.text(e), e);
    }

    /**
     * The refusal of an option that {@code socket} (e.g. {@code a TCP socket}) does not have, for
     * {@code operation} on {@code target}: the JDK's names the option only.
     */
    static UnsupportedOperationException unsupported(IoBridge io, String operation, String target, String state,
            String socket, UnsupportedOperationException e) {
        return new UnsupportedOperationException(io.caller() + " cannot " + operation + " " + target + " (" + state
                + "): " + socket + " has no such option (" + said(io, e) + ")", e);
    }

    /**
     * The refusal of {@code value} for the option of {@code operation} on {@code target}: the JDK's names
     * nothing, or the option alone ({@code Invalid value 'null'}, {@code Invalid send/receive buffer size}).
     */
    static IllegalArgumentException invalid(IoBridge io, String operation, String target, String state, Object value,
            IllegalArgumentException e) {
        return new IllegalArgumentException(io.caller() + " cannot " + operation + " " + target + " (" + state
                + ") to " + io.text(value) + ": " + said(io, e), e);
    }

    /**
     * What the JDK's exception {@code e} says, for a message that names it in its own words: its message
     * on one line ({@link IoBridge#text}: a line break escaped, a long one cut), or, if it has none, the
     * exception's class, instead of {@code null}.
     */
    static String said(IoBridge io, Throwable e) {
        String m = e.getMessage();
        return io.text(m != null ? m : e);
    }
}
