package dev.coro;

import dev.coro.internal.SharedThreads;
import java.io.Closeable;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.nio.channels.SelectableChannel;

/**
 * A listener or connection of a thread not closed yet, as that thread's {@link EventLoop} keeps it:
 * weakly, with its channel, so that one its user dropped unclosed can be collected and its socket
 * closed, as {@code java.net.Socket}'s is.
 *
 * <p>The loop holds this entry, the entry holds the channel, and nothing here holds the resource
 * strongly (the channel does not refer back to it): once the resource is unreachable, the
 * {@link #cleaner cleaning thread} {@link #run() runs} this entry, which posts it to the loop and
 * closes the channel. A resource a context is parked on is reachable through that context's wait (its
 * operation names the resource), so it is never closed under a waiter; the resource keeps itself
 * reachable throughout its own calls ({@code Reference.reachabilityFence}).
 *
 * <p>The entry holds its loop weakly: the cleaning thread holds the entry, and a loop held by it would
 * keep alive every context of the thread (its waits and timers name them) and so what their frames
 * hold. A thread that ends with a context parked on the resource, or sleeping with it in a frame, then
 * leaves the resource, the loop and those contexts unreachable together, and the cleaning closes the
 * channel, as for a resource dropped while its thread lives; the loop's own cleaning closes its
 * selector ({@link EventLoop.SelectorBox}).
 */
final class OpenResource extends WeakReference<Closeable> implements Runnable, Posted {

    /**
     * The one thread that closes the resources of every thread that became unreachable unclosed, and
     * the selectors of loops gone with their threads ({@link EventLoop.SelectorBox}); it inherits
     * nothing of the thread that happened to open the first socket (a request's trace id, its priority,
     * its thread group): {@link SharedThreads}. Null until the first {@link #register} starts it.
     */
    private static volatile Cleaner cleaner;

    /**
     * Registers {@code action} to run on the cleaning thread once {@code o} is unreachable, starting
     * that thread first if it is not running yet. If the JVM cannot start it now (out of threads, or of
     * memory for their stacks), nothing is registered: {@code o} goes without the safety net, and the
     * next registration tries again. (Started by a static initializer, a thread that could not start
     * would fail the class for good: every socket of the JVM, and every I/O wait, refused from then on.)
     *
     * @return the registration, or null if the cleaning thread could not be started
     */
    static Cleaner.Cleanable register(Object o, Runnable action) {
        Cleaner c = cleaner;
        if (c == null) {
            c = start();
            if (c == null) {
                return null;
            }
        }
        return c.register(o, action);
    }

    /** Starts the cleaning thread, unless another caller did; null if the JVM cannot start it now. */
    private static synchronized Cleaner start() {
        if (cleaner == null) {
            try {
                cleaner = Cleaner.create(r -> SharedThreads.unstarted("coro-socket-cleaner", r));
            } catch (OutOfMemoryError e) {
                return null; // its thread could not be started: the cleaner is dropped, and made again next time
            }
        }
        return cleaner;
    }

    /** The loop of the thread it belongs to, held weakly: see the class comment. */
    private final WeakReference<EventLoop> loop;
    /** That thread, to tell whether it has ended. */
    final Thread owner;
    /** Its channel, closed by the {@link #cleaner} when the resource was dropped unclosed. */
    final SelectableChannel channel;
    /** Its registration with the cleaning thread; null if that thread could not be started ({@link #register}). */
    private final Cleaner.Cleanable cleanable;
    /** Set (owner thread) once the resource is closed: the cleaning action then does nothing. */
    private boolean closed;
    /**
     * Set (owner thread) once the resource has handed its channel on ({@link EventLoop#handOff}), before it is
     * {@link #closed()}: read by another thread's close once the owner's thread has ended (or its loop has), under the
     * loop's lock, which then leaves the channel open ({@link EventLoop#closeAbandoned}).
     */
    private boolean handedOff;
    /** The next post in the loop's inbox (see {@link Posted}). */
    private Posted next;
    /**
     * The close of another thread that came first, once one has ({@link RemoteClose}), held weakly: the cleaning
     * thread holds this entry, and the close's channel holds the owner's scheduler, which would keep every context
     * of a thread that ended without running the close (and a resource one of them is parked on) reachable for
     * good. A caller waiting for it, or its post queued on the owner's thread, holds it meanwhile.
     */
    private WeakReference<RemoteClose> remoteClose;
    /**
     * Set under this entry's lock once another resource took the channel over ({@link #takeOver()}): the resource
     * was dropped unclosed, and its cleaning, whenever it runs, closes nothing and ends no registration of the channel.
     */
    private boolean takenOver;
    /** Set under this entry's lock once the cleaning closes the channel ({@link #closeChannel()}): it cannot be taken over. */
    private boolean closing;

    /** Registers {@code resource}, whose socket is {@code channel}, with the cleaning thread. */
    OpenResource(Closeable resource, SelectableChannel channel, EventLoop loop, Thread owner) {
        super(resource);
        this.loop = loop.weakSelf;
        this.owner = owner;
        this.channel = channel;
        this.cleanable = register(resource, this);
    }

    /**
     * The close another thread posts to the owner's, made by the first one asked for (named {@code name}, the
     * resource's own), so that every close of other threads meets one channel, whose first close alone runs
     * (while one of them may still wait for it or run it: see {@link #remoteClose}).
     */
    synchronized RemoteClose remoteClose(Scheduler owner, String name) {
        RemoteClose c = remoteClose == null ? null : remoteClose.get();
        if (c == null) { // none yet, or nobody waits for it nor can run it any more: a new one closes alike
            c = new RemoteClose(owner, this, name);
            remoteClose = new WeakReference<>(c);
        }
        return c;
    }

    /** The resource hands its channel on: {@link #closed()} follows, and nothing of this library closes the channel for it. */
    void handedOff() {
        handedOff = true;
    }

    /** Whether the resource handed its channel on ({@link #handedOff()}). */
    boolean isHandedOff() {
        return handedOff;
    }

    /**
     * Another resource takes the channel over (a connection {@code adopt} made of the channel of one dropped unclosed,
     * its cleaning perhaps not run yet): the cleaning of this one's leaves the channel open from now on. From any thread.
     *
     * @return false if the cleaning has closed the channel already: it is closed, and stays this entry's
     */
    synchronized boolean takeOver() {
        if (closing) {
            return false;
        }
        takenOver = true;
        return true;
    }

    /** Whether another resource took the channel over ({@link #takeOver()}): its cleaning leaves it alone. */
    synchronized boolean isTakenOver() {
        return takenOver;
    }

    /**
     * The cleaning's close of the channel, unless another resource took it over: under the lock {@link #takeOver()}
     * takes, so that one that comes after it finds the channel closed.
     */
    synchronized void closeChannel() throws IOException {
        if (!takenOver) {
            closing = true;
            channel.close();
        }
    }

    /** The resource was closed: the cleaning thread forgets it, and this entry goes with it. */
    void closed() {
        closed = true;
        if (cleanable != null) {
            cleanable.clean(); // runs this entry, which finds it closed
        }
    }

    /** The cleaning action: the resource became unreachable unclosed (or {@link #closed()} cleans up). */
    @Override
    public void run() {
        if (!closed) {
            EventLoop l = loop.get();
            if (l != null) {
                l.collected(this);
            } else {
                closeWithLoopGone();
            }
        }
    }

    /**
     * The cleaning action once the loop is unreachable too: its thread has ended, and nothing else can
     * use the resource. Closes the channel; the loop's own cleaning closes its selector, whose
     * registration of the channel holds its descriptor (a listener's port) until then.
     */
    private void closeWithLoopGone() {
        try {
            closeChannel();
        } catch (IOException e) {
            // nobody holds the resource any more to be told
        }
    }

    @Override
    public Posted nextPosted() {
        return next;
    }

    @Override
    public void nextPosted(Posted next) {
        this.next = next;
    }

    /** On the owner thread, at a scheduling point: the loop forgets the channel and closes it. */
    @Override
    public void runPosted() {
        loop.get().closeCollected(this); // run by the loop itself, which is reachable then
    }
}
