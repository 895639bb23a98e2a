package dev.coro;

/**
 * The stack a {@link Generator}'s body runs on, and the switch between it and its consumer: what an
 * {@link Engine} provides so that generators need not know how stacks are switched.
 */
interface GeneratorStack {

    /**
     * Runs the body, from its start or from its last {@link #suspend()}, while the calling consumer
     * waits (on the consumer's own stack, or on a thread of the body's own that runs in its stead);
     * on return the body has suspended or ended.
     *
     * @throws PinnedException if the body cannot be run (no thread could be started for it), and did not
     *                         run; stuck if it can never run (see each engine's)
     */
    void resume();

    /**
     * Called on the body's stack: suspends it and returns to the consumer's {@link #resume()}; on
     * return the consumer has resumed it again.
     *
     * @throws PinnedException if the JDK cannot suspend the body here; it keeps running
     */
    void suspend();

    /** The thread the body runs on while resumed, if it has one of its own; null if it runs on its consumer's stack. */
    Thread thread();

    /**
     * Whether the calling code runs on this body's stack (in the body, or in what it called), asked of a
     * body that is running only, for a refusal's words: true where the engine cannot tell otherwise.
     */
    default boolean runsTheCaller() {
        return true;
    }
}
