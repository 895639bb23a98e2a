package dev.coro;

/**
 * What a parked context waits for: a channel's waiter, a sleep's timer, a select's clauses. Its
 * {@code toString()} says it for dumps and errors, e.g. {@code receive from channel 'jobs'}.
 */
interface Wait {

    /**
     * Ends the wait without completing it, because something else ends the park (a timeout of the
     * context): it leaves every queue it is in and cancels its timers at once, so that nothing can
     * complete it (take its value, hand it one) before its context runs again.
     *
     * @return true if the wait was interrupted; false if it had completed already (by another thread,
     *         whose wake-up is on its way to the owner): then it keeps its result
     */
    boolean interrupt();

    /**
     * What kind of wait this is, for observers (the JFR park event, the JMX view): {@code channel},
     * {@code semaphore} (an acquire of a {@link Semaphore} of the thread), {@code select}, {@code sleep},
     * {@code io}, {@code thread} (something another thread completes: a future, an operation on another
     * thread's channel or semaphore), {@code join} (a {@link Coroutine#join}) or {@code pool} (a pool
     * thread's main waiting for work).
     */
    String reason();

    /**
     * Whether another thread has completed this wait and its wake-up is on its way to the owner's
     * inbox, or handed to the owner's spin ({@link PostedWait}): the idle spin of a thread whose only
     * parked context waits here watches this, so that the completion is taken in as soon as it is
     * written, before a post arrives (which then finds the context awake and does nothing). False
     * for a wait only its own thread completes.
     */
    default boolean completedAfar() {
        return false;
    }

    /**
     * Whether this is the wait of a send (a select's {@code onSend} too) whose value a receiver took, on
     * this thread's channel or on another thread's, before its context ran again: whatever ends the wait
     * now must not say that the value was not sent.
     */
    default boolean sentItsValue() {
        return false;
    }

    /**
     * On the owner thread, once the idle spin saw {@link #completedAfar()} while {@code context} still
     * waits here: takes the completion in before its delivery arrives, as that delivery would (which
     * then finds nothing to do). By default wakes {@code context}.
     */
    default void takeInEarly(Context context) {
        context.scheduler.unpark(context);
    }

    /**
     * What {@code w} waits for as dumps and events show it: its {@code toString()}, or, if that
     * throws (a user's object in it whose own {@code toString()} fails), its {@link #reason() kind}
     * and what was thrown. Observing a wait never throws into the program.
     */
    static String describe(Wait w) {
        try {
            return String.valueOf(w);
        } catch (Throwable e) { // a checked exception too, which a toString() may throw sneakily
            return w.reason() + " (its description threw " + e.getClass().getName() + ")";
        }
    }

    /**
     * An operation as errors and signals name it, e.g. {@code its receive from channel 'jobs' throws
     * this signal}: a wait as {@link #describe(Wait)} gives it, anything else (a phrase such as
     * {@code yield}) as {@link SafeText#of} does. Naming an operation never throws.
     */
    static String describeOperation(Object operation) {
        return operation instanceof Wait w ? describe(w) : SafeText.of(operation);
    }
}
