package dev.coro.net;

import dev.coro.internal.IoBridge;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.nio.channels.spi.SelectorProvider;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * A TCP connection whose calls park the calling coroutine instead of blocking the thread: code that
 * reads like blocking I/O, served by its thread's event loop.
 *
 * <pre>{@code
 * try (TcpConnection c = listener.accept()) {           // in a coroutine per connection
 *     ByteBuffer buf = ByteBuffer.allocate(4096);
 *     while (c.read(buf.clear()) >= 0) {
 *         c.write(buf.flip());                           // echo
 *     }
 * }
 * }</pre>
 *
 * <p>A connection belongs to the thread that connected, accepted or {@link #adopt adopted} it, until
 * {@link #detach()} hands its channel on for another thread to adopt; a call from another thread
 * throws {@link IllegalStateException} naming both, except those that only describe it
 * ({@link #isOpen()}, {@link #localAddress()}, {@link #remoteAddress()}, {@link #toString()}) and
 * {@link #input()}/{@link #output()} (every call of whose views is confined alike but their {@code close()},
 * and the output's {@code flush()}, which does nothing), which answer any thread, and {@link #close()},
 * which another thread posts to that one while it runs and makes itself once it has ended. A
 * {@code CoroutinePool} thread that ends closes the connections its
 * coroutines left open; a connection dropped unclosed is closed once the garbage collector finds it
 * unreachable (never while a coroutine is parked on it), but close it: only {@link #close()} releases
 * it at once. {@code TCP_NODELAY} is on. An I/O failure (a reset
 * peer, a write to a closed peer) is an {@link IOException} naming the caller, the call and the
 * connection, with the JDK's exception as its cause and of that exception's class when it is one of
 * {@code java.net}'s ({@code SocketException}, {@code ConnectException} …: see {@code docs/NET.md}), a
 * {@code SocketException} as well when the JDK's is a plain {@code IOException} (a write to a reset peer),
 * as {@code java.net.Socket} makes it, so that a {@code catch (SocketException e)} written for
 * {@code java.net.Socket} matches it; a call on a closed connection fails with a plain
 * {@code IOException}; the connection's state is {@code failed} from
 * then on, and a read that finds the end of the stream after it throws rather than return -1 (the
 * kernel tells only the first call of a reset: a reader beside a writer told of it must not take it
 * for the peer's orderly end), unless a read had returned -1 before it: the peer's orderly end was
 * read then, and is read again. {@link #close()} while another coroutine waits
 * on the connection fails that wait with an {@link IOException}; a coroutine closed
 * ({@code Coroutine.close()}) while it waits here unwinds and leaves no registration behind.
 * Timeouts come from {@code Coroutine.withTimeout}.
 */
public final class TcpConnection implements Closeable {

    private final SocketChannel channel;
    private final Object owner;
    private final IoBridge io;
    /** Its thread's loop's entry for it, which holds it weakly: see {@link IoBridge#adopt}. */
    private final Object entry;
    private final SocketAddress local;
    private final SocketAddress remote;
    private final Operation reading = new Operation("read from");
    private final Operation writing = new Operation("write to");
    /** Whether it was closed (or detached); volatile, for {@link #isOpen()} and {@link #toString()} from any thread. */
    private volatile boolean closed;
    /**
     * Whether {@link #detach()} handed its channel on: {@link #closed} is set after it, so that a thread that reads
     * {@code closed} true sees it; the owner's calls read it plain.
     */
    private boolean detached;
    /**
     * Whether a thread other than the owner's has asked for a close ({@link #close()}), which may be posted to the
     * owner's thread and not run yet: {@link #detach()} is refused from then on, the close having come first.
     */
    private volatile boolean closeAsked;
    /** How many contexts of the owner's thread are in {@link #await} on it, parked or woken and not run yet. */
    private int waiters;
    /**
     * The last read got fewer bytes than it asked the socket for (its room, at most {@link #MOST_PER_CALL}
     * of a heap buffer), so it emptied the socket's receive buffer: the next read waits for readiness
     * first instead of paying a system call that finds nothing (a guess only: where that wait is refused, the
     * read asks the socket all the same, and is refused only if nothing came).
     */
    private boolean drained;
    /** Its reads and writes that completed at once since its thread's last scheduling point: past a few, one waits (TurnBudget). */
    private final TurnBudget budget = new TurnBudget();
    /**
     * Whether a write is under way that has parked part way: another coroutine's write waits for its
     * end, so that each write's bytes go out whole, as a blocking socket's writes do.
     */
    private boolean writeUnderWay;
    /**
     * Whether {@link #adopt} made it, of a channel its caller may still hold, and shut down behind its back: only such a
     * connection's state asks the channel's socket whether its output is shut ({@link #state()}).
     */
    private boolean adopted;
    /**
     * Whether {@link #shutdownOutput()} succeeded, or a write found the output shut behind its back (through the channel
     * {@link #adopt} was given): writes fail from then on, without reaching the channel.
     */
    private boolean outputShut;
    /**
     * The positive {@code SO_LINGER} interval {@link #setOption} was last given, in seconds, as the JDK
     * would keep it (at most 65535); 0 if none. It is kept here, not given to the socket, whose linger
     * stays off: see {@link #setLinger}.
     */
    private int linger;
    /**
     * The first failure the channel reported to a call (a reset peer, a broken pipe); null if none.
     * The kernel tells of a reset once: later reads get the end of the stream, which must not pass
     * for the peer's orderly end.
     */
    private IOException failure;
    /**
     * A read returned -1 before any call failed: the peer ended its stream in order, and every
     * later read returns -1 again, whatever a later call is told (a write to that peer then fails).
     */
    private boolean ended;
    /** Its {@code java.io} views, made with it: {@link #input()}/{@link #output()} answer any thread, the same view to all. */
    private final InputStream input = new ConnectionInput(this);
    private final OutputStream output = new ConnectionOutput(this);
    /** The socket adaptor's stream, made at the first {@link #available()}: only its count is used, never a read. */
    private InputStream socketInput;

    /** Wraps a connected channel; it becomes non-blocking, with {@code TCP_NODELAY}. */
    TcpConnection(SocketChannel channel, IoBridge io) throws IOException {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        this.channel = channel;
        this.io = io;
        this.owner = io.owner();
        this.local = channel.getLocalAddress();
        this.remote = channel.getRemoteAddress();
        // closed by its thread's loop if that ends for good with it open, or once it is unreachable
        this.entry = io.adopt(owner, this, channel);
    }

    /**
     * Connects to {@code address}, parking the caller until the connection is established. An
     * unresolved address ({@code InetSocketAddress.createUnresolved(host, port)}) has its host looked up
     * first, on a look-up thread while the caller parks (the JDK's look-up would block the thread and
     * every coroutine of it), and its addresses are tried in the order the look-up gives them until
     * one connects: {@code localhost} that gives {@code ::1} first reaches a server listening on
     * {@code 127.0.0.1} only. A resolved address is connected to as it is.
     *
     * @param address where to connect, e.g. {@code new InetSocketAddress("127.0.0.1", 8080)}, or
     *                {@code InetSocketAddress.createUnresolved("db.internal", 5432)}
     * @return the connection, owned by the calling thread
     * @throws IOException if the connection cannot be made (refused, unreachable, an IPv6 address while the
     *                     JVM's sockets are IPv4 only), naming the caller and the
     *                     address (the socket is closed, a failure to close it suppressed in this exception);
     *                     for a host with several addresses, the first address's failure, the later
     *                     ones' suppressed in it; of the JDK's exception's class when that is one of
     *                     {@code java.net}'s (a {@link java.net.ConnectException} if refused, a
     *                     {@link java.net.NoRouteToHostException} if unreachable, a {@link SocketException} if
     *                     the network is unreachable, as for a multicast or broadcast address), its cause, else a
     *                     plain one; a {@link SocketException} for an IPv6 address on sockets that are IPv4 only
     *                     (as {@code java.net.Socket}), the JDK's {@code UnsupportedAddressTypeException} its cause
     * @throws UnknownHostException if the host of an unresolved address has no address, or its look-up
     *                              failed, naming the caller, the address and the host, the resolver's
     *                              exception as its cause; or could not start, no look-up thread running and
     *                              the JVM able to start none (out of threads, or of memory for their
     *                              stacks), its {@code OutOfMemoryError} the cause; no socket was opened
     * @throws IllegalArgumentException if the address is not an {@link InetSocketAddress}, naming the caller and the address
     * @throws IllegalStateException if the JDK cannot suspend the caller to wait for the connect or the look-up
     *                               (on the continuation engine, a coroutine inside an FFM upcall or a class
     *                               initializer: docs/PINNING.md), naming the caller and the wait; a socket it
     *                               opened is closed
     * @throws dev.coro.CoroutineExit if the caller is being closed, or a {@code withTimeout} of it expired (the socket
     *                               is closed; a look-up under way runs on to its end on its thread, its answer dropped, and one still queued never runs)
     * @throws dev.coro.CoroutineException in main, if a coroutine it created failed while it waited (the socket is closed)
     * @throws NullPointerException if {@code address} is null
     */
    public static TcpConnection connect(SocketAddress address) throws IOException {
        Objects.requireNonNull(address, "address");
        return dial(address, null);
    }

    /**
     * {@link #connect(SocketAddress)}, {@code configurer} run first on the socket, open and not connected yet: the
     * options that take effect only before the handshake ({@code SO_RCVBUF}, whose size Linux chooses the window scale
     * from, {@code SO_SNDBUF}), {@code SO_REUSEADDR}, a {@code bind} to a local address or port. It runs on the
     * caller's thread, inside the caller's {@code withTimeout} as the connect is, once for each socket the connect opens:
     * for a host with several addresses, once for each address tried. A socket of the JDK, not a list of the library's
     * options, since every option of the JDK and a bind are set on it as the JDK sets them ({@link SocketConfigurer}).
     *
     * <p>What {@code configurer} throws, the connect throws as it is, its socket closed first (a failure to close it
     * suppressed in that exception): an {@link IOException}, for a host with several addresses, as a connect's failure
     * for that address, the next one tried and the first failure thrown, the later ones suppressed in it (the same
     * exception thrown again for a later address is not suppressed in itself); anything else at once. A configurer that leaves the socket closed, connected, connecting or in blocking mode is refused
     * with the socket closed.
     * {@link SocketConfigurer}'s Javadoc shows one.
     *
     * @param address    where to connect, as for {@link #connect(SocketAddress)}
     * @param configurer what sets the socket up before its connect
     * @return the connection, owned by the calling thread
     * @throws IOException              as {@link #connect(SocketAddress)}; or what {@code configurer} threw, as it is;
     *                                  or, if {@code configurer} closed the socket, one naming the caller, the address
     *                                  and the socket
     * @throws IllegalStateException    if {@code configurer} left the socket connected, connecting or in blocking mode,
     *                                  naming the caller, the address and the socket with its state; or as
     *                                  {@link #connect(SocketAddress)}
     * @throws IllegalArgumentException as {@link #connect(SocketAddress)}
     * @throws UnknownHostException     as {@link #connect(SocketAddress)}: {@code configurer} never runs then
     * @throws dev.coro.CoroutineExit   as {@link #connect(SocketAddress)}
     * @throws dev.coro.CoroutineException as {@link #connect(SocketAddress)}
     * @throws NullPointerException     if {@code address} or {@code configurer} is null, naming it, no socket opened
     */
    public static TcpConnection connect(SocketAddress address, SocketConfigurer configurer) throws IOException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(configurer, "configurer");
        return dial(address, configurer);
    }

    /** {@link #connect(SocketAddress, SocketConfigurer)}, {@code configurer} null for none. */
    private static TcpConnection dial(SocketAddress address, SocketConfigurer configurer) throws IOException {
        IoBridge io = IoBridge.get();
        checkAddress(io, "connect to", address, false);
        InetSocketAddress inet = (InetSocketAddress) address;
        if (!inet.isUnresolved()) {
            return connectTo(io, inet, configurer);
        }
        InetAddress[] addresses = NameLookup.addressesOf(io, inet.getHostString(), "connect to " + io.text(address));
        IOException first = null;
        for (InetAddress a : addresses) {
            try {
                return connectTo(io, new InetSocketAddress(a, inet.getPort()), configurer);
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else if (e != first) { // a configurer's one exception, thrown for each address: never suppressed in itself
                    first.addSuppressed(e);
                }
            }
        }
        throw first;
    }

    /**
     * Connects to {@code host} on {@code port}: {@link #connect(SocketAddress)} of
     * {@code InetSocketAddress.createUnresolved(host, port)}. A host name is looked up on a look-up
     * thread while the caller parks, and its addresses are tried in turn; an IP address literal
     * ({@code "127.0.0.1"}, {@code "::1"}) is connected to at once.
     *
     * @param host a host name or an IP address literal
     * @param port the port, 0 to 65535
     * @return the connection, owned by the calling thread
     * @throws IOException as {@link #connect(SocketAddress)}: the connection cannot be made, or (an
     *                     {@link UnknownHostException}) the host has no address
     * @throws IllegalArgumentException if the port is out of range, naming the caller, the host and the port
     * @throws IllegalStateException as {@link #connect(SocketAddress)}, if the caller cannot suspend to wait
     * @throws NullPointerException if {@code host} is null
     * @throws dev.coro.CoroutineExit as {@link #connect(SocketAddress)}
     * @throws dev.coro.CoroutineException as {@link #connect(SocketAddress)}
     */
    public static TcpConnection connect(String host, int port) throws IOException {
        Objects.requireNonNull(host, "host");
        return dial(unresolved(host, port), null);
    }

    /**
     * {@link #connect(String, int)}, {@code configurer} run first on each socket it opens, as for
     * {@link #connect(SocketAddress, SocketConfigurer)}.
     *
     * @param host       a host name or an IP address literal
     * @param port       the port, 0 to 65535
     * @param configurer what sets each socket up before its connect
     * @return the connection, owned by the calling thread
     * @throws IOException              as {@link #connect(SocketAddress, SocketConfigurer)}
     * @throws IllegalArgumentException as {@link #connect(String, int)}, if the port is out of range
     * @throws IllegalStateException    as {@link #connect(SocketAddress, SocketConfigurer)}
     * @throws NullPointerException     if {@code host} or {@code configurer} is null, naming it
     * @throws dev.coro.CoroutineExit   as {@link #connect(SocketAddress)}
     * @throws dev.coro.CoroutineException as {@link #connect(SocketAddress)}
     */
    public static TcpConnection connect(String host, int port, SocketConfigurer configurer) throws IOException {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(configurer, "configurer");
        return dial(unresolved(host, port), configurer);
    }

    /** The unresolved address of {@code host} and {@code port} for a connect, a port out of range refused naming the caller. */
    private static InetSocketAddress unresolved(String host, int port) {
        if (port < 0 || port > 0xFFFF) {
            IoBridge io = IoBridge.get();
            throw new IllegalArgumentException(io.caller() + " cannot connect to " + io.text(host) + ":" + port
                    + ": the port is out of range (0 to 65535)");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /**
     * Makes a connected {@code channel} a connection of the calling thread (main or a coroutine of any thread, a
     * thread without coroutines too, as for {@link #connect(SocketAddress)}): the channel a connection of another
     * thread handed on by {@link #detach()}, or one made outside the library, blocking or not (a
     * {@code SocketChannel.open(address)}, one a plain {@code ServerSocketChannel} accepted). It becomes non-blocking,
     * with {@code TCP_NODELAY}, as an accepted one does, and is then the calling thread's as if it had accepted it: its
     * calls confined to that thread, closed when that thread ends (a pool thread) or once the connection is dropped
     * unclosed and collected. What the kernel holds of it is kept: bytes the peer sent that nobody read are read
     * here; an output shut down stays shut ({@code open, output shut down}). A positive {@code SO_LINGER} of the socket
     * (its maker's, or the one a detached connection was given, which {@link #detach()} sets on it) is taken over as
     * {@link #setOption} keeps one: {@link #getOption} gives it back, and the socket's own linger is set off, so that
     * the connection's close never holds the thread.
     *
     * <p>A channel is one connection's at a time: one that an earlier {@code adopt} made a connection of, on this thread
     * or another, is refused until that connection is {@link #detach() detached} (or closed, which closes the channel),
     * since two connections of one socket would each read a part of what the peer sends. Two threads adopting one
     * channel at once take turns, and the second is refused. A connection dropped unclosed holds its channel no more once
     * the garbage collector has found it, and its channel may be adopted again before that one's cleaning (which closes
     * what is dropped unclosed) has run: the new connection takes the channel over, and that cleaning, or the end of
     * that one's thread, closes nothing under it; a channel the cleaning closed already is refused as closed.
     *
     * <p>A refused channel is left as it was, open, the caller's still: its blocking mode and its options (a positive
     * {@code SO_LINGER}, {@code TCP_NODELAY}) are changed only once every check has passed.
     *
     * <p>An adopted channel is the connection's: close the connection, not the channel. A {@code close()} of the channel
     * itself, from any thread, closes the connection behind its back, which it tells at once: {@link #isOpen()} is
     * false, its state is {@code closed}, and every call that acts on it fails with an {@link IOException} saying so
     * ({@code main context 'main' cannot read from connection A -> B (closed): its SocketChannel was closed behind the
     * connection's back, not by its close()}); {@link #detach()} is refused so. A read or a write parked on it then is
     * not told at once (the JDK tells no selector of the close of a channel registered with it): its thread's event
     * loop finds it by its scan of the waits on channels closed behind its back, within a second or two (it looks once a second),
     * and the wait fails naming its caller ({@code … (closed): its SocketChannel was closed behind the connection's back
     * while it waited}). The connection's own {@link #close()}, from any thread, fails them at once. A
     * {@code shutdownOutput()} of the channel itself is told alike: the state says {@code open, output shut down} at
     * once, and a write fails as after the connection's own {@link #shutdownOutput()}.
     *
     * @param channel a connected TCP socket channel, registered with no selector, held by no connection
     * @return the connection, owned by the calling thread
     * @throws IOException              if {@code channel} is closed, naming the caller and the channel with its
     *                                  state ({@code main context 'main' cannot adopt java.nio.channels.SocketChannel[closed]:
     *                                  it is closed}); or the JDK fails to make it non-blocking or to set
     *                                  {@code TCP_NODELAY}, naming them and the JDK's exception, its cause, of its class
     *                                  when that is one of {@code java.net}'s
     * @throws IllegalArgumentException if {@code channel} is not connected (nor is its connect finished), is no TCP socket
     *                                  (a Unix-domain one, whose address is no {@code InetSocketAddress}), belongs to
     *                                  another selector provider than the default one (the thread's event loop watches
     *                                  only that one's channels), is held by a
     *                                  connection an earlier {@code adopt} made of it and not detached since (naming that
     *                                  connection, its state and its thread: {@code … cannot adopt java.nio.channels.SocketChannel[…]:
     *                                  connection A -> B (open) of thread 'main' (#1) holds it already; detach() that
     *                                  connection to hand the channel on}), or is still registered with a selector (a key
     *                                  not cancelled, or cancelled and not yet dropped by that selector's next select: a
     *                                  connection's {@link #detach()} hands its channel on unregistered), naming the
     *                                  caller, the channel with its state and the reason
     * @throws NullPointerException     if {@code channel} is null
     */
    public static TcpConnection adopt(SocketChannel channel) throws IOException {
        Objects.requireNonNull(channel, "channel");
        IoBridge io = IoBridge.get();
        io.owner(); // the thread's scheduler, made now if need be, as by a connect
        synchronized (channel.blockingLock()) { // adopts of one channel take turns, as its register and configureBlocking do
            if (!channel.isOpen()) {
                throw new IOException(io.caller() + " cannot adopt " + io.text(channel) + ": it is closed");
            }
            if (!channel.isConnected()) {
                throw new IllegalArgumentException(io.caller() + " cannot adopt " + io.text(channel) + ": it is not connected"
                        + (channel.isConnectionPending() ? " (its connect is under way: finish it first)" : "; connect it first"));
            }
            SocketAddress peer;
            try {
                peer = channel.getRemoteAddress();
            } catch (IOException e) { // closed meanwhile by another thread
                throw IoBridge.failure(io.caller() + " cannot adopt " + io.text(channel) + ": " + io.text(e), e);
            }
            if (!(peer instanceof InetSocketAddress)) { // a Unix-domain socket: the JDK would refuse TCP_NODELAY naming nothing
                throw new IllegalArgumentException(io.caller() + " cannot adopt " + io.text(channel) + ": it is not a TCP socket"
                        + " (its peer's address is a " + peer.getClass().getSimpleName() + ", where TCP needs an InetSocketAddress);"
                        + " Io.await parks a coroutine on a channel of any kind");
            }
            if (channel.provider() != SelectorProvider.provider()) { // its first wait would fail, naming the wrong cause
                throw new IllegalArgumentException(io.caller() + " cannot adopt " + io.text(channel) + ": it belongs to the selector"
                        + " provider " + io.text(channel.provider()) + ", and the thread's event loop watches only channels of the"
                        + " default one (" + SelectorProvider.provider().getClass().getName() + ")");
            }
            Adoption earlier = ADOPTED.get(channel);
            TcpConnection holder = earlier == null ? null : earlier.connection().get();
            if (holder != null && holder.isOpen()) {
                throw new IllegalArgumentException(io.caller() + " cannot adopt " + io.text(channel) + ": " + holder.name()
                        + " (" + holder.state() + ") of thread " + io.threadOf(holder.owner) + " holds it already"
                        + (io.ownerEnded(holder.owner)
                                ? ", and that thread has ended: nothing can detach it any more (its close, from any thread,"
                                        + " closes the channel)"
                                : "; detach() that connection to hand the channel on"));
            }
            if (channel.isRegistered()) {
                throw new IllegalArgumentException(io.caller() + " cannot adopt " + io.text(channel)
                        + ": it is registered with a selector (its key not cancelled, or not yet dropped by that selector's next"
                        + " select); detach() hands a connection's channel on unregistered");
            }
            Object dropped = holder == null && earlier != null ? earlier.entry().get() : null;
            if (dropped != null && !io.takeOver(dropped)) { // the cleaning of the one dropped unclosed has just closed it
                throw new IOException(io.caller() + " cannot adopt " + io.text(channel) + ": it is closed");
            }
            TcpConnection c;
            try {
                int kept = takeLinger(channel);
                c = new TcpConnection(channel, io);
                c.linger = kept;
            } catch (IOException e) {
                throw IoBridge.failure(io.caller() + " cannot adopt " + io.text(channel) + ": " + io.text(e), e);
            }
            c.outputShut = channel.socket().isOutputShutdown(); // shut by the connection it was detached from, say
            c.adopted = true;
            ADOPTED.put(channel, new Adoption(new WeakReference<>(c), new WeakReference<>(c.entry)));
            return c;
        }
    }

    /**
     * The channels {@link #adopt} made connections of, each with the last connection made of it ({@link Adoption}):
     * another adopt of a channel whose connection is still open (neither detached nor closed) is refused, two
     * connections of one socket splitting what the peer sends between them; one of a channel whose connection was
     * dropped unclosed and collected takes the channel over from that one's cleaning. Its keys are held weakly (a
     * {@code SocketChannel}'s {@code equals} is identity): an entry goes with its channel. A connection that
     * {@code connect} or {@code accept} made is not here: nobody can have its channel before its {@link #detach()}.
     */
    private static final Map<SocketChannel, Adoption> ADOPTED = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * The last connection {@link #adopt} made of a channel, and its thread's loop's entry for it ({@link #entry}), both
     * held weakly (each holds the channel, the map's key): once the connection is collected unclosed, the entry lives
     * on until its cleaning has run and its thread has forgotten it, and the next adopt of the channel takes the
     * channel over from it ({@link IoBridge#takeOver}), which that cleaning would otherwise close under the new
     * connection.
     */
    private record Adoption(WeakReference<TcpConnection> connection, WeakReference<Object> entry) {
    }

    /** {@link #connect(SocketAddress, SocketConfigurer)} of a resolved address, {@code configurer} null for none. */
    private static TcpConnection connectTo(IoBridge io, InetSocketAddress address, SocketConfigurer configurer)
            throws IOException {
        io.owner(); // the thread's scheduler, made now if need be: a failure names the caller alike whether it came at once or after a park
        SocketChannel ch;
        try {
            ch = opener.open();
        } catch (IOException e) { // no descriptor left
            throw IoBridge.failure(io.caller() + " cannot connect to " + io.text(address) + ": " + io.text(e), e);
        }
        IOException told = null; // a failure that names the caller and the connect already
        boolean waited = false; // whether the socket may be registered with the thread's selector
        if (configurer != null) {
            configure(io, address, ch, configurer);
        }
        try {
            ch.configureBlocking(false);
            if (!ch.connect(address)) {
                Object what = "connect to " + io.text(address); // a dump's text: one line, never throwing
                waited = true;
                do {
                    try {
                        io.await(ch, SelectionKey.OP_CONNECT, what);
                    } catch (IOException e) { // the thread's selector cannot be opened (no descriptor left), or failed
                        told = e;
                        throw e;
                    }
                } while (!ch.finishConnect());
                // The registration stays, for the connection's reads and writes (its close ends it): only
                // OP_CONNECT leaves the interest set, where it would poll the connected socket for
                // writability, so that every select returned at once with nothing to report (the idle loop
                // would spin). Ending it here would cost every connect a selectNow to drop the key, and its
                // first read a registration again (and the thread's selector, if it had nothing else
                // registered, a close and an open).
                io.connected(ch);
            }
            return new TcpConnection(ch, io);
        } catch (IOException e) {
            IOException f = e == told ? e : IoBridge.failure(io.caller() + " cannot connect to " + io.text(address) + ": " + io.text(e), e);
            abandon(io, ch, waited, f); // a failure to close it too is suppressed in f, which says what went wrong first
            throw f;
        } catch (UnsupportedAddressTypeException e) {
            // an IPv6 address on sockets that are IPv4 only: the JDK's exception names nothing and is no
            // IOException; a java.net.Socket fails with a SocketException (Protocol family unavailable), so this is one
            IOException f = new SocketException(io.caller() + " cannot connect to " + io.text(address)
                    + ": this JVM's sockets are IPv4 only (java.net.preferIPv4Stack is set, or the host has no IPv6)");
            f.initCause(e);
            abandon(io, ch, waited, f);
            throw f;
        } catch (RuntimeException | Error e) {
            abandon(io, ch, waited, e);
            throw e;
        }
    }

    /**
     * Runs {@code configurer} on {@code ch}, the unconnected socket of a connect to {@code address}, made non-blocking
     * first: what it throws is thrown as it is, and a socket it left closed, connected, connecting or blocking is
     * refused naming the caller, the address and the socket; either way the socket is closed first.
     */
    private static void configure(IoBridge io, InetSocketAddress address, SocketChannel ch, SocketConfigurer configurer)
            throws IOException {
        Throwable failure = null;
        try {
            ch.configureBlocking(false);
        } catch (IOException e) {
            failure = IoBridge.failure(io.caller() + " cannot connect to " + io.text(address) + ": " + io.text(e), e);
        }
        if (failure == null) {
            try {
                configurer.configure(ch);
            } catch (Throwable e) { // IOException, RuntimeException or Error: thrown as it is
                failure = e;
            }
        }
        if (failure == null) {
            String left = !ch.isOpen() ? "closed its socket"
                    : ch.isConnected() || ch.isConnectionPending() ? "connected its socket (" + io.text(ch) + ")"
                    : ch.isBlocking() ? "put its socket in blocking mode (configureBlocking(true)), where the connect would block the"
                            + " thread and every coroutine of it"
                    : null;
            if (left == null) {
                return;
            }
            String message = io.caller() + " cannot connect to " + io.text(address) + ": its configurer " + left
                    + "; a configurer sets options and binds, and leaves the socket open, unconnected and non-blocking";
            failure = ch.isOpen() ? new IllegalStateException(message) : new IOException(message);
        }
        abandon(io, ch, false, failure);
        throw TcpConnection.<RuntimeException>passOn(failure);
    }

    /** Throws {@code t} as it is, checked or not: the compiler takes it for an {@code X}. */
    @SuppressWarnings("unchecked")
    private static <X extends Throwable> X passOn(Throwable t) throws X {
        throw (X) t;
    }

    /**
     * Closes {@code ch}, a socket whose connect failed or was cut short because of {@code failure},
     * ending first its registration with the thread's selector if it parked ({@code waited}): the JDK
     * closes the descriptor of a registered channel only at the selector's next select, which a thread
     * that ends never makes. A failure to end it or to close is suppressed in {@code failure}.
     */
    private static void abandon(IoBridge io, SocketChannel ch, boolean waited, Throwable failure) {
        if (waited) {
            try {
                io.release(ch);
            } catch (RuntimeException | Error f) {
                failure.addSuppressed(f);
            }
        }
        TcpListener.close(ch, failure);
    }

    /** How {@link #connect(SocketAddress)} opens its socket: the JDK's, or a test's. */
    @FunctionalInterface
    interface Opener {
        /** Opens an unconnected socket channel. */
        SocketChannel open() throws IOException;
    }

    /** The {@link Opener} of every connect: the JDK's, or a test's whose socket fails as a test needs. */
    static Opener opener = SocketChannel::open;

    /**
     * Refuses, before a socket is opened, an address TCP cannot use, naming the caller, what it
     * tried ({@code operation}) and the address: one that is no IP address with an
     * {@link IllegalArgumentException}, and if {@code mustBeResolved} (a bind) an unresolved one with an
     * {@link UnknownHostException} (as a {@code java.net.ServerSocket} does).
     * The channel would throw them bare, naming neither.
     */
    static void checkAddress(IoBridge io, String operation, SocketAddress address, boolean mustBeResolved)
            throws UnknownHostException {
        if (!(address instanceof InetSocketAddress inet)) {
            throw new IllegalArgumentException(io.caller() + " cannot " + operation + " " + io.text(address)
                    + ": TCP needs an InetSocketAddress, not a " + address.getClass().getSimpleName());
        }
        if (mustBeResolved && inet.isUnresolved()) {
            throw new UnknownHostException(io.caller() + " cannot " + operation + " " + io.text(address)
                    + ": its host name is not resolved");
        }
    }

    /**
     * Reads into {@code dst}, parking until at least one byte has arrived or the stream has ended.
     * Several coroutines may read at once: each byte goes to one of them, once, in the order sent; unlike
     * a {@link #write}, a loop of reads (the input view's {@code readNBytes}) is not made whole, another
     * coroutine's read taking the bytes that come between two of its reads. A read that finds its bytes come
     * already does not park, and is no scheduling point (docs/TIME.md), as a write the send buffer takes at once,
     * but the connection has a turn: of its reads and writes that complete at once, 64 in a row with no scheduling
     * point of the thread between them, the next waits for the socket's readiness first, so that a loop of reads of
     * a peer that sends faster than it reads lets the thread's other coroutines and connections run; a read that
     * finds too few bytes to fill its buffer makes the next one wait for readiness first as well.
     *
     * @param dst the buffer to fill from its position
     * @return how many bytes were read, 0 only if {@code dst} has no room (without waiting; a closed
     *         connection still throws), -1 at the end of the stream
     * @throws IOException           if the connection fails (a reset peer: a {@link java.net.SocketException},
     *                               the JDK's class), is closed, or is closed while
     *                               the caller waits, or the thread's selector fails while it waits (its
     *                               exception the cause); the message names the caller and the connection;
     *                               also at the end of the stream once a call has failed (the kernel
     *                               tells only the first call of a reset), naming that failure, of its class
     *                               (its cause), unless a read returned -1 before that failure (the peer's
     *                               orderly end, read again); of the JDK's exception's class when that is one
     *                               of {@code java.net}'s, a {@link SocketException} too when the JDK's is a plain
     *                               {@code IOException} (an error of the kernel, as {@code java.net.Socket} makes it),
     *                               else (closed) a plain {@code IOException}
     * @throws IllegalStateException if called from a thread other than the connection's; or, no byte having
     *                               arrived, if the JDK cannot suspend the caller to wait (on the continuation
     *                               engine, a coroutine inside an FFM upcall or a class initializer:
     *                               docs/PINNING.md), naming the caller and the wait; nothing was read; or if the
     *                               channel {@link #adopt} was given was put in blocking mode behind the
     *                               connection's back, naming the caller and the call; nothing was read
     * @throws IllegalArgumentException if {@code dst} is read-only, naming the caller, the connection
     *                                  and its state; nothing is read
     * @throws NullPointerException  if {@code dst} is null
     * @throws dev.coro.CoroutineExit if the caller is being closed, or a {@code withTimeout} of it expired; nothing
     *                               was read
     * @throws dev.coro.CoroutineException in main, if a coroutine it created failed while it waited; nothing was read
     */
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst, "dst");
        checkOpen("read from");
        if (adopted && channel.isBlocking()) {
            throw madeBlocking("read from");
        }
        if (dst.isReadOnly()) {
            throw readOnly();
        }
        if (!dst.hasRemaining()) {
            return readNothing(dst);
        }
        if (budget.spent(io, owner)) {
            drained = true; // its turn is spent: it waits for readiness first, as after a short read
        }
        IllegalStateException refused = null;
        if (drained) {
            drained = false;
            try {
                await(SelectionKey.OP_READ, reading);
            } catch (IllegalStateException e) {
                if (!io.refusedToSuspend(e)) {
                    throw e;
                }
                // the JDK cannot suspend the caller here (docs/PINNING.md); this wait is only a guess that nothing
                // came since the short read, so the socket is asked all the same: bytes that came are read, as by
                // any read that finds them, and only a read that finds none is refused
                refused = e;
            }
        }
        while (true) {
            int n;
            ByteBuffer part = window(dst);
            try {
                n = channel.read(part);
            } catch (IOException e) {
                throw failed("read from", e);
            }
            if (n > 0) {
                if (part != dst) {
                    dst.position(dst.position() + n);
                }
                drained = part.hasRemaining();
                return n;
            }
            if (n < 0) {
                return end();
            }
            if (refused != null) {
                throw refused; // nothing came: the refusal of the wait stands
            }
            await(SelectionKey.OP_READ, reading);
        }
    }

    /**
     * Writes all of {@code src}, parking while the socket's send buffer is full. Its bytes go out
     * whole: a write that finds another coroutine's write parked part way waits until that one has
     * ended (written all, failed, or been cut short), so the two never interleave on the wire. A write
     * the send buffer takes at once does not park, and is no scheduling point (docs/TIME.md), but the connection
     * has a turn (see {@link #read}): after 64 reads and writes in a row that completed at once, with no scheduling
     * point of the thread between them, the next write waits for the socket's readiness first (having written
     * nothing), so that a loop of writes to a peer that keeps up lets the thread's other coroutines run.
     *
     * @param src the bytes from its position to its limit; on return it has none remaining (none
     *            at all: nothing is written, but a closed connection or a shut output still throws)
     * @throws IOException           if the connection fails (a reset or closed peer), is closed, or is
     *                               closed while the caller waits, or the thread's selector fails while it
     *                               waits (its exception the cause); the message names the caller and the connection;
     *                               of the JDK's exception's class when that is one of {@code java.net}'s; a
     *                               {@link SocketException} when the JDK's is a plain {@code IOException} (its
     *                               {@code SocketChannel} fails a write to a reset peer with one, {@code Connection
     *                               reset by peer} or {@code Broken pipe}, which {@code java.net.Socket} makes a
     *                               {@code SocketException}: so does this); else (closed, output shut down) a plain
     *                               {@code IOException}
     * @throws IllegalStateException if called from a thread other than the connection's; or, the send buffer
     *                               being full or another coroutine's write being parked part way (whatever the
     *                               buffer holds then), if the JDK cannot suspend the caller to wait (on the
     *                               continuation engine, a coroutine inside an FFM upcall or a class initializer:
     *                               docs/PINNING.md), naming the caller and the wait: {@code src}'s position says
     *                               how much was written; or if the channel {@link #adopt} was given was put in
     *                               blocking mode behind the connection's back, naming the caller and the call;
     *                               nothing was written
     * @throws NullPointerException  if {@code src} is null
     * @throws dev.coro.CoroutineExit if the caller is being closed, or a {@code withTimeout} of it expired, while it
     *                               waited for room or for its turn: {@code src}'s position says how much was written
     * @throws dev.coro.CoroutineException in main, if a coroutine it created failed while it waited for room
     *                               ({@code src}'s position says how much was written)
     */
    public void write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src, "src");
        checkOpen("write to");
        if (adopted && channel.isBlocking()) {
            throw madeBlocking("write to");
        }
        if (!src.hasRemaining()) {
            writeNothing(src);
            return;
        }
        if (budget.spent(io, owner)) {
            awaitTurn();
        }
        if (writeUnderWay) {
            awaitOtherWrite();
        }
        if (outputShut) {
            throw outputShut();
        }
        int n;
        try {
            n = writeSome(src);
        } catch (IOException e) {
            throw failed("write to", e);
        }
        if (src.hasRemaining()) {
            writeRest(src, n);
        }
    }

    /**
     * The most bytes of a heap buffer handed to the socket in one call, as the JDK's own socket
     * streams hand it: the channel copies a heap buffer's bytes through a temporary native buffer as
     * large as what it is handed, and keeps that buffer for the thread's life, so a whole 100 MB
     * array would cost 100 MB of native memory on every thread that wrote or read it, and its copy
     * again at each partial write. A direct buffer is handed whole: nothing is copied.
     */
    static final int MOST_PER_CALL = 128 * 1024;

    /** {@code b} itself, or the first {@link #MOST_PER_CALL} bytes of its remaining ones if it is a heap buffer with more. */
    private static ByteBuffer window(ByteBuffer b) {
        return b.isDirect() || b.remaining() <= MOST_PER_CALL ? b : b.slice(b.position(), MOST_PER_CALL);
    }

    /** One write of the channel, of at most {@link #window} of {@code src}; {@code src}'s position moves past what went out. */
    private int writeSome(ByteBuffer src) throws IOException {
        ByteBuffer part = window(src);
        int n = channel.write(part);
        if (part != src && n > 0) {
            src.position(src.position() + n);
        }
        return n;
    }

    /** The rest of a write the socket did not take at once: parks until it has room, as often as it takes. */
    private void writeRest(ByteBuffer src, int n) throws IOException {
        writeUnderWay = true;
        try {
            do {
                if (n == 0) {
                    await(SelectionKey.OP_WRITE, writing);
                    if (outputShut) { // by another coroutine meanwhile
                        throw outputShut();
                    }
                }
                try {
                    n = writeSome(src);
                } catch (IOException e) {
                    throw failed("write to", e);
                }
            } while (src.hasRemaining());
        } finally {
            writeUnderWay = false;
        }
    }

    /** Why a wait on the connection fails when a close comes while it waits (see {@link #await}). */
    private static final String CLOSED_WHILE_WAITING = "the connection was closed while it waited";

    /**
     * Parks the caller until the socket is ready for {@code op}, {@code operation} naming the wait. A
     * close of the connection by another coroutine fails the wait alike whether it came before the
     * readiness or after it, before the caller ran again: the close fails the waits it finds queued
     * ({@link IoBridge#closing}), and a caller the readiness had woken fails here with the same message
     * (the channel's own refusal would name a {@code ClosedChannelException} instead, and the same
     * close would fail two waiters of the connection in two ways, as the kernel's timing had it).
     */
    private void await(int op, Operation operation) throws IOException {
        waiters++; // detach() is refused meanwhile
        try {
            io.await(channel, op, operation);
        } catch (IOException e) {
            if (closedBehind()) { // refused at once (a closed channel is never ready), or failed by the loop's scan
                throw closedBehind(operation.verb, e instanceof ClosedChannelException ? CLOSED_BEHIND : CLOSED_BEHIND_WHILE_WAITING, e);
            }
            throw e;
        } finally {
            waiters--;
        }
        Reference.reachabilityFence(this); // reachable up to here: no cleaning closes it under its caller
        if (closed) {
            throw new IOException(io.caller() + " cannot " + operation + " (closed): " + CLOSED_WHILE_WAITING);
        }
    }

    /**
     * The wait of a write whose connection has spent its turn ({@link TurnBudget}): for the socket's readiness to
     * write, which it has most likely, so that the thread's other contexts run first. Where the JDK cannot suspend
     * the caller (docs/PINNING.md) the write goes on without it: the wait is a courtesy, not a need.
     */
    private void awaitTurn() throws IOException {
        try {
            await(SelectionKey.OP_WRITE, writing);
        } catch (IllegalStateException e) {
            if (!io.refusedToSuspend(e)) {
                throw e;
            }
        }
    }

    /**
     * Waits until no write of another coroutine is under way: it is parked part way (or woken and not
     * run yet), so the socket's room goes to it first; this one waits for room as well and looks again.
     * A connection closed meanwhile fails the wait ({@link #await}), naming the writer and the state
     * {@code closed}, as it fails the other waits on it.
     */
    private void awaitOtherWrite() throws IOException {
        while (writeUnderWay && !closed) {
            await(SelectionKey.OP_WRITE, writing);
        }
    }

    /**
     * Whether no write is under way, for {@code write(int)} of the {@link #output()} view: only then
     * may it use the buffer it keeps, which a write parked part way may be using. Refused from another
     * thread as a write is, before the view touches its buffer; false on a {@link #detach() detached} connection,
     * whose write is refused before it reaches the channel, but which any thread may call: none takes the
     * kept buffer then.
     */
    boolean noWriteUnderWay() {
        check("write to");
        return !writeUnderWay && !detached;
    }

    /**
     * Refuses from another thread a call of a {@code java.io} view that does nothing on the connection
     * ({@code mark}): every call of the views but {@code close()} and the output's {@code flush()} is confined as
     * the connection's are (a detached connection's to no thread: see {@link #check}).
     */
    void checkView(String operation) {
        check(operation);
    }

    /**
     * Refuses, for a {@code java.io} view's {@code operation}, a null array (naming the parameter)
     * or a range of it that does not fit (naming the caller, the call, the connection, its state and
     * the range; the JDK's own check names none of them).
     */
    void checkArray(String operation, byte[] b, int off, int len) {
        Objects.requireNonNull(b, "b");
        if ((off | len) < 0 || len > b.length - off) {
            throw outOfBounds(operation, b.length, off, len);
        }
    }

    /** The refusal of a range that does not fit its array: from another thread, that thread's refusal. */
    private IndexOutOfBoundsException outOfBounds(String operation, int length, int off, int len) {
        check(operation);
        return new IndexOutOfBoundsException(io.caller() + " cannot " + operation + " " + name() + " (" + state()
                + "): offset " + off + " and length " + len + " do not fit an array of length " + length);
    }

    /** The refusal of a negative count of bytes to {@code operation}: from another thread, that thread's refusal. */
    IllegalArgumentException negativeLength(String operation, int len) {
        check(operation);
        return new IllegalArgumentException(io.caller() + " cannot " + operation + " " + name() + " (" + state()
                + "): a length of " + len + " bytes is negative");
    }

    /**
     * The failure of the {@link #input()} view's {@code readAllBytes} ({@code all}) or {@code readNBytes(len)} that
     * read more bytes than the largest array it can return holds, {@code most}: an {@link OutOfMemoryError}, as the
     * JDK's own loops throw, naming the caller, the call, the connection, its state and that size (the JDK's names
     * none of them).
     */
    OutOfMemoryError pastLargestArray(boolean all, int len, int most) {
        return new OutOfMemoryError(io.caller() + " cannot read " + (all ? "all bytes" : len + " bytes") + " from " + name()
                + " (" + state() + "): more bytes came than the " + most + " an array holds");
    }

    /**
     * What a {@code java.io} view's write, or its input's {@code readNBytes}, cut short by a signal (a
     * {@code withTimeout}, a close of the caller) after {@code done} of its {@code len} bytes went out
     * or were read into its array says of it: an exception, not thrown, added to the signal's
     * suppressed ones as a note ({@link #note}).
     */
    IOException interrupted(boolean write, int done, int len) {
        return interrupted(write ? "writing to" : "reading from", done(write, done, len), "");
    }

    /**
     * Adds {@code note}, made by {@link #interrupted}, to {@code unwinding}, what cut a view's call short:
     * a signal keeps it as a note, not a failure, so that a caller that ends by its own close's signal still
     * ends closed ({@link IoBridge#note}).
     */
    void note(Throwable unwinding, IOException note) {
        io.note(unwinding, note);
    }

    /**
     * What a {@code java.io} view's call cut short by a signal says of it, as {@link #interrupted(boolean, int, int)}:
     * {@code verb} the call ({@code reading from}, {@code skipping bytes of}), {@code done} how much of
     * it was done, {@code after} what follows from that (empty, or a clause from its {@code ;}).
     */
    IOException interrupted(String verb, String done, String after) {
        return new IOException(io.caller() + " was interrupted " + verb + " " + name()
                + " (" + state() + "): " + done + " before it" + after);
    }

    /** {@code e}, of a {@code java.io} view's call as {@link #interrupted(boolean, int, int)}, saying how much of it was done before it failed (see {@link #partly(IOException, String, String, String)}). */
    IOException partly(IOException e, boolean write, int done, int len) {
        return partly(e, write ? "writing to" : "reading from", done(write, done, len), "");
    }

    /**
     * {@code e}, the failure of a {@code java.io} view's call that had done part of its work, saying
     * how much ({@code verb}, {@code done} and {@code after} as {@link #interrupted(String, String, String)}'s).
     * A plain {@link IOException}, as the connection's own failures are when the JDK's exception is a
     * {@code java.nio.channels} one or there is none (a close while it waited: {@link #socketFailure}), is made again with the count
     * added to its message ({@code …; N of the M bytes of this read were read into the array before it
     * failed}), its cause, stack trace and suppressed exceptions the same. An exception of a subclass
     * ({@code SocketException}, the connection's own failures of a read or a write a reset fails included, {@code ClosedChannelException},
     * {@code EOFException} …) is returned itself, so that a {@code catch} of its class still matches it and its message and cause are
     * what its maker gave: the count goes in an {@link IOException} added to its suppressed
     * exceptions ({@code coroutine 'r' failed reading from connection A -> B (open): N of the M bytes
     * of this read were read into the array before it}), as a call cut short adds it to its signal's.
     */
    IOException partly(IOException e, String verb, String done, String after) {
        if (e.getClass() != IOException.class) {
            e.addSuppressed(new IOException(io.caller() + " failed " + verb + " " + name() + " (" + state() + "): "
                    + done + " before it" + after));
            return e;
        }
        IOException f = new IOException(e.getMessage() + "; " + done + " before it failed" + after, e.getCause());
        f.setStackTrace(e.getStackTrace());
        for (Throwable t : e.getSuppressed()) {
            f.addSuppressed(t);
        }
        return f;
    }

    private static String done(boolean write, int done, int len) {
        return done + " of the " + len + " bytes of this " + (write ? "write were written" : "read were read into the array");
    }

    /**
     * The failure of {@code skipNBytes} of the {@link #input()} view that found the end of the stream
     * after {@code done} of its {@code len} bytes, naming the caller, the connection and its state
     * (the JDK's {@code EOFException} names nothing).
     */
    EOFException endedSkipping(long done, long len) {
        return new EOFException(io.caller() + " cannot skip bytes of " + name() + " (" + state()
                + "): the stream ended after " + done + " of the " + len + " bytes of this skip");
    }

    /**
     * The failure of {@code reset()} of the {@link #input()} view, which keeps no mark, naming the
     * caller, the connection and its state, and what to do; from another thread, that thread's refusal.
     */
    IOException noMark() {
        check("reset the input of");
        return new IOException(io.caller() + " cannot reset the input of " + name() + " (" + state()
                + "): it keeps no mark (markSupported() is false); read through a BufferedInputStream to mark and reset");
    }

    /**
     * {@code available()} of the {@link #input()} view: how many bytes have arrived in the socket's
     * receive buffer and not been read, which a read takes without waiting (the kernel's count,
     * asked without reading or waiting; the view buffers nothing); a call on the connection like a
     * read: refused from another thread, and failing once it is closed, as {@code InputStream} says
     * for a closed stream.
     */
    int available() throws IOException {
        checkOpen("count the bytes available on");
        if (closed) {
            throw notCounted(new ClosedChannelException());
        }
        try {
            InputStream in = socketInput;
            if (in == null) {
                if (channel.socket().isInputShutdown()) {
                    // shut through the channel adopt was given: the end of the stream, which the JDK's count gives
                    // as 0, where the socket adaptor refuses its stream (SocketException: Socket input is shutdown)
                    return 0;
                }
                in = socketInput = channel.socket().getInputStream();
            }
            int n = in.available(); // the kernel's count (FIONREAD): never blocks, whatever the channel's mode
            if (n > 0) {
                drained = false; // bytes have come since a short read: the next read takes them without waiting for readiness
            }
            return n;
        } catch (IOException e) {
            throw notCounted(e);
        }
    }

    /** The failure of {@link #available()}, naming the caller, the connection, its state and {@code e}, its cause (of its class, or a SocketException: {@link #socketFailure}). */
    private IOException notCounted(IOException e) {
        if (closedBehind()) {
            return closedBehind("count the bytes available on", CLOSED_BEHIND, e);
        }
        return socketFailure(io.caller() + " cannot count the bytes available on " + name() + " (" + state()
                + "): " + io.text(e), e);
    }

    /** The refusal of a read into a read-only buffer, which the channel refuses naming nothing. */
    private IllegalArgumentException readOnly() {
        return new IllegalArgumentException(io.caller() + " cannot read from " + name() + " (" + state()
                + ") into a read-only buffer: the bytes read must be written into it");
    }

    /**
     * A read found the end of the stream: -1, unless a call failed before (the kernel tells of a
     * reset once, and reads the end of the stream after it), which this read reports instead, of that
     * failure's class if it is one of {@code java.net}'s ({@link #socketFailure}: a plain one gives a {@code SocketException}); once
     * a read has returned -1, the peer's orderly end was read, and later reads return -1 again.
     */
    private int end() throws IOException {
        drained = false;
        if (failure != null && !ended) {
            throw socketFailure(io.caller() + " cannot read from " + name() + " (" + state() + "): " + failure
                    + ", reported to an earlier call; the end of the stream that follows it is not the peer's", failure);
        }
        ended = true;
        return -1;
    }

    /**
     * A read with no room in {@code dst}: returns 0 without waiting (a wait would never end), but
     * only on an open connection; the channel's own check fails it on a closed one, as it fails a
     * read with room.
     */
    private int readNothing(ByteBuffer dst) throws IOException {
        try {
            return channel.read(dst);
        } catch (IOException e) {
            throw failed("read from", e);
        }
    }

    /**
     * The refusal of a write after {@link #shutdownOutput()}, made without calling the channel, whose
     * cause is the {@link AsynchronousCloseException} the channel would throw ({@link ClosedChannelException}
     * once closed). A non-blocking channel's write would reach the kernel, which reports a peer's reset
     * to one call only, and the JDK would throw its {@code AsynchronousCloseException} instead of that
     * report: the reset lost, a later read would find the end of the stream and take it for the peer's
     * orderly end (see {@link #failure}).
     */
    private IOException outputShut() {
        return failed("write to", closed ? new ClosedChannelException() : new AsynchronousCloseException());
    }

    /** A write of no bytes: does nothing, but fails on a closed connection or a shut output, as a write of bytes does. */
    private void writeNothing(ByteBuffer src) throws IOException {
        try {
            channel.write(src);
        } catch (IOException e) {
            throw failed("write to", e);
        }
    }

    /**
     * A {@code java.io} view that reads by {@link #read(ByteBuffer)}: it parks the coroutine, so a
     * {@code BufferedReader} or {@code DataInputStream} on it works unchanged. Closing it closes the
     * connection. The same view every time. Its {@code available()} counts the bytes that have
     * arrived and not been read (a read takes them without waiting; 0 once none are left, also at
     * the end of the stream), a call on the connection like a read: refused from another thread, an
     * {@link IOException} once the connection is closed. Every call of it but {@code markSupported()}
     * is a call on the connection, refused from another thread as a read is, even one that does
     * nothing ({@code skip(0)}, {@code skipNBytes(0)}, {@code readNBytes} of no bytes, {@code mark});
     * those of no bytes also fail on a closed connection, as a read would. Its calls that loop over reads
     * ({@code readNBytes}, {@code readAllBytes}, {@code skip}, {@code skipNBytes}, {@code transferTo})
     * say how much they had done when they do not return: a failure part way in its message (one of a
     * subclass of {@code IOException} is thrown unchanged, its class kept, the count in an
     * {@code IOException} added to its suppressed exceptions; see docs/NET.md), a call
     * cut short part way (a {@code withTimeout}, a close of the caller) in an {@link IOException} added
     * to the suppressed exceptions of the signal that unwinds it, as a write of {@link #output()} does.
     * A wrapper's own loops and buffers cannot say so: a {@code DataInputStream.readFully} or a
     * {@code BufferedReader} cut short part way drops what it had taken from the view with no count,
     * so after such a cut or failure close the connection rather than read on through the wrapper.
     *
     * @return the input stream
     */
    public InputStream input() {
        return input;
    }

    /**
     * A {@code java.io} view that writes by {@link #write(ByteBuffer)}: nothing is buffered, so
     * {@code flush()} has nothing to do; wrap it in a {@code BufferedOutputStream} or a
     * {@code PrintWriter} to batch small writes ({@code write(int)} allocates nothing, but each call is
     * a system call). Closing it closes the connection. The same view every time. Every call of it but
     * {@code close()} and {@code flush()} is a call on the connection, refused from another thread as a write is,
     * even one that does nothing (a write of no bytes); {@code flush()} does nothing, from any thread, open or
     * closed, as {@code close()} answers any thread: a buffering wrapper's {@code close()} flushes (its buffer
     * empty) before it closes the connection, and a wrapper that holds bytes still has its write refused.
     * A write that fails after some of its bytes went out says how many in its exception's message (one
     * of a subclass of {@code IOException} is thrown unchanged, its class kept, the count in an
     * {@code IOException} added to its suppressed exceptions);
     * one cut short part way by a {@code withTimeout} (or a close of the caller) says so in an
     * {@link IOException} added to the suppressed exceptions of the signal that unwinds it, the
     * {@code CoroutineTimeoutException}'s cause. A buffering wrapper keeps its whole buffer when the
     * write that flushes it throws so, and its next {@code flush()} (or its {@code close()}, which
     * flushes) sends again the bytes that went out: after a write or flush through a wrapper is cut
     * short or fails, close the connection itself, not the wrapper, or write the rest from the count
     * on to this view yourself.
     *
     * @return the output stream
     */
    public OutputStream output() {
        return output;
    }

    /**
     * Half-closes the connection: no more writes; the peer reads the end of the stream and may still
     * write to this side. A later write, or one parked in this connection when it is called, fails
     * with an {@link IOException} whose message gives the state {@code open, output shut down} (its
     * cause an {@code AsynchronousCloseException}, as the channel's own refusal), without reaching the
     * socket: a peer that resets the connection afterwards still fails the next read, which does not
     * return -1 as at an orderly end.
     *
     * @throws IOException           if the connection is closed or fails, naming the caller, the connection and
     *                               its state, of the JDK's exception's class when that is one of
     *                               {@code java.net}'s (its cause), a {@code SocketException} when the JDK's is a
     *                               plain {@code IOException} (an error of the kernel), else (closed) a plain one
     * @throws IllegalStateException if called from a thread other than the connection's
     */
    public void shutdownOutput() throws IOException {
        checkOpen("shut down the output of");
        try {
            channel.shutdownOutput();
            outputShut = true;
        } catch (IOException e) {
            throw failed("shut down the output of", e);
        }
    }

    /**
     * Sets a socket option of the connection, as {@link SocketChannel#setOption} does: for example
     * {@link StandardSocketOptions#SO_KEEPALIVE}, {@link StandardSocketOptions#SO_SNDBUF} and
     * {@link StandardSocketOptions#SO_RCVBUF}, {@link StandardSocketOptions#SO_LINGER} (0: a close
     * resets the connection at once, discarding what is not sent yet, instead of sending the end of
     * the stream after it; a positive interval does not make {@link #close()} wait for the bytes not
     * sent yet, which would hold the thread and every coroutine of it: the connection keeps it, and
     * {@link #getOption} gives it back, but the socket's linger stays off, so those bytes go out after
     * the close, the end of the stream after them),
     * {@link StandardSocketOptions#TCP_NODELAY} (on from the start), and any other the JDK supports for
     * a TCP socket.
     *
     * @param option the option
     * @param value  its value
     * @param <T>    the type of its value
     * @return this connection
     * @throws IOException                   if the connection is closed, or the JDK fails to set it; the
     *                                       message names the caller, the option, the connection and its state;
     *                                       of the JDK's exception's class when that is one of {@code java.net}'s
     *                                       (a {@code SocketException}, also when the JDK's is a plain
     *                                       {@code IOException}), its cause, else (closed) a plain one
     * @throws UnsupportedOperationException if a TCP socket has no such option, naming the caller, the option,
     *                                       the connection and its state (the JDK's refusal, its cause, names the option only)
     * @throws IllegalArgumentException      if {@code value} is not valid for the option, naming the caller, the
     *                                       option, the value, the connection and its state (the JDK's refusal its cause)
     * @throws IllegalStateException         if called from a thread other than the connection's
     * @throws NullPointerException          if {@code option} is null
     */
    public <T> TcpConnection setOption(SocketOption<T> option, T value) throws IOException {
        Objects.requireNonNull(option, "option");
        String operation = "set " + option.name() + " of";
        checkOpen(operation);
        try {
            if (option == StandardSocketOptions.SO_LINGER && value instanceof Integer seconds) {
                setLinger(seconds); // any other value (null, or of another type through an unchecked call) the JDK refuses
            } else {
                channel.setOption(option, value);
            }
        } catch (IOException e) {
            throw closedBehind() ? closedBehind(operation, CLOSED_BEHIND, e) : SocketOptions.failed(io, operation, name(), state(), e);
        } catch (UnsupportedOperationException e) {
            throw SocketOptions.unsupported(io, operation, name(), state(), SOCKET, e);
        } catch (IllegalArgumentException e) {
            throw SocketOptions.invalid(io, operation, name(), state(), value, e);
        }
        return this;
    }

    /**
     * The value of a socket option of the connection, as {@link SocketChannel#getOption} gives it; a
     * positive {@code SO_LINGER} as {@link #setOption} was given it (the socket's own stays off).
     *
     * @param option the option
     * @param <T>    the type of its value
     * @return its value
     * @throws IOException                   if the connection is closed, or the JDK fails to read it; the
     *                                       message names the caller, the option, the connection and its state;
     *                                       of the JDK's exception's class when that is one of {@code java.net}'s
     *                                       (a {@code SocketException}, also when the JDK's is a plain
     *                                       {@code IOException}), its cause, else (closed) a plain one
     * @throws UnsupportedOperationException if a TCP socket has no such option, naming the caller, the option,
     *                                       the connection and its state (the JDK's refusal, its cause, names the option only)
     * @throws IllegalStateException         if called from a thread other than the connection's
     * @throws NullPointerException          if {@code option} is null
     */
    public <T> T getOption(SocketOption<T> option) throws IOException {
        Objects.requireNonNull(option, "option");
        String operation = "get " + option.name() + " of";
        checkOpen(operation);
        try {
            T value = channel.getOption(option);
            if (option == StandardSocketOptions.SO_LINGER && linger > 0) {
                @SuppressWarnings("unchecked") // the option's type is Integer
                T kept = (T) Integer.valueOf(linger);
                return kept;
            }
            return value;
        } catch (IOException e) {
            throw closedBehind() ? closedBehind(operation, CLOSED_BEHIND, e) : SocketOptions.failed(io, operation, name(), state(), e);
        } catch (UnsupportedOperationException e) {
            throw SocketOptions.unsupported(io, operation, name(), state(), SOCKET, e);
        }
    }

    /**
     * Ends this connection's hold of its socket and hands the open channel back, nothing of it lost, to be
     * {@link #adopt adopted} by another thread: one thread accepting, the threads of a {@code CoroutinePool} serving
     * (the portable pattern; {@code SO_REUSEPORT}, {@code TcpListener.bind(address, true)}, balances only on Linux):
     *
     * <pre>{@code
     * while (true) {
     *     SocketChannel accepted = listener.accept().detach();      // this thread lets go of it
     *     pool.execute(() -> {
     *         try (TcpConnection c = TcpConnection.adopt(accepted)) { // the pool thread's from here on
     *             echo(c);
     *         } catch (IOException e) {
     *             throw new UncheckedIOException(e);
     *         }
     *     });
     * }
     * }</pre>
     *
     * <p>The channel comes back unregistered: its registration with this thread's event loop ends at once (its key
     * cancelled and dropped from the selector), so it may be registered with another selector or put in blocking
     * mode again. The bytes the peer sent and nobody read stay in the kernel, for the next owner to read; the
     * {@link #input()} and {@link #output()} views buffer nothing, so nothing is left behind in them (a wrapper of
     * them, a {@code BufferedOutputStream}, keeps what it buffers: flush it first). A positive {@code SO_LINGER} the
     * connection was given, which it kept without giving it to the socket, is set on the socket handed back (a
     * {@code close()} of the channel then lingers, as its user asked), and the connection that adopts it takes it over
     * again. Nothing of this library closes the channel any more: not the end of this thread, not the collection of this object. This object is done:
     * {@link #isOpen()} is false, {@link #toString()} says {@code detached}, {@link #close()} does nothing to the
     * channel (from any thread; a close another thread posts that this thread runs after the detach does nothing
     * either), and every call that acts on the connection fails with an {@link IOException} as on a closed one,
     * saying it was detached ({@code main context 'main' cannot read from connection A -> B (detached): its channel
     * was handed on by detach(); use the connection adopt(channel) made of it}).
     *
     * @return the open channel, non-blocking, registered with no selector; the caller's to adopt or close
     * @throws IllegalStateException if called from a thread other than the connection's (as {@link #read}); or, naming
     *                               the caller, the connection, its state and why: while a context of this thread waits
     *                               on it (in a read or a write, parked or woken and not run yet; or on its channel, in
     *                               an {@code Io.await} of the channel {@link #adopt} was given), on a closed
     *                               connection (its {@code SocketChannel} closed behind its back too: a closed channel
     *                               is nothing to hand on), one a call failed on ({@code open, failed}: a reset peer, say), one
     *                               detached already, and once another thread has asked for its close (posted to this
     *                               thread and not run yet, perhaps: the close came first, and runs)
     * @throws RuntimeException     if the thread's selector fails unchecked (an {@code Error} too) as it drops the
     *                               channel's registration: the connection stays this thread's, and open
     * @throws IOException           if the JDK fails to set on the socket the positive {@code SO_LINGER} the
     *                               connection kept ({@link #setOption}), naming the caller, the connection and its
     *                               state, the JDK's exception its cause (of its class when that is one of
     *                               {@code java.net}'s): the connection stays this thread's
     */
    public SocketChannel detach() throws IOException {
        if (!detached) {
            check("detach");
        }
        String why = detached ? "it was detached already"
                : closed ? "it is closed"
                : !channel.isOpen() ? CLOSED_BEHIND // handing it on would hand on a closed channel
                : failure != null ? "a call on it failed (" + io.text(failure) + "); close it"
                : waiters > 0 ? waiters + (waiters == 1 ? " context waits" : " contexts wait") + " on it in a read or a write;"
                        + " detach it once none does"
                : closeAsked ? "another thread has asked for its close, which comes first"
                : othersWaiting();
        if (why != null) {
            throw new IllegalStateException(io.caller() + " cannot detach " + name() + " (" + state() + "): " + why);
        }
        if (linger > 0) { // the socket it hands back lingers as its user set it; the next adopt takes it over again
            try {
                channel.setOption(StandardSocketOptions.SO_LINGER, linger);
            } catch (IOException e) {
                throw failed("detach", e);
            }
        }
        try {
            io.handOff(owner, entry, channel);
        } catch (RuntimeException | Error e) {
            if (linger > 0) { // this thread's still: its close must not linger
                try {
                    channel.setOption(StandardSocketOptions.SO_LINGER, -1);
                } catch (IOException f) {
                    e.addSuppressed(f);
                }
            }
            throw e;
        }
        detached = true;
        closed = true; // after detached: a thread that reads closed true sees it
        drained = false;
        Reference.reachabilityFence(this); // not collected, its entry not cleaned, before the hand-off is done
        return channel;
    }

    /**
     * Why {@link #detach()} is refused while contexts of this thread wait on the channel outside the connection (an
     * {@code Io.await} of the channel {@link #adopt} was given, which its caller kept): the channel would be handed on
     * still registered with this thread's selector, which would go on reporting its readiness here; null if none does.
     * The connection's own waits are counted apart ({@link #waiters}), none of them queued by now.
     */
    private String othersWaiting() {
        int n = io.waitsOn(channel);
        return n == 0 ? null : n + (n == 1 ? " context waits" : " contexts wait") + " on its channel in Io.await; detach it once none does";
    }

    /**
     * Closes the connection. A coroutine waiting on it (in {@code read} or {@code write}) is woken
     * with an {@link IOException}. Closing twice is fine. On its own thread it never waits: the bytes written and not sent
     * yet (a peer that reads slowly) go out after it, the end of the stream after them, also with a
     * positive {@code SO_LINGER}, which the kernel's close would otherwise block the thread for.
     *
     * <p>From another thread while the connection's thread runs (a broadcaster dropping a client of another
     * pool thread, say) the close is posted to that thread and run there, as a {@code Channel}'s first close
     * from another thread is (docs/THREADS.md), and the caller waits until it is done: a coroutine parked
     * there in a read or a write fails as for a close on its own thread (an {@code IOException} naming the
     * call and the state {@code closed}). A close of one closed already returns at once; that thread blocked
     * outside the library (a {@code Thread.sleep}, a lock) delays the close until it runs again; a caller
     * closed, or whose {@code withTimeout} expires, while it waits throws that signal, the close still done on
     * that thread at its next scheduling point.
     *
     * <p>Once the connection's thread has ended, any thread may close it (the only call that acts on
     * it then; those that describe it answer any thread): its descriptor is released at once, and so
     * is the ended thread's selector. A {@code CoroutinePool} thread that ends closes the connections it left open itself.
     *
     * <p>A connection dropped without a close is closed once the garbage collector finds it
     * unreachable: the peer reads the end of the stream then, and the descriptor goes by its thread's
     * next scheduling point (at once if that thread has ended). That is a safety net, at a time the
     * collector chooses; a connection a coroutine is parked on is reachable, and never closed so.
     *
     * <p>A {@link #detach() detached} connection's close does nothing, from any thread: its channel is another's now.
     *
     * @throws IOException           if the JDK fails to close the socket (on the connection's thread, for a close from another
     *                               thread while it runs: the very exception, thrown to the caller that waited for it)
     * @throws RuntimeException     if the thread's selector fails unchecked (an {@code Error} too) as it
     *                               drops the socket's registration: the socket is closed all the same (an
     *                               {@code IOException} of the selector is not thrown here: it fails the
     *                               thread's I/O waits, each naming its waiter, and the selector is closed)
     * @throws dev.coro.CoroutineExit if called from another thread while the connection's runs, and the caller is
     *                               closed, or a {@code withTimeout} of it expires, while it waits for that thread
     *                               to close it: it is closed there all the same
     * @throws dev.coro.CoroutineException so posted, in main, if a coroutine it created failed while it waited for the
     *                               answer: it is closed there all the same
     */
    @Override
    public void close() throws IOException {
        if (!io.isOwner(owner)) {
            if (closed && detached) {
                return; // its channel was handed on: another's now
            }
            closeAsked = true; // a detach() of its thread is refused from now on: this close came first
            boolean abandoned;
            try {
                abandoned = io.closeAbandoned(owner, entry);
                if (!abandoned && !closed && !io.closeFromAfar(owner, entry, name())) {
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
        drained = false; // a later read must reach the channel, whose failure names the caller and the state
        io.closeOwned(owner, entry, channel, CLOSED_WHILE_WAITING);
    }

    /**
     * Whether the connection is open: true until it is closed, or {@link #detach() detached}, or (one that
     * {@link #adopt} made) its {@code SocketChannel} is closed behind its back, by a {@code close()} of that channel
     * itself, which it tells at once, from the channel's own {@code isOpen()}. A peer that closed its end does not
     * close this one (a read returns -1). Unlike the calls that act on the connection, it may be asked
     * from any thread, as may the others that only describe it.
     *
     * @return false once it is closed or detached, or its channel is closed
     */
    public boolean isOpen() {
        return !closed && channel.isOpen();
    }

    /**
     * The local address. Like {@link #isOpen()}, it may be asked from any thread.
     *
     * @return the address of this end
     */
    public SocketAddress localAddress() {
        return local;
    }

    /**
     * The peer's address. Like {@link #isOpen()}, it may be asked from any thread.
     *
     * @return the address of the other end
     */
    public SocketAddress remoteAddress() {
        return remote;
    }

    /**
     * The two addresses and the state ({@code open}, {@code open, output shut down}, {@code closed} or
     * {@code detached} (see {@link #detach()});
     * {@code , failed} added to an open one once a call has failed),
     * e.g. {@code TcpConnection[/127.0.0.1:40000 -> /127.0.0.1:8080, open]}. Like {@link #isOpen()},
     * it may be asked from any thread.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "TcpConnection[" + local + " -> " + remote + ", " + state() + "]";
    }

    // ---- machinery ------------------------------------------------------------------------

    /**
     * {@code SO_LINGER} of {@code seconds}: 0 (a close resets) and a negative one (off) are the socket's;
     * a positive one is kept in {@link #linger}, for {@link #getOption} to give back, and the socket's
     * linger set off instead. A socket that lingers blocks the thread that closes it until its bytes not
     * sent yet are acknowledged or the interval has passed, non-blocking or not: a connection's close
     * ends the socket's registration with the thread's selector first, so the JDK closes it at once, and
     * the thread, every coroutine of it, would wait for as long as a peer that does not read keeps them
     * unsent (so would a thread that closes it once its own has ended, or the cleaning thread, and every
     * socket it has to close). With the linger off those bytes still go out after the close, the end
     * of the stream after them, as the JDK does itself when it closes a non-blocking socket that is
     * still registered with a selector.
     */
    private void setLinger(int seconds) throws IOException {
        channel.setOption(StandardSocketOptions.SO_LINGER, seconds > 0 ? -1 : seconds);
        linger = seconds > 0 ? Math.min(seconds, 65535) : 0;
    }

    /**
     * The positive {@code SO_LINGER} of the socket {@link #adopt} is given (its maker's, or one {@link #detach()} set
     * on it), which the connection then keeps as {@link #setLinger} does, the socket's own set off: a close of a
     * lingering socket would hold the thread; 0 if it has none.
     */
    private static int takeLinger(SocketChannel channel) throws IOException {
        int seconds = channel.getOption(StandardSocketOptions.SO_LINGER);
        if (seconds <= 0) {
            return 0;
        }
        channel.setOption(StandardSocketOptions.SO_LINGER, -1);
        return Math.min(seconds, 65535);
    }

    /**
     * Refuses a call from a thread other than the connection's, naming both; a {@link #detach() detached} connection is
     * no thread's, so on one this passes from any thread, as {@link #checkOpen} does: its callers (the views' calls that
     * touch no channel, or refuse their arguments first) then do on it what they do on its own thread.
     */
    private void check(String operation) {
        if (!io.isOwner(owner) && !(closed && detached)) { // closed read first: set after detached
            io.checkOwner(owner, operation, name(), state());
        }
    }

    /**
     * {@link #check} of a call that acts on the channel: on a detached connection, from any thread, it fails as on a
     * closed one, with an {@link IOException} naming the caller, the call, the connection and the state
     * {@code detached}, before it reaches the channel, which is another's now.
     */
    private void checkOpen(String operation) throws IOException {
        if (detached || !io.isOwner(owner)) {
            if (detached) {
                throw new IOException(io.caller() + " cannot " + operation + " " + name() + " (detached): " + DETACHED);
            }
            io.checkOwner(owner, operation, name(), state());
        }
    }

    /**
     * The refusal of a read or a write ({@code operation}) on an adopted connection whose {@code SocketChannel} its
     * user put in blocking mode behind its back ({@code configureBlocking(true)}, allowed while the channel is
     * registered with no selector: before the connection's first wait): the call would block the thread, and every
     * coroutine of it, where it must park the caller. It names the caller, the call, the connection and its state.
     */
    private IllegalStateException madeBlocking(String operation) {
        return new IllegalStateException(io.caller() + " cannot " + operation + " " + name() + " (" + state() + "): "
                + MADE_BLOCKING);
    }

    /** What a read or a write on a connection whose channel was made blocking behind its back is told. */
    private static final String MADE_BLOCKING = "its SocketChannel was put in blocking mode behind the connection's back"
            + " (configureBlocking(true)), where a read or a write would block the thread and every coroutine of it;"
            + " put it back with configureBlocking(false)";

    /** What a call on a detached connection is told. */
    private static final String DETACHED = "its channel was handed on by detach(); use the connection adopt(channel) made of it";

    /**
     * Whether its channel was closed behind its back, not by {@link #close()}: the user of the {@code SocketChannel}
     * {@link #adopt} was given closed it. Asked on the way to a refusal only, never on a call's fast path: the call
     * reaches the channel, which refuses it, and its failure is then told so ({@link #failed}).
     */
    private boolean closedBehind() {
        return !closed && !channel.isOpen();
    }

    /**
     * The refusal of {@code operation} on a connection whose channel was {@link #closedBehind() closed behind its back},
     * naming the caller, the call, the connection, the state {@code closed} and {@code why}, the JDK's refusal
     * {@code cause}: a plain {@link IOException}, as on a connection {@link #close()} closed.
     */
    private IOException closedBehind(String operation, String why, IOException cause) {
        return new IOException(io.caller() + " cannot " + operation + " " + name() + " (closed): " + why, cause);
    }

    /** What a call on a connection whose channel was closed behind its back is told. */
    private static final String CLOSED_BEHIND = "its SocketChannel was closed behind the connection's back, not by its close()";

    /** What a wait on a connection whose channel was closed behind its back while it waited is told. */
    private static final String CLOSED_BEHIND_WHILE_WAITING = "its SocketChannel was closed behind the connection's back while it waited";

    /** For messages, e.g. {@code connection /127.0.0.1:40000 -> /127.0.0.1:8080}: made when needed, not kept. */
    private String name() {
        return "connection " + local + " -> " + remote;
    }

    /** What the refusal of an option the JDK does not have for a connection says has no such option ({@link SocketOptions#unsupported}). */
    private static final String SOCKET = "a TCP socket";

    /**
     * For messages: {@code open}, {@code open, output shut down}, {@code closed} or {@code detached}; {@code , failed}
     * added once a call failed.
     */
    private String state() {
        if (closed) {
            return detached ? "detached" : "closed"; // closed read first: set after detached
        }
        if (!channel.isOpen()) {
            return "closed"; // behind its back: see closedBehind()
        }
        // shut by shutdownOutput(), or behind its back through the channel adopt was given
        String s = outputShut || adopted && channel.socket().isOutputShutdown() ? "open, output shut down" : "open";
        return failure == null ? s : s + ", failed";
    }

    /**
     * The failure of a call on the channel, naming the caller, the call and the connection, of {@code e}'s
     * class if it is one of {@code java.net}'s, a {@code SocketException} if it is a plain {@code IOException} ({@link #socketFailure}); {@code e} remembered (see {@link #failure}).
     */
    private IOException failed(String operation, IOException e) {
        if (closedBehind()) {
            return closedBehind(operation, CLOSED_BEHIND, e); // the JDK's ClosedChannelException says nothing of it
        }
        if (adopted && e instanceof ClosedChannelException && !outputShut && channel.socket().isOutputShutdown()) {
            outputShut = true; // shut behind its back, through the channel adopt was given: later writes refused here
        }
        IOException f = socketFailure(io.caller() + " cannot " + operation + " " + name() + " (" + state()
                + "): " + io.text(e), e);
        if (failure == null && !(e instanceof ClosedChannelException)) {
            failure = e; // a closed connection or a shut output is no failure of the connection
        }
        return f;
    }

    /**
     * The failure of a call on an open connection ({@code read}, {@code write}, {@code shutdownOutput},
     * {@code available}, {@code setOption}, {@code getOption}), or of a listener's option
     * ({@link SocketOptions#failed}), whose channel threw {@code jdk}: as
     * {@link IoBridge#failure}, except that the JDK's plain {@link IOException} itself (not a subclass) gives a
     * {@link SocketException}, {@code jdk} its cause. The JDK's {@code SocketChannel} reports an error of the
     * kernel on a connected socket's read or write so ({@code Connection reset by peer}, {@code Broken pipe},
     * {@code Connection timed out}: whatever the system says, told by the class alone, never by the text), where
     * {@code java.net.Socket}'s streams ({@code sun.nio.ch.NioSocketImpl}) make every such failure a
     * {@code SocketException}, its message kept. A subclass ({@code ClosedChannelException},
     * {@code AsynchronousCloseException}: the connection's own state, not the kernel's) keeps the rule of
     * {@link IoBridge#failure}, a plain {@code IOException}.
     */
    static IOException socketFailure(String message, IOException jdk) {
        if (jdk.getClass() != IOException.class) {
            return IoBridge.failure(message, jdk);
        }
        SocketException f = new SocketException(message);
        f.initCause(jdk);
        return f;
    }

    /**
     * What a context parked on this connection does, for dumps, e.g. {@code read from connection ...},
     * with the connection's state for the message of a wait that cannot start. An inner object on purpose: the wait holds it, so the connection stays reachable while a context
     * is parked on it, and is never closed as unreachable under its waiter.
     */
    private final class Operation implements IoBridge.Operation {
        private final String verb;

        Operation(String verb) {
            this.verb = verb;
        }

        @Override
        public String state() {
            return TcpConnection.this.state();
        }

        @Override
        public String toString() {
            return verb + " " + name();
        }
    }
}
