package dev.coro;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A stackful coroutine: a body with a stack of its own, run cooperatively on the thread that
 * created it.
 *
 * <p>This class carries the C runtime's seven calls with its exact scheduling order:
 * <pre>{@code
 * create_ctx(fn, arg)  ->  Coroutine.create(body, arg) / Coroutine.create(body)
 * destroy_ctx(ctx)     ->  coroutine.close()
 * is_ctx_finished(ctx) ->  coroutine.isFinished()
 * switch_ctx(ctx)      ->  coroutine.switchTo()
 * yield_ctx()          ->  Coroutine.yield()
 * get_ctx_id()         ->  Coroutine.currentId()
 * get_ctx_ptr()        ->  Coroutine.current()
 * }</pre>
 *
 * <p>Each thread, platform or virtual, has its own run list {@code L}. Its entry 0 is the thread
 * itself ("main", whose handle {@link #current()} returns when called outside any coroutine); it
 * joins the list on the thread's first {@code create}. {@link #yield()} runs the previous entry,
 * wrapping from main to the last one; a body that returns is swap-removed (the last entry takes its
 * slot) and the entry before it runs next. Entries parked on a {@link Channel} are skipped by both.
 * The full rules are in the package documentation.
 *
 * <p>A coroutine is confined to the thread that created it: every call on it from another thread
 * throws {@link IllegalStateException} naming the calling context, both threads and the call
 * ({@link #name()}, {@link #toString()}, {@link #isMain()} and {@link #thread()} excepted). Any method may suspend: there is no colouring of functions, stacks grow on demand.
 *
 * <p>Nothing is lost: a body that throws ends as {@link State#FAILED} and its creator (main if the
 * creator has ended or is parked, a {@link #join()} of this coroutine excepted; its closer if it was
 * being closed, main if that closer has ended) resumes with a {@link CoroutineException} whose cause
 * is what was thrown.
 * {@link #close()} unwinds a suspended coroutine: its pending {@code yield()} or {@code switchTo()}
 * throws {@link CoroutineExit}, so its {@code finally} blocks run and the monitors it holds are released.
 *
 * <p>If the engine asked for cannot run ({@code -Dcoro.engine=continuation} without the exports flag, or
 * a name that is none of {@code auto}, {@code continuation}, {@code threads}), or none can (a Java runtime
 * without the module {@code jdk.jfr}), every call that needs the calling thread's scheduler
 * ({@code create}, {@code current()}, {@code yield()}, a sleep, a new {@link Channel} or {@link Generator} …)
 * throws {@link UnsupportedOperationException} saying why and what to add: the flag, or the module (see the
 * package documentation, Engines).
 */
public final class Coroutine implements AutoCloseable {

    /**
     * The life cycle of a coroutine.
     *
     * <p>Transitions (trigger on the right):
     * <pre>
     * NEW       -> RUNNING     first switchTo/yield that selects it
     * NEW       -> CLOSED      close() before it ever ran
     * RUNNING   -> SUSPENDED   it calls yield() or switchTo() on another coroutine, or close() on a suspended one
     * RUNNING   -> PARKED      it waits: a Channel operation that cannot complete yet, sleep(), a Select, an await, a join(), I/O
     * SUSPENDED -> RUNNING     a switchTo/yield selects it again, or close() starts unwinding it
     * PARKED    -> SUSPENDED   its wait completes (a partner arrived, the channel was closed, a timer expired), or
     *                         is interrupted (a withTimeout expired), or close() wakes it to unwind it
     * PARKED    -> RUNNING     its wait is cancelled (main only: deadlock, or a failure for it)
     * RUNNING   -> FINISHED    its body returns
     * RUNNING   -> FAILED      its body throws (also while being closed, if it throws something else)
     * RUNNING   -> CLOSED      its body ends while being closed
     * </pre>
     * Main, the thread itself, is only ever {@code RUNNING}, {@code SUSPENDED} or {@code PARKED}.
     * {@code yield()}, the end of a body and the delivery of a failure skip {@code PARKED} contexts;
     * {@code switchTo()} a parked one throws (see {@link Channel} for the rules).
     */
    public enum State {
        /** Created, its body has not started yet. */
        NEW,
        /** Its body is executing: this is the current context of its thread. */
        RUNNING,
        /** Started and waiting to be selected: in {@code yield()}, {@code switchTo()}, {@code close()}, or woken from a channel wait. */
        SUSPENDED,
        /**
         * Waiting on a {@link Channel}, a {@link Select}, a sleep, an {@link Coroutine#await await}, a
         * {@link Coroutine#join() join()} or I/O: no
         * {@code yield()} selects it until its wait completes, and {@code switchTo()} refuses it.
         */
        PARKED,
        /** Its body returned normally. */
        FINISHED,
        /** Its body threw; the exception was delivered to its creator, its closer, or main (see above). */
        FAILED,
        /** It was closed: before it started, or unwound from a suspension. */
        CLOSED;

        /** Whether a coroutine in this state has ended for good. */
        boolean isTerminal() {
            return this == FINISHED || this == FAILED || this == CLOSED;
        }

        /** Whether the transition table above allows moving from this state to {@code to}. */
        boolean canMoveTo(State to) {
            return switch (this) {
                case NEW -> to == RUNNING || to == CLOSED;
                case RUNNING -> to == SUSPENDED || to == PARKED || to == FINISHED || to == FAILED || to == CLOSED;
                case SUSPENDED -> to == RUNNING;
                case PARKED -> to == SUSPENDED || to == RUNNING;
                case FINISHED, FAILED, CLOSED -> false;
            };
        }
    }

    /** The scheduler's record of this coroutine. */
    final Context context;

    /** A body that takes an argument, with its argument: what {@code create(body, arg)} runs. */
    record WithArgument<T>(Consumer<? super T> body, T arg) implements Runnable {
        @Override
        public void run() {
            body.accept(arg);
        }
    }

    /** Creates the handle of {@code context}; only a {@link Context} makes one. */
    Coroutine(Context context) {
        this.context = context;
    }

    // ---- the seed's calls ------------------------------------------------------------------

    /**
     * Creates a coroutine that will run {@code body.accept(arg)}, and appends it to the calling
     * thread's run list. It does not run until a {@link #yield()} or {@link #switchTo()} selects it.
     *
     * @param body the code to run on the coroutine's own stack
     * @param arg  the argument passed to {@code body}
     * @param <T>  the argument's type
     * @return the new coroutine, in state {@link State#NEW}
     * @throws NullPointerException if {@code body} is null
     */
    public static <T> Coroutine create(Consumer<? super T> body, T arg) {
        Objects.requireNonNull(body, "body");
        return Scheduler.current().create(null, new WithArgument<>(body, arg)).handle;
    }

    /**
     * Creates a coroutine that will run {@code body}, and appends it to the calling thread's run list.
     *
     * @param body the code to run on the coroutine's own stack
     * @return the new coroutine, in state {@link State#NEW}
     * @throws NullPointerException if {@code body} is null
     */
    public static Coroutine create(Runnable body) {
        Objects.requireNonNull(body, "body");
        return Scheduler.current().create(null, body).handle;
    }

    /**
     * Creates a named coroutine that will run {@code body}; otherwise like {@link #create(Runnable)}.
     *
     * @param name the name shown by {@link #name()} as it is, and by {@link #toString()}, error messages,
     *             dumps and deadlock reports made safe for one line: a control character (a line break),
     *             a backslash or a quote escaped as in a Java literal ({@code a\nb} for a name holding a
     *             line break), a name longer than 200 characters cut there, how many more there are said
     *             ({@code …(+800 chars)}); so too the names of generators, channels and threads there
     * @param body the code to run on the coroutine's own stack
     * @return the new coroutine, in state {@link State#NEW}
     * @throws NullPointerException if {@code name} or {@code body} is null
     */
    public static Coroutine create(String name, Runnable body) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(body, "body");
        return Scheduler.current().create(name, body).handle;
    }

    /**
     * Creates a named coroutine that will run {@code body.accept(arg)}; otherwise like
     * {@link #create(Consumer, Object)}.
     *
     * @param name the name shown by {@link #name()}, {@link #toString()} and error messages
     * @param body the code to run on the coroutine's own stack
     * @param arg  the argument passed to {@code body}
     * @param <T>  the argument's type
     * @return the new coroutine, in state {@link State#NEW}
     * @throws NullPointerException if {@code name} or {@code body} is null
     */
    public static <T> Coroutine create(String name, Consumer<? super T> body, T arg) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(body, "body");
        return Scheduler.current().create(name, new WithArgument<>(body, arg)).handle;
    }

    /**
     * Suspends the current context and runs the previous entry of the run list: main runs the last
     * created coroutine, coroutine {@code i} runs {@code i - 1}, skipping {@link State#PARKED} entries.
     * Returns when something switches back. It is a scheduling point: before it chooses, it runs the
     * wake-ups other threads have posted and expires the due timers, so a context they woke may be the
     * one it runs (docs/TIME.md, docs/THREADS.md). With nothing else to run even so (before any create,
     * only main left, or every other entry parked) it returns at once; but under {@link VirtualTime},
     * with a timer pending, the clock first jumps to that timer (with a wait for another thread or for
     * I/O pending too, once nothing has come for as long, in real time, as the timer is away), and a
     * context the jump woke runs before the caller does again.
     *
     * @throws CoroutineException if, while this context was suspended, a coroutine it created failed
     * @throws CoroutineExit      if this coroutine is being closed, or a {@link #withTimeout} of it expired
     * @throws IllegalStateException if the JDK cannot suspend here, or, on the thread engine, no thread can be
     *                               started for the coroutine it would run, which stays {@code NEW} and is tried
     *                               again at the next scheduling point that chooses it, or that coroutine's body
     *                               waits for a class initializer this thread is running (docs/ENGINES.md); in main, also if no
     *                               thread can be started for the coroutine chosen as a body ended meanwhile
     *                               (the message says which, naming the caller, the call and the coroutine)
     */
    public static void yield() {
        Scheduler.current().yieldToPrevious();
    }

    /**
     * Suspends the current context and runs this coroutine; returns when something switches back.
     * Switching to the running coroutine returns at once (under {@link VirtualTime}, with nothing else
     * to run and a timer pending, once the clock has jumped to that timer, as a {@link #yield()} does:
     * a {@link #withTimeout} of the caller that expires there throws its signal).
     *
     * @throws IllegalStateException if this coroutine has ended, is {@link State#PARKED} (only what it
     *                               waits for wakes it), belongs to another thread, or the
     *                               JDK cannot suspend the caller here, or, on the thread engine, no thread can
     *                               be started for this coroutine (it stays {@code NEW}; a later switch tries
     *                               again), or its body waits for a class initializer this thread is running
     *                               (docs/ENGINES.md), or, in main, for the coroutine chosen as a body ended meanwhile (the
     *                               message says which, naming the caller, this coroutine and its state, and for
     *                               a {@code FAILED} one whom its failure was delivered to: its creator, its
     *                               closer, or main)
     * @throws CoroutineException    if, while the caller was suspended, a coroutine it created failed
     * @throws CoroutineExit         if the calling coroutine is being closed, or a {@link #withTimeout} of it expired
     */
    public void switchTo() {
        context.scheduler.checkCaller(context, "switchTo").switchTo(context);
    }

    /**
     * The index of the current context in the calling thread's run list: 0 in main (also before
     * any create). It changes when a swap-remove moves the coroutine.
     *
     * @return the current index
     */
    public static int currentId() {
        return Scheduler.current().currentIndex();
    }

    /**
     * The current context of the calling thread: the running coroutine, or main's handle.
     *
     * @return the running coroutine, or main's handle outside any coroutine
     */
    public static Coroutine current() {
        return Scheduler.current().currentContext().handle;
    }

    /**
     * Whether this coroutine's body has ended: returned, failed or closed.
     *
     * @return true once the state is {@link State#FINISHED}, {@link State#FAILED} or {@link State#CLOSED}
     * @throws IllegalStateException if called from a thread other than the owner
     */
    public boolean isFinished() {
        context.scheduler.checkCaller(context, "ask isFinished() of");
        return context.state().isTerminal();
    }

    /**
     * Parks the caller (main or another coroutine of this thread) until this coroutine has ended:
     * returned, failed or been closed. One that has ended already: returns at once, with no switch.
     * Meanwhile the caller's state is {@link State#PARKED} and {@link #dump()} shows it waiting to
     * {@code join coroutine 'name'}; when this coroutine ends, every context parked in a join of it is
     * woken as a channel wakes a receiver (it becomes {@code SUSPENDED}, and the usual order selects
     * it), in the order their joins began. A coroutine that never runs to its end never wakes its
     * joiners: if nothing else can run, the park is a deadlock, reported as any other.
     *
     * <p>The join says nothing of how the body ended: ask {@link #state()}. A failure goes where it
     * always goes ({@code docs/SEMANTICS.md}): to the coroutine's creator, or to main. A creator parked
     * in a join of the coroutine that fails counts as not parked: the failure wakes it, and is thrown
     * from this call.
     *
     * @throws IllegalStateException if this is the caller itself or main (neither ends while the caller
     *                               waits), or belongs to another thread; or, as for {@link Channel#receive()}, if
     *                               the caller cannot suspend to wait (this coroutine goes on as it was)
     * @throws CoroutineException    if this coroutine, created by the caller, failed (the failure reaches
     *                               the caller through this call); or, in main, if another coroutine it
     *                               created failed meanwhile (the join is cancelled)
     * @throws CoroutineExit         if the caller is being closed, or a {@link #withTimeout} of it expired:
     *                               the join is cancelled, this coroutine goes on as it was
     * @throws DeadlockException     if every other context of the thread is parked and nothing could wake
     *                               one (the caller is then not parked)
     */
    public void join() {
        context.scheduler.checkCaller(context, "join").join(context);
    }

    /**
     * Ends this coroutine. A finished one: nothing happens (calling it twice is fine). One that
     * never ran: it is removed from the run list and the caller keeps running. A suspended one: it
     * is unwound: its pending {@code yield()}/{@code switchTo()} throws {@link CoroutineExit}, so its
     * {@code finally} blocks run and its monitors are released; every further suspension during the
     * unwinding throws the signal again; when its body has ended it is removed and this call returns.
     * (A receive of a {@link Channel} that was handed a value before the channel closed returns it
     * instead of throwing: a closed channel takes nothing back; the signal comes at the next suspension.)
     * A failure kept for the coroutine's next suspension is not dropped for the signal: it is thrown
     * first, where the coroutine resumes, and a body that would end unwound cleanly while one is kept
     * ends by it instead.
     *
     * @throws IllegalStateException if this is the running coroutine or main, or belongs to another thread,
     *                               or the JDK cannot suspend the caller here (the message says which; this
     *                               coroutine is then left as it was, not closed)
     * @throws CoroutineException    if the body, while unwinding, threw something other than its own exit
     *                               signal (one kept from another coroutine's close is a failure too), or
     *                               ended with a failure kept for it
     * @throws CoroutineExit         if the calling coroutine is closed meanwhile: the body, unwinding, closed it
     *                               (or closed one that did)
     */
    @Override
    public void close() {
        context.scheduler.checkCaller(context, "close").close(context);
    }

    // ---- time --------------------------------------------------------------------------------

    /**
     * Parks the caller (main or a coroutine) until {@code d} has passed on its scheduler's clock; the
     * other contexts run meanwhile, and if none can, the thread waits for the earliest timer. While
     * it sleeps its state is {@link State#PARKED} and {@link #dump()} shows the sleep and its deadline.
     * When it is due it is woken like a channel wakes a receiver: it becomes {@code SUSPENDED}, and
     * the usual order selects it. Under {@link VirtualTime} no real time passes.
     *
     * @param d how long to sleep; zero or negative returns at once
     * @throws CoroutineExit          if the caller is being closed, or a {@link #withTimeout} of it expired
     * @throws CoroutineException     if a coroutine the caller created failed: while it slept (main only: the
     *                                sleep is cancelled), or after its timer woke it, before it ran again
     * @throws DeadlockException      if {@code d} is past the clock's range (its deadline never comes: no timer
     *                                is set) and nothing else of the thread could ever wake the caller
     * @throws IllegalStateException  as for {@link Channel#receive()}, if the caller cannot suspend to wait
     * @throws NullPointerException   if {@code d} is null
     */
    public static void sleep(Duration d) {
        Objects.requireNonNull(d, "d");
        Scheduler.current().sleep(d);
    }

    /**
     * The clock of the calling thread's scheduler: {@link System#nanoTime()} normally, the virtual
     * clock (starting at 0) inside {@link VirtualTime#run} or {@link VirtualTime#call}.
     *
     * @return the current time in nanoseconds, only meaningful as a difference
     */
    public static long nanoTime() {
        Scheduler s = Scheduler.currentOrNull();
        return s == null ? System.nanoTime() : s.loop.nanoTime();
    }

    /**
     * Runs {@code body} in the calling context and returns its value, unless {@code d} passes first on
     * the scheduler's clock. Then the wait the body is in ({@link #sleep}, a {@link Channel}
     * operation, a {@link Select}), or, if it is runnable, its next {@code yield()}/{@code switchTo()},
     * throws a signal (a {@link CoroutineExit}) that unwinds the body through its {@code finally}
     * blocks, and this call throws {@link CoroutineTimeoutException}.
     *
     * <p>Nothing is lost: a channel operation that completed before the deadline keeps its result (a
     * received value stays received), and the signal comes at the next scheduling point; one that had
     * not completed has taken and delivered nothing. Timeouts nest: each expires on its own, and an
     * inner one never swallows an outer one's signal (it unwinds to the outer one). A body that
     * returns without reaching a scheduling point after its deadline keeps its value. Code in a
     * {@code finally} block of an expired body that waits again is interrupted again.
     *
     * @param d    the timeout; zero throws at once without running {@code body} (in a context being closed,
     *             or inside a scope that has expired, the signal of that close or scope instead)
     * @param body the code to run
     * @param <T>  the type of its value
     * @return what {@code body} returned
     * @throws CoroutineTimeoutException if the timeout expired first
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static <T> T withTimeout(Duration d, Supplier<? extends T> body) {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        return Scheduler.forTimeout(d, "withTimeout").withTimeout(d, body);
    }

    /**
     * Like {@link #withTimeout(Duration, Supplier)} for a body without a value.
     *
     * @param d    the timeout; zero throws at once without running {@code body} (in a context being closed,
     *             or inside a scope that has expired, the signal of that close or scope instead)
     * @param body the code to run
     * @throws CoroutineTimeoutException if the timeout expired first
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static void withTimeout(Duration d, Runnable body) {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        Scheduler.forTimeout(d, "withTimeout").withTimeout(d, () -> {
            body.run();
            return null;
        });
    }

    /**
     * {@link #withTimeout(Duration, Supplier)} that reports its own expiry in its result, as
     * {@link Channel#tryReceive(Duration)} does: the body's value, or {@link Optional#empty()} if
     * {@code d} passed first, the body interrupted and unwound exactly as under {@code withTimeout}
     * (its {@code finally} blocks ran). Only this call's own expiry is empty: a
     * {@link CoroutineTimeoutException} of an inner {@code withTimeout} that the body lets out comes out
     * as it is, and the signal of an enclosing scope that expired, or of a close of the caller, unwinds
     * through this call as through {@code withTimeout}. A body that returns null gives
     * {@code Optional.empty()} too: for a body whose value may be null, or that has none, use
     * {@link #tryWithTimeout(Duration, Runnable)}, which says whether it returned.
     *
     * <pre>{@code
     * Optional<String> reply = Coroutine.tryWithTimeout(Duration.ofMillis(100), () -> replies.receive());
     * String r = reply.orElse("no reply yet"); // the receive took nothing if it timed out
     * }</pre>
     *
     * @param d    the timeout; zero gives {@code Optional.empty()} at once without running {@code body} (in a
     *             context being closed, or inside a scope that has expired, the signal of that close or scope
     *             is thrown instead)
     * @param body the code to run
     * @param <T>  the type of its value
     * @return what {@code body} returned ({@code Optional.ofNullable}), or empty if the timeout expired first
     * @throws CoroutineTimeoutException if a {@code withTimeout} inside {@code body} expired and the body let
     *                                   its exception out
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static <T> Optional<T> tryWithTimeout(Duration d, Supplier<? extends T> body) {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        return Scheduler.forTimeout(d, "tryWithTimeout").tryWithTimeout(d, () -> Optional.ofNullable(body.get()), Optional.empty());
    }

    /**
     * {@link #tryWithTimeout(Duration, Supplier)} for a body without a value: whether it returned before
     * {@code d} passed. False means the body was interrupted and unwound exactly as under
     * {@link #withTimeout(Duration, Runnable)}; every other outcome (an inner {@code withTimeout}'s
     * {@link CoroutineTimeoutException}, an outer scope's or a close's signal) comes out as there.
     *
     * <pre>{@code
     * if (!Coroutine.tryWithTimeout(Duration.ofSeconds(1), () -> jobs.send(job))) {
     *     dropped.add(job);                 // the queue stayed full for a second: the send delivered nothing
     * }
     * }</pre>
     *
     * @param d    the timeout; zero gives false at once without running {@code body} (in a context being
     *             closed, or inside a scope that has expired, the signal of that close or scope is thrown
     *             instead)
     * @param body the code to run
     * @return true if {@code body} returned, false if the timeout expired first
     * @throws CoroutineTimeoutException if a {@code withTimeout} inside {@code body} expired and the body let
     *                                   its exception out
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static boolean tryWithTimeout(Duration d, Runnable body) {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        return Scheduler.forTimeout(d, "tryWithTimeout").tryWithTimeout(d, () -> {
            body.run();
            return true;
        }, false);
    }

    /**
     * {@link #withTimeout(Duration, Supplier)} for a body that may throw a checked exception: a read of
     * a connection, anything whose {@code throws} clause a {@code Supplier} cannot carry. The timeout is
     * the same scope, with the same rules and messages (they name it {@code withTimeout}); what the body
     * throws, this throws as it is, a checked exception included. As there, only coro's waits and
     * scheduling points are interrupted: a blocking JDK call in the body (a latch's {@code await}, a
     * {@code Future}'s {@code get}, {@code Thread.sleep}) is not cut short, it blocks the thread to its
     * end, and a body that returns after it without reaching a scheduling point keeps its value.
     *
     * <pre>{@code
     * int n = Coroutine.callWithTimeout(Duration.ofSeconds(5), () -> connection.read(buffer)); // throws IOException
     * }</pre>
     *
     * @param d    the timeout; zero throws at once without running {@code body} (in a context being closed,
     *             or inside a scope that has expired, the signal of that close or scope instead)
     * @param body the code to run
     * @param <T>  the type of its value
     * @param <X>  the checked exception {@code body} may throw
     * @return what {@code body} returned
     * @throws X                         what {@code body} threw
     * @throws CoroutineTimeoutException if the timeout expired first
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static <T, X extends Exception> T callWithTimeout(Duration d, ThrowingSupplier<? extends T, X> body) throws X {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        return Scheduler.forTimeout(d, "withTimeout").withTimeout(d, () -> {
            try {
                return body.get();
            } catch (Exception e) {
                throw Coroutine.<RuntimeException>passOn(e); // withTimeout throws what its body threw, as it is
            }
        });
    }

    /**
     * {@link #callWithTimeout(Duration, ThrowingSupplier)} for a body without a value, as
     * {@link #withTimeout(Duration, Runnable)} is for {@link #withTimeout(Duration, Supplier)}: a lambda
     * whose expression has a value takes the other form, one without (a block, a call of a
     * {@code void} method) this one.
     *
     * <pre>{@code
     * Coroutine.callWithTimeout(Duration.ofSeconds(5), () -> connection.write(buffer)); // throws IOException
     * }</pre>
     *
     * @param d    the timeout; zero throws at once without running {@code body} (in a context being closed,
     *             or inside a scope that has expired, the signal of that close or scope instead)
     * @param body the code to run
     * @param <X>  the checked exception {@code body} may throw
     * @throws X                         what {@code body} threw
     * @throws CoroutineTimeoutException if the timeout expired first
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static <X extends Exception> void callWithTimeout(Duration d, ThrowingRunnable<X> body) throws X {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        callWithTimeout(d, () -> {
            body.run();
            return null;
        });
    }

    /**
     * {@link #tryWithTimeout(Duration, Supplier)} for a body that may throw a checked exception, as
     * {@link #callWithTimeout(Duration, ThrowingSupplier)} is for {@code withTimeout}: the body's value, or
     * {@link Optional#empty()} if {@code d} passed first (the body interrupted and unwound, its
     * {@code finally} blocks run), and what the body throws, this throws as it is. A read that the expiry
     * interrupted has taken no byte: the connection is left as it was, and the next read gets what the
     * peer writes next. The same scope, with the same rules and messages (they name it
     * {@code tryWithTimeout}).
     *
     * <pre>{@code
     * Optional<Integer> n = Coroutine.tryCallWithTimeout(idleTimeout, () -> connection.read(buffer));
     * if (n.isEmpty()) {
     *     connection.close(); // the peer sent nothing for idleTimeout: the read took nothing
     * }
     * }</pre>
     *
     * <p>A body that returns null gives {@code Optional.empty()} too, as for {@link #tryWithTimeout(Duration, Supplier)}:
     * {@code tryCallWithTimeout(d, reader::readLine)} gives empty at the end of the stream (a {@code BufferedReader}'s
     * null) as at its own expiry, and cannot tell the two apart. Where null means something, use
     * {@link #callWithTimeout(Duration, ThrowingSupplier)}, which returns the null and throws
     * {@link CoroutineTimeoutException} at its expiry (or wrap the value: {@code () -> Optional.ofNullable(reader.readLine())}
     * gives an empty {@code Optional} inside at the end of the stream):
     *
     * <pre>{@code
     * try {
     *     for (String line = Coroutine.callWithTimeout(idleTimeout, reader::readLine); line != null;
     *             line = Coroutine.callWithTimeout(idleTimeout, reader::readLine)) {
     *         lines.add(line);    // until the peer ends its stream: readLine's null
     *     }
     * } catch (CoroutineTimeoutException e) {
     *     connection.close();     // idle for idleTimeout: a line begun is lost with the reader, so close it
     * }
     * }</pre>
     *
     * @param d    the timeout; zero gives {@code Optional.empty()} at once without running {@code body} (in a
     *             context being closed, or inside a scope that has expired, the signal of that close or scope
     *             is thrown instead)
     * @param body the code to run
     * @param <T>  the type of its value
     * @param <X>  the checked exception {@code body} may throw
     * @return what {@code body} returned ({@code Optional.ofNullable}), or empty if the timeout expired first
     * @throws X                         what {@code body} threw
     * @throws CoroutineTimeoutException if a {@code withTimeout} inside {@code body} expired and the body let
     *                                   its exception out
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static <T, X extends Exception> Optional<T> tryCallWithTimeout(Duration d, ThrowingSupplier<? extends T, X> body)
            throws X {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        return Scheduler.forTimeout(d, "tryWithTimeout").tryWithTimeout(d, () -> {
            try {
                return Optional.ofNullable(body.get());
            } catch (Exception e) {
                throw Coroutine.<RuntimeException>passOn(e); // as callWithTimeout: what the body threw, as it is
            }
        }, Optional.empty());
    }

    /**
     * {@link #tryCallWithTimeout(Duration, ThrowingSupplier)} for a body without a value, as
     * {@link #tryWithTimeout(Duration, Runnable)} is for {@code tryWithTimeout}: whether it returned before
     * {@code d} passed; what it throws, this throws as it is.
     *
     * <pre>{@code
     * if (!Coroutine.tryCallWithTimeout(writeTimeout, () -> connection.write(buffer))) {
     *     connection.close(); // the peer did not take it all in writeTimeout: buffer.position() says how much it took
     * }
     * }</pre>
     *
     * @param d    the timeout; zero gives false at once without running {@code body} (in a context being
     *             closed, or inside a scope that has expired, the signal of that close or scope is thrown
     *             instead)
     * @param body the code to run
     * @param <X>  the checked exception {@code body} may throw
     * @return true if {@code body} returned, false if the timeout expired first
     * @throws X                         what {@code body} threw
     * @throws CoroutineTimeoutException if a {@code withTimeout} inside {@code body} expired and the body let
     *                                   its exception out
     * @throws CoroutineExit             if the caller is being closed, or a {@code withTimeout} enclosing this one
     *                                   expired: its signal unwinds through this call to its own scope
     * @throws IllegalArgumentException  if {@code d} is negative (naming the caller and its state)
     * @throws NullPointerException      if {@code d} or {@code body} is null
     */
    public static <X extends Exception> boolean tryCallWithTimeout(Duration d, ThrowingRunnable<X> body) throws X {
        Objects.requireNonNull(d, "d");
        Objects.requireNonNull(body, "body");
        return tryCallWithTimeout(d, () -> {
            body.run();
            return true;
        }).isPresent();
    }

    /** Throws {@code e} as it is, checked or not: the compiler takes it for an {@code X}. */
    @SuppressWarnings("unchecked")
    static <X extends Exception> X passOn(Exception e) throws X {
        throw (X) e;
    }

    // ---- other threads ---------------------------------------------------------------------

    /**
     * Parks the caller (main or a coroutine) until {@code stage} completes, on whatever thread
     * completes it; the other contexts of the thread run meanwhile. An already completed stage
     * returns at once, without a switch. The completion reaches this thread as a wake-up that every
     * scheduling point takes in (so a thread that keeps yielding sees it too), and a thread with
     * nothing else to do blocks until it comes (on a worker of a {@code ForkJoinPool}, as a managed
     * block, so that the pool may run its other tasks meanwhile, as during a {@code join()} there). Composes with {@link #withTimeout} (the timeout
     * interrupts the wait; the stage is left as it is) and {@link Select#onComplete}. An await, even
     * of a stage complete already, is an exchange with another thread: from then on this thread does
     * not report a wait with nothing else to run as a deadlock (docs/THREADS.md). However often a
     * stage is awaited, and the awaits interrupted, it holds one completion callback per thread. Under
     * {@link VirtualTime#run} the clock stands still while the await may still complete, and jumps to
     * the next timer once nothing has come for as long as it is away (docs/TIME.md). A future of a class of its
     * own has its {@code whenComplete} called as the wait starts, while the wait is half made: a {@code yield},
     * a park, a {@code switchTo} or a close of a coroutine made there is refused ({@code IllegalStateException}).
     *
     * <p>Memory consistency effects: as for {@code join()}, the actions of the thread that completed the
     * stage, before it completed it, <i>happen-before</i> those that follow the await's return or throw.
     *
     * @param stage what to wait for
     * @param <T>   the type of its value
     * @return its value
     * @throws java.util.concurrent.CompletionException   if it completed exceptionally (the cause is the failure), as {@code join()}
     * @throws CancellationException                      if it was cancelled, as {@code join()} (naming the caller and the stage)
     * @throws CoroutineExit                              if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException                         if a coroutine the caller created failed: while it waited
     *                                                    (main only: the await is cancelled, the stage left as it is),
     *                                                    or after it was woken, before it ran again
     * @throws IllegalStateException                      as for {@link Channel#receive()}, if the caller cannot suspend to wait
     * @throws NullPointerException                       if {@code stage} is null
     */
    @SuppressWarnings("unchecked")
    public static <T> T await(CompletionStage<T> stage) {
        if (stage != null && stage.getClass() == CompletableFuture.class && Scheduler.isMarkedConnected()) {
            try {
                T v = ((CompletableFuture<T>) stage).getNow((T) NOT_DONE); // complete: its value, or what join() throws
                if (v != NOT_DONE) {
                    return v;
                }
            } catch (CancellationException e) {
                throw cancelled(stage, e);
            }
        }
        try {
            return (T) (Object) awaitRestHandle.invokeExact(stage);
        } catch (Throwable e) {
            // as it is: awaitRest declares nothing checked, but a stage's toCompletableFuture() or whenComplete
            // may throw a checked exception sneakily, which the await throws as a select's onComplete does
            throw Coroutine.<RuntimeException>rethrown(e);
        }
    }

    /** Throws {@code t} as it is, checked or not: the compiler takes it for an {@code X}. */
    @SuppressWarnings("unchecked")
    static <X extends Throwable> X rethrown(Throwable t) throws X {
        throw (X) t;
    }

    /**
     * {@link #awaitRest(CompletionStage)}, called through a handle the JIT cannot see through (it is not
     * a constant): once a program's awaits often park, that path is hot, and a direct call would be
     * compiled into {@link #await} whole (the park included), which then grows past what callers
     * inline, and each await of a complete future becomes a call of its own (docs/BENCHMARKS.md). Set
     * once, never changed.
     */
    private static MethodHandle awaitRestHandle;

    static {
        try {
            awaitRestHandle = MethodHandles.lookup().findStatic(Coroutine.class, "awaitRest",
                    MethodType.methodType(Object.class, CompletionStage.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link #await} of all but a plain future complete already on a thread marked connected. */
    private static <T> T awaitRest(CompletionStage<T> stage) {
        CompletableFuture<T> f = futureOf(stage);
        Scheduler.markConnected(); // an exchange even if another thread completed it already: see Scheduler.connected
        try {
            @SuppressWarnings("unchecked")
            T v = f.getNow((T) NOT_DONE); // complete: its value, or what join() throws, with one read
            if (v != NOT_DONE) {
                return v;
            }
            Scheduler.current().await(f, stage, "await");
            return joined(f);
        } catch (CancellationException e) {
            throw cancelled(stage, e);
        }
    }

    /**
     * The outcome of {@code f}, complete after an await's park or when a select's {@code onComplete}
     * clause fires, read by {@code getNow}: a pool future's {@code join()} would report a cancellation as
     * a join of its own, which the await or the clause then named again.
     */
    @SuppressWarnings("unchecked")
    static <T> T joined(CompletableFuture<T> f) {
        T v = f.getNow((T) NOT_DONE);
        return v != NOT_DONE ? v : f.join();
    }

    /**
     * The cancellation of {@code stage} that {@code e} reports, naming the caller and the stage: the
     * JDK's says only which of its methods found it ({@code getNow}, {@code join}).
     */
    private static CancellationException cancelled(CompletionStage<?> stage, CancellationException e) {
        CancellationException c = new CancellationException(Scheduler.describeCaller() + " cannot await "
                + SafeText.line(stage) + ": it was cancelled");
        c.initCause(e);
        return c;
    }

    /** What {@link #await} asks of a future that is not complete yet: no value can be this object. */
    private static final Object NOT_DONE = new Object();

    /**
     * {@code stage} as a future to wait on: itself, its own future, or one it completes. A minimal
     * stage ({@link CompletableFuture#completedStage}, {@link CompletableFuture#minimalCompletionStage})
     * is a {@code CompletableFuture} whose {@code isDone()} and {@code join()} throw, so every stage
     * but a plain future goes through {@code toCompletableFuture()}, which a minimal stage answers with
     * a new future relayed from it at each call: the calling thread keeps the future it got for a
     * stage, so that a stage awaited again and again holds one callback per thread, as a plain
     * future does. A thread without a scheduler gets one to keep it in: a select built there (run by
     * another thread, say) would otherwise leave a new callback on the stage with each clause.
     */
    @SuppressWarnings("unchecked")
    static <T> CompletableFuture<T> futureOf(CompletionStage<T> stage) {
        Objects.requireNonNull(stage, "stage");
        if (stage.getClass() == CompletableFuture.class) {
            return (CompletableFuture<T>) stage; // its own future: the common case, no lookup
        }
        return Scheduler.current().loop.futureWaits().futureOf(stage);
    }

    /**
     * {@code stage} as a future, made afresh: itself, a new future {@code toCompletableFuture()}
     * relays it to, or one its completion completes (a stage whose {@code toCompletableFuture()} is
     * unsupported, or answers null against its contract). A stage that answers a future of another
     * kind than its own (a wrapper handing over the stage it wraps because that is a
     * {@code CompletableFuture}) may answer a minimal stage, a {@code CompletableFuture} whose reads
     * throw {@code UnsupportedOperationException}: that future is asked for its own in turn. Each call
     * that does not answer the stage itself leaves one more callback on it, so a thread asks once per
     * stage ({@link FutureWaits#futureOf}).
     */
    static <T> CompletableFuture<T> newFutureOf(CompletionStage<T> stage) {
        CompletableFuture<T> f = answeredFuture(stage);
        if (f != null && f != stage && f.getClass() != CompletableFuture.class) {
            // maybe a minimal stage: its own future reads (a plain or a subclass's future answers itself)
            CompletableFuture<T> own = answeredFuture(f);
            if (own != null) {
                f = own;
            }
        }
        if (f != null) {
            return f;
        }
        CompletableFuture<T> relay = new CompletableFuture<>();
        stage.whenComplete((v, t) -> {
            if (t != null) {
                relay.completeExceptionally(t);
            } else {
                relay.complete(v);
            }
        });
        return relay;
    }

    /** What {@code stage.toCompletableFuture()} answers; null if it is unsupported. */
    private static <T> CompletableFuture<T> answeredFuture(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture();
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    // ---- what a Java user expects on top -------------------------------------------------

    /**
     * This coroutine's name: the one given at creation, {@code coroutine-N} (N counting the
     * thread's creations from 1, or those of the {@link VirtualTime#run} it was created in) otherwise,
     * or {@code main} for the thread itself.
     *
     * @return the name; never null
     */
    public String name() {
        return context.name();
    }

    /**
     * This coroutine's current state.
     *
     * @return the state
     * @throws IllegalStateException if called from a thread other than the owner
     */
    public State state() {
        context.scheduler.checkCaller(context, "read the state of");
        return context.state();
    }

    /**
     * The frames of this coroutine while it is suspended or parked, innermost first. The top frame
     * is the library call it waits in ({@code Coroutine.yield}, {@code Channel.receive}, ...), also
     * when the body is a reference to that method ({@code Coroutine::yield}); the library's machinery
     * above it, and how the body is entered, are left out. For main, the frames of the thread below the
     * coroutines running on top of it.
     *
     * @return the frames; empty if it has not started or has ended
     * @throws IllegalStateException if it is {@code RUNNING} (it is the caller: use
     *                               {@link Thread#getStackTrace()}), or belongs to another thread
     */
    public StackTraceElement[] stackTrace() {
        context.scheduler.checkCaller(context, "take the stack trace of");
        return switch (context.state()) {
            case SUSPENDED, PARKED -> StackTraces.of(context);
            case RUNNING -> throw new IllegalStateException(context.scheduler.currentContext().describe()
                    + " cannot take the stack trace of " + context.describe()
                    + " (RUNNING): it is the caller itself; use Thread.currentThread().getStackTrace()");
            case NEW, FINISHED, FAILED, CLOSED -> new StackTraceElement[0];
        };
    }

    /**
     * A readable listing of every context of the calling thread's run list: index, name, state,
     * what a parked one waits for, and the top frames of each suspended or parked one and of the
     * caller itself, e.g.
     * <pre>
     * thread 'worker': 4 contexts, current index 0
     *   [0] main: RUNNING (the caller)
     *         at dev.coro.Coroutine.dump(Coroutine.java:487)
     *         at app.Pipeline.main(Pipeline.java:30)
     *   [1] coroutine 'producer': PARKED, waits to send to channel 'numbers'
     *         at dev.coro.Channel.send(Channel.java:120)
     *         at app.Pipeline.produce(Pipeline.java:12)
     *   [2] coroutine 'ticker': SUSPENDED
     *         at dev.coro.Coroutine.yield(Coroutine.java:200)
     *         at app.Pipeline.tick(Pipeline.java:20)
     *   [3] coroutine 'idle': NEW
     * </pre>
     *
     * <p>The frames are those of {@link #stackTrace()}, at most three per context. The caller's
     * (marked {@code (the caller)}) are its own stack's as it calls, cut the same way: its call of
     * {@code Coroutine.dump} first (the dump's own frames left out), then where it made it. The dump is
     * bounded: it lists the first 50 contexts, then how many more there are; {@link #dump(int)} lists
     * as many as asked for.
     *
     * @return the dump, one line per context plus its frames; just main before any create
     */
    public static String dump() {
        return ThreadDump.of(Scheduler.current(), ThreadDump.SHOWN);
    }

    /**
     * Like {@link #dump()}, listing the first {@code maxContexts} contexts of the run list, then how
     * many more there are.
     *
     * @param maxContexts how many contexts to list; {@code Integer.MAX_VALUE} for all of them
     * @return the dump
     * @throws IllegalArgumentException if {@code maxContexts} is negative
     */
    public static String dump(int maxContexts) {
        if (maxContexts < 0) {
            throw new IllegalArgumentException(Scheduler.describeCaller() + " cannot dump " // none made for the message
                    + maxContexts + " contexts: the count must be 0 or more");
        }
        return ThreadDump.of(Scheduler.current(), maxContexts);
    }

    /**
     * Whether this is main's handle: the thread itself, entry 0 of its run list.
     *
     * @return true for main's handle
     */
    public boolean isMain() {
        return context.isMain();
    }

    /**
     * The thread this coroutine belongs to: the one that created it, whose scheduler runs it for life
     * (for main's handle, the thread itself), the same on both engines. Inside a coroutine
     * {@link Thread#currentThread()} is that thread on the continuation engine but the coroutine's own
     * virtual thread on the thread engine (docs/ENGINES.md); {@code Coroutine.current().thread()} answers
     * which thread's coroutine, event loop and connections the caller is, on either. Safe to call from
     * any thread.
     *
     * @return the owner thread; never null
     */
    public Thread thread() {
        return context.scheduler.owner;
    }

    /**
     * Name and state, e.g. {@code Coroutine[ping, SUSPENDED]}. Safe to call from any thread.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "Coroutine[" + SafeText.name(name()) + ", " + context.state() + "]";
    }
}
