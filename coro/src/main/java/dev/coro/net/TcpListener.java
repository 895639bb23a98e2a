package dev.coro.net;

import dev.coro.internal.IoBridge;
import java.io.Closeable;
import java.io.IOException;
import java.lang.ref.Reference;
import java.net.SocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * A listening TCP socket whose {@link #accept()} parks the calling coroutine until a connection
 * arrives: the front door of a coroutine-per-connection server.
 *
 * <pre>{@code
 * try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 8080))) {
 *     while (true) {
 *         TcpConnection c = listener.accept();
 *         Coroutine.create(() -> serve(c));
 *     }
 * }
 * }</pre>
 *
 * <p>It belongs to the thread that bound it: a call from another thread throws
 * {@link IllegalStateException} naming both, except those that only describe it ({@link #isOpen()},
 * {@link #localAddress()}, {@link #toString()}), which answer any thread, and {@link #close()} once
 * that thread has ended; a {@code CoroutinePool} thread that ends closes the listeners it left open, and a
 * listener dropped unclosed stops listening once the garbage collector finds it unreachable (never
 * while a coroutine is parked in its {@code accept()}), but close it: only {@link #close()} releases
 * its port at once.
 * {@link #close()} while a coroutine waits in
 * {@code accept()} fails that wait with an {@link IOException} naming the listener. An accept that
 * fails for want of file descriptors throws an {@link IOException} saying so; the listener stays
 * open, and the connection waiting in the backlog is accepted by a later call once descriptors are free.
 */
public final class TcpListener implements Closeable {

    /** The listen backlog: connections the kernel queues before they are accepted (Linux caps it at {@code somaxconn}). */
    public static final int BACKLOG = 4096;

    private final ServerSocketChannel channel;
    private final Object owner;
    private final IoBridge io;
    /** Its thread's loop's entry for it, which holds it weakly: see {@link IoBridge#adopt}. */
    private final Object entry;
    private final SocketAddress local;
    private final String name;
    /** What a context parked in accept does, for dumps; it holds the listener, so a waiter keeps it reachable. */
    private final Object accepting = new Object() {
        @Override
        public String toString() {
            return "accept on " + name;
        }
    };
    /** Whether it was closed; volatile, for {@link #isOpen()} and {@link #toString()} from any thread. */
    private volatile boolean closed;

    private TcpListener(ServerSocketChannel channel, IoBridge io) throws IOException {
        this.channel = channel;
        this.io = io;
        this.owner = io.owner();
        this.local = channel.getLocalAddress();
        this.name = "listener " + local;
        // closed by its thread's loop if that ends for good with it open, or once it is unreachable
        this.entry = io.adopt(owner, this, channel);
    }

    /**
     * Binds a listener to {@code address}, with a backlog of {@link #BACKLOG}.
     *
     * @param address where to listen; port 0 picks a free port ({@link #localAddress()} tells which)
     * @return the listener, owned by the calling thread
     * @throws IOException if the address cannot be bound (in use, not local), naming the caller and the
     *                     address; an {@link java.net.UnknownHostException} if it is not resolved
     * @throws IllegalArgumentException if the address is not an {@link java.net.InetSocketAddress},
     *                                  naming the caller and the address
     */
    public static TcpListener bind(SocketAddress address) throws IOException {
        Objects.requireNonNull(address, "address");
        IoBridge io = IoBridge.get();
        TcpConnection.checkAddress(io, "bind a listener to", address);
        ServerSocketChannel ch;
        try {
            ch = ServerSocketChannel.open();
        } catch (IOException e) { // no descriptor left
            throw new IOException(io.caller() + " cannot bind a listener to " + address + ": " + e, e);
        }
        try {
            ch.bind(address, BACKLOG);
            ch.configureBlocking(false);
            return new TcpListener(ch, io);
        } catch (IOException e) {
            ch.close();
            throw new IOException(io.caller() + " cannot bind a listener to " + address + ": " + e, e);
        } catch (RuntimeException | Error e) {
            ch.close(); // whatever went wrong, the socket is not left open behind it
            throw e;
        }
    }

    /**
     * Accepts the next connection, parking the caller until one arrives.
     *
     * @return the connection, owned by the calling thread
     * @throws IOException           if the listener is closed (also while the caller waits), or the
     *                               process is out of file descriptors (the listener stays open)
     * @throws IllegalStateException if called from a thread other than the listener's
     */
    public TcpConnection accept() throws IOException {
        io.checkOwner(owner, "accept on", name, closed ? "closed" : "open");
        while (true) {
            SocketChannel c;
            try {
                c = channel.accept();
            } catch (IOException e) {
                throw new IOException(io.caller() + " cannot accept on " + name + " (" + (closed ? "closed" : "open")
                        + "): " + e + (closed ? "" : outOfDescriptors(e)), e);
            }
            if (c != null) {
                try {
                    return new TcpConnection(c, io);
                } catch (IOException e) {
                    c.close(); // the peer went away before it could be set up: take the next one
                    continue;
                }
            }
            io.await(channel, SelectionKey.OP_ACCEPT, accepting);
            Reference.reachabilityFence(this); // reachable up to here: no cleaning closes it under its caller
        }
    }

    private static String outOfDescriptors(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("Too many open files")
                ? "; the process is out of file descriptors: the listener stays open, and accepts again once some are closed"
                : "";
    }

    /**
     * Stops listening. A coroutine waiting in {@link #accept()} is woken with an {@link IOException}
     * naming the listener. Closing twice is fine.
     *
     * <p>Once the listener's thread has ended, any thread may close it (the only call that acts on
     * it then; those that describe it answer any thread): its port is released at once, and so is
     * the ended thread's selector. A {@code CoroutinePool} thread that ends closes the listeners it left open itself.
     *
     * <p>A listener dropped without a close is closed once the garbage collector finds it
     * unreachable, its port released by its thread's next scheduling point (at once if that thread
     * has ended). That is a safety net, at a time the collector chooses; a listener a coroutine is
     * parked in {@code accept()} on is reachable, and never closed so.
     *
     * @throws IOException           if the JDK fails to close the socket
     * @throws IllegalStateException if called from a thread other than the listener's while that thread runs
     */
    @Override
    public void close() throws IOException {
        if (!io.isOwner(owner)) {
            if (io.closeAbandoned(owner, entry)) {
                closed = true;
                return;
            }
            io.checkOwner(owner, "close", name, closed ? "closed" : "open");
        }
        if (closed) {
            return;
        }
        closed = true;
        io.closing(owner, channel, "the " + name + " was closed while it waited");
        try {
            channel.close();
        } finally {
            io.disown(owner, entry);
        }
    }

    /**
     * Whether the listener is open: true until it is closed. Unlike the other calls, it may be asked
     * from any thread.
     *
     * @return false once it is closed
     */
    public boolean isOpen() {
        return !closed;
    }

    /**
     * The address it listens on, with the real port when bound to port 0. Like {@link #isOpen()}, it
     * may be asked from any thread.
     *
     * @return the local address
     */
    public SocketAddress localAddress() {
        return local;
    }

    /**
     * The address and the state, e.g. {@code TcpListener[/127.0.0.1:8080, open]}. Like
     * {@link #isOpen()}, it may be asked from any thread.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "TcpListener[" + local + ", " + (closed ? "closed" : "open") + "]";
    }
}
