package dev.coro;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;

/**
 * The futures that one thread's contexts wait for ({@link Coroutine#await}, {@link Select#onComplete}):
 * one completion callback per future and thread, however often it is waited for, with the waits of
 * the moment queued under it.
 *
 * <p>A {@code CompletableFuture} cannot take a callback back, so a callback per wait would stay on a
 * future that never completes for every wait interrupted by a timeout or a close, and for every
 * losing {@code onComplete} clause: a loop selecting over a shutdown future would grow without
 * bound. Here a wait that ends otherwise leaves the queue in O(1), and the next wait on the same
 * future joins the callback already there. The callback posts the completion to this thread, which
 * wakes the waits queued at that moment: a completion and an interruption both happen on the owner
 * thread, so exactly one of them wins without a compare-and-set.
 *
 * <p>Futures are held weakly and told apart by identity (a future or stage whose class calls others
 * equal is still itself): a future nobody else holds any more goes, with its queue, even if it
 * never completes. The one future with waits queued that a thread most often has (a context awaiting
 * a reply) sits in a slot of its own instead of the weak map, held strongly only while a wait is
 * queued under it (whose context holds it anyway); when its last wait leaves otherwise, it moves to
 * the weak map with its callback. Owner thread only.
 */
final class FutureWaits {

    /** A wait for a future's completion, queued under its future while its context waits. */
    abstract static class Waiter extends WaitQueue.Node<Waiter> {
        /** The queue it is in while {@link WaitQueue.Node#queued}. */
        private WaitQueue<Waiter> queue;

        /** On the owner thread: the future completed; the waiter has left its queue. */
        abstract void completed();
    }

    private final EventLoop loop;
    /** This, held weakly: what every callback of this thread holds (see {@link Completion}). */
    private final WeakReference<FutureWaits> weakly = new WeakReference<>(this);
    /** The queue of waits of each future with a callback; a future's entry goes when it completes (or is collected). */
    private final WeakIdentityMap<CompletableFuture<?>, WaitQueue<Waiter>> watched = new WeakIdentityMap<>();
    /** A future with a callback and waits queued, kept out of {@link #watched}; null if none. */
    private CompletableFuture<?> soleFuture;
    /** The queue of {@link #soleFuture}: never empty while it is set. */
    private WaitQueue<Waiter> soleQueue;

    /**
     * The future this thread waits on for each stage that is not its own future (a minimal stage, a
     * stage of another library): {@code toCompletableFuture()} of such a stage makes a new future
     * relayed from it, or refuses and a callback completes one, at each call, and neither can be taken
     * back; asked once per stage, the stage holds one. Both held weakly: the entry goes with the stage,
     * also when its future refers back to it (a future whose {@code cancel} cancels the stage it was
     * made for), which a strong hold on the future would keep for as long as the thread lives; and the
     * future lives as long as the stage's callback that completes it (or a wait on it) holds it, which
     * is as long as a new one would leave a callback on the stage.
     */
    private final WeakIdentityMap<CompletionStage<?>, WeakReference<CompletableFuture<?>>> futuresOfStages =
            new WeakIdentityMap<>();

    FutureWaits(EventLoop loop) {
        this.loop = loop;
    }

    /** {@code stage} as a future to wait on, the same one each time this thread asks for the same stage. */
    @SuppressWarnings("unchecked")
    <T> CompletableFuture<T> futureOf(CompletionStage<T> stage) {
        WeakReference<CompletableFuture<?>> held = futuresOfStages.get(stage);
        CompletableFuture<T> f = held == null ? null : (CompletableFuture<T>) held.get();
        if (f == null) {
            f = Coroutine.newFutureOf(stage);
            if (f != stage) { // a future that is its own (a subclass) needs no entry
                futuresOfStages.put(stage, new WeakReference<>(f));
            }
        }
        return f;
    }

    /**
     * Queues {@code w} under {@code f}; the first waiter of a future registers the thread's one
     * callback on it (which, for a future completed meanwhile, posts the completion at once).
     */
    void add(CompletableFuture<?> f, Waiter w) {
        WaitQueue<Waiter> q = f == soleFuture ? soleQueue : watched.isEmpty() ? null : watched.get(f);
        if (q == null) {
            // the callback first, then the queue, then the waiter, the last a call with none inside: a
            // stack overflow at any call leaves a callback with no queue (its post finds none), or an
            // empty queue with its callback, never a queue whose future has no callback
            if (f.getClass() == CompletableFuture.class) {
                f.whenComplete(new Completion(this, f));
            } else {
                whenCompleteOfItsOwn(f);
            }
            q = new WaitQueue<>();
            if (soleFuture == null) {
                soleFuture = f;
                soleQueue = q;
            } else {
                watched.put(f, q);
            }
        }
        q.add(w);
        w.queue = q;
    }

    /**
     * Registers the thread's callback on {@code f}, a future of a class of its own, whose {@code whenComplete}
     * may be the user's code: the wait that calls it is half made meanwhile (its queue not there yet, for a
     * select its other clauses not queued yet), so the calling context is marked {@link Context#REGISTERING}
     * and the scheduler told {@link Scheduler#callbackOf}: a scheduling point or a close of another coroutine
     * made there is refused before it runs anything (a completion it took in would wake nothing, and the
     * wait would park for ever), as its clause or await then throws. What the context kept for its next
     * scheduling point is kept on.
     */
    private void whenCompleteOfItsOwn(CompletableFuture<?> f) {
        Scheduler s = Scheduler.current();
        Context self = s.currentContext();
        Throwable kept = self.pendingThrow;
        CompletableFuture<?> outer = s.callbackOf;
        self.pendingThrow = Context.REGISTERING;
        s.callbackOf = f;
        try {
            f.whenComplete(new Completion(this, f));
        } finally {
            s.callbackOf = outer;
            if (self.pendingThrow == Context.REGISTERING) {
                // what it kept, or the mark of a clean-up left unfinished (one a refused wait may have finished meanwhile)
                self.pendingThrow = kept != null && kept != Context.CLEANUP_LEFT ? kept
                        : self.unfinishedCleanup != null ? Context.CLEANUP_LEFT : null;
            }
        }
    }

    /**
     * Whether the thread, waiting in its event loop, may ask {@code f} whether it is complete: a plain
     * future, or one of the library's own ({@link CoroutinePool}'s), whose {@code isDone()} is the JDK's or
     * the library's. A future of a class of the user's may override it with code that uses coro, which
     * there, no context running, would move a parked context as if it ran: such a future is only ever
     * woken by its completion's post, which its callback sends as it completes.
     */
    static boolean watchable(CompletableFuture<?> f) {
        return f.getClass() == CompletableFuture.class || CoroutinePool.madeHere(f); // no reflection: asked in a spin
    }

    /** Takes {@code w} out of its queue, if it is still there; O(1). Its future keeps the callback for the next wait. */
    void remove(Waiter w) {
        WaitQueue<Waiter> q = w.queue;
        if (w.queued) {
            q.remove(w);
            if (q == soleQueue && q.isEmpty()) { // its callback stays: the next wait must find it, held weakly
                try {
                    watched.put(soleFuture, q);
                } catch (OutOfMemoryError e) {
                    // no memory for the weak table's entry: it stays the sole future, held until it completes, rather
                    // than fail the end of a wait already over (a select's clause that won, a send that woke it)
                    w.queue = null;
                    return;
                }
                soleFuture = null;
                soleQueue = null;
            }
        }
        w.queue = null;
    }

    /**
     * On the owner thread, {@code f} is complete: wakes every wait queued under it now, in their order,
     * and drops its queue (the callback's post, when it comes, finds its queue empty).
     */
    void completed(CompletableFuture<?> f) {
        WaitQueue<Waiter> q = f == soleFuture ? soleQueue : watched.get(f);
        if (q != null) {
            completed(f, q);
        }
    }

    /**
     * On the owner thread: wakes the waits queued under every future that is complete, as its
     * callback's post will when it comes (the completing thread may run slower callbacks of the future
     * first, and hold it back for long); each future's waits in the order they came. The post then
     * finds its queue empty.
     *
     * @return whether some future was complete with waits queued under it
     */
    boolean takeInCompleted() {
        boolean found = false;
        CompletableFuture<?> f = soleFuture;
        if (f != null && watchable(f) && f.isDone()) {
            completed(f);
            found = true;
        }
        if (!watched.isEmpty()) {
            ArrayList<CompletableFuture<?>> done = new ArrayList<>();
            watched.forEach((g, q) -> {
                if (!q.isEmpty() && watchable(g) && g.isDone()) {
                    done.add(g);
                }
            });
            done.forEach(this::completed);
            found |= !done.isEmpty();
        }
        return found;
    }

    /**
     * Every wait in {@code q}, the queue of the complete future {@code f}, is completed, in their order,
     * each leaving the queue as it is; then the queue leaves the thread's futures (if it is still
     * theirs). A wake-up that throws (an error of the thread: a stack overflow near its stack's end, no
     * memory left) leaves the waits after it queued under the future, for its post to wake (which sends
     * itself again if it is what threw), instead of in a queue nothing reaches any more.
     */
    private void completed(CompletableFuture<?> f, WaitQueue<Waiter> q) {
        for (Waiter w; (w = q.poll()) != null; ) {
            w.queue = null;
            w.completed();
        }
        if (q == soleQueue) {
            soleFuture = null;
            soleQueue = null;
        } else {
            watched.remove(f, q); // where a wake-up moved it, if one left it empty (see remove)
        }
    }

    /** Whether a wait is queued under {@code f} now. */
    boolean hasWaits(CompletableFuture<?> f) {
        WaitQueue<Waiter> q = f == soleFuture ? soleQueue : watched.get(f);
        return q != null && !q.isEmpty();
    }

    /** How many futures this thread has a callback on (a future that never completes counts until it is collected). */
    int watchedCount() {
        return watched.size() + (soleFuture != null ? 1 : 0);
    }

    /**
     * What it holds on to besides its entries, as {@code futures F, stages S}: the lengths of the
     * tables of its futures and of its stages' futures. Read by the tests of its memory: a crowd of
     * futures, once completed or collected, must not leave them large.
     */
    String footprint() {
        return "futures " + watched.tableLength() + ", stages " + futuresOfStages.tableLength();
    }

    /**
     * Whether {@code action} is a thread's callback for its waits on a future (a future that counts
     * its readers does not count it: a wait reads the outcome only if it ends by it).
     */
    static boolean isWatch(Object action) {
        return action instanceof Completion;
    }

    /**
     * The callback on one future: posted to the owner thread, which wakes the waits queued under it.
     * It holds the thread's futures weakly: a future outlives the threads that waited on it (a
     * shutdown future, awaited by threads that end), and cannot drop a callback, so a strong hold
     * would keep each ended thread's scheduler, its coroutines and their stacks for as long as the
     * future lives. While the thread lives its scheduler holds them; once it has ended, nothing is left to wake.
     */
    private static final class Completion extends Posted.Linked implements BiConsumer<Object, Throwable> {
        /** The thread's futures, held weakly: the same reference for all the thread's callbacks. */
        private final WeakReference<FutureWaits> waits;
        private final CompletableFuture<?> future;

        Completion(FutureWaits waits, CompletableFuture<?> future) {
            this.waits = waits.weakly;
            this.future = future;
        }

        /** On the completing thread: tells the owner thread, if it still has its futures. */
        @Override
        public void accept(Object value, Throwable failure) {
            FutureWaits w = waits.get();
            if (w != null) {
                w.loop.inbox.postAsNode(this); // refused: the thread has ended, nothing is left to wake
            }
        }

        /**
         * On the owner thread: every wait queued under the future now is completed (none if the idle
         * spin took the completion in first); the next wait on the (complete) future needs none.
         */
        @Override
        public void runPosted() {
            FutureWaits w = waits.get();
            if (w != null) {
                try {
                    w.completed(future);
                } catch (Throwable t) {
                    // a wake-up threw: the waits after it are still queued, and this post, run, is sent
                    // again so that the next scheduling point wakes them (refused only once the thread ended)
                    w.loop.inbox.postAsNode(this);
                    throw t;
                }
            }
        }
    }
}
