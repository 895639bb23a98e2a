package dev.coro;

/**
 * One clause of a {@link Select}: an operation the select may wait for and fire, with what it makes of the outcome.
 * Its kinds are in {@link SelectClauses}; a run of the select drives them through the calls below, and they tell it
 * when one fires ({@link Select#fired()}) or wins its wait ({@link Select#won}).
 *
 * @param <R> the type of the select's result
 */
interface SelectClause<R> {
    /**
     * Whether the clause's channel belongs to another thread than the caller's (noted in the clause
     * for the runs on the caller's thread); false for a clause that has no channel.
     */
    boolean isForeign();

    /**
     * In a run across threads: fires the clause now if it is ready (its result), else {@code NOT_READY}; a channel
     * clause refused at once on its closed channel, nothing moved, returns {@code REFUSED} instead of throwing, and an
     * {@code onReceive} with {@code ifClosed} on another thread's channel closed and drained as read in place returns
     * {@code CLOSED_IN_PLACE} instead of firing. A clause on another thread's channel tries its operation in place if the channel lets it
     * ({@code definite} false: a run that may wait, whose registration finds the rest), or as a
     * {@code try} call of another thread ({@code definite}: a run that never waits).
     */
    default Object tryFire(Context self, boolean definite) {
        return isReady() ? fireNow(self) : Select.NOT_READY;
    }

    /**
     * In a run across threads that waits: starts waiting, the completion winning {@code claim}.
     *
     * @return the clause's operation on its channel; null for a clause that has none
     */
    default RemoteOp<?> registerAcross(Context self, Scheduler s, SelectClaim claim) {
        waitIn(claim);
        register(self, s);
        return null;
    }

    /** In a run across threads that is over: stops waiting ({@code op}: what {@link #registerAcross} returned). */
    default void withdrawAcross(RemoteOp<?> op) {
        unregister();
        waitIn(null);
    }

    /**
     * Keeps {@code claim}, the wait of the run across threads this clause now waits in (null once it
     * is over), for a clause with no operation of its own to lock before it fires.
     */
    void waitIn(SelectClaim claim);

    /** After it won a run across threads: the clause's result ({@code op}: its operation, null for a clause without one). */
    default R resultAcross(Context self, RemoteOp<?> op) {
        return result(self);
    }

    boolean isReady();

    /**
     * Completes the operation now (it was ready) and returns the clause's result; or
     * {@code NOT_READY} if it is not ready after all: its only partner was a waiter of another
     * thread that left meanwhile (timed out, or its coroutine was closed), which is dropped.
     */
    Object fireNow(Context self);

    /** Starts waiting for the operation on behalf of {@code self}. */
    void register(Context self, Scheduler s);

    /** Stops waiting; nothing if it is not waiting. */
    void unregister();

    /** After it fired while the caller parked: the clause's result. */
    R result(Context self);

    /**
     * It fired, but the park ended with an exception: undo what can be undone (a received value
     * goes back, while its channel is open).
     *
     * @return true if it keeps a value it was handed (its channel has closed since): it fires after all
     */
    boolean keeps();

    String describe();
}
