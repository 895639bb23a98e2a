package dev.coro.net;

import dev.coro.internal.IoBridge;

/**
 * A connection's count of its reads and writes (a listener's of its accepts) that completed without waiting since its
 * thread last passed a scheduling point: past 64 in a row, the next one waits for the socket's readiness first, so that a
 * peer that sends (or reads) faster than the loop, or a burst of connections, keeps no thread from its other coroutines,
 * connections and timers.
 *
 * <p>The wait is a park on the socket's readiness, which it has already: it ends at the event loop's
 * next look at the thread's selector, once the contexts that were runnable have had their turn (and the due
 * timers theirs), as a Netty event loop reads (or accepts on) a channel at most 16 times per readiness before it
 * serves the others. A call that waited, or any scheduling point of the thread between two calls (another context ran,
 * this one parked elsewhere), starts the count again: a server whose reads wait for their bytes, as an echo's
 * do, never spends it. The count is the socket's own, held by its thread alone (the calls are refused on
 * any other), so it costs a field comparison and an increment per call.
 */
final class TurnBudget {

    /** The most calls in a row that complete at once before one waits for readiness first. */
    static final int CALLS = 64;

    /** The thread's count of scheduling points at the last call counted ({@link IoBridge#schedulingPoints}). */
    private long points = -1;
    /** The calls counted since the thread's count last moved. */
    private int calls;

    /**
     * Counts a call of the connection, on its thread: whether it must wait for readiness before it asks the socket,
     * {@value #CALLS} calls having come before it in a row with no scheduling point of the thread between them.
     * A call told to wait that cannot (the JDK refuses to suspend the caller: docs/PINNING.md) goes on without
     * it, and the next {@value #CALLS} do too.
     *
     * @param io    the bridge to the connection's scheduler
     * @param owner that scheduler
     * @return true if the call waits for readiness first
     */
    boolean spent(IoBridge io, Object owner) {
        long p = io.schedulingPoints(owner);
        if (p != points) {
            points = p;
            calls = 1;
            return false;
        }
        if (++calls <= CALLS) {
            return false;
        }
        calls = 0;
        return true;
    }
}
