package dev.coro;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Waits for the first of several channel operations or a timeout, and runs exactly one of them:
 * Go's {@code select}, over channels of the caller's thread and of other threads alike.
 *
 * <pre>{@code
 * String r = new Select<String>()
 *         .onReceive(replies, v -> "reply " + v)
 *         .onSend(requests, "ping", () -> "sent")
 *         .onTimeout(Duration.ofMillis(50), () -> "timed out")
 *         .select();
 * }</pre>
 *
 * <h2>The rules, one per line</h2>
 * <ul>
 *   <li>A clause is ready if its operation can complete now: a receive finds a buffered value or a
 *       parked sender, a send finds a parked receiver or room in the buffer, a timeout is zero.</li>
 *   <li>{@link #select()} is biased: the first ready clause in the order given fires.
 *       {@link #selectUnbiased()} picks one of the ready clauses at random from the scheduler's seeded
 *       random (the seed is {@code -Dcoro.seed=N}, 0 by default, and every {@link VirtualTime#run} or
 *       {@link VirtualTime#call} starts from it, or from the seed given to {@link VirtualTime#run(long, Runnable)}
 *       or {@link VirtualTime#call(long, java.util.function.Supplier)}), so a run is
 *       reproducible.</li>
 *   <li>If none is ready, {@link #onDefault} fires if given; otherwise the caller parks on every
 *       clause at once, and the first that completes fires: its channel hands the value over (or
 *       takes it) and the other clauses leave their queues at once.</li>
 *   <li>Exactly one clause fires; the others leave no trace: no value taken, none sent.</li>
 *   <li>A clause's function runs after the operation completed, in the caller; its result is what
 *       the select returns. What it throws, the select throws as it is (a checked exception or an
 *       {@code Error} too), and the operation stays done: the value received is taken, the value sent
 *       delivered.</li>
 *   <li>A closed channel is never skipped: its clause is ready, and firing it throws
 *       {@link ChannelClosedException} naming the caller (with its thread, if the channel is another
 *       thread's), the channel and the clause (a receive only once its buffer is drained). To go on with
 *       the other clauses, build a select without it; a receive clause given {@code ifClosed}
 *       ({@link #onReceive(Channel, Function, Function)}) fires there by handing that very exception to
 *       {@code ifClosed} instead, the select returning its result. On a thread that has no scheduler yet, a run
 *       whose outcome is such a refusal known without waiting (or the failure of a clause on a channel whose thread
 *       has ended) is refused there, naming the thread, and makes it none; an unbiased one picks the clause a
 *       scheduler made then would pick, from the seed.</li>
 *   <li>A select that waits is a scheduling point like any park: a {@code withTimeout} that expires
 *       interrupts the wait (no clause fires), and so does a close of the caller. One that fires at
 *       once (a clause ready, or the default) is none, as a send into room is none: it fires even in a
 *       context being closed or whose {@code withTimeout} has expired, and the signal comes at the next
 *       scheduling point.</li>
 *   <li>A select may be run again: each run fires one clause; {@code onSend} sends the same value each time.
 *       While a run waits, a run of the same select by another context throws
 *       {@link IllegalStateException} naming both contexts: give each context its own select; so does
 *       adding a clause meanwhile (between runs, and from a clause's function, it is fine). A run that
 *       waited is over only once its context, woken (a clause fired, or its wait was interrupted), has
 *       run again and taken the outcome, which the select holds for it until then: a run or a clause
 *       meanwhile is refused too, the message saying so. A
 *       select whose clauses are all {@code onTimeout} and {@code onComplete} belongs to no thread and
 *       may be run from any; while it waits, a run from another thread is refused the same way, the
 *       message naming both threads. One with a channel clause belongs to the thread that ran it
 *       first: a run from another thread is refused, naming both, and so is a clause added from another
 *       thread (its runs read the clauses without a lock); before its first run it takes clauses from any
 *       thread, so it may be built on one thread and handed to the one that runs it.</li>
 *   <li>A clause's channel may belong to another thread (docs/THREADS.md): every rule above holds.
 *       Such a clause is ready if its operation completes in place on the channel now, or the channel,
 *       shared, is closed and drained (and, in a select that never waits, if it completes as that thread's
 *       {@code trySend}/{@code tryReceive} would); a run that meets a channel no other thread has used yet
 *       cannot try it in place, and asks its thread to share it, so that later runs can. A select that
 *       waits makes one wait for all its clauses, which the first completion, on whatever thread, claims
 *       before it moves a value, every later one leaving its channel as it was.
 *       A clause on a channel whose thread has ended fails the select as the operation would.</li>
 * </ul>
 *
 * @param <R> the type of the result
 */
public final class Select<R> {

    SelectClause<R>[] clauses = newArray(4);
    private int count;
    private Supplier<? extends R> onDefault;
    /** The clause that fired in the current run; null while none has. */
    SelectClause<R> winner;
    /**
     * While the clean-up of a run whose park was refused runs ({@link #abandon}; {@link PinnedException#refusedTheCallersPark}): a clause that won first
     * (the park ran its thread's posts, and one completed it) keeps what it did and fires, a value handed to it too.
     */
    private boolean parkRefused;
    private static final VarHandle WAITING_IN;
    private static final VarHandle BOUND_TO;

    static {
        try {
            WAITING_IN = MethodHandles.lookup().findVarHandle(Select.class, "waitingIn", Context.class);
            BOUND_TO = MethodHandles.lookup().findVarHandle(Select.class, "boundTo", Scheduler.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The context parked in a run of this select, its clauses queued on its behalf; null while none
     * is. A second context's run meanwhile is refused: the clauses can wait for one context only. A
     * run claims it by a compare-and-set before it queues anything, since a select whose clauses
     * belong to no thread ({@code onTimeout}, {@code onComplete}) may be run by contexts of several
     * threads at once.
     */
    private volatile Context waitingIn;
    /** The scheduler of the thread a select with a channel clause belongs to: the one that ran it first ({@link #bind}); null before. */
    volatile Scheduler boundTo;
    /** The wait the caller parks on during a run. */
    final Waiting waiting = new Waiting();
    /**
     * The scheduler whose thread every clause's channel was last found to belong to, so that runs on
     * its owner thread skip the check; null until a run checked, and again once a clause is added.
     */
    private Scheduler checked;
    /**
     * While a run that may wait holds its channels (their operations of other threads are posted to
     * this thread): how many of its clauses it told so; 0 otherwise. Once a clause has fired they are
     * let go ({@link #fired()}), before its function runs.
     */
    private int holding;
    /**
     * The context whose run holds the channels ({@link #holding} not 0); null once they are let go. A
     * run that ends lets them go only if they are still its own: its clause's function may suspend,
     * and another context may run the select meanwhile and wait in it, holding them in its turn.
     */
    private Context holder;
    /**
     * Whether it has an {@code onComplete} clause: a run of it is then an exchange with another
     * thread, as an await is, and marks the running thread {@link Scheduler#connected}.
     */
    private boolean completes;
    /**
     * Whether it has an {@code onTimeout} clause of zero: always ready, so a run fires at once, as one
     * with a default does, and never waits.
     */
    private boolean readyAtOnce;
    /**
     * Whether a clause's channel belongs to another thread than the one that checked it last
     * ({@link #check}): its runs there go across threads ({@link #runAcross}).
     */
    private boolean acrossThreads;

    /** Creates an empty select; add clauses, then call {@link #select()} or {@link #selectUnbiased()}. */
    public Select() {
    }

    /**
     * Adds a clause that receives from {@code channel}, then applies {@code f} to the value.
     *
     * @param channel the channel to receive from
     * @param f       what to make of the value
     * @param <T>     the channel's value type
     * @return this select
     * @throws IllegalStateException if a run of this select waits meanwhile (in any context), or was woken
     *                               from its wait and its context has not run since, naming it; or if
     *                               it has a channel clause and another thread ran it first, naming the
     *                               caller, the select and that thread
     * @throws NullPointerException  if {@code channel} or {@code f} is null
     */
    public <T> Select<R> onReceive(Channel<T> channel, Function<? super T, ? extends R> f) {
        checkNotWaiting("onReceive");
        return add(new SelectClauses.ReceiveClause<>(this, Objects.requireNonNull(channel, "channel"), Objects.requireNonNull(f, "f"), null));
    }

    /**
     * Adds a clause that receives from {@code channel}, then applies {@code f} to the value; once the channel
     * is closed and drained, the clause fires by applying {@code ifClosed} instead (Go's {@code v, ok := <-ch}
     * in a select, Kotlin's {@code onReceiveCatching}). It is the plain {@link #onReceive(Channel, Function)}
     * in all but that outcome: it is ready when that one is (a closed channel's clause is never skipped), the
     * values sent before the close are received first, and where that one would throw
     * {@link ChannelClosedException}, this one hands that very exception (its message naming the caller, the
     * channel with its state and the clause; its {@link ChannelClosedException#channel() channel()} the channel,
     * its cause the close's) to {@code ifClosed}, whose result the select returns. What {@code ifClosed} throws,
     * the select throws as it is, as for a clause's function. A fan-in that drops each finished producer's
     * channel from its next select, and ends once all are closed, needs no catch:
     *
     * <pre>{@code
     * List<Channel<String>> open = new ArrayList<>(producers);
     * while (!open.isEmpty()) {
     *     Select<Boolean> s = new Select<>();
     *     for (Channel<String> ch : open) {
     *         s.onReceive(ch, v -> got.add(v), closed -> open.remove(ch));
     *     }
     *     s.select();
     * }
     * }</pre>
     *
     * @param channel  the channel to receive from
     * @param f        what to make of the value
     * @param ifClosed what to make of the channel closed and drained: given the exception the plain clause throws
     * @param <T>      the channel's value type
     * @return this select
     * @throws IllegalStateException if a run of this select waits meanwhile (in any context), or was woken
     *                               from its wait and its context has not run since, naming it; or if
     *                               it has a channel clause and another thread ran it first, naming the
     *                               caller, the select and that thread
     * @throws NullPointerException  if {@code channel}, {@code f} or {@code ifClosed} is null
     */
    public <T> Select<R> onReceive(Channel<T> channel, Function<? super T, ? extends R> f,
                                   Function<? super ChannelClosedException, ? extends R> ifClosed) {
        checkNotWaiting("onReceive");
        return add(new SelectClauses.ReceiveClause<>(this, Objects.requireNonNull(channel, "channel"), Objects.requireNonNull(f, "f"),
                Objects.requireNonNull(ifClosed, "ifClosed")));
    }

    /**
     * Adds a clause that sends {@code value} to {@code channel}, then returns what {@code f} supplies.
     *
     * @param channel the channel to send to
     * @param value   the value to send; not null
     * @param f       what to return once it was sent
     * @param <T>     the channel's value type
     * @return this select
     * @throws IllegalStateException if a run of this select waits meanwhile (in any context), or was woken
     *                               from its wait and its context has not run since, naming it; or if
     *                               it has a channel clause and another thread ran it first, naming the
     *                               caller, the select and that thread
     * @throws NullPointerException  if {@code channel}, {@code value} or {@code f} is null
     */
    public <T> Select<R> onSend(Channel<T> channel, T value, Supplier<? extends R> f) {
        checkNotWaiting("onSend");
        return add(new SelectClauses.SendClause<>(this, Objects.requireNonNull(channel, "channel"), Objects.requireNonNull(value, "value"),
                Objects.requireNonNull(f, "f")));
    }

    /**
     * Adds a clause that fires when {@code d} has passed on the scheduler's clock (counted from the
     * start of each run) and no other clause fired before; zero makes it ready at once.
     *
     * @param d how long to wait; zero or positive
     * @param f what to return then
     * @return this select
     * @throws IllegalArgumentException if {@code d} is negative, naming the caller with its state
     * @throws IllegalStateException if a run of this select waits meanwhile (in any context), or was woken
     *                               from its wait and its context has not run since, naming it; or if
     *                               it has a channel clause and another thread ran it first, naming the
     *                               caller, the select and that thread
     * @throws NullPointerException     if {@code d} or {@code f} is null
     */
    public Select<R> onTimeout(Duration d, Supplier<? extends R> f) {
        Objects.requireNonNull(d, "d");
        checkNotWaiting("onTimeout");
        if (d.isNegative()) {
            throw negativeTimeout(d);
        }
        long nanos = Scheduler.saturatedNanos(d);
        Select<R> self = add(new SelectClauses.TimeoutClause<>(this, nanos, d, Objects.requireNonNull(f, "f")));
        readyAtOnce |= nanos == 0;
        return self;
    }

    /**
     * Adds a clause that fires when {@code stage} completes (on whatever thread completes it), then
     * applies {@code f} to its value; ready at once if it is complete already. A stage that is not its own
     * future (a minimal stage) is complete here once the future made of it is, which the thread that
     * completes the stage completes after the stage itself: a run in between (on another thread that learnt
     * of the completion through a callback of its own on the stage, say) finds it not ready yet, and takes an
     * {@code onDefault} clause if it has one, or waits until that future completes, at once after. As an
     * {@link Coroutine#await} is, a run of a select with such a clause is an exchange with another
     * thread: from then on its thread does not report a wait with nothing else to run as a deadlock
     * (docs/THREADS.md). A stage that is not its own future (a minimal stage) is made one once per
     * thread, so that the clauses built on it leave one callback on it: a thread without a scheduler
     * gets one to keep that future in. A future of a class of its own has its {@code whenComplete} called as
     * a run starts to wait, before the run's other clauses are queued: a {@code yield}, a park, a
     * {@code switchTo} or a close of a coroutine made there is refused ({@code IllegalStateException}).
     *
     * @param stage the stage to wait for
     * @param f     what to make of its value
     * @param <T>   the type of its value
     * @return this select
     * @throws IllegalStateException if a run of this select waits meanwhile (in any context), or was woken
     *                               from its wait and its context has not run since, naming it; or if
     *                               it has a channel clause and another thread ran it first, naming the
     *                               caller, the select and that thread
     * @throws NullPointerException  if {@code stage} or {@code f} is null
     */
    public <T> Select<R> onComplete(CompletionStage<T> stage, Function<? super T, ? extends R> f) {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(f, "f"); // before the stage is asked for its future: a refused call leaves nothing on it
        checkNotWaiting("onComplete");
        CompletableFuture<T> future = Coroutine.futureOf(stage);
        // again: the stage's toCompletableFuture() or whenComplete, the user's code, may have suspended the
        // caller while another context ran this select, which may wait now
        checkNotWaiting("onComplete");
        Select<R> self = add(new SelectClauses.CompleteClause<>(this, stage, future, f));
        completes = true;
        return self;
    }

    /**
     * Sets what fires when no clause is ready at once: the select then never waits (Go's {@code default}).
     *
     * @param f what to return when no clause is ready
     * @return this select
     * @throws IllegalStateException if a default was already given, or a run of this select waits
     *                               meanwhile (in any context), or was woken from its wait and its context
     *                               has not run since, naming it; or if it has a channel clause and another
     *                               thread ran it first, naming the caller, the select and that thread
     * @throws NullPointerException  if {@code f} is null
     */
    public Select<R> onDefault(Supplier<? extends R> f) {
        Objects.requireNonNull(f, "f");
        checkNotWaiting("onDefault");
        if (onDefault != null) {
            throw new IllegalStateException(Scheduler.describeCaller() + " cannot add a second onDefault to a select: it has one");
        }
        onDefault = f;
        return this;
    }

    /**
     * Runs the select, biased: the first ready clause in the order given fires; if none is ready,
     * the default if any, else the caller parks until one completes.
     *
     * @return the fired clause's result
     * @throws ChannelClosedException   if the clause that fired is on a closed channel (but for an {@code onReceive}
     *                                  given {@code ifClosed}, which is handed it instead)
     * @throws java.util.concurrent.CompletionException if the clause that fired is an {@code onComplete}
     *                                  whose stage failed (as {@code join()}: its cause the failure; its message
     *                                  naming the caller, the clause and the stage)
     * @throws CancellationException    if the clause that fired is an {@code onComplete} whose stage was
     *                                  cancelled (as {@code join()}, naming the caller, the clause and the stage)
     * @throws DeadlockException        if waiting would leave nothing to run and nothing pending on this thread
     *                                  (no timer, no wait for I/O or for another thread) while the thread has
     *                                  exchanged nothing with another thread and no {@link CoroutinePool} is open
     *                                  (otherwise it waits for a wake-up, as docs/THREADS.md says); in main, also
     *                                  if its wait is cancelled as a body ends leaving every context of such a
     *                                  thread parked
     * @throws CoroutineExit            if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException       if a coroutine the caller created failed: while it waited (main only: its
     *                                  wait is cancelled, no clause fires), or after it was woken, before it ran again
     * @throws IllegalStateException    if the select has no clause, has a channel clause and was first run on
     *                                  another thread, or a run of it in another context is not over (it waits, or
     *                                  was woken and that context has not run since); if the clause it reaches is on
     *                                  a channel whose thread has ended (naming the channel and that thread); or as
     *                                  for {@link Channel#receive()}, if the caller cannot suspend to wait
     */
    public R select() {
        return run(false);
    }

    /**
     * Runs the select, unbiased: a ready clause chosen at random (seeded, see the class comment)
     * fires; otherwise as {@link #select()}.
     *
     * @return the fired clause's result
     * @throws ChannelClosedException   if the clause that fired is on a closed channel (but for an {@code onReceive}
     *                                  given {@code ifClosed}, which is handed it instead)
     * @throws java.util.concurrent.CompletionException if the clause that fired is an {@code onComplete}
     *                                  whose stage failed (as {@code join()}: its cause the failure; its message
     *                                  naming the caller, the clause and the stage)
     * @throws CancellationException    if the clause that fired is an {@code onComplete} whose stage was
     *                                  cancelled (as {@code join()}, naming the caller, the clause and the stage)
     * @throws DeadlockException        if waiting would leave nothing to run and nothing pending on this thread
     *                                  (no timer, no wait for I/O or for another thread) while the thread has
     *                                  exchanged nothing with another thread and no {@link CoroutinePool} is open
     *                                  (otherwise it waits for a wake-up, as docs/THREADS.md says); in main, also
     *                                  if its wait is cancelled as a body ends leaving every context of such a
     *                                  thread parked
     * @throws CoroutineExit            if the caller is being closed, or a {@code withTimeout} of it expired
     * @throws CoroutineException       if a coroutine the caller created failed, as for {@link #select()}
     * @throws IllegalStateException    if the select has no clause, has a channel clause and was first run on
     *                                  another thread, or a run of it in another context is not over (it waits, or
     *                                  was woken and that context has not run since); if the clause it reaches is on
     *                                  a channel whose thread has ended (naming the channel and that thread); or as
     *                                  for {@link Channel#receive()}, if the caller cannot suspend to wait
     */
    public R selectUnbiased() {
        return run(true);
    }

    /**
     * Its clauses in the order given, then {@code default} if it has one, e.g. {@code Select[receive from
     * channel 'replies', send to channel 'requests', timeout PT0.05S, default]}; while a run waits, a
     * timeout also says when it expires ({@code timeout PT0.05S (12.500 ms left)}). Once the select has run
     * (it belongs to that thread), a clause over a channel of another thread names that thread as a plain
     * wait there does ({@code receive from channel 'jobs' of thread 'main' (#1)}). Of more than
     * {@value #CLAUSES_SHOWN} clauses, the first {@value #CLAUSES_SHOWN} are named and the rest counted
     * ({@code …(+9980 more clauses)}), as every text naming a run's wait does. Safe to call from any thread.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Select[");
        boolean any = appendClauses(b);
        if (onDefault != null) {
            b.append(any ? ", " : "").append("default");
        }
        return b.append(']').toString();
    }

    /**
     * How many clauses a text naming the select lists (its {@link #toString()}, and its wait as dumps, deadlock
     * reports, signals, the JMX view and the park event name it); the rest are counted, so that a select over
     * thousands of channels does not make each of those texts one clause longer per channel.
     */
    static final int CLAUSES_SHOWN = 20;

    /**
     * Appends the select's clauses to {@code b}, separated by commas: the first {@link #CLAUSES_SHOWN}, then how
     * many more there are ({@code , …(+9980 more clauses)}). Read once, the array and its count: another thread
     * may be adding a clause, which may grow the array.
     *
     * @return whether it appended anything
     */
    private boolean appendClauses(StringBuilder b) {
        SelectClause<R>[] cs = clauses;
        int n = Math.min(count, cs.length);
        int shown = 0;
        int i = 0;
        for (; i < n && shown < CLAUSES_SHOWN; i++) {
            SelectClause<R> c = cs[i];
            if (c != null) {
                b.append(shown == 0 ? "" : ", ").append(c.describe());
                shown++;
            }
        }
        int more = 0;
        for (; i < n; i++) {
            if (cs[i] != null) {
                more++;
            }
        }
        if (more > 0) {
            b.append(", \u2026(+").append(more).append(more == 1 ? " more clause)" : " more clauses)");
        }
        return shown > 0;
    }

    // ---- machinery ------------------------------------------------------------------------

    /**
     * Throws if a run waits: a clause added now would not wait with it, yet leave the queues and show in dumps with the
     * others; or if the select belongs to another thread than the caller's (it has a channel clause, and that thread ran
     * it first): its runs there read the clauses without a lock, so a clause added from here would race with them, as a
     * run from here is refused ({@link #bind}).
     */
    private void checkNotWaiting(String clause) {
        Context other = waitingIn;
        if (other != null) {
            throw addedWhileWaiting(clause, other);
        }
        Scheduler b = boundTo;
        if (b != null && !b.isCaller()) {
            throw addedElsewhere(clause, b);
        }
    }

    /**
     * The refusal of an {@code clause} clause to a caller of another thread than {@code b}'s, to which the select belongs,
     * naming the caller (a thread without a scheduler as a thread, none being made for the message), the select and
     * that thread, as a run from there is refused.
     */
    private IllegalStateException addedElsewhere(String clause, Scheduler b) {
        return new IllegalStateException(Scheduler.describeCallerAndThread() + " cannot add an " + clause + " clause to " + this
                + ": " + belongsTo(b));
    }

    /** The refusal of an {@code clause} clause to the caller while the select waits in {@code other}. */
    private IllegalStateException addedWhileWaiting(String clause, Context other) {
        Scheduler s = Scheduler.currentOrNull();
        boolean sameThread = s == other.scheduler;
        return new IllegalStateException(Scheduler.describeCaller() + (s != null ? ofThread(s.currentContext(), sameThread) : "")
                + " cannot add an " + clause + " clause to a select: " + runIn(other, sameThread, "it is waiting in ", "its run in ")
                + "; add clauses before or between its runs");
    }

    /**
     * The run under way in {@code other} as a refusal names it: {@code waiting} and the context with its
     * state while it waits; once it has been woken (a clause fired, or its wait was interrupted) and has
     * not run since, {@code run} and the context, and that the run is not over until that context takes
     * the outcome, which the select holds for it (its clauses keep what the run got).
     */
    private static String runIn(Context other, boolean sameThread, String waiting, String run) {
        Coroutine.State state = other.state();
        String context = other.describe() + ofThread(other, sameThread) + " (state " + state + ")";
        if (state != Coroutine.State.SUSPENDED) {
            return waiting + context;
        }
        return run + context + " is not over: its wait has ended, and that context takes the outcome when it runs again";
    }

    /**
     * The refusal of a negative {@code onTimeout(d)}, naming the caller with its state as every refusal of a negative
     * timeout does ({@code coroutine 'c' (state RUNNING) cannot add onTimeout(PT-1S) to a select: …}); a thread that has
     * no scheduler is named as a thread, with no state, and none is made for the message.
     */
    private static IllegalArgumentException negativeTimeout(Duration d) {
        Scheduler s = Scheduler.currentOrNull();
        String caller = s != null ? s.currentContext().describe() + " (state " + s.currentContext().state() + ")"
                : Scheduler.describeCaller();
        return new IllegalArgumentException(caller + " cannot add onTimeout(" + d + ") to a select: a timeout must be zero or positive");
    }

    private Select<R> add(SelectClause<R> c) {
        checked = null;
        if (count == clauses.length) {
            clauses = Arrays.copyOf(clauses, count * 2);
        }
        clauses[count++] = c;
        return this;
    }

    @SuppressWarnings("unchecked")
    private static <R> SelectClause<R>[] newArray(int n) {
        return (SelectClause<R>[]) new SelectClause<?>[n];
    }

    private R run(boolean unbiased) {
        Scheduler s = checked;
        if (s == null || Thread.currentThread() != s.owner) {
            s = check(unbiased);
        }
        Context self = s.currentContext();
        Context other = waitingIn;
        if (other != null) {
            throw waitingAlready(self, other);
        }
        if (completes) {
            s.connected = true; // a future another thread may complete: an exchange, as an await is (docs/THREADS.md)
        }
        if (onDefault != null || readyAtOnce) {
            // it never waits (a zero timeout is a default by another name): other threads may go on
            // operating in place, instead of posting to this thread, which a loop of such selects may
            // keep from ever reaching a scheduling point
            return acrossThreads ? runAcross(unbiased, s, self) : runOnce(unbiased, s, self);
        }
        hold(self); // it may wait: its channels' operations of other threads are posted meanwhile
        try {
            return acrossThreads ? runAcross(unbiased, s, self) : runOnce(unbiased, s, self);
        } finally {
            if (holder == self) { // not let go yet (its wait ended otherwise): neither by it nor by a later run
                fired();
            }
        }
    }

    /**
     * Holds the select's channels for the run of {@code self} that may wait: tells them the run starts
     * looking at them, so that their operations of other threads are posted meanwhile. A hold another run
     * left, let go of by no one (that run's context suspended before it waited, in the user's code its
     * readiness check or refusal ran: a future's {@code isDone()}, a value's {@code toString()}), is taken
     * over first, so that the channels are told once, and that run holds them again if it goes on to wait.
     * Only the clauses there now are told: a clause function may add clauses during the run.
     */
    private void hold(Context self) {
        fired();
        int announced = count;
        selectingOnChannels(announced, true);
        holding = announced;
        holder = self;
    }

    /**
     * Claims the select for the wait of {@code self}'s run on {@code s}, refused if a run of another context
     * waits in it already. A select bound to {@code s}'s thread (it has a channel clause) runs on that thread
     * alone, so no other can claim it meanwhile: a plain check and store, with no fence; one that belongs to
     * no thread is claimed by a compare-and-set. A method of its own, so that the run's own code stays
     * within what the JIT compiles into its callers.
     */
    private void claim(Context self, Scheduler s) {
        Context other;
        if (boundTo == s) {
            if ((other = waitingIn) != null) {
                throw waitingAlready(self, other);
            }
            WAITING_IN.setRelease(this, self);
            return;
        }
        while (!WAITING_IN.compareAndSet(this, null, self)) {
            if ((other = waitingIn) != null) {
                throw waitingAlready(self, other);
            }
        }
    }

    /**
     * Frees the select once a run's wait is over, for a run of any context to claim. A release: a thread that
     * sees it free sees all the run did; nothing the run reads next depends on that thread, so it needs no
     * fence.
     */
    private void free() {
        WAITING_IN.setRelease(this, (Context) null);
    }

    /**
     * A run of {@code self} about to wait whose hold on its channels another run took over and let go of
     * meanwhile: the user's code in its readiness check (a future's {@code isDone()}) suspended
     * {@code self}, and another context ran this select. Refused as any run while another waits;
     * otherwise it holds its channels again and looks for a ready clause again, since an operation of
     * another thread may have run in place on them meanwhile.
     */
    private R heldAgain(boolean unbiased, Scheduler s, Context self) {
        Context other = waitingIn;
        if (other != null) {
            throw waitingAlready(self, other);
        }
        hold(self);
        return acrossThreads ? runAcross(unbiased, s, self) : runOnce(unbiased, s, self);
    }

    /**
     * The run is over (a clause fired, or its wait ended otherwise): its channels are let go, once,
     * before a fired clause's function runs (it may suspend, and never be resumed).
     */
    void fired() {
        int n = holding;
        if (n != 0) {
            holding = 0;
            holder = null;
            selectingOnChannels(n, false);
        }
    }

    /**
     * Tells the channels of the first {@code n} clauses that a run that may wait starts looking at
     * them ({@code true}) or is over, its clauses out of their queues ({@code false}).
     */
    private void selectingOnChannels(int n, boolean starts) {
        for (int i = 0; i < n; i++) {
            if (clauses[i] instanceof SelectClauses.ChannelClause<?, R> c && !c.foreign) { // another thread's channel is not held
                if (starts) {
                    c.channel.selectWillWait();
                } else {
                    c.channel.selectDone();
                }
            }
        }
    }

    /** One run, by {@code self} on {@code s}: fires a ready clause, else the default, else waits for one. */
    private R runOnce(boolean unbiased, Scheduler s, Context self) {
        for (SelectClause<R> ready; (ready = unbiased ? randomReady(s) : firstReady()) != null; ) {
            Object r = ready.fireNow(self);
            if (r != NOT_READY) {
                @SuppressWarnings("unchecked")
                R result = (R) r;
                return result;
            }
            // its only partner, a waiter of another thread, left between the check and the firing
            // (timed out, closed): the clause is not ready after all, and the select goes on
        }
        if (onDefault != null) {
            return Callback.get(onDefault);
        }
        if (holder != self && boundTo != null) { // only after the user's code suspended it: a select with a channel clause runs on one thread
            return heldAgain(unbiased, s, self);
        }
        claim(self, s); // a run of another thread may have claimed it since
        winner = null;
        SelectClause<R> w;
        try {
            if (completes) {
                registerCompletionsFirst(self, s);
            } else {
                for (int i = 0; i < count; i++) {
                    clauses[i].register(self, s);
                }
            }
            s.park(waiting);
            w = winner; // by field accesses alone, no call: the stack may be near its end
            winner = null;
        } catch (Throwable t) {
            // by field writes alone, before the clean-up's first call (see Channel.parkOn): if a stack
            // overflow stops it, self finishes it at its next scheduling point or its end
            if (self.unfinishedCleanup == null) {
                self.unfinishedCleanup = waiting;
                if (self.pendingThrow == null) {
                    self.pendingThrow = Context.CLEANUP_LEFT;
                }
            }
            if (!abandon(self, t)) {
                throw t;
            }
            w = winner; // its clause keeps the value it was handed: t comes at the next scheduling point
            winner = null;
        } finally {
            free(); // only once the winner is read: a run of another thread may claim the select from here on
        }
        assert w != null : self.describe() + " resumed from " + waiting + " with no clause fired";
        fired(); // its other clauses are out of their queues: the channels are let go before its function runs
        return w.result(self);
    }

    /**
     * Registers every clause of a select that has {@code onComplete} clauses, those first: registering one may
     * call the {@code whenComplete} of a future of a class of its own, the user's code, which must find no
     * channel clause and no timer of this run queued yet. A send there to a channel of a receive clause (or a
     * receive from one of a send clause) would otherwise complete the clause while its context still runs,
     * the select then parking with its clause fired and its value taken, for ever; a completion there is posted
     * and taken in once the select waits (a scheduling point there is refused: {@link FutureWaits#add}).
     */
    private void registerCompletionsFirst(Context self, Scheduler s) {
        for (int i = 0; i < count; i++) {
            if (clauses[i] instanceof SelectClauses.CompleteClause<?, R> c) {
                c.register(self, s);
            }
        }
        for (int i = 0; i < count; i++) {
            if (!(clauses[i] instanceof SelectClauses.CompleteClause<?, R>)) {
                clauses[i].register(self, s);
            }
        }
    }

    /**
     * The refusal of a run across threads by its clause {@code order[k]} ({@code REFUSED}: its channel closed, or its
     * thread ended), met before any clause
     * fired: the run then exchanged nothing unless a clause met before it was on another thread's channel (open: it was
     * looked at in place, or asked of its thread, as a try call does). With none, the caller's thread is left as
     * connected as it was ({@code connectedBefore}), as a send refused on another thread's closed channel leaves it
     * (docs/THREADS.md): a wait of it with nothing else to run is still a deadlock. Cold: only a refused run comes here.
     */
    private RuntimeException refusedAcross(Scheduler s, boolean connectedBefore, int[] order, int k, Context self) {
        if (!metAnotherThreadsChannelBefore(order, k)) {
            s.connected = connectedBefore;
        }
        return ((SelectClauses.ChannelClause<?, R>) clauses[order[k]]).refusal(self);
    }

    /**
     * The outcome of a run across threads whose clause {@code order[k]}, an {@code onReceive} with {@code ifClosed}, met
     * another thread's channel closed and drained as read in place ({@code CLOSED_IN_PLACE}) before any clause fired: the
     * run exchanged nothing unless a clause met before it was on another thread's channel, as {@link #refusedAcross}
     * judges, so the caller's thread is left as connected as it was before {@code ifClosed} runs, as a {@code tryReceive}
     * there leaves it; then the clause fires. Cold: only such a clause comes here.
     */
    private R closedInPlace(Scheduler s, boolean connectedBefore, int[] order, int k, Context self) {
        if (!metAnotherThreadsChannelBefore(order, k)) {
            s.connected = connectedBefore;
        }
        @SuppressWarnings("unchecked")
        SelectClauses.ReceiveClause<?, R> c = (SelectClauses.ReceiveClause<?, R>) clauses[order[k]];
        return c.closedOutcome(self);
    }

    /** Whether a clause a run across threads met before its clause {@code order[k]} is on another thread's channel. */
    private boolean metAnotherThreadsChannelBefore(int[] order, int k) {
        boolean met = false;
        for (int j = 0; j < k; j++) {
            met |= clauses[order[j]] instanceof SelectClauses.ChannelClause<?, R> c && c.foreign;
        }
        return met;
    }

    /**
     * For a run across threads that found no clause ready and would now wait: the refusal its wait would meet as it
     * starts, if the first clause (in the run's {@code order}) on another thread's channel is on one whose thread has
     * ended leaving it open with nothing to take ({@link Channel#refusesAsItsThreadEnded}); null otherwise, the run
     * going on to wait (a clause registered before it may complete at once: it is asked of its channel's thread, or it
     * takes a value an ended thread left). The caller's own clauses before it were found not ready, so none of them
     * completes as it registers. The run looked at every clause: it exchanged something with another thread only if
     * one of them is on a channel of another thread that lives (looked at in place, or asked to share it); with none,
     * the caller's thread is left as connected as it was ({@code connectedBefore}), as {@link #refusedAcross} leaves
     * it. One read of each such channel's thread.
     */
    private RuntimeException endedAsItWouldWait(Scheduler s, boolean connectedBefore, int[] order, Context self) {
        SelectClauses.ChannelClause<?, R> first = null;
        boolean metALiveThreadsChannel = false;
        for (int k = 0; k < count; k++) {
            if (clauses[order[k]] instanceof SelectClauses.ChannelClause<?, R> c && c.foreign) {
                if (first == null) {
                    if (!c.channel.refusesAsItsThreadEnded(c.sender)) {
                        return null;
                    }
                    first = c;
                } else if (!c.channel.refusesAsItsThreadEnded(c.sender)) {
                    metALiveThreadsChannel = true;
                }
            }
        }
        if (first == null) {
            return null;
        }
        if (!metALiveThreadsChannel) {
            s.connected = connectedBefore;
        }
        return first.refusal(self);
    }

    /**
     * The order in which a run across threads tries the clauses: as given, or, {@code unbiased}, shuffled by picks from
     * {@code s}'s seeded random; with {@code s} null (a thread that has none: {@link #refuseInPlace}), by the picks a
     * scheduler made now would make, from {@link Scheduler#SEED}, none being made.
     */
    private int[] clauseOrder(boolean unbiased, Scheduler s) {
        int n = count;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (unbiased) {
            long random = Scheduler.SEED;
            for (int i = n - 1; i > 0; i--) {
                int j;
                if (s != null) {
                    j = s.nextRandom(i + 1);
                } else {
                    random += Scheduler.RANDOM_STEP;
                    j = Scheduler.randomAt(random, i + 1);
                }
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /**
     * One run by {@code self} on {@code s} of a select with a clause on another thread's channel: fires a
     * ready clause (in the order given, or in a random order if {@code unbiased}), else the default, else
     * waits for one. A clause on another thread's channel is ready if its operation completes in place on
     * the channel (shared, no select of its thread waiting there), or, in a run that never waits, as a
     * {@code try} call of another thread. A run that waits makes one wait ({@link SelectClaim}) that every
     * clause shares: each channel clause meets its channel as an operation of another thread does (or of
     * this thread, on its own channel), completing at once if it can; the first completion to lock the
     * wait wins it and moves its value, and every other finds it over and leaves its channel as it was.
     * The caller, woken through its event loop, takes the other clauses out of their queues.
     */
    private R runAcross(boolean unbiased, Scheduler s, Context self) {
        boolean connectedBefore = s.connected; // what a run refused before it met another thread's open channel leaves
        s.connected = true; // an exchange with another thread, as every operation on another thread's channel is
        int n = count;
        int[] order = clauseOrder(unbiased, s);
        boolean mayWait = onDefault == null && !readyAtOnce;
        for (int k = 0; k < n; k++) {
            Object r = clauses[order[k]].tryFire(self, !mayWait);
            if (r != NOT_READY) {
                if (r == REFUSED) {
                    throw refusedAcross(s, connectedBefore, order, k, self);
                }
                if (r == CLOSED_IN_PLACE) {
                    return closedInPlace(s, connectedBefore, order, k, self);
                }
                @SuppressWarnings("unchecked")
                R result = (R) r;
                return result;
            }
        }
        if (!mayWait) {
            return Callback.get(onDefault); // a zero timeout is ready: with no default it fired
        }
        RuntimeException ended = endedAsItWouldWait(s, connectedBefore, order, self);
        if (ended != null) {
            throw ended;
        }
        if (holder != self && boundTo != null) { // only after the user's code suspended it: a select with a channel clause runs on one thread
            return heldAgain(unbiased, s, self);
        }
        // made before the select is claimed: an allocation that fails here (no memory left) leaves it free for its next run
        SelectClaim claim = new SelectClaim(self, this, n);
        claim(self, s);
        EventLoop loop = s.loop;
        Object w;
        loop.foreignWaitStarted(); // another thread may complete it: not a deadlock
        loop.remoteWaitStarted(claim); // ended if a thread of a channel it waits on ends
        try {
            self.checkSignals(claim); // before anything could complete it: see Channel.queue
            for (int k = 0; k < n && claim.isOpen(); k++) {
                int i = order[k];
                claim.registered = k + 1;
                claim.ops[i] = clauses[i].registerAcross(self, s, claim);
            }
            if (claim.isOpen()) {
                if (beforeParkAcross != null) {
                    beforeParkAcross.accept(claim);
                }
                s.park(claim);
            }
            w = claim.winner;
        } catch (Throwable t) {
            if (self.unfinishedCleanup == null) { // by field writes alone, as in runOnce
                self.unfinishedCleanup = claim.withdrawal;
                if (self.pendingThrow == null) {
                    self.pendingThrow = Context.CLEANUP_LEFT;
                }
            }
            w = abandonAcross(self, claim, t);
            if (w == null) {
                throw t;
            }
        } finally {
            loop.remoteWaitEnded(claim);
            loop.foreignWaitEnded();
            waitingIn = null;
        }
        claim.withdrawal.finish();
        if (w == null) {
            throw claim.ended(self);
        }
        fired();
        if (w instanceof SelectOp<?> op) {
            @SuppressWarnings("unchecked")
            SelectClause<R> c = (SelectClause<R>) op.clause();
            return c.resultAcross(self, op);
        }
        @SuppressWarnings("unchecked")
        SelectClause<R> c = (SelectClause<R>) w;
        return c.resultAcross(self, null);
    }

    /**
     * The wait of {@code self} in a run across threads ended by {@code t}: interrupted, unless a clause had
     * won it first; every clause leaves its queue. A receive clause that won gives back its value, unless its
     * channel has closed since: it keeps the value and fires, and {@code t} comes at the next scheduling point.
     * If {@code t} is the refusal of the caller's park itself ({@link PinnedException#refusedTheCallersPark}: the
     * JDK cannot suspend it, or the context it would run gets no thread), the caller never left: a clause that
     * won before it (on a channel of another thread, or on one of the caller's own whose post the park ran
     * first: a receiver of another thread took an {@code onSend}'s value) fires as if the caller had waited (a
     * value it sent stays sent, one it took is its own), and the select is not refused while a clause took
     * effect; with none, the refusal goes on, nothing done.
     *
     * @return the winner that fires (keeping its value); null if {@code t} goes on
     */
    private Object abandonAcross(Context self, SelectClaim claim, Throwable t) {
        if (self.unfinishedCleanup == claim.withdrawal) { // interrupts the wait first: a clause that won stays the winner
            self.finishCleanup();
        } else {
            claim.withdrawal.finish();
        }
        if (claim.isDone() && PinnedException.refusedTheCallersPark(t)) {
            return claim.winner; // won before the park was refused: done, so not refused
        }
        if (claim.isDone() && claim.winner instanceof SelectOp<?> op && !op.sender && !op.closed && op.value != null) {
            if (!op.giveBack()) {
                self.throwAtNextPoint(t);
                return op;
            }
        }
        return null;
    }

    /**
     * The refusal of a run by {@code self} while the select waits in {@code other}, naming both
     * contexts, and their threads if they are not the same.
     */
    private IllegalStateException waitingAlready(Context self, Context other) {
        boolean sameThread = self.scheduler == other.scheduler;
        return waitingAlready(self.describe() + ofThread(self, sameThread), other, sameThread);
    }

    /**
     * The refusal of a run by {@code caller} (a context, with its thread unless {@code sameThread}; or a thread without
     * a scheduler) while the select waits in {@code other}.
     */
    private IllegalStateException waitingAlready(String caller, Context other, boolean sameThread) {
        return new IllegalStateException(caller + " cannot " + Wait.describe(waiting) + ": "
                + runIn(other, sameThread, "this select is waiting already, in ", "this select's run in ")
                + "; a select waits in one context at a time, so give each context its own");
    }

    private static String ofThread(Context c, boolean sameThread) {
        return sameThread ? "" : " of thread " + Scheduler.describe(c.scheduler.owner);
    }

    /**
     * Checks, for the caller's scheduler, that the select has a clause and may run on it ({@link #bind}),
     * and notes which clauses' channels belong to other threads (a run then goes {@link #runAcross}); a
     * run on that scheduler's owner thread need not check again.
     */
    private Scheduler check(boolean unbiased) {
        if (count == 0 && onDefault == null) { // before any scheduler is asked for: a thread without one gets none for the refusal
            throw new IllegalStateException(Scheduler.describeCaller() + " cannot select: the select has no clause, so it would wait forever");
        }
        boolean channels = false;
        for (int i = 0; i < count; i++) {
            channels |= clauses[i] instanceof SelectClauses.ChannelClause<?, R>;
        }
        if (channels) {
            if (Scheduler.currentOrNull() == null) { // none made for a message
                Scheduler bound = boundTo;
                if (bound != null) {
                    throw boundElsewhere(Scheduler.describeCallerAndThread(), bound);
                }
                refuseInPlace(unbiased);
            }
            bind(Scheduler.current());
        }
        Context other = waitingIn;
        if (other != null && Scheduler.currentOrNull() == null) {
            // a run of a thread without a scheduler while the select waits in a context of another thread: none made
            // for the refusal, which names the thread as every refusal does (run() refuses the others)
            throw waitingAlready(Scheduler.describeCaller(), other, false);
        }
        // only once the run may go on: a refused run of another thread must not note the clauses for its own
        // thread (a channel of that thread as the caller's own), which the next run of this one would take as noted
        boolean across = false;
        for (int i = 0; i < count; i++) {
            across |= clauses[i].isForeign();
        }
        acrossThreads = across;
        Scheduler s = Scheduler.current();
        checked = s;
        return s;
    }

    /**
     * On a thread without a scheduler: throws the refusal of the run if it is known there, naming the thread as the
     * caller, so that the refusal makes it none and binds the select to no thread, as a send or a receive refused on a
     * closed channel of another thread makes none. The run's first look at its clauses is made as {@link #runAcross}
     * makes it (every channel is another thread's, here), changing nothing: in the order given, or, {@code unbiased},
     * in the order a scheduler made now would try them in (its random from the seed, {@link Scheduler#randomAt}:
     * none is made, so the next such run starts from the seed again). An {@code onTimeout} that is not zero is not ready
     * yet; a clause on an open channel is passed over if it is known not to be ready in place
     * ({@link Channel#notReadyInPlace}; one on a channel not shared yet, in a run that may wait, asks its thread to share
     * it, as the run does); the first clause on a closed channel that refuses ({@link SelectClauses.ChannelClause#refusedInPlace}: an
     * {@code onSend}, or an {@code onReceive} without {@code ifClosed} once drained) is the one that fires, ready
     * before any default (a closed channel's clause is never skipped). A clause on an open channel whose thread has
     * ended with nothing left in it to take ({@link Channel#endedRefusal}) fails the run as the operation would: at
     * once in a run that never waits (its try asks that thread), else once no clause was ready nor refused, as the run
     * would start to wait on it (the first such in the order). Any other clause met first (one that may be ready, one
     * whose channel's thread must be asked, a zero timeout, a completion, a receive that takes a value left or fires
     * its {@code ifClosed}) leaves the outcome to the run, which goes on.
     */
    private void refuseInPlace(boolean unbiased) {
        int n = count;
        int[] order = clauseOrder(unbiased, null);
        boolean mayWait = onDefault == null && !readyAtOnce;
        IllegalStateException ended = null; // the first clause a run that may wait would find ended as it starts to wait
        for (int k = 0; k < n; k++) {
            SelectClause<R> c = clauses[order[k]];
            if (c instanceof SelectClauses.TimeoutClause<R> t && t.nanos > 0) {
                continue;
            }
            if (!(c instanceof SelectClauses.ChannelClause<?, R> cc)) {
                return;
            }
            if (cc.channel.isClosed()) {
                ChannelClosedException refused = cc.refusedInPlace(Scheduler.describeCallerAndThread());
                if (refused != null) {
                    throw refused;
                }
                return;
            }
            if (!cc.channel.owner().isAlive()) { // nothing is tried in place: the run meets it as it tries it, or waits on it
                IllegalStateException refused = cc.channel.endedRefusal(cc.sender, Scheduler.describeCallerAndThread());
                if (refused != null && !mayWait) {
                    throw refused;
                }
                if (refused == null && ended == null) {
                    return; // a value left in it, which the run takes
                }
                ended = ended == null ? refused : ended;
                continue;
            }
            if (!cc.channel.notReadyInPlace(cc.sender, mayWait)) {
                return;
            }
            if (mayWait) {
                cc.channel.askToShare(); // as the run's first look does: nothing if it is shared
            }
        }
        if (ended != null) {
            throw ended; // no clause ready, none refused at once: the first on a channel whose thread ended ends the wait
        }
    }

    /**
     * Binds the select, which has a channel clause, to the thread of its first run, {@code s}'s: its clauses
     * then keep their state for that thread's runs alone. A run from another thread is refused, naming
     * both threads (a select without a channel clause belongs to no thread).
     */
    private void bind(Scheduler s) {
        Scheduler b = boundTo;
        if (b == s || b == null && BOUND_TO.compareAndSet(this, null, s)) {
            return;
        }
        b = boundTo;
        if (b != s) {
            throw boundElsewhere(s.currentContext().describe() + " of thread " + Scheduler.describe(s.owner), b);
        }
    }

    /** The refusal of a run by {@code caller} of a select that belongs to {@code b}'s thread, naming both threads. */
    private IllegalStateException boundElsewhere(String caller, Scheduler b) {
        return new IllegalStateException(caller + " cannot " + Wait.describe(waiting) + ": " + belongsTo(b));
    }

    /** Why a select bound to {@code b}'s thread refuses another thread: it belongs to that one, which ran it first. */
    private static String belongsTo(Scheduler b) {
        return "this select belongs to thread " + Scheduler.describe(b.owner) + " (which ran it first"
                + (b.owner.isAlive() ? "" : ", and has ended") + "); a select with a channel clause runs on one thread, so give"
                + " each thread its own";
    }

    private SelectClause<R> firstReady() {
        for (int i = 0; i < count; i++) {
            if (clauses[i].isReady()) {
                return clauses[i];
            }
        }
        return null;
    }

    /**
     * A ready clause picked at random; null if none is. A waiter of another thread may leave a
     * channel between the count and the pick (it timed out, or its coroutine was closed): then it
     * counts again.
     */
    private SelectClause<R> randomReady(Scheduler s) {
        while (true) {
            int ready = 0;
            for (int i = 0; i < count; i++) {
                if (clauses[i].isReady()) {
                    ready++;
                }
            }
            if (ready == 0) {
                return null;
            }
            int pick = s.nextRandom(ready);
            for (int i = 0; i < count; i++) {
                if (clauses[i].isReady() && pick-- == 0) {
                    return clauses[i];
                }
            }
        }
    }

    /** What {@link SelectClause#fireNow} returns for a clause that turned out not to be ready: no result can be this object. */
    static final Object NOT_READY = new Object();
    /**
     * What {@link SelectClause#tryFire} returns for a channel clause refused at once, nothing moved: its channel closed (and
     * drained, for a receive without {@code ifClosed}), or, in a run that never waits, another thread's channel whose
     * thread has ended leaving it open with nothing to take. The run throws its {@link SelectClauses.ChannelClause#refusal}. No result can be this object.
     */
    static final Object REFUSED = new Object();
    /**
     * What {@link SelectClause#tryFire} returns for an {@code onReceive} with {@code ifClosed} on another thread's channel read
     * in place closed and drained, before its {@code ifClosed} runs: nothing moved, so the run may leave its thread as
     * connected as it was before {@code ifClosed}'s code (which may connect it) runs ({@link #closedInPlace}). No result
     * can be this object.
     */
    static final Object CLOSED_IN_PLACE = new Object();

    /**
     * For tests: run by a run across threads that waits ({@link #runAcross}) with its wait, once every clause is
     * registered and just before its caller parks, so that a test can let another thread complete a clause
     * first (as {@link Channel#beforeParkAcross}). Null (the default) runs nothing.
     */
    static Consumer<ForeignWait> beforeParkAcross;

    /** {@code c} completed first: it fires, and every other clause leaves its queue or timer now. */
    void won(SelectClause<R> c) {
        winner = c;
        for (int i = 0; i < count; i++) {
            clauses[i].unregister();
        }
    }

    /**
     * The park of {@code self} ended by {@code t}, without a clause firing (or a value came with it):
     * the clean-up ({@link Waiting#finish}), marked by the caller if no other is ({@link Context#finishCleanup}),
     * made now otherwise. A receive clause handed a value before its channel closed keeps it (see
     * {@link Channel#giveBack}): the clause stays the winner, the select fires it, and {@code t} comes
     * at the next scheduling point. If {@code t} is the refusal of the caller's park itself
     * ({@link PinnedException#refusedTheCallersPark}: the JDK cannot suspend the caller, docs/PINNING.md; or, on
     * the thread engine, the context it would run gets no thread or waits for a class initializer the caller
     * runs, docs/ENGINES.md) and a clause won first (the park ran its thread's posts, and one completed it: a receiver of another thread
     * took the value of an {@code onSend}), the clause keeps what it did and fires, and {@code t} is dropped: the
     * select did what it was asked, and must not throw a refusal as well, nor leave one for later.
     *
     * @return true if the winner keeps its value and fires
     */
    private boolean abandon(Context self, Throwable t) {
        boolean refused = PinnedException.refusedTheCallersPark(t);
        parkRefused = refused;
        try {
            if (self.unfinishedCleanup == waiting) {
                self.finishCleanup();
            } else {
                waiting.finish(); // another clean-up is marked still (the park threw at its check): this one at once
            }
        } finally {
            parkRefused = false;
        }
        if (winner == null) {
            return false;
        }
        if (!refused) {
            self.throwAtNextPoint(t);
        }
        return true;
    }

    /** What the caller waits for while parked in a run: every clause at once. */
    private final class Waiting implements Wait, Cleanup {

        /**
         * The clean-up of a park that ended without a clause firing, or with an exception after one
         * fired: every clause leaves its queue or its timer, and the winner, if any, stays the winner only
         * if it keeps its value ({@link SelectClause#keeps}), or the park was refused ({@link #parkRefused}). Changes nothing more if done again.
         */
        @Override
        public void finish() {
            for (int i = 0; i < count; i++) {
                clauses[i].unregister();
            }
            SelectClause<R> w = winner;
            if (w != null && !parkRefused && !w.keeps()) {
                winner = null;
            }
        }

        @Override
        public boolean interrupt() {
            for (int i = 0; i < count; i++) {
                clauses[i].unregister();
            }
            return true;
        }

        /** Whether the clause that fired is an {@code onSend} whose value a receiver took. */
        @Override
        public boolean sentItsValue() {
            return winner instanceof ChannelWaiter<?> w && w.sentItsValue();
        }

        @Override
        public String reason() {
            return "select";
        }

        /** {@code select over } and the clauses as {@link Select#toString()} names them: the first {@value Select#CLAUSES_SHOWN}, then a count. */
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("select over ");
            appendClauses(b);
            return b.toString();
        }
    }
}
