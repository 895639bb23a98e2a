package dev.coro;

import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;
import jdk.internal.vm.ScopedValueContainer;

/**
 * Keeps each context's {@link ScopedValue} bindings its own on the continuation engine, where every
 * context runs on the one owner thread and the JDK keeps a single set of bindings per thread.
 *
 * <p>The JDK offers no way to install bindings on a running thread, but it restores them itself:
 * leaving a {@code ScopedValue.where(..).run(..)} puts back the bindings that were current when it
 * was entered. So a context that has bindings suspends inside such a frame of its own (a fence on a
 * private key, {@link #fenced}); whenever control comes back to it, leaving the fence restores
 * exactly its bindings. A context without bindings (the common case) suspends without a fence
 * ({@link #bare()}), and on its return ({@link #back()}), if the thread then holds another context's
 * bindings, they are cleared by {@link #clear}: a small continuation armed once on a fresh thread, whose fence restores that
 * thread's empty bindings. A body starts the same way, with no bindings, as a virtual thread does.
 *
 * <p>Cost when no context uses scoped values: one read of the thread's bindings per switch, no
 * allocation. A context that has bindings pays one fence (a small allocation) per suspension.
 */
final class ScopedBindings {

    /** A key nobody reads: its {@code run} frames are the fences. */
    private static final ScopedValue<Object> FENCE_KEY = ScopedValue.newInstance();
    private static final ScopedValue.Carrier FENCE = ScopedValue.where(FENCE_KEY, null);
    /** The scope of {@link #clearer}, apart from the coroutines' and the generators'. */
    private static final ContinuationScope CLEARING = new ContinuationScope("dev.coro.bindings");
    /**
     * The bindings a thread has after a {@code run} ended on it with nothing bound before: "none".
     * Found on first use, not in this class's initializer: the fresh thread that finds it runs code of
     * this class, which would wait for the initializer that waits for it.
     */
    private static volatile Object empty;

    /**
     * How many contexts of this scheduler are suspended inside a fence now. Only they can leave their
     * bindings on the thread for another context to find, so while there are none, a context coming
     * back from a bare suspension, or a body starting, need not look.
     */
    private int fenced;
    /** Armed on a fresh thread: each run leaves the running thread with no bindings but the fence's. */
    private Continuation clearer;
    /** What the last {@link #clear} left on the thread: no bindings but the fence's. */
    private Object cleared;

    /** The calling thread's bindings, as an identity to compare. */
    private static Object bindings() {
        return ScopedValueContainer.captureBindings().scopedValueBindings();
    }

    /** Whether {@code b} binds nothing a user could read. */
    private boolean none(Object b) {
        return b == Thread.class || b == cleared || b == empty();
    }

    private static Object empty() {
        Object e = empty;
        if (e == null) {
            e = emptyBindings();
            empty = e;
        }
        return e;
    }

    /**
     * Before the calling context suspends: whether it has no bindings, the common case. If so it
     * suspends directly and calls {@link #back()} when it resumes; if not, it suspends through
     * {@link #fenced}. Split in two, rather than one call that is given the suspension, so that each
     * engine's switch inlines its own suspension and the fast path stays a few instructions.
     */
    boolean bare() {
        return none(bindings());
    }

    /**
     * After a suspension that {@link #bare()} allowed has returned: if another context left its
     * bindings on the thread, clears them.
     */
    void back() {
        if (fenced != 0) {
            clearIfBound();
        }
    }

    /** {@link #back()}'s and {@link #enter()}'s rare part: some context is fenced, so the thread may hold its bindings. */
    private void clearIfBound() {
        if (!none(bindings())) {
            clear();
        }
    }

    /**
     * Runs {@code switchOut}, which suspends the calling context (one with bindings) and returns when
     * it is resumed, inside a fence, whose exit restores the caller's bindings.
     */
    void fenced(Runnable switchOut) {
        fenced++;
        try {
            FENCE.run(switchOut);
        } finally {
            fenced--;
        }
    }

    /** At the start of a body: on return the thread has no bindings a user could read. */
    void enter() {
        if (fenced != 0) {
            clearIfBound();
        }
    }

    /** Leaves the calling thread with no bindings but the fence's. */
    private void clear() {
        if (clearer == null) {
            clearer = armed();
        }
        clearer.run();
        cleared = bindings();
    }

    /**
     * A continuation that, each time it is run, leaves a fence entered on a fresh thread (restoring
     * that thread's empty bindings), enters a new one and suspends inside it.
     */
    private static Continuation armed() {
        Runnable suspend = () -> Continuation.yield(CLEARING);
        Continuation c = new Continuation(CLEARING, () -> {
            while (true) {
                FENCE.run(suspend);
            }
        });
        onFreshThread(c::run);
        return c;
    }

    /** What a thread's bindings are after a {@code run} on a thread that had none. */
    private static Object emptyBindings() {
        Object[] seen = new Object[1];
        onFreshThread(() -> {
            FENCE.run(() -> { });
            seen[0] = bindings();
        });
        return seen[0];
    }

    /** Runs {@code task} on a new platform thread, which has no bindings, and waits for it. */
    private static void onFreshThread(Runnable task) {
        Joins.uninterruptibly(Thread.ofPlatform().name("coro scoped-value bindings").start(task));
    }
}
