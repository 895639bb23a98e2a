package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reentrant lock held for the few steps of one operation (nothing parks under it), taken by
 * spinning: a shared {@link Channel}'s.
 *
 * <p>It is an object of its own so that taking it writes no line of the channel's other fields,
 * which every thread using the channel reads: those stay in each thread's cache. And it is taken by
 * a compare-and-set first, which asks for its line once, for writing; a read first would fetch the
 * line from the thread that held the lock last, then ask for it again to write it.
 */
final class SpinLock {

    private static final VarHandle HOLDER;

    static {
        try {
            HOLDER = MethodHandles.lookup().findVarHandle(SpinLock.class, "holder", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The thread holding it; null if none. */
    @SuppressWarnings("unused") // through HOLDER
    private volatile Thread holder;
    /** How many times {@link #holder} holds it (a select's clause may complete on its own channel). */
    private int holds;

    /** Takes it, spinning while another thread holds it; reentrant. */
    void lock() {
        Thread self = Thread.currentThread();
        if (HOLDER.compareAndSet(this, (Thread) null, self)) {
            holds = 1;
            return;
        }
        if (holder == self) {
            holds++;
            return;
        }
        for (int spins = 0; !HOLDER.compareAndSet(this, (Thread) null, self); spins++) {
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // its holder lost its core
            }
        }
        holds = 1;
    }

    /** The thread holding it, null if none (for tests). */
    Thread holder() {
        return holder;
    }

    /**
     * Gives back one hold. Called from a {@code finally}, where a stack overflow may strike at any
     * call: its frames are fewer than those of {@link #lock} (so its caller, which had room to take
     * it, has room to give it back), and if the handle's own frames overflow, a plain write of the
     * field, which needs no frame, frees it before the overflow goes on: a lock left held would keep
     * every other thread spinning for ever.
     */
    void unlock() {
        if (--holds == 0) {
            try {
                HOLDER.setRelease(this, (Thread) null);
            } catch (StackOverflowError e) {
                holder = null;
                throw e;
            }
        }
    }
}
