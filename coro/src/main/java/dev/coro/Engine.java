package dev.coro;

/**
 * What a scheduler asks of the machinery under it: stacks for bodies and generators, each with its
 * transfer and its frames. One engine object per scheduler, holding that scheduler's share of the
 * engine's state; {@link Engines} decides which engine the JVM runs.
 *
 * <p>Two engines exist:
 * <ul>
 *   <li>{@link ContinuationEngine}: each body on a {@code jdk.internal.vm.Continuation}, run on the
 *       owner thread by a trampoline. Needs the exports flag; the fast one.</li>
 *   <li>{@link ThreadEngine}: each body on a virtual thread of its own, with a strict handoff. Public
 *       API only; each switch costs a virtual-thread park/unpark.</li>
 * </ul>
 * The rules are all the {@link Scheduler}'s: an engine only provides stacks and moves control.
 */
interface Engine {

    /**
     * A stack for {@code c}'s body, not started (the body runs at the first transfer to it), or, for
     * main, the owner thread's own.
     */
    Stack newStack(Context c);

    /**
     * Called on the running context's stack {@code from}, after the scheduler made {@code to}'s
     * context current: {@link Stack#transferTo from.transferTo(to)}. The scheduler's one call site
     * for every switch: it sees one engine class, where it would see each of the engine's stack
     * classes, so an engine whose stacks differ by kind (main's and the coroutines') overrides this
     * to switch in one piece of code, which the JIT compiles once.
     *
     * @throws PinnedException as {@link Stack#transferTo}
     */
    default void transfer(Stack from, Stack to) {
        from.transferTo(to);
    }

    /**
     * A stack for a generator's body, not started.
     *
     * @param name the generator's name, for the engine's threads
     * @param code the code the user gave for the body, for diagnostics
     * @param body the body, which catches everything it throws
     */
    GeneratorStack newGeneratorStack(String name, Object code, Runnable body);

    /**
     * The thread that runs {@code c}'s code now, or would if it ran: the owner thread, or on the
     * thread engine the context's own virtual thread (or that of the generator body it is inside).
     * Asked from another thread (the blocked-loop detector), so it must not fail on a context that
     * changes meanwhile.
     */
    Thread runner(Context c);
}
