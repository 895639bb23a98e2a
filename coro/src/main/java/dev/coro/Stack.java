package dev.coro;

/**
 * A context's stack as its engine provides it: where the context's code runs, and how control
 * moves from it to another context's stack of the same engine.
 *
 * <p>A coroutine's stack is made by {@link Engine#newStack} and does not run until the first
 * transfer to it; its body then runs through {@link Scheduler#runToEnd}, and when that returns the
 * stack hands control to the context the scheduler chose. Main's stack is the thread's own.
 */
interface Stack {

    /**
     * Called on the running context's stack, after the scheduler made {@code to} current (through
     * {@link Engine#transfer}): suspends this stack and lets {@code to}'s code run. On return some context has transferred back here.
     *
     * @throws PinnedException if the transfer cannot happen (the JDK cannot suspend this stack here,
     *                         or no thread can be started for {@code to}); nothing was transferred
     */
    void transferTo(Stack to);

    /**
     * Gives this stack control, on behalf of the context that is giving it away: on the continuation
     * engine runs it here until it transfers away; on the thread engine starts its thread the first
     * time, gives it the turn and wakes the thread that runs its code.
     *
     * @throws PinnedException if no thread can be started for it; it did not run
     */
    void resume();

    /**
     * The frames of this suspended stack, innermost first, with the machinery of the switch still in
     * ({@link StackTraces} cuts it off); empty if it has not started.
     */
    StackTraceElement[] frames();

    /**
     * The frames of this stack while its context runs, asked on the thread running that context's
     * code (a dump made at one of its scheduling points, or its own call of {@code Coroutine.dump}),
     * innermost first: the asking code's own frames on top, the machinery of the switch still in
     * ({@link StackTraces#ofCurrent} cuts both);
     * by default {@link #frames()}, which on the thread engine reads the running threads as well.
     */
    default StackTraceElement[] runningFrames() {
        return frames();
    }
}
