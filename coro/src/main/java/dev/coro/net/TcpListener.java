package dev.coro.net;

import dev.coro.Coroutine;
import dev.coro.internal.IoBridge;
import java.io.Closeable;
import java.io.IOException;
import java.lang.ref.Reference;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
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
 * {@link #localAddress()}, {@link #toString()}), which answer any thread, and {@link #close()}, which
 * another thread posts to that one while it runs and makes itself once it has ended; a
 * {@code CoroutinePool} thread that ends closes the listeners it left open, and a
 * listener dropped unclosed stops listening once the garbage collector finds it unreachable (never
 * while a coroutine is parked in its {@code accept()}), but close it: only {@link #close()} releases
 * its port at once.
 * {@link #close()} while a coroutine waits in
 * {@code accept()} fails that wait with an {@link IOException} naming the listener. Several coroutines
 * of the thread may wait in {@code accept()} at once: a connection that arrives wakes one of them,
 * the first to have begun waiting, not all. One woken that takes a connection wakes the next in line
 * before it returns, which takes the next connection and wakes the one after it, and so on, so a burst
 * of connections is accepted in one round (of at most 64 accepts in a row with no scheduling point of the thread
 * between them: the next waits for the listener's readiness first, so that the coroutines of the connections
 * accepted run before more are taken, as a connection's reads do, see {@link TcpConnection#read}); the first
 * to find the backlog empty waits again in its
 * place, first in line, ending the chain (one wake in vain per burst, where waking them all would
 * cost one per acceptor). A woken one closed before it takes its turn leaves the connection to the
 * next in line; one whose {@code withTimeout} expires after it was woken still takes its turn, as any
 * wait that completed before its deadline keeps its result: it returns the connection waiting from the
 * {@code withTimeout}, or, finding none, throws the timeout's signal at its next wait, waking nobody.
 * A close wakes them all.
 * An accept that fails for want of file descriptors throws an {@link IOException} saying so; the listener stays
 * open, and the connection waiting in the backlog is accepted by a later call once descriptors are free.
 * Such a failure is a scheduling point, as a wait is: an accept loop that retries lets the thread's
 * other coroutines run (one may close a connection, freeing a descriptor) and its I/O be served, as
 * Netty's event loop serves its other channels between accepts; it spins meanwhile, so back off between
 * retries (Go's {@code http.Server} sleeps 5 ms, doubling up to a second).
 *
 * <p>One port may be served by several threads, each with a listener of its own, bound with
 * {@link #bind(SocketAddress, boolean) bind(address, true)} ({@code SO_REUSEPORT}): one listener per
 * {@code CoroutinePool} thread makes a thread-per-core server, whose connections each stay on the
 * thread that accepted them.
 *
 * <p>{@link #setOption} sets an option of the listening socket: its {@code SO_RCVBUF} is the receive buffer
 * the connections it accepts afterwards start with (on Linux their handshake's window scale is chosen from it).
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
    /** Its accepts that completed at once since its thread's last scheduling point: past a few, one waits (TurnBudget). */
    private final TurnBudget budget = new TurnBudget();
    /**
     * What a context parked in accept does, for dumps, with the listener's state for the message of a
     * wait that cannot start; it holds the listener, so a waiter keeps it reachable.
     */
    private final Object accepting = new IoBridge.Operation() {
        @Override
        public String state() {
            return TcpListener.this.state();
        }

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
     * Binds a listener to {@code address}, with a backlog of {@link #BACKLOG}. No other listener may
     * be bound to the same address while it is open; see {@link #bind(SocketAddress, boolean)} to
     * share a port among threads.
     *
     * @param address where to listen; port 0 picks a free port ({@link #localAddress()} tells which)
     * @return the listener, owned by the calling thread
     * @throws IOException if the address cannot be bound (in use, not local, an IPv6 address while the
     *                     JVM's sockets are IPv4 only), naming the caller and the address (the socket is
     *                     closed, a failure to close it suppressed in this exception), of the JDK's
     *                     exception's class when that is one of {@code java.net}'s (a
     *                     {@link java.net.BindException} if in use), its cause, else a plain one; a
     *                     {@link java.net.SocketException} for an IPv6 address on sockets that are IPv4 only
     *                     (as {@code java.net.ServerSocket}), the JDK's {@code UnsupportedAddressTypeException}
     *                     its cause; an {@link java.net.UnknownHostException} if it is not resolved
     * @throws IllegalArgumentException if the address is not an {@link java.net.InetSocketAddress},
     *                                  naming the caller and the address
     * @throws NullPointerException     if {@code address} is null
     */
    public static TcpListener bind(SocketAddress address) throws IOException {
        return bind(address, false, ServerSocketChannel::open);
    }

    /**
     * Binds a listener to {@code address}, as {@link #bind(SocketAddress)} does, with
     * {@code SO_REUSEPORT} set first if {@code reusePort}: then any number of listeners bound so, on
     * any threads (of this process or others run by the same user), may listen on the same address
     * at once, and the kernel hands each incoming connection to one of them. That makes a
     * thread-per-core server: one listener per {@code CoroutinePool} thread, each accepting and
     * serving its own connections, with nothing shared between threads, as Seastar, Glommio or
     * Netty's epoll transport do.
     *
     * <pre>{@code
     * InetSocketAddress address = new InetSocketAddress("0.0.0.0", 8080);
     * try (CoroutinePool pool = CoroutinePool.start(threads)) {
     *     for (int i = 0; i < threads; i++) {         // one long-lived body on each thread
     *         pool.execute(() -> {
     *             try (TcpListener listener = TcpListener.bind(address, true)) {
     *                 while (true) {
     *                     TcpConnection c = listener.accept();     // this thread's connection
     *                     Coroutine.create("serve", () -> serve(c));
     *                 }
     *             } catch (IOException e) {
     *                 throw new UncheckedIOException(e);
     *             }
     *         });
     *     }
     * }
     * }</pre>
     *
     * <p>Every listener sharing the address must be bound with the option: a bind without it fails
     * while one with it listens there, and the other way round. With port 0 each bind picks a port of
     * its own: bind the first, then the others to its {@link #localAddress()}. How connections are
     * spread is the kernel's choice: Linux hashes each connection's addresses to a listener (so one
     * thread may get more than another, and a connection still waiting in a listener's backlog when
     * that listener closes is reset, not handed to another); systems whose {@code SO_REUSEPORT}
     * does not balance (BSD, macOS) may give them all to one listener. {@code SO_REUSEADDR} is on
     * for every listener already (the JDK sets it, except on Windows), so a port is bound again at once after a restart.
     *
     * <p>A {@code boolean} rather than a map of socket options: {@code SO_REUSEPORT} is the one option
     * a listener's user cannot do without (without it a second listener cannot exist) that must be set
     * before the bind ({@link #setOption} refuses it once bound); the others a listening socket has
     * ({@code SO_RCVBUF}, which the connections accepted after it inherit; {@code SO_REUSEADDR}, on
     * already) take effect set on the bound listener with {@link #setOption}, and the rest belong to the
     * accepted connections ({@link TcpConnection#setOption}). The one-argument {@code bind} is this with
     * {@code false}.
     *
     * @param address   where to listen; port 0 picks a free port ({@link #localAddress()} tells which)
     * @param reusePort whether to set {@code SO_REUSEPORT}, letting other listeners bound with it
     *                  share the address
     * @return the listener, owned by the calling thread
     * @throws IOException if the address cannot be bound (in use by a listener bound without the
     *                     option, not local, an IPv6 address while the JVM's sockets are IPv4 only),
     *                     naming the caller, the address and the option (the socket is closed, a
     *                     failure to close it suppressed in this exception), of the JDK's exception's
     *                     class when that is one of {@code java.net}'s (a {@link java.net.BindException}
     *                     if in use), its cause, else a plain one; a {@link java.net.SocketException}
     *                     for an IPv6 address on sockets that are IPv4 only (as {@code java.net.ServerSocket}),
     *                     the JDK's {@code UnsupportedAddressTypeException} its cause; an
     *                     {@link java.net.UnknownHostException} if it is not resolved
     * @throws UnsupportedOperationException if {@code reusePort} and the platform's sockets lack
     *                                       {@code SO_REUSEPORT} (Windows), naming the caller, the
     *                                       address and the reason, with the JDK's
     *                                       {@code UnsupportedOperationException} as its cause; no socket is left open
     * @throws IllegalArgumentException if the address is not an {@link java.net.InetSocketAddress},
     *                                  naming the caller and the address
     * @throws NullPointerException     if {@code address} is null
     */
    public static TcpListener bind(SocketAddress address, boolean reusePort) throws IOException {
        return bind(address, reusePort, ServerSocketChannel::open);
    }

    /** How {@link #bind(SocketAddress, boolean, Opener)} opens its socket: the JDK's, or a test's. */
    @FunctionalInterface
    interface Opener {
        /** Opens an unbound server socket channel. */
        ServerSocketChannel open() throws IOException;
    }

    /** {@link #bind(SocketAddress, boolean)} with a socket that {@code opener} opens. */
    static TcpListener bind(SocketAddress address, boolean reusePort, Opener opener) throws IOException {
        Objects.requireNonNull(address, "address");
        IoBridge io = IoBridge.get();
        TcpConnection.checkAddress(io, "bind a listener to", address, true);
        ServerSocketChannel ch;
        try {
            ch = opener.open();
        } catch (IOException e) { // no descriptor left
            throw IoBridge.failure(io.caller() + " cannot bind a listener to " + io.text(address) + with(reusePort) + ": " + io.text(e), e);
        }
        try {
            if (reusePort) {
                reusePort(io, ch, address);
            }
            ch.bind(address, BACKLOG);
            ch.configureBlocking(false);
            return new TcpListener(ch, io);
        } catch (IOException e) {
            IOException f = IoBridge.failure(io.caller() + " cannot bind a listener to " + io.text(address) + with(reusePort) + ": " + io.text(e), e);
            close(ch, f);
            throw f;
        } catch (UnsupportedAddressTypeException e) {
            // an IPv6 address on sockets that are IPv4 only: the JDK's exception names nothing and is no
            // IOException; a java.net.ServerSocket fails with a SocketException (Protocol family unavailable), so this is one
            IOException f = new SocketException(io.caller() + " cannot bind a listener to " + io.text(address) + with(reusePort)
                    + ": this JVM's sockets are IPv4 only (java.net.preferIPv4Stack is set, or the host has no IPv6)");
            f.initCause(e);
            close(ch, f);
            throw f;
        } catch (RuntimeException | Error e) {
            close(ch, e); // whatever went wrong, the socket is not left open behind it
            throw e;
        }
    }

    /** For the messages of a bind: {@code " with SO_REUSEPORT"} if it sets the option, else nothing. */
    private static String with(boolean reusePort) {
        return reusePort ? " with SO_REUSEPORT" : "";
    }

    /**
     * Sets {@code SO_REUSEPORT} on {@code ch}, which is not bound yet; a platform whose sockets lack it
     * fails with an {@link UnsupportedOperationException} naming the caller, the bind and the reason
     * (the JDK's says only {@code 'SO_REUSEPORT' not supported}).
     */
    private static void reusePort(IoBridge io, ServerSocketChannel ch, SocketAddress address) throws IOException {
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        } catch (UnsupportedOperationException e) {
            throw new UnsupportedOperationException(io.caller() + " cannot bind a listener to " + io.text(address)
                    + " with SO_REUSEPORT: this platform's sockets do not support that option (" + SocketOptions.said(io, e)
                    + "); bind a single listener without it", e);
        }
    }

    /**
     * Accepts the next connection, parking the caller until one arrives.
     *
     * <p>An accepted socket that cannot be set up as a connection is closed (its peer reads the end of
     * the stream): one whose peer went away is skipped for the next, and any other failure (a
     * {@link RuntimeException} or an {@link Error}) is thrown as it is, a failure to close the socket
     * suppressed in it.
     *
     * @return the connection, owned by the calling thread
     * @throws IOException           if the listener is closed (also while the caller waits), or the
     *                               thread's selector fails while it waits (its exception the cause), or the
     *                               process is out of file descriptors, for the connection or for the
     *                               thread's selector that a first wait opens (the listener stays open; the
     *                               thread's other contexts run before it is thrown, and if one of them
     *                               closes the listener, or closed it after the selector's failure woke the
     *                               caller, the accept fails as one on a closed listener does, that failure
     *                               or the one for want of descriptors suppressed); a failure of the
     *                               JDK's is of its exception's class when that is one of {@code java.net}'s,
     *                               its cause, else a plain one
     * @throws IllegalStateException if called from a thread other than the listener's; or, no connection
     *                               waiting, if the JDK cannot suspend the caller to wait (on the continuation
     *                               engine, a coroutine inside an FFM upcall or a class initializer:
     *                               docs/PINNING.md), naming the caller and the wait (what arrives waits in the
     *                               backlog for the next accept)
     * @throws dev.coro.CoroutineExit if the caller is being closed, or a {@code withTimeout} of it expired
     *                               (what arrives meanwhile waits in the backlog for the next accept)
     * @throws dev.coro.CoroutineException in main, if a coroutine it created failed while it waited
     */
    public TcpConnection accept() throws IOException {
        io.checkOwner(owner, "accept on", name, state());
        // whether the caller was woken in its turn (by the listener's readiness, or by the acceptor before
        // it), which it passes on to the next acceptor once it takes a connection, or keeps by waiting
        // again first in line if it finds none
        boolean turn = false;
        // the listener's turn is spent (TurnBudget): it waits for readiness first, so that the coroutines of the
        // connections it accepted run before it takes more
        boolean waitFirst = budget.spent(io, owner);
        while (true) {
            SocketChannel c;
            if (waitFirst) {
                c = null;
            } else {
                try {
                    c = accepter.accept(channel);
                } catch (IOException e) {
                    throw failedAfterBackOff(e); // most likely for want of descriptors
                }
            }
            if (c != null) {
                if (turn) {
                    turn = false;
                    io.passAccept(channel); // more may wait in the backlog: the next acceptor takes the next
                }
                try {
                    return wrapper.wrap(c, io);
                } catch (IOException e) {
                    close(c, e); // the peer went away before it could be set up: take the next one
                    continue;
                } catch (RuntimeException | Error e) {
                    close(c, e); // whatever went wrong, the accepted socket is not left open behind it
                    throw e;
                }
            }
            boolean turnWait = waitFirst;
            waitFirst = false;
            try {
                io.await(channel, SelectionKey.OP_ACCEPT, accepting, turn);
                turn = true;
                if (closed) {
                    // woken (by the listener's readiness, or by the acceptor before it), and closed by another
                    // context before it ran again: it fails as the close fails the acceptors it finds waiting,
                    // not with the channel's ClosedChannelException (one close, two ways, as timing had it)
                    throw new IOException(io.caller() + " cannot accept on " + name + " (closed): " + CLOSED_WHILE_WAITING);
                }
            } catch (IllegalStateException e) {
                if (!turnWait || !io.refusedToSuspend(e)) {
                    throw e;
                }
                // the JDK cannot suspend the caller here (docs/PINNING.md): a turn's wait is a courtesy, it accepts without it
            } catch (IOException e) {
                if (e instanceof ClosedChannelException || !(e.getCause() instanceof IOException cause)) {
                    throw e; // closed: before or while it waited
                }
                // the wait could not start, or the thread's selector failed under it: as an accept that finds no
                // descriptor; closed already (after the failure woke it, before it ran), as one closed at the back-off
                throw failedAfterBackOff(cause);
            }
            Reference.reachabilityFence(this); // reachable up to here: no cleaning closes it under its caller
        }
    }

    /**
     * The failure of an accept that failed with {@code e}, after its scheduling point, as a wait would be one: a loop
     * that retries lets the thread's other contexts run, which may free descriptors, or close the listener, which makes
     * it the refusal of an accept on a closed listener ({@link #acceptFailed}); on a listener closed already there is
     * none, so that one close fails it one way whether it came at that point or before. Where the JDK cannot suspend
     * the caller (docs/PINNING.md) there is none either, and the accept's own failure is thrown all the same, not the
     * refusal of a yield its caller never made. A signal (the caller closed, its {@code withTimeout} expired) comes
     * out of it as out of any scheduling point.
     */
    private IOException failedAfterBackOff(IOException e) {
        if (!closed) {
            try {
                Coroutine.yield();
            } catch (IllegalStateException refused) {
                if (!io.refusedToSuspend(refused)) {
                    throw refused;
                }
            }
        }
        return acceptFailed(e);
    }

    /** Why an accept fails when the listener is closed while it waits, woken already or not. */
    private static final String CLOSED_WHILE_WAITING = "the listener was closed while it waited";

    /**
     * Closes {@code c}, a socket opened or accepted and not set up because of {@code failure} (a peer
     * then reads the end of the stream instead of waiting for good), freeing its descriptor. A failure
     * to close is suppressed in {@code failure}, which says what went wrong first.
     */
    static void close(Channel c, Throwable failure) {
        try {
            c.close();
        } catch (IOException | RuntimeException f) {
            failure.addSuppressed(f);
        }
    }

    /** How {@link #accept()} takes a connection from the backlog, null if none is waiting: the channel's own call, or a test's. */
    @FunctionalInterface
    interface Accepter {
        /** Accepts on {@code channel}, non-blocking. */
        SocketChannel accept(ServerSocketChannel channel) throws IOException;
    }

    /** The {@link Accepter} of every listener: the channel's, or a test's that fails as the JDK does when no descriptor is left. */
    static Accepter accepter = ServerSocketChannel::accept;

    /** How {@link #accept()} makes a connection of a socket it accepted: the constructor, or a test's that fails as setting one up may. */
    @FunctionalInterface
    interface Wrapper {
        /** Sets {@code channel} up as a connection of {@code io}'s thread. */
        TcpConnection wrap(SocketChannel channel, IoBridge io) throws IOException;
    }

    /** The {@link Wrapper} of every listener: {@link TcpConnection}'s constructor, or a test's. */
    static Wrapper wrapper = TcpConnection::new;

    /**
     * The failure of an accept whose channel threw {@code e} (or whose wait could not start: the
     * thread's selector could not be opened), naming the caller, the listener and the
     * state it is in now: made after the scheduling point the failure makes, so that a listener another
     * context closed meanwhile is not called open. An accept on a listener closed so fails as one on a
     * closed listener does, with {@code e} suppressed. Of {@code e}'s class if it is one of
     * {@code java.net}'s ({@link IoBridge#failure}).
     */
    private IOException acceptFailed(IOException e) {
        if (closed && !(e instanceof ClosedChannelException)) {
            ClosedChannelException c = new ClosedChannelException();
            IOException f = IoBridge.failure(io.caller() + " cannot accept on " + name + " (closed): " + c, c);
            f.addSuppressed(e);
            return f;
        }
        return IoBridge.failure(io.caller() + " cannot accept on " + name + " (" + state()
                + "): " + io.text(e) + (closed ? "" : outOfDescriptors(e)), e);
    }

    private static String outOfDescriptors(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("Too many open files")
                ? "; the process is out of file descriptors: the listener stays open, and accepts again once some are closed"
                : "";
    }

    /**
     * Sets a socket option of the listening socket, as {@link ServerSocketChannel#setOption} does, and
     * {@code java.net.ServerSocket}'s setters:
     * <ul>
     *   <li>{@link StandardSocketOptions#SO_RCVBUF}: the receive buffer of every connection accepted after it,
     *       which each inherits in its handshake (as {@code ServerSocket.setReceiveBufferSize} sets it): on
     *       Linux the window scale a connection agrees in its handshake, which bounds the window it may ever
     *       advertise, is chosen from its listener's buffer once that is set, so a connection's own
     *       {@code setOption(SO_RCVBUF, …)} after {@link #accept()} comes too late to widen it. Connections
     *       accepted before keep theirs.</li>
     *   <li>{@link StandardSocketOptions#SO_REUSEADDR}: on from the bind already (the JDK sets it, except on
     *       Windows), so that a server restarted binds its port at once, its old connections in
     *       {@code TIME_WAIT} notwithstanding; turned off, the connections accepted after inherit it off, and on
     *       Linux their {@code TIME_WAIT} then keeps a restarted server from binding the port.</li>
     *   <li>{@link StandardSocketOptions#SO_REUSEPORT}: refused with an {@link UnsupportedOperationException}
     *       saying so: it is set before the bind, by {@link #bind(SocketAddress, boolean) bind(address, true)},
     *       and {@link #getOption} tells whether it was. The JDK would set it on the bound socket (to no
     *       effect, its documentation says; yet Linux then lets listeners bound with it afterwards share the
     *       address of one bound without it), which would undo the rule that a listener bound without it
     *       shares its address with none. Where sockets lack it (Windows) it is refused as any option a
     *       listening socket lacks.</li>
     *   <li>the JDK's extended options of a listening socket (in {@code jdk.net.ExtendedSocketOptions}; on
     *       Linux {@code TCP_KEEPIDLE}, {@code TCP_KEEPINTERVAL} and {@code TCP_KEEPCOUNT}, which the connections
     *       accepted after inherit, and {@code TCP_QUICKACK}).</li>
     * </ul>
     * Any other option ({@code TCP_NODELAY}, {@code SO_LINGER}, {@code SO_KEEPALIVE}, {@code SO_SNDBUF}: a
     * connection's, to set with {@link TcpConnection#setOption}) is refused, as the JDK refuses it for a
     * listening socket.
     *
     * @param option the option
     * @param value  its value
     * @param <T>    the type of its value
     * @return this listener
     * @throws IOException                   if the listener is closed, or the JDK fails to set it; the
     *                                       message names the caller, the option, the listener and its state;
     *                                       of the JDK's exception's class when that is one of {@code java.net}'s
     *                                       (a {@code SocketException}, also when the JDK's is a plain
     *                                       {@code IOException}), its cause, else (closed) a plain one
     * @throws UnsupportedOperationException if a listening TCP socket has no such option, naming the caller, the
     *                                       option, the listener and its state (the JDK's refusal, its cause, names
     *                                       the option only); for {@code SO_REUSEPORT}, open or closed (its refusal
     *                                       comes first, as for an option a listener lacks), saying it is set by
     *                                       {@code bind(address, true)}
     * @throws IllegalArgumentException      if {@code value} is not valid for the option, naming the caller, the
     *                                       option, the value, the listener and its state (the JDK's refusal its cause)
     * @throws IllegalStateException         if called from a thread other than the listener's
     * @throws NullPointerException          if {@code option} is null
     */
    public <T> TcpListener setOption(SocketOption<T> option, T value) throws IOException {
        Objects.requireNonNull(option, "option");
        String operation = "set " + option.name() + " of";
        io.checkOwner(owner, operation, name, state());
        if (option == StandardSocketOptions.SO_REUSEPORT && channel.supportedOptions().contains(option)) {
            throw new UnsupportedOperationException(io.caller() + " cannot " + operation + " " + name + " (" + state()
                    + "): it is set before the bind, and the listener is bound; bind(address, true) sets it");
        }
        try {
            channel.setOption(option, value);
        } catch (IOException e) {
            throw SocketOptions.failed(io, operation, name, state(), e);
        } catch (UnsupportedOperationException e) {
            throw SocketOptions.unsupported(io, operation, name, state(), SOCKET, e);
        } catch (IllegalArgumentException e) {
            throw SocketOptions.invalid(io, operation, name, state(), value, e);
        }
        return this;
    }

    /**
     * The value of a socket option of the listening socket, as {@link ServerSocketChannel#getOption} gives
     * it: {@code SO_RCVBUF} (what the connections accepted from now on inherit), {@code SO_REUSEADDR},
     * {@code SO_REUSEPORT} (whether it was bound with {@link #bind(SocketAddress, boolean) bind(address, true)}),
     * and the JDK's extended options of a listening socket.
     *
     * @param option the option
     * @param <T>    the type of its value
     * @return its value
     * @throws IOException                   if the listener is closed, or the JDK fails to read it; the
     *                                       message names the caller, the option, the listener and its state;
     *                                       of the JDK's exception's class when that is one of {@code java.net}'s
     *                                       (a {@code SocketException}, also when the JDK's is a plain
     *                                       {@code IOException}), its cause, else (closed) a plain one
     * @throws UnsupportedOperationException if a listening TCP socket has no such option, naming the caller, the
     *                                       option, the listener and its state (the JDK's refusal, its cause, names
     *                                       the option only)
     * @throws IllegalStateException         if called from a thread other than the listener's
     * @throws NullPointerException          if {@code option} is null
     */
    public <T> T getOption(SocketOption<T> option) throws IOException {
        Objects.requireNonNull(option, "option");
        String operation = "get " + option.name() + " of";
        io.checkOwner(owner, operation, name, state());
        try {
            return channel.getOption(option);
        } catch (IOException e) {
            throw SocketOptions.failed(io, operation, name, state(), e);
        } catch (UnsupportedOperationException e) {
            throw SocketOptions.unsupported(io, operation, name, state(), SOCKET, e);
        }
    }

    /** What the refusal of an option the JDK does not have for a listener says has no such option ({@link SocketOptions#unsupported}). */
    private static final String SOCKET = "a listening TCP socket";

    /** For messages: {@code open} or {@code closed}. */
    private String state() {
        return closed ? "closed" : "open";
    }

    /**
     * Stops listening. A coroutine waiting in {@link #accept()} is woken with an {@link IOException}
     * naming the listener. Closing twice is fine.
     *
     * <p>From another thread while the listener's thread runs (an admin command stopping a server, say) the
     * close is posted to that thread and run there, as a {@code Channel}'s first close from another thread is
     * (docs/THREADS.md), and the caller waits until it is done: a coroutine parked there in an accept fails as
     * for a close on its own thread (an {@code IOException} naming the call and the state {@code closed}). A
     * close of one closed already returns at once; that thread blocked outside the library (a {@code
     * Thread.sleep}, a lock) delays the close until it runs again; a caller closed, or whose {@code
     * withTimeout} expires, while it waits throws that signal, the close still done on that thread at its next
     * scheduling point.
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
     * @throws IOException           if the JDK fails to close the socket (on the listener's thread, for a close from another
     *                               thread while it runs: the very exception, thrown to the caller that waited for it)
     * @throws RuntimeException     if the thread's selector fails unchecked (an {@code Error} too) as it
     *                               drops the socket's registration: the socket is closed all the same (an
     *                               {@code IOException} of the selector is not thrown here: it fails the
     *                               thread's I/O waits, each naming its waiter, and the selector is closed)
     * @throws dev.coro.CoroutineExit if called from another thread while the listener's runs, and the caller is
     *                               closed, or a {@code withTimeout} of it expires, while it waits for that thread
     *                               to close it: it is closed there all the same
     * @throws dev.coro.CoroutineException so posted, in main, if a coroutine it created failed while it waited for the
     *                               answer: it is closed there all the same
     */
    @Override
    public void close() throws IOException {
        if (!io.isOwner(owner)) {
            boolean abandoned;
            try {
                abandoned = io.closeAbandoned(owner, entry);
                if (!abandoned && !closed && !io.closeFromAfar(owner, entry, name)) {
                    abandoned = io.closeAbandoned(owner, entry); // its thread ended before it could run the close
                }
            } catch (IOException e) {
                closed = true; // the socket's close failed, and the JDK marks a socket closed even then
                throw e;
            }
            if (abandoned) {
                closed = true;
            }
            return; // else closed on its thread (or by its owner before)
        }
        if (closed) {
            return;
        }
        closed = true;
        io.closeOwned(owner, entry, channel, CLOSED_WHILE_WAITING);
    }

    /**
     * Whether the listener is open: true until it is closed. Unlike the calls that act on the
     * listener, it may be asked from any thread, as may the others that only describe it.
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
        return "TcpListener[" + local + ", " + state() + "]";
    }
}
