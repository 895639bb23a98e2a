package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Whose code may run among threads that hand control to one another strictly: the thread engine's
 * one place where such a thread waits.
 *
 * <p>The holder is written with release and read with acquire semantics, so that a thread that sees
 * itself named sees everything the previous holder did. No allocation (but on a worker of a
 * {@code ForkJoinPool}: {@link #park}), no park blocker: the frames of the waiting thread already say
 * what it waits for.
 */
final class Turn {

    private static final VarHandle HOLDER;

    static {
        try {
            HOLDER = MethodHandles.lookup().findVarHandle(Turn.class, "holder", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through HOLDER
    private Object holder;

    /** Who holds the turn now. */
    Object holder() {
        return HOLDER.getAcquire(this);
    }

    /** Gives the turn to {@code who}; on return only {@code who}'s code may run (the caller's must not). */
    void give(Object who) {
        HOLDER.setRelease(this, who);
    }

    /**
     * Parks until the turn is {@code self}'s; on return it is. An interrupt that arrives meanwhile is
     * kept for the thread, not lost, and does not make the wait spin.
     *
     * <p>If parking itself fails (the JDK cannot unmount the thread: a stack overflow or an
     * out-of-memory error inside {@code park}), the thread still must not run without the turn: it
     * waits for it spinning, then throws that error as its own, with the turn held and every state
     * consistent.
     *
     * @throws StackOverflowError or {@link OutOfMemoryError} if parking failed; the turn is the caller's
     */
    void await(Object self) {
        await(self, null);
    }

    /**
     * {@link #await(Object)}, and while a platform thread has waited {@link InitializerDeadlock#STALL_NANOS}
     * without the turn, runs {@code stalled} (which throws to end a wait that can never end) each time;
     * a wait so ended gives the thread back an interrupt it took, as any wait does as it returns.
     *
     * @param stalled the check to run after a stall; null for none
     */
    void await(Object self, Runnable stalled) {
        await(self, stalled, false, null);
    }

    /**
     * {@link #await(Object, Runnable)}, watched on a virtual thread too: for a wait that may never end
     * (a virtual thread cannot wait with a timeout at no cost, so only such a wait is watched there).
     *
     * @param stalled the check to run after a stall
     */
    void awaitWatched(Object self, Runnable stalled) {
        await(self, stalled, true, null);
    }

    /**
     * {@link #await(Object, Runnable)} (watched on a virtual thread too if {@code virtualToo}) of a
     * thread whose code the holder runs meanwhile (a generator's consumer, while the body runs): an
     * interrupt that wakes it without the turn is offered to {@code relay}, which hands it to the
     * holder's thread and returns true, or returns false (the turn is on its way back, and the
     * interrupt is kept for this thread as by any wait).
     *
     * @param stalled the check to run after a stall
     * @param relay   hands an interrupt on to the holder's thread; false if it did not
     */
    void awaitRelaying(Object self, Runnable stalled, boolean virtualToo, BooleanSupplier relay) {
        await(self, stalled, virtualToo, relay);
    }

    /**
     * The wait: watched after a stall if {@code stalled} is given, on a platform thread or if
     * {@code virtualToo}; an interrupt that wakes it without the turn is handed on by {@code relay}, if
     * given and it does, else kept.
     */
    private void await(Object self, Runnable stalled, boolean virtualToo, BooleanSupplier relay) {
        boolean interrupted = false;
        Error failed = null;
        while (true) {
            // every step of the wait is inside the try: on an exhausted stack even the checks may
            // overflow, and nothing may escape before the turn is back
            try {
                if (HOLDER.getAcquire(this) == self) {
                    break;
                }
                if (stalled != null && (virtualToo || !Thread.currentThread().isVirtual())) {
                    long start = System.nanoTime();
                    park(self, InitializerDeadlock.STALL_NANOS);
                    if (HOLDER.getAcquire(this) != self && System.nanoTime() - start >= InitializerDeadlock.STALL_NANOS) {
                        try {
                            stalled.run();
                        } catch (RuntimeException e) {
                            // the wait ends without the turn: an interrupt it took is the thread's again
                            if (interrupted) {
                                Thread.currentThread().interrupt();
                            }
                            throw e;
                        }
                    }
                } else {
                    park(self, 0);
                }
                // woken without the turn: clear an interrupt, or every later park would return at once;
                // one handed on is relayed before it is cleared here, so that whoever sees this thread's
                // flag taken in finds it on the holder's thread already
                if (HOLDER.getAcquire(this) != self && Thread.currentThread().isInterrupted()) {
                    boolean relayed = relay != null && relay.getAsBoolean();
                    Thread.interrupted();
                    if (!relayed) {
                        interrupted = true;
                    } // else the holder's thread runs this thread's code now: it has it
                }
            } catch (StackOverflowError | OutOfMemoryError e) {
                failed = e; // then it spins: the loop makes no call that needs stack until the turn is back
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Parks once, for at most {@code nanos} (0: until unparked). On a worker of a {@code ForkJoinPool}
     * (main of a scheduler made there, waiting while its coroutines' threads hold the turn) as a
     * managed block, as the event loop's idle wait there is: the pool may start another worker
     * meanwhile, where a park it does not know of would leave the tasks the coroutines wait for
     * (queued on the same pool) never run. Only there does the wait allocate (the blocker). A pool that
     * can add no worker, or that is stopping (its managed blocks then throw at once), gets the plain park.
     */
    private void park(Object self, long nanos) {
        if (Thread.currentThread() instanceof ForkJoinWorkerThread) {
            try {
                ForkJoinPool.managedBlock(new ForkJoinPool.ManagedBlocker() {
                    @Override
                    public boolean block() {
                        parkOnce(nanos);
                        return true;
                    }

                    @Override
                    public boolean isReleasable() {
                        return HOLDER.getAcquire(Turn.this) == self;
                    }
                });
                return;
            } catch (InterruptedException e) {
                // block() throws none: the pool is stopping (shutdownNow), and throws this at once, nothing waited
                // for, at every managed block from now on: the plain park, or the wait would spin until its turn
                // came (an interrupt of the thread is the flag's, which the wait keeps)
            } catch (RejectedExecutionException e) {
                // the pool can add no worker (at its limit of spares): the plain park
            }
        }
        parkOnce(nanos);
    }

    /** {@link LockSupport#park()}, or {@link LockSupport#parkNanos(long)} for {@code nanos} other than 0. */
    private static void parkOnce(long nanos) {
        if (nanos == 0) {
            LockSupport.park();
        } else {
            LockSupport.parkNanos(nanos);
        }
    }
}
