package dev.coro;

import java.util.WeakHashMap;
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
 * <p>Futures are held weakly: a future nobody else holds any more goes, with its queue, even if it
 * never completes. Owner thread only.
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
    /** The queue of waits of each future with a callback; a future's entry goes when it completes (or is collected). */
    private final WeakHashMap<CompletableFuture<?>, WaitQueue<Waiter>> watched = new WeakHashMap<>();

    /**
     * The future this thread waits on for each stage that is not its own future (a minimal stage, a
     * stage of another library): {@code toCompletableFuture()} of such a stage makes a new future
     * relayed from it, or refuses and a callback completes one, at each call, and neither can be taken
     * back; asked once per stage, the stage holds one. Weak keys: the entry goes with the stage (the
     * future does not refer to it).
     */
    private final WeakHashMap<CompletionStage<?>, CompletableFuture<?>> futuresOfStages = new WeakHashMap<>();

    FutureWaits(EventLoop loop) {
        this.loop = loop;
    }

    /** {@code stage} as a future to wait on, the same one each time this thread asks for the same stage. */
    @SuppressWarnings("unchecked")
    <T> CompletableFuture<T> futureOf(CompletionStage<T> stage) {
        CompletableFuture<T> f = (CompletableFuture<T>) futuresOfStages.get(stage);
        if (f == null) {
            f = Coroutine.newFutureOf(stage);
            if (f != stage) { // a future that is its own (a subclass) needs no entry
                futuresOfStages.put(stage, f);
            }
        }
        return f;
    }

    /**
     * Queues {@code w} under {@code f}; the first waiter of a future registers the thread's one
     * callback on it (which, for a future completed meanwhile, posts the completion at once).
     */
    void add(CompletableFuture<?> f, Waiter w) {
        WaitQueue<Waiter> q = watched.get(f);
        boolean first = q == null;
        if (first) {
            q = new WaitQueue<>();
            watched.put(f, q);
        }
        q.add(w);
        w.queue = q;
        if (first) {
            f.whenComplete(new Completion(this, f, q));
        }
    }

    /** Takes {@code w} out of its queue, if it is still there; O(1). Its future keeps the callback for the next wait. */
    void remove(Waiter w) {
        if (w.queued) {
            w.queue.remove(w);
        }
        w.queue = null;
    }

    /** Whether a wait is queued under {@code f} now. */
    boolean hasWaits(CompletableFuture<?> f) {
        WaitQueue<Waiter> q = watched.get(f);
        return q != null && !q.isEmpty();
    }

    /** How many futures this thread has a callback on (a future that never completes counts until it is collected). */
    int watchedCount() {
        return watched.size();
    }

    /**
     * Whether {@code action} is a thread's callback for its waits on a future (a future that counts
     * its readers does not count it: a wait reads the outcome only if it ends by it).
     */
    static boolean isWatch(Object action) {
        return action instanceof Completion;
    }

    /** The callback on one future: posted to the owner thread, which wakes the waits queued under it. */
    private static final class Completion implements BiConsumer<Object, Throwable>, Runnable {
        private final FutureWaits waits;
        private final CompletableFuture<?> future;
        private final WaitQueue<Waiter> queue;

        Completion(FutureWaits waits, CompletableFuture<?> future, WaitQueue<Waiter> queue) {
            this.waits = waits;
            this.future = future;
            this.queue = queue;
        }

        /** On the completing thread: tells the owner thread. */
        @Override
        public void accept(Object value, Throwable failure) {
            waits.loop.post(this);
        }

        /** On the owner thread: every wait queued now is completed; the next wait on the (complete) future needs none. */
        @Override
        public void run() {
            waits.watched.remove(future, queue);
            for (Waiter w; (w = queue.poll()) != null; ) {
                w.queue = null;
                w.completed();
            }
        }
    }
}
