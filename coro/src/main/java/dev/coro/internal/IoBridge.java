package dev.coro.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.SelectableChannel;
import java.util.concurrent.CompletableFuture;

/**
 * The door between the network package and the scheduler: what {@code dev.coro.net} asks of the
 * calling thread's event loop. This package is not exported; its one implementation lives in
 * {@code dev.coro} and installs itself when first asked for.
 */
public abstract class IoBridge {

    private static volatile IoBridge instance;

    /** For the one implementation only. */
    protected IoBridge() {
    }

    /**
     * The implementation, loading it on first use.
     *
     * @return the bridge
     */
    public static IoBridge get() {
        IoBridge b = instance;
        if (b == null) {
            Bridges.load("dev.coro.IoSupport");
            b = instance;
        }
        return b;
    }

    /**
     * Installs the implementation; once only.
     *
     * @param bridge the implementation
     */
    public static synchronized void install(IoBridge bridge) {
        Bridges.checkNotInstalled(instance, "I/O");
        instance = bridge;
    }

    /**
     * What a context waiting on a channel does, as the network package describes it: its
     * {@code toString()} names the call and what it is made on (e.g. {@code read from connection
     * /127.0.0.1:40000 -> /127.0.0.1:8080}), for dumps and messages; {@link #state()} the state of
     * what it is made on, which a wait that cannot start names as every refusal does.
     */
    public interface Operation {
        /**
         * The state of what the wait is made on, e.g. {@code open} or {@code open, output shut down}.
         *
         * @return the state, as the refusals of a call on it give it
         */
        String state();
    }

    /**
     * The library's failure of a call whose JDK exception is {@code jdk}: {@code message} (the library's,
     * naming the caller, the call, what it was made on and its state), {@code jdk} its cause, and of
     * {@code jdk}'s own class when that is one of {@code java.net}'s public subclasses of
     * {@link IOException} with a message constructor, {@link ConnectException}, {@link BindException},
     * {@link NoRouteToHostException}, {@link PortUnreachableException}, {@link SocketException},
     * {@link SocketTimeoutException}, {@link UnknownHostException} or {@link ProtocolException}, so that a
     * {@code catch (ConnectException e)} written for {@code java.net.Socket} matches it. Of any other class
     * (a plain {@code IOException}, a {@code java.nio.channels} exception such as
     * {@code ClosedChannelException}, which takes no message, a subclass of one of those, the JDK's or a
     * user's, whose constructors this cannot know) it is a plain {@link IOException}. The one place every
     * failure of the network package that wraps a JDK exception is made.
     *
     * @param message the library's message
     * @param jdk     the JDK's exception, the cause
     * @return the failure to throw, of {@code jdk}'s class or a plain {@code IOException}
     */
    public static IOException failure(String message, IOException jdk) {
        Class<?> c = jdk.getClass();
        IOException f;
        if (c == SocketException.class) {
            f = new SocketException(message);
        } else if (c == ConnectException.class) {
            f = new ConnectException(message);
        } else if (c == BindException.class) {
            f = new BindException(message);
        } else if (c == NoRouteToHostException.class) {
            f = new NoRouteToHostException(message);
        } else if (c == PortUnreachableException.class) {
            f = new PortUnreachableException(message);
        } else if (c == SocketTimeoutException.class) {
            f = new SocketTimeoutException(message);
        } else if (c == UnknownHostException.class) {
            f = new UnknownHostException(message);
        } else if (c == ProtocolException.class) {
            f = new ProtocolException(message);
        } else {
            return new IOException(message, jdk);
        }
        f.initCause(jdk);
        return f;
    }

    /**
     * Parks the calling context until {@code channel} is ready for {@code ops}.
     *
     * @param channel   a non-blocking channel
     * @param ops       the operations, {@code SelectionKey.OP_READ} ...
     * @param operation what the caller does, for dumps and messages (its {@code toString()}); an
     *                  {@link Operation} also gives the state of what it waits on
     * @throws IOException if the channel is closed, or is closed by its owner while the caller waits
     */
    public abstract void await(SelectableChannel channel, int ops, Object operation) throws IOException;

    /**
     * {@link #await(SelectableChannel, int, Object)}, the wait queued ahead of the others on
     * {@code channel} if {@code first}: a context woken in its turn that found nothing to do keeps its
     * place in line.
     *
     * @param channel   a non-blocking channel
     * @param ops       the operations, {@code SelectionKey.OP_READ} ...
     * @param operation what the caller does, for dumps and messages
     * @param first     whether the wait goes ahead of those queued, rather than after them
     * @throws IOException if the channel is closed, or is closed by its owner while the caller waits
     */
    public abstract void await(SelectableChannel channel, int ops, Object operation, boolean first) throws IOException;

    /**
     * Parks the calling context until {@code f}, which a thread of the library's own completes (a
     * connect's name look-up), is complete, as {@code Coroutine.await} does (the thread's other
     * contexts run meanwhile; a {@code withTimeout} or a close of the caller ends the wait, {@code f}
     * left as it is), but named {@code operation} whole in dumps and signals, e.g. {@code connect to
     * db.internal/<unresolved>:5432 (looking up its host)}, and no exchange with another thread: that
     * thread reaches nothing of the caller's, so the caller's thread still reports its deadlocks.
     *
     * @param f         what to wait for
     * @param operation what the caller does, for dumps and signals
     * @param <T>       the type of its value
     * @return its value
     * @throws java.util.concurrent.CompletionException if it completed exceptionally (the cause is the failure)
     */
    public abstract <T> T awaitHelper(CompletableFuture<T> f, String operation);

    /**
     * The caller, an acceptor of the listening {@code channel} woken in its turn, took a connection,
     * and there may be more: wakes the first context waiting on {@code channel} for
     * {@code OP_ACCEPT} alone, if any, to take the next. The selector reports a listener ready to one
     * acceptor at a time; this drains a burst of connections in one round, a chain of wakes that
     * the first acceptor to find the backlog empty ends.
     *
     * @param channel the listening channel, registered with the calling thread's loop
     */
    public abstract void passAccept(SelectableChannel channel);

    /**
     * How many contexts of the calling thread are queued on {@code channel} for its readiness, in any wait on it
     * ({@code Io.await} included); 0 if it is not registered with the thread's loop.
     *
     * @param channel a channel
     * @return the count of waits on it
     */
    public abstract int waitsOn(SelectableChannel channel);

    /**
     * The caller is done waiting on {@code channel}, which it does not own through this library (an
     * {@code Io.await} ended, a connect failed): its registration with the calling thread's loop ends unless another
     * context still waits on it.
     *
     * @param channel the channel
     */
    public abstract void release(SelectableChannel channel);

    /**
     * The connect of {@code channel} is over (established) and the channel becomes a connection of the
     * calling thread: its registration with the thread's loop, if it has one, is kept for the
     * connection's reads and writes, and only stops watching {@code OP_CONNECT}. The connection's close
     * ends it.
     *
     * @param channel the connected channel
     */
    public abstract void connected(SelectableChannel channel);

    /**
     * {@code channel}, registered on {@code owner}'s loop, is about to be closed: every wait on it fails.
     *
     * @param owner   the scheduler the channel belongs to
     * @param channel the channel
     * @param why     why the waits fail, e.g. {@code the connection was closed while it waited}
     */
    public abstract void closing(Object owner, SelectableChannel channel, String why);

    /**
     * {@code resource} (a listener or a connection) now belongs to {@code owner}'s thread: if that
     * thread's event loop ends for good (a pool thread leaving its loop) while it is still open, the
     * loop closes it. The loop holds it weakly: if it becomes unreachable unclosed, {@code channel} is
     * closed. So the resource must keep itself reachable throughout its calls, the operation it gives
     * {@link #await} must refer to it (a context parked on it then keeps it reachable), and
     * {@code channel} must not refer to it. Owner thread only.
     *
     * @param owner    the scheduler it belongs to, from {@link #owner()}
     * @param resource what to close then
     * @param channel  its socket
     * @return the loop's entry for it, to {@link #disown}, {@link #handOff} or {@link #closeAbandoned} it by
     */
    public abstract Object adopt(Object owner, Closeable resource, SelectableChannel channel);

    /**
     * Another resource takes over the channel of {@code entry}'s, which was dropped unclosed (it is unreachable; its
     * cleaning may not have run yet): that cleaning, and the end of the thread it belonged to, leave the channel open
     * from now on, only forgetting the entry. From any thread; the channel must not be registered with that thread's
     * selector.
     *
     * @param entry what {@link #adopt} returned for the resource dropped unclosed
     * @return false if its cleaning has closed the channel already (it is closed now), leaving the channel as it was
     */
    public abstract boolean takeOver(Object entry);

    /**
     * The resource of {@code entry} was closed by its owner: the loop forgets it. Owner thread only.
     *
     * @param owner the scheduler it belongs to
     * @param entry what {@link #adopt} returned
     */
    public abstract void disown(Object owner, Object entry);

    /**
     * The owner closes the resource of {@code entry} and its {@code channel}: every wait on the channel
     * fails ({@link #closing}, {@code why}), the channel is closed and the loop forgets the resource
     * ({@link #disown}). If the thread's selector fails in the first step, the channel is closed and
     * forgotten all the same (its own failure to close suppressed in the selector's), and the
     * selector's failure is thrown: the socket is never left open behind it. Owner thread only.
     *
     * @param owner   the scheduler it belongs to
     * @param entry   what {@link #adopt} returned
     * @param channel its socket
     * @param why     why the waits fail, e.g. {@code the connection was closed while it waited}
     * @throws IOException if the JDK fails to close the channel
     */
    public final void closeOwned(Object owner, Object entry, SelectableChannel channel, String why) throws IOException {
        try {
            closing(owner, channel, why);
        } catch (RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException | RuntimeException f) {
                e.addSuppressed(f);
            }
            disown(owner, entry);
            throw e;
        }
        try {
            channel.close();
        } finally {
            disown(owner, entry);
        }
    }

    /**
     * The owner hands the channel of {@code entry}'s resource on (a connection's {@code detach()}): its
     * registration with the owner's loop ends now, its key cancelled and dropped from the selector at once by a
     * {@code selectNow} whose readiness reports are served as any select's are (no other channel's readiness is
     * lost), so that the channel may be registered with another thread's selector or put in blocking mode again;
     * and the loop and the garbage collector forget the resource: neither the end of the owner's thread nor the
     * collection of the resource closes the channel any more, nor does a close of it from another thread that
     * finds that thread ended ({@link #closeAbandoned}). No context may be waiting on the channel. Owner thread only.
     *
     * @param owner   the scheduler it belongs to
     * @param entry   what {@link #adopt} returned
     * @param channel its socket, left open
     */
    public abstract void handOff(Object owner, Object entry, SelectableChannel channel);

    /**
     * A thread other than the owner's closes the resource of {@code entry}, which belongs to
     * {@code owner}: allowed only once the owner's thread (or its event loop) has ended, since nobody
     * else can close it then. It closes the resource's channel, and the ended loop's selector, whose
     * registration would otherwise keep the channel's descriptor open for good.
     *
     * @param owner the scheduler it belongs to
     * @param entry what {@link #adopt} returned
     * @return false, having done nothing, if the owner's thread still runs its loop
     * @throws IOException if the JDK fails to close the channel
     */
    public abstract boolean closeAbandoned(Object owner, Object entry) throws IOException;

    /**
     * A thread other than the owner's closes the resource of {@code entry}, which belongs to {@code owner},
     * while the owner's thread runs: the close is posted to that thread, which runs the resource's own
     * {@code close()} there, and the caller waits until it is done, as for a channel's first close from
     * another thread (docs/THREADS.md): a second one returns at once, and one whose caller is closed or
     * whose {@code withTimeout} expires while it waits throws that signal, the resource closed all the same.
     *
     * @param owner the scheduler it belongs to
     * @param entry what {@link #adopt} returned
     * @param name  the resource, for a dump of the waiting caller, e.g. {@code connection A -> B}
     * @return false, having done nothing, if the owner's thread ended before it could run the close: the
     *         caller closes it as {@link #closeAbandoned} does
     * @throws IOException if the resource's close on its thread threw it
     */
    public abstract boolean closeFromAfar(Object owner, Object entry, String name) throws IOException;

    /**
     * Whether {@code owner}'s thread (or its event loop) has ended for good: then a call from another
     * thread that has nothing to do (a view's {@code flush}, made by a wrapper's {@code close()}) is let
     * through, as {@link #closeAbandoned} lets the close through.
     *
     * @param owner a scheduler, from {@link #owner()}
     * @return true once nothing of that thread runs any more
     */
    public abstract boolean ownerEnded(Object owner);

    /**
     * The calling thread's scheduler, as an opaque owner token.
     *
     * @return the scheduler
     */
    public abstract Object owner();

    /**
     * Whether the caller runs as {@code owner}'s thread: the cheap test before {@link #checkOwner}, for
     * callers whose message is costly to build.
     *
     * @param owner a scheduler, from {@link #owner()}
     * @return true if {@link #checkOwner} would pass
     */
    public abstract boolean isOwner(Object owner);

    /**
     * The one thread-confinement check.
     *
     * @param owner     the scheduler the object belongs to
     * @param operation what was attempted, e.g. {@code read from}
     * @param target    what it was attempted on, e.g. {@code connection /127.0.0.1:40000}
     * @param state     its state, for the message
     * @throws IllegalStateException if the caller does not run as {@code owner}'s thread (saying so
     *                               if that thread has ended)
     */
    public abstract void checkOwner(Object owner, String operation, String target, Object state);

    /**
     * The thread {@code owner} belongs to, as messages name a thread.
     *
     * @param owner a scheduler, from {@link #owner()}
     * @return e.g. {@code 'coro-pool-1-0' (#31)}
     */
    public abstract String threadOf(Object owner);

    /**
     * The calling context, for messages; a thread that has no scheduler is named as a thread, none being
     * made for a message.
     *
     * @return e.g. {@code coroutine 'handler-3'}, {@code main context 'main'} or {@code thread 'main' (#1)}
     */
    public abstract String caller();

    /**
     * A user's object ({@code channel} of an {@code Io.await}, the address of a connect or a bind) as a
     * message names it: its {@code toString()} on one line, cut after 200 characters, or, if that throws,
     * its class and identity hash and what it threw, so that the refusal naming it is thrown as documented
     * and not that failure.
     *
     * @param o the object
     * @return its text, never throwing
     */
    public abstract String text(Object o);

    /**
     * A name of the user's that a message shows between quotes (the host of a look-up): as it is, unless it
     * holds a control character, a backslash or a quote, escaped as in a Java literal, or is longer than 200
     * characters, cut and counted, as the names of coroutines, channels and threads are shown, so that it
     * cannot split the message's line nor end its quotes.
     *
     * @param name the name
     * @return its text between the quotes, never throwing
     */
    public abstract String name(String name);

    /**
     * Tells {@code unwinding}, the exception that cut a call of a {@code java.io} view short (the signal of a
     * close or a timeout, or a failure thrown into the caller), how much of that call had been done:
     * {@code note} goes into its suppressed exceptions, and a signal keeps it as a note, not a failure, so
     * that a body that ends by its own close's signal still ends closed.
     *
     * @param unwinding what cut the call short, about to be thrown on
     * @param note what says how much of the call had been done
     */
    public abstract void note(Throwable unwinding, Throwable note);

    /**
     * Whether {@code t}, thrown by a park or a yield of the caller, is the refusal of that very transfer: the JDK
     * cannot suspend the caller where it stands (on the continuation engine, inside an FFM upcall or a class
     * initializer: docs/PINNING.md), or the park was refused whatever stopped it. Nothing moved and the caller runs
     * on: a call that only guessed it should wait, or that made a scheduling point as a courtesy, goes on without it.
     *
     * @param t what the park or the yield threw
     * @return true if it is such a refusal
     */
    public abstract boolean refusedToSuspend(Throwable t);

    /**
     * How many scheduling points the scheduler {@code owner} has passed ({@code yield}, {@code switchTo}, a park,
     * the end of a body): a count that has not moved between two calls of its thread says that no other context
     * of the thread has run between them.
     *
     * @param owner a scheduler, as {@link #owner()} gave it
     * @return the count
     */
    public abstract long schedulingPoints(Object owner);
}
