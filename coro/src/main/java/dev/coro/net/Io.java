package dev.coro.net;

import dev.coro.internal.IoBridge;
import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;

/**
 * Parking on any non-blocking NIO channel: the primitive under {@link TcpListener} and
 * {@link TcpConnection}, for the channels they do not cover (a {@code DatagramChannel}, a {@code Pipe}
 * end, a Unix-domain socket).
 *
 * <pre>{@code
 * DatagramChannel udp = DatagramChannel.open().bind(address);
 * udp.configureBlocking(false);
 * ByteBuffer buf = ByteBuffer.allocate(1500);
 * SocketAddress from;
 * while ((from = udp.receive(buf)) == null) {
 *     Io.await(udp, SelectionKey.OP_READ);       // parks this coroutine, not the thread
 * }
 * }</pre>
 */
public final class Io {

    private Io() {
    }

    /**
     * Parks the caller (main or a coroutine) until {@code channel} is ready for {@code ops}; the
     * thread's other contexts run meanwhile. Readiness is a hint, as with a selector: try the
     * operation again, and wait again if it still cannot proceed.
     *
     * <p>A channel closed by another coroutine of the thread, or by another thread, while the caller
     * waits makes the wait fail within about a second with an {@link IOException} ({@link TcpConnection} and
     * {@link TcpListener} tell their waiters at once). A {@code withTimeout} that expires interrupts
     * the wait, and so does a close of the caller. The channel stays registered with the thread's
     * selector only while some context waits on it, so closing it afterwards leaves nothing behind.
     *
     * <p>Several contexts may await one channel: a readiness wakes every one whose operations it
     * satisfies, and one that then finds nothing to do (another took the datagram) waits again; but of
     * those awaiting {@code OP_ACCEPT} alone on a listening channel, a report wakes only the one that began
     * waiting first, as a {@link TcpListener}'s acceptors are woken (one report may mean one connection),
     * the others woken by the next reports (the selector reports the channel again at its next select
     * while a connection waits, unaccepted). So may
     * contexts of several threads, each thread's selector watching the channel: each datagram goes to
     * one of them, and a close of the channel fails the waits of every thread.
     *
     * <p>A wait for {@code OP_CONNECT} whose connect another context completes meanwhile (with
     * {@code finishConnect}, which the JDK never reports) is woken within about a second, as readiness
     * would wake it; its own {@code finishConnect} then returns true.
     *
     * @param channel a channel in non-blocking mode
     * @param ops     the operations to wait for, a combination of {@code SelectionKey.OP_READ},
     *                {@code OP_WRITE}, {@code OP_CONNECT}, {@code OP_ACCEPT} that the channel supports
     * @throws IOException              if the channel is closed (a {@link java.nio.channels.ClosedChannelException}
     *                                  naming the caller, the wait and the channel; also if another thread
     *                                  closes it as the wait starts), or is closed while the
     *                                  caller waits, or the thread's selector cannot be opened (no descriptor left)
     *                                  or fails while the caller waits (naming the caller, the wait and the
     *                                  channel's state, the selector's exception its cause)
     * @throws IllegalArgumentException if {@code ops} is empty or not supported by the channel, the
     *                                  channel is open and in blocking mode (also if it is put in blocking mode
     *                                  as the wait registers it: the JDK's {@code IllegalBlockingModeException}
     *                                  the cause), or {@code ops} has {@code OP_CONNECT}
     *                                  and no connect of the open socket is in progress, or has no
     *                                  {@code OP_CONNECT} while a connect of the open socket is in progress
     *                                  (the JDK reports a socket ready to read or write only once
     *                                  {@code finishConnect} has completed its connect), or has {@code OP_READ}
     *                                  or {@code OP_WRITE} on an open socket never connected, with no connect
     *                                  in progress (which the JDK reports ready at once, for a read or write that
     *                                  can only throw {@code NotYetConnectedException}), or has {@code OP_ACCEPT} on an
     *                                  open listening channel never bound (which the JDK reports ready at once too, for an
     *                                  accept that can only throw {@code NotYetBoundException}), or the open channel was
     *                                  made by a {@code SelectorProvider} other than the JDK's default one,
     *                                  whose selector the thread's event loop uses, or names that default
     *                                  provider without being one of its channels (a class of its own built on
     *                                  {@code AbstractSelectableChannel}, the JDK's {@code IllegalSelectorException}
     *                                  the cause); each refusal names the caller and the channel
     * @throws IllegalStateException    if the JDK cannot suspend the caller to wait (on the continuation engine, a
     *                                  coroutine inside an FFM upcall or a class initializer: docs/PINNING.md), naming
     *                                  the caller and the wait; the channel is left unregistered, as after any wait
     * @throws dev.coro.CoroutineExit   if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws dev.coro.CoroutineException in main, if a coroutine it created failed while it waited (the wait is cancelled)
     * @throws NullPointerException     if {@code channel} is null
     */
    public static void await(SelectableChannel channel, int ops) throws IOException {
        Objects.requireNonNull(channel, "channel");
        IoBridge io = IoBridge.get();
        if (ops == 0 || (ops & ~channel.validOps()) != 0) {
            throw new IllegalArgumentException(io.caller() + " cannot await " + describeOps(ops) + " on " + io.text(channel)
                    + ": it supports " + describeOps(channel.validOps()));
        }
        // a closed channel is refused as closed below, as the JDK's register refuses it before its mode and
        // its selector: neither a connect nor configureBlocking(false), which the refusals here advise, can
        // be made on it, and a closed channel of another provider is closed before it is foreign
        boolean open = channel.isOpen();
        if (open && (ops & SelectionKey.OP_CONNECT) != 0 && channel instanceof SocketChannel socket
                && !socket.isConnectionPending()) {
            // never reported ready, while the kernel polls the socket for writability: a wait for good, spinning the thread
            throw new IllegalArgumentException(io.caller() + " cannot await " + describeOps(ops) + " on " + io.text(channel)
                    + ": no connect is in progress; " + (socket.isConnected()
                            ? "it is connected already, and OP_CONNECT is never reported on a connected socket"
                            : "call connect first"));
        }
        if (open && (ops & SelectionKey.OP_CONNECT) == 0 && channel instanceof SocketChannel socket
                && socket.isConnectionPending()) {
            // the JDK reports a socket ready to read or write only once finishConnect has completed its
            // connect, while the kernel polls it for those events as soon as the connect is made: a wait
            // for good, spinning the thread
            throw new IllegalArgumentException(io.caller() + " cannot await " + describeOps(ops) + " on " + io.text(channel)
                    + ": its connect is in progress; await OP_CONNECT and call finishConnect first");
        }
        if (open && channel.isBlocking()) {
            throw new IllegalArgumentException(io.caller() + " cannot await " + describeOps(ops) + " on " + io.text(channel)
                    + ": it is in blocking mode; call configureBlocking(false) first");
        }
        if (open && (ops & (SelectionKey.OP_READ | SelectionKey.OP_WRITE)) != 0 && channel instanceof SocketChannel socket
                && !socket.isConnected() && !socket.isConnectionPending()) {
            // the kernel's poll of a socket never connected says "hung up": reported ready at once, for a read or
            // write that can only throw NotYetConnectedException
            throw new IllegalArgumentException(io.caller() + " cannot await " + describeOps(ops) + " on " + io.text(channel)
                    + ": it is not connected; call connect first");
        }
        if (open && channel.provider() != SelectorProvider.provider()) {
            // the thread's selector is the default provider's, which registers only its own channels: the
            // JDK's refusal is a bare IllegalSelectorException, naming nothing
            throw new IllegalArgumentException(io.caller() + " cannot await " + describeOps(ops) + " on " + io.text(channel)
                    + ": it belongs to the selector provider " + io.text(channel.provider()) + ", and the thread's event loop"
                    + " watches only channels of the default one (" + SelectorProvider.provider().getClass().getName() + ")");
        }
        if (open && channel instanceof ServerSocketChannel listening && neverBound(listening)) {
            // as a socket never connected: the kernel's poll of a listening socket never bound says "hung up", reported
            // ready at once, for an accept that can only throw NotYetBoundException (asked after the provider's check,
            // so that a channel of another provider is refused as such)
            throw new IllegalArgumentException(io.caller() + " cannot await " + describeOps(ops) + " on " + io.text(channel)
                    + ": it is not bound; bind it first");
        }
        try {
            io.await(channel, ops, new Operation(ops, channel));
        } finally {
            io.release(channel); // its user closes it behind the loop's back: keep no registration
        }
    }

    /**
     * Whether {@code listening}, open, has no local address: never bound. A failure to tell (it was closed meanwhile)
     * counts as bound, the wait then refused as on any closed channel.
     */
    private static boolean neverBound(ServerSocketChannel listening) {
        try {
            return listening.getLocalAddress() == null;
        } catch (IOException e) {
            return false;
        }
    }

    /** What a context awaiting a channel does, for dumps: e.g. {@code await OP_READ on sun.nio.ch...}. */
    private record Operation(int ops, SelectableChannel channel) implements IoBridge.Operation {
        @Override
        public String state() {
            return channel.isOpen() ? "open" : "closed";
        }

        @Override
        public String toString() {
            return "await " + describeOps(ops) + " on " + IoBridge.get().text(channel); // a dump's and a refusal's text: never throws
        }
    }

    /** Operations by name, e.g. {@code OP_READ|OP_WRITE}. */
    static String describeOps(int ops) {
        StringBuilder b = new StringBuilder();
        append(b, ops, SelectionKey.OP_READ, "OP_READ");
        append(b, ops, SelectionKey.OP_WRITE, "OP_WRITE");
        append(b, ops, SelectionKey.OP_CONNECT, "OP_CONNECT");
        append(b, ops, SelectionKey.OP_ACCEPT, "OP_ACCEPT");
        int rest = ops & ~(SelectionKey.OP_READ | SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT | SelectionKey.OP_ACCEPT);
        if (rest != 0 || b.isEmpty()) {
            b.append(b.isEmpty() ? "" : "|").append("0x").append(Integer.toHexString(rest));
        }
        return b.toString();
    }

    private static void append(StringBuilder b, int ops, int op, String name) {
        if ((ops & op) != 0) {
            b.append(b.isEmpty() ? "" : "|").append(name);
        }
    }
}
