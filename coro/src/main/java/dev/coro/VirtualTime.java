package dev.coro;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * Runs code on a virtual clock: whenever every context of the thread is parked and the earliest
 * thing that can wake one is a timer, the clock jumps to it at once (while I/O or another thread may
 * wake one first, only once they have stayed quiet for as long: see the rules). An hour of sleeps
 * takes no real time, and a program prints the same trace every run: deterministic tests of code
 * with sleeps, timeouts and selects.
 *
 * <pre>{@code
 * VirtualTime.run(() -> {
 *     Coroutine.create(() -> { Coroutine.sleep(Duration.ofHours(1)); System.out.println("an hour later"); });
 *     Coroutine.sleep(Duration.ofMinutes(1));
 *     System.out.println("t = " + Coroutine.nanoTime());   // 60000000000
 * });
 * }</pre>
 *
 * <h2>The rules, one per line</h2>
 * <ul>
 *   <li>{@link #call} is {@link #run} that returns the body's value once the run is over: every rule here
 *       holds for it alike, its messages naming it {@code VirtualTime.call}.</li>
 *   <li>The clock ({@link Coroutine#nanoTime()}) starts at 0 and moves only when the thread would
 *       otherwise wait for a timer: a park with nothing else to run, the end of a body with every
 *       other context parked, or a {@code yield()} with nothing else to run (so that a loop that yields
 *       until a sleeper is done ends, in main or in a coroutine: main waiting in {@link #run} for the
 *       coroutines to end counts as nothing to run).</li>
 *   <li>While a context waits on I/O or for another thread (an await, a channel another thread has used), a
 *       timer is not the earliest thing that can wake one: the wait is real, and the clock stands
 *       still while a result may still come, so that one that comes keeps every reading reproducible.
 *       It jumps to the next timer once nothing has come for as long, in real time, as that timer is
 *       away; a {@code withTimeout} around a read that no byte reaches thus expires after its
 *       duration of real time, and so does a {@code yield()} loop's wait for it (docs/TIME.md).</li>
 *   <li>Timers due at the same time expire in the order they were scheduled.</li>
 *   <li>{@link #run} returns when the body has returned and every coroutine created inside has ended
 *       (main yields until then); if the rest can never end (every one parked with no timer pending)
 *       it throws {@link DeadlockException} naming them. Only while another thread may still wake one
 *       (one of them waits for another thread, or something was exchanged with another thread inside
 *       the run, a body handed to a {@link CoroutinePool} included: docs/THREADS.md) does it wait
 *       instead; what the thread exchanged before the run does not count, nor does a pool open
 *       that the run hands no body to.</li>
 *   <li>If the body or the wait for the rest throws, every coroutine left is closed (unwound) before
 *       {@link #run} rethrows, and so is every coroutine their {@code finally} blocks create, so none
 *       outlives it; a failure kept for main's next scheduling point (a receive of main handed a value
 *       before its channel closed) is added to the exception, suppressed, so nothing of the run reaches
 *       the thread's next one; the clock is then the real one again. An exception made with
 *       suppression disabled is still what {@link #run} throws, itself and bare (its caller catches it
 *       as it is); those failures then go to the thread's uncaught-exception handler, in one
 *       {@link CoroutineException} caused by it that holds them suppressed, rather than be lost. So do
 *       those failures that hold the exception already, as a cause or a suppressed one (the report of a
 *       coroutine that threw the very exception the body then threw): suppressed in it, they would make
 *       a cycle.</li>
 *   <li>A failure kept for main's next scheduling point from before the run (a receive of main
 *       handed a value before its channel closed, then a failure for main) is thrown by {@link #run}
 *       before the body starts: it belongs to what main did before, not to the run.</li>
 *   <li>The scheduler's random ({@link Select#selectUnbiased()}) restarts from its seed: {@code -Dcoro.seed},
 *       or the one given to {@link #run(long, Runnable)}.</li>
 *   <li>Default names ({@code coroutine-N}, {@code channel-N}, {@code generator-N}, {@code semaphore-N}) count from 1 inside
 *       the run, so that it names alike on every run of the thread; after it they go on counting
 *       the thread's creations, those of the run included.</li>
 * </ul>
 */
public final class VirtualTime {

    /** How messages name {@link #run}: the method that opened the run. */
    static final String RUN = "VirtualTime.run";
    /** How messages name {@link #call}. */
    static final String CALL = "VirtualTime.call";

    private VirtualTime() {
    }

    /**
     * Runs {@code body} as main of the calling thread on a virtual clock starting at 0, then waits
     * (in virtual time) until every coroutine created inside has ended.
     *
     * @param body the code to run
     * @throws IllegalStateException if the calling thread has a live coroutine, is a coroutine, already
     *                               runs on a virtual clock, or has a timer pending
     * @throws DeadlockException     if coroutines are left that nothing could ever wake
     * @throws CoroutineException    if a coroutine created inside fails and its failure reaches main while {@code run}
     *                               waits for the rest (or from a call of the body that does not catch it), the rest
     *                               closed first; or a failure kept for main's next scheduling point from before the
     *                               run, before the body starts
     * @throws NullPointerException  if {@code body} is null
     */
    public static void run(Runnable body) {
        Objects.requireNonNull(body, "body");
        Scheduler.current().runVirtual(RUN, body, Scheduler.SEED);
    }

    /**
     * {@link #run(Runnable)} with the scheduler's random restarted from {@code seed} instead of
     * {@code -Dcoro.seed}: the choices of {@link Select#selectUnbiased()} inside the run follow from it,
     * so that one JVM can run the replications of a simulation, each with its own seed, and each
     * reproducible. After the run the thread's random goes on from where the run left it.
     *
     * @param seed the seed of the run's random
     * @param body the code to run
     * @throws IllegalStateException if the calling thread has a live coroutine, is a coroutine, already
     *                               runs on a virtual clock, or has a timer pending
     * @throws DeadlockException     if coroutines are left that nothing could ever wake
     * @throws CoroutineException    if a coroutine created inside fails and its failure reaches main while {@code run}
     *                               waits for the rest (or from a call of the body that does not catch it), the rest
     *                               closed first; or a failure kept for main's next scheduling point from before the
     *                               run, before the body starts
     * @throws NullPointerException  if {@code body} is null
     */
    public static void run(long seed, Runnable body) {
        Objects.requireNonNull(body, "body");
        Scheduler.current().runVirtual(RUN, body, seed);
    }

    /**
     * {@link #run(Runnable)} that returns the value of {@code body}: runs it as main of the calling thread on a
     * virtual clock starting at 0, waits (in virtual time) until every coroutine created inside has ended, then
     * returns what the body returned. The same rules as {@code run}, the same refusals and failures: a body that
     * throws, or coroutines left that nothing could ever wake, make it throw as {@code run} does, the value lost.
     * Its messages name it {@code VirtualTime.call} where {@code run}'s name {@code VirtualTime.run}
     * ({@code main context 'main' of thread 'main' (#1) (state RUNNING) cannot start VirtualTime.call: it already
     * runs on a virtual clock}).
     *
     * <pre>{@code
     * long t = VirtualTime.call(() -> {
     *     Coroutine.create(() -> Coroutine.sleep(Duration.ofHours(1)));
     *     Coroutine.sleep(Duration.ofMinutes(1));
     *     return Coroutine.nanoTime();
     * });                                 // 60000000000, returned once the sleeper of an hour has ended
     * }</pre>
     *
     * @param body the code to run, giving the value
     * @param <T>  the value's type
     * @return what {@code body} returned (null too), once every coroutine created inside has ended
     * @throws IllegalStateException if the calling thread has a live coroutine, is a coroutine, already
     *                               runs on a virtual clock, or has a timer pending
     * @throws DeadlockException     if coroutines are left that nothing could ever wake
     * @throws CoroutineException    if a coroutine created inside fails and its failure reaches main while {@code call}
     *                               waits for the rest (or from a call of the body that does not catch it), the rest
     *                               closed first; or a failure kept for main's next scheduling point from before the
     *                               run, before the body starts
     * @throws NullPointerException  if {@code body} is null
     */
    public static <T> T call(Supplier<? extends T> body) {
        Objects.requireNonNull(body, "body");
        return Scheduler.current().callVirtual(body, Scheduler.SEED);
    }

    /**
     * {@link #call(Supplier)} with the scheduler's random restarted from {@code seed} instead of
     * {@code -Dcoro.seed}, as {@link #run(long, Runnable)}: one replication of a simulation that returns its
     * outcome, reproducible from its seed.
     *
     * @param seed the seed of the run's random
     * @param body the code to run, giving the value
     * @param <T>  the value's type
     * @return what {@code body} returned (null too), once every coroutine created inside has ended
     * @throws IllegalStateException if the calling thread has a live coroutine, is a coroutine, already
     *                               runs on a virtual clock, or has a timer pending
     * @throws DeadlockException     if coroutines are left that nothing could ever wake
     * @throws CoroutineException    if a coroutine created inside fails and its failure reaches main while {@code call}
     *                               waits for the rest (or from a call of the body that does not catch it), the rest
     *                               closed first; or a failure kept for main's next scheduling point from before the
     *                               run, before the body starts
     * @throws NullPointerException  if {@code body} is null
     */
    public static <T> T call(long seed, Supplier<? extends T> body) {
        Objects.requireNonNull(body, "body");
        return Scheduler.current().callVirtual(body, seed);
    }
}
