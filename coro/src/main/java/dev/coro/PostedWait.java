package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A wait that another thread completes and then delivers to its context's thread: posted to that
 * thread's {@link Inbox} as its own node, or, if that thread is spinning on this very wait at that
 * moment, handed over to it with one compare-and-set on the wait itself, touching no line of the
 * inbox.
 *
 * <p>The hand-over is a small protocol on one field, {@link #delivery}. The waiter's thread marks the
 * wait {@code WATCHING} only for the time of its idle spin ({@link #watch()} .. {@link #unwatch()}),
 * never while it blocks. The completer, having written the outcome, turns {@code WATCHING} into
 * {@code HANDED} and is done; finding anything else, it marks the wait {@code POSTED} and posts it.
 * Whichever of the spin's end and the completer's compare-and-set comes first decides: a spin that
 * ends with the wait still {@code WATCHING} leaves it {@code IDLE} (the completer then posts), and a
 * spin that finds it {@code HANDED} runs it at once, as if the post had arrived, before anything else
 * on its thread could look at the wait. So exactly one delivery reaches the context, and never none.
 *
 * @param <N> the type of the waits that share its queues
 */
abstract class PostedWait<N extends WaitQueue.Node<N>> extends WaitQueue.Node<N> implements Wait, Posted {

    /** Not delivered, and no spin watches it. */
    private static final int IDLE = 0;
    /** Its thread spins watching it: a completer hands it over instead of posting it. */
    private static final int WATCHING = 1;
    /** A completer handed it to the spin watching it; no post comes. */
    private static final int HANDED = 2;
    /** A completer posted it to its thread's inbox, where it has not run yet. */
    private static final int POSTED = 3;

    private static final VarHandle DELIVERY;

    static {
        try {
            DELIVERY = MethodHandles.lookup().findVarHandle(PostedWait.class, "delivery", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** How its completion reaches its thread: {@link #IDLE}, {@link #WATCHING}, {@link #HANDED} or {@link #POSTED}. */
    @SuppressWarnings("unused") // through DELIVERY
    private volatile int delivery;
    /** Its link in its thread's inbox, once posted there. */
    private Posted nextPosted;

    /**
     * From the thread that completed it, after writing the outcome: hands it to its thread's spin if
     * one watches it now, else posts it to {@code inbox}.
     *
     * @return false if the inbox refused the post (its scheduler has ended: nothing is left to wake)
     */
    final boolean deliver(Inbox inbox) {
        int d = delivery;
        while (true) {
            if (d == WATCHING) {
                if (DELIVERY.compareAndSet(this, WATCHING, HANDED)) {
                    return true;
                }
            } else if (DELIVERY.compareAndSet(this, d, POSTED)) {
                return inbox.postAsNode(this);
            }
            d = delivery; // the spin began or ended meanwhile
        }
    }

    /**
     * From its own thread, as its idle spin begins: a completion from now on is handed over, unless it
     * was posted already.
     */
    final void watch() {
        DELIVERY.compareAndSet(this, IDLE, WATCHING);
    }

    /**
     * From its own thread, as its idle spin ends (however it ends): if a completer handed it over, runs
     * it now, as the post would have.
     *
     * @return whether it was handed over (and has run)
     */
    final boolean unwatch() {
        if (DELIVERY.compareAndSet(this, WATCHING, IDLE) || delivery != HANDED) {
            return false; // not watching (it was posted, or never watched), or a later completion posts it
        }
        runPosted();
        return true;
    }

    /**
     * Whether a completer has delivered it (handed over, or posted and not run yet): the idle spin's
     * sign that its completion is in. A wait still in an inbox is not used again meanwhile.
     */
    @Override
    public boolean completedAfar() {
        return delivery >= HANDED;
    }

    @Override
    public final Posted nextPosted() {
        return nextPosted;
    }

    @Override
    public final void nextPosted(Posted next) {
        nextPosted = next;
    }

    /** On its thread, its delivery arrived (posted, or handed over): clears the mark, then {@link #delivered()}. */
    @Override
    public final void runPosted() {
        DELIVERY.setRelease(this, IDLE);
        delivered();
    }

    /** On its thread, once its completion is delivered: wakes its context if it still waits here. */
    abstract void delivered();
}
