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
 * {@link #CLEANER cleaning thread} {@link #run() runs} this entry, which posts it to the loop and
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
     * its thread group): {@link SharedThreads}.
     */
    static final Cleaner CLEANER = Cleaner.create(r -> SharedThreads.unstarted("coro-socket-cleaner", r));

    /** The loop of the thread it belongs to, held weakly: see the class comment. */
    private final WeakReference<EventLoop> loop;
    /** That thread, to tell whether it has ended. */
    final Thread owner;
    /** Its channel, closed by the {@link #CLEANER} when the resource was dropped unclosed. */
    final SelectableChannel channel;
    private final Cleaner.Cleanable cleanable;
    /** Set (owner thread) once the resource is closed: the cleaning action then does nothing. */
    private boolean closed;
    /** The next post in the loop's inbox (see {@link Posted}). */
    private Posted next;

    /** Registers {@code resource}, whose socket is {@code channel}, with the cleaning thread. */
    OpenResource(Closeable resource, SelectableChannel channel, EventLoop loop, Thread owner) {
        super(resource);
        this.loop = loop.weakSelf;
        this.owner = owner;
        this.channel = channel;
        this.cleanable = CLEANER.register(resource, this);
    }

    /** The resource was closed: the cleaning thread forgets it, and this entry goes with it. */
    void closed() {
        closed = true;
        cleanable.clean(); // runs this entry, which finds it closed
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
            channel.close();
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
