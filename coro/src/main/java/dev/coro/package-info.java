/**
 * Stackful coroutines with the C runtime's exact scheduling order, and on top of them generators
 * and channels.
 *
 * <h2>Entry points</h2>
 * <ul>
 *   <li>{@link dev.coro.Coroutine}: create, {@code switchTo}, {@code yield}, close; the seed's seven calls.</li>
 *   <li>{@link dev.coro.Coroutine.State}: the life cycle of a coroutine, with its transitions.</li>
 *   <li>{@link dev.coro.CoroutineException}: a body's failure, delivered to its creator, closer or main.</li>
 *   <li>{@link dev.coro.CoroutineExit}: the signal that unwinds a coroutine being closed.</li>
 *   <li>{@link dev.coro.Generator}: a lazy iterator written as a loop, driven by its consumer; two-way with
 *       {@link dev.coro.Generator.TwoWay}.</li>
 *   <li>{@link dev.coro.Channel}: values between contexts, of one thread or of several; who cannot go on parks.</li>
 *   <li>{@link dev.coro.Semaphore}: a bound on how many contexts do something at once; an acquire with no
 *       permit free parks.</li>
 *   <li>{@link dev.coro.ChannelClosedException}, {@link dev.coro.DeadlockException}: a closed channel, and
 *       a thread whose every context is parked.</li>
 *   <li>{@link dev.coro.Coroutine#stackTrace()}, {@link dev.coro.Coroutine#dump()}: where each coroutine waits.</li>
 *   <li>{@link dev.coro.Coroutine#sleep}, {@link dev.coro.Coroutine#withTimeout(java.time.Duration, java.util.function.Supplier)},
 *       {@link dev.coro.CoroutineTimeoutException}, {@link dev.coro.Channel#tryReceive(java.time.Duration)}: time, on
 *       each thread's event loop.</li>
 *   <li>{@link dev.coro.Select}: the first of several channel operations or a timeout.</li>
 *   <li>{@link dev.coro.VirtualTime}: a virtual clock that jumps to the next timer, for deterministic runs.</li>
 *   <li>{@link dev.coro.Coroutine#await}, {@link dev.coro.Select#onComplete}, {@link dev.coro.CoroutinePool}: other
 *       threads, each with its own scheduler ({@code docs/THREADS.md}).</li>
 *   <li>{@link dev.coro.BlockedLoops}, and the packages {@code dev.coro.management} (the JMX view) and
 *       {@code dev.coro.net} (sockets that park): observing, and network I/O on each thread's event loop.</li>
 * </ul>
 *
 * <h2>The rules, one per line</h2>
 * <ul>
 *   <li>Every thread has its own run list; its first entry (index 0) is the thread itself, "main".</li>
 *   <li>{@code create} appends a new coroutine and does not run it.</li>
 *   <li>{@code yield()} runs the previous index, wrapping from main to the last created.</li>
 *   <li>{@code switchTo()} runs the given coroutine; switching to the running one returns at once.</li>
 *   <li>A body that returns is swap-removed (the last entry takes its slot) and index - 1 runs next.</li>
 *   <li>A body that throws is swap-removed and its creator (or main) resumes with a {@link dev.coro.CoroutineException}.</li>
 *   <li>{@code close()} of a suspended coroutine unwinds it: its {@code finally} blocks run.</li>
 *   <li>A coroutine belongs to the thread that created it; any other thread gets an {@link IllegalStateException}
 *       (only {@code name()}, {@code toString()}, {@code isMain()} and {@code thread()} answer any thread).</li>
 * </ul>
 *
 * <h2>Parking, one rule per line</h2>
 * <ul>
 *   <li>A context (main too) whose {@link dev.coro.Channel} operation cannot complete is {@code PARKED}, and
 *       the previous entry that is not parked runs (the order of {@code yield()}).</li>
 *   <li>{@code yield()} runs the previous entry that is not parked, wrapping from main to the last; if
 *       every other entry is parked it returns at once.</li>
 *   <li>A body that returns is swap-removed and the first entry not parked, counting back from index - 1
 *       (wrapping), runs next.</li>
 *   <li>A failure goes to the creator if it is alive and not parked (parked in a {@code join()} of the
 *       failing coroutine counts as not parked), else to main; a parked main has its wait cancelled and
 *       its channel operation throws the {@link dev.coro.CoroutineException}.</li>
 *   <li>A channel wakes a parked context by making it {@code SUSPENDED}; waking never switches.</li>
 *   <li>{@code switchTo()} a parked coroutine throws; {@code close()} of a parked coroutine unwinds it.</li>
 *   <li>When nothing would be left to run, the waiting call throws {@link dev.coro.DeadlockException}
 *       naming every parked context and its wait; nothing hangs. This holds for a thread that has exchanged
 *       nothing with another (a future, a channel) while no {@link dev.coro.CoroutinePool} is open; otherwise
 *       the wait blocks instead, since another thread may still wake it ({@code docs/THREADS.md}).</li>
 *   <li>A program that never parks runs in exactly the seed's order.</li>
 * </ul>
 *
 * <h2>Time, one rule per line</h2>
 * <ul>
 *   <li>Each thread's scheduler has an event loop: a clock, its pending timers, and the one place where
 *       the thread waits when none of its contexts can run.</li>
 *   <li>A sleep, a timed channel operation, a select's {@code onTimeout} and a {@code withTimeout} each schedule a timer.</li>
 *   <li>Due timers expire at every scheduling point ({@code yield}, {@code switchTo}, a park), earliest
 *       deadline first, ties in the order they were scheduled; a yield checks one field while none is pending.</li>
 *   <li>An expired sleep wakes its context like a channel does: it becomes {@code SUSPENDED}, and the
 *       usual order selects it; waking never switches.</li>
 *   <li>A park with nothing else to run waits for the next timer (the thread blocks; under
 *       {@link dev.coro.VirtualTime} the clock jumps); so does the end of a body whose every other
 *       context is parked. A deadlock is every context parked with no timer pending.</li>
 *   <li>An expired {@code withTimeout} interrupts the wait its context is in (the wait leaves every
 *       queue at once: it took and delivered nothing), or else its next scheduling point; a wait that
 *       completed first keeps its result.</li>
 * </ul>
 *
 * <p>The machinery (the per-thread {@code Scheduler}, the engines under it, and the stacks generators
 * run on) is package-private. The parking rules with examples: {@code docs/CHANNELS.md}.
 *
 * <h2>Engines</h2>
 * <p>The same rules run on one of two engines, chosen once per JVM: the continuation engine (each
 * body on a JDK continuation on the owner thread; needs the JVM flag
 * {@code --add-exports java.base/jdk.internal.vm=dev.coro}, or {@code =ALL-UNNAMED} on the class path)
 * or, without that flag (or on a JVM that does not support continuations), the thread engine (each body on
 * a virtual thread of its own, with a strict handoff; slower, public API only), after one warning.
 * {@code -Dcoro.engine=continuation|threads|auto} forces the choice; if the engine it asks for cannot run
 * (the continuation engine without the flag or on such a JVM, or an unknown name), every call that needs a
 * thread's scheduler throws {@link UnsupportedOperationException} naming the property and the flag (on a JVM
 * without continuations, that reason; for an unknown name, the three names); so it does,
 * naming the module, on a Java runtime without
 * {@code jdk.jfr}. Which engine runs is each scheduler's {@code engine()} in the JMX view
 * ({@link dev.coro.management.SchedulerInfo#engine()}). Inside a body they differ in
 * {@code Thread.currentThread()}, thread-locals, interrupts, monitors held by main or by a generator's
 * consumer, and pinning;
 * {@code docs/ENGINES.md} has the table. On the thread
 * engine a coroutine's thread starts when it first runs; if the JVM can start none (threads or memory
 * exhausted), the call that would run it (a switch, a yield, a wait; in main, any pending call, when
 * a body ends) throws an {@link IllegalStateException} naming the caller, the call and the coroutine,
 * which stays {@code NEW} and runnable: the next scheduling point that chooses it tries again, and
 * {@code close()} gives it up ({@link dev.coro.CoroutinePool} closes it on its own threads).
 */
package dev.coro;
