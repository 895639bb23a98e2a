package dev.coro;

/**
 * A transfer that could not happen: the JDK refused to suspend the running context, or no thread
 * could be started for the target. Nothing moved; {@link #why} says what stopped it, in plain words.
 */
final class PinnedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the JDK refused, as a clause ("a native frame is on its stack"); for a failed start, what failed. */
    final String reason;
    /** The whole explanation, as it follows "cannot suspend A at its yield to run B: ". */
    final String why;
    /** The target's body can never run here: its thread is stuck (see {@link InitializerDeadlock}). */
    final boolean stuck;
    /** The JDK refused to suspend the running stack (a native frame, a critical section): the caller cannot leave here. */
    final boolean callerPinned;
    /**
     * Set by the scheduler as it names this refusal as that of a park ({@code Scheduler.refusedPark}): control
     * never left the parking context, which runs on, whatever stopped the transfer (the JDK, a target that got
     * no thread or is stuck). Not set for a target refused after its caller had parked (a {@code NotRun} of
     * main, whose wait did start), nor for a refusal of any other transfer.
     */
    boolean refusedAPark;

    private PinnedException(String reason, String why, boolean stuck, boolean callerPinned) {
        super(why, null, false, false);
        this.reason = reason;
        this.why = why;
        this.stuck = stuck;
        this.callerPinned = callerPinned;
    }

    /** The JDK cannot suspend the running stack here, because of {@code reason}. */
    static PinnedException pinned(String reason) {
        return new PinnedException(reason, "the JDK cannot suspend it here because " + reason, false, true);
    }

    /**
     * The JDK cannot suspend the running context because the thread is not on its stack ({@code e}, the
     * JDK's {@code Not in scope dev.coro}): another copy of the library, loaded by another class loader,
     * suspended it together with that copy's coroutine it runs nested in (on the continuation engine a
     * copy's coroutine runs on the stack of whatever called it, a coroutine of another copy too), and the
     * thread runs other code of that copy now. Nothing moved: the caller runs on.
     */
    static PinnedException notOnTheStack(IllegalStateException e) {
        String reason = "the thread is not on its stack: another copy of coro (loaded by another class loader) suspended it,"
                + " with the coroutine of that copy it runs in, and runs other code now; this copy's contexts of the"
                + " thread can switch again once that coroutine runs again (the JDK says: " + e.getMessage() + ")";
        return new PinnedException(reason, reason, false, true);
    }

    /** No thread could be started to run {@code what}'s body. */
    static PinnedException noThread(String what, Throwable cause) {
        String reason = "no virtual thread could be started for " + what + " (" + cause + ")";
        return new PinnedException(reason, reason, false, false);
    }

    /** The target's thread waits for something that waits for the caller: its body can never run here. */
    static PinnedException stuck(String reason) {
        return new PinnedException(reason, reason, true, false);
    }

    /**
     * Whether {@code t}, thrown by a park of the calling context, is the refusal of that very park, whatever
     * stopped it: the JDK cannot suspend the caller where it stands ({@link #pinned}), or, on the thread engine,
     * the context it would run got no thread or waits for a class initializer the caller runs. Nothing moved, the
     * caller runs on, and a wait it had started (on a channel, or an operation posted to another thread) is still
     * to be withdrawn or, if it completed meanwhile, taken as done. A failure delivered to the caller while it
     * waited is not.
     */
    static boolean refusedTheCallersPark(Throwable t) {
        return t instanceof IllegalStateException && t.getCause() instanceof PinnedException p && (p.callerPinned || p.refusedAPark);
    }
}
