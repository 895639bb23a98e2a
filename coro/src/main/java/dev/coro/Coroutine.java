package dev.coro;

import java.util.Objects;
import java.util.function.Consumer;

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
 * throws {@link IllegalStateException} naming both threads ({@link #name()} and {@link #toString()}
 * excepted). Any method may suspend: there is no colouring of functions, stacks grow on demand.
 *
 * <p>Nothing is lost: a body that throws ends as {@link State#FAILED} and its creator (main if the
 * creator has ended) resumes with a {@link CoroutineException} whose cause is what was thrown.
 * {@link #close()} unwinds a suspended coroutine: its pending {@code yield()} or {@code switchTo()}
 * throws {@link CoroutineExit}, so its {@code finally} blocks run and the monitors it holds are released.
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
     * RUNNING   -> PARKED      it calls a Channel operation that cannot complete yet
     * SUSPENDED -> RUNNING     a switchTo/yield selects it again, or close() starts unwinding it
     * PARKED    -> SUSPENDED   the channel completes its wait (a partner arrived, or the channel was closed)
     * PARKED    -> RUNNING     close() starts unwinding it, or its wait is cancelled (main only: deadlock, or a failure for it)
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
        /** Waiting on a {@link Channel}: no {@code yield()} selects it until the channel wakes it. */
        PARKED,
        /** Its body returned normally. */
        FINISHED,
        /** Its body threw; the exception was delivered to its creator. */
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

    final Scheduler scheduler;
    /** Who resumes with this coroutine's failure, if still alive; null for main. */
    final Coroutine creator;
    /** The name given at creation; null for a default name, made from {@link #number} when asked for. */
    private final String name;
    /** Which of its thread's creations this is, counting from 1; 0 for main. */
    private final int number;
    private Runnable body;
    /** Confined to the owner thread like everything else here; toString() may read a stale value. */
    private State state;
    /** Index in the scheduler's run list; -1 when not in it. */
    int index = -1;
    /** The engine's execution vehicle for the body (a continuation, or a thread); null for main. */
    Strand strand;
    /** Set by close(): the body is unwinding and every suspension point throws {@link CoroutineExit}. */
    boolean closing;
    /** Who called close() on this coroutine, and resumes when its body has ended. */
    Coroutine closer;
    /** Thrown from this context's pending suspension when it next resumes: a CoroutineException or the exit signal. */
    Throwable pendingThrow;
    /** While {@link State#PARKED}: what it waits for, e.g. {@code receive from channel 'jobs'}. */
    String waitingFor;
    /** The innermost generator whose body runs on this context's stack; null if none. */
    Generator<?> innermostGenerator;

    /** Creates main's handle for a scheduler. */
    Coroutine(Scheduler scheduler, String name) {
        this.scheduler = scheduler;
        this.creator = null;
        this.name = name;
        this.number = 0;
        this.state = State.RUNNING;
    }

    /**
     * Creates a coroutine; the scheduler appends it to its run list. A null {@code name} means the
     * default {@code coroutine-<number>}, built only when asked for (no string per creation).
     */
    Coroutine(Scheduler scheduler, Coroutine creator, String name, int number, Runnable body) {
        this.scheduler = scheduler;
        this.creator = creator;
        this.name = name;
        this.number = number;
        this.body = body;
        this.state = State.NEW;
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
        return Scheduler.current().create(null, () -> body.accept(arg));
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
        return Scheduler.current().create(null, body);
    }

    /**
     * Creates a named coroutine that will run {@code body}; otherwise like {@link #create(Runnable)}.
     *
     * @param name the name shown by {@link #name()}, {@link #toString()} and error messages
     * @param body the code to run on the coroutine's own stack
     * @return the new coroutine, in state {@link State#NEW}
     * @throws NullPointerException if {@code name} or {@code body} is null
     */
    public static Coroutine create(String name, Runnable body) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(body, "body");
        return Scheduler.current().create(name, body);
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
        return Scheduler.current().create(name, () -> body.accept(arg));
    }

    /**
     * Suspends the current context and runs the previous entry of the run list: main runs the last
     * created coroutine, coroutine {@code i} runs {@code i - 1}, skipping {@link State#PARKED} entries.
     * Returns when something switches back. With nothing else to run (before any create, only main
     * left, or every other entry parked) it returns at once.
     *
     * @throws CoroutineException if, while this context was suspended, a coroutine it created failed
     * @throws CoroutineExit      if this coroutine is being closed
     * @throws IllegalStateException if the JDK cannot suspend here (the message says why)
     */
    public static void yield() {
        Scheduler.current().yieldToPrevious();
    }

    /**
     * Suspends the current context and runs this coroutine; returns when something switches back.
     * Switching to the running coroutine returns at once.
     *
     * @throws IllegalStateException if this coroutine has ended, belongs to another thread, or the
     *                               JDK cannot suspend the caller here (the message says which)
     * @throws CoroutineException    if, while the caller was suspended, a coroutine it created failed
     * @throws CoroutineExit         if the calling coroutine is being closed
     */
    public void switchTo() {
        scheduler.checkCaller(this, "switchTo").switchTo(this);
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
        return Scheduler.current().currentContext();
    }

    /**
     * Whether this coroutine's body has ended: returned, failed or closed.
     *
     * @return true once the state is {@link State#FINISHED}, {@link State#FAILED} or {@link State#CLOSED}
     * @throws IllegalStateException if called from a thread other than the owner
     */
    public boolean isFinished() {
        scheduler.checkCaller(this, "isFinished");
        return state.isTerminal();
    }

    /**
     * Ends this coroutine. A finished one: nothing happens (calling it twice is fine). One that
     * never ran: it is removed from the run list and the caller keeps running. A suspended one: it
     * is unwound: its pending {@code yield()}/{@code switchTo()} throws {@link CoroutineExit}, so its
     * {@code finally} blocks run and its monitors are released; every further suspension during the
     * unwinding throws the signal again; when its body has ended it is removed and this call returns.
     *
     * @throws IllegalStateException if this is the running coroutine or main, or belongs to another thread
     * @throws CoroutineException    if the body, while unwinding, threw something other than the exit signal
     */
    @Override
    public void close() {
        scheduler.checkCaller(this, "close").close(this);
    }

    // ---- what a Java user expects on top -------------------------------------------------

    /**
     * This coroutine's name: the one given at creation, {@code coroutine-N} (N counting the
     * thread's creations from 1) otherwise, or {@code main} for the thread itself.
     *
     * @return the name; never null
     */
    public String name() {
        return name != null ? name : "coroutine-" + number;
    }

    /**
     * This coroutine's current state.
     *
     * @return the state
     * @throws IllegalStateException if called from a thread other than the owner
     */
    public State state() {
        scheduler.checkCaller(this, "state");
        return state;
    }

    /**
     * The frames of this coroutine while it is suspended or parked, innermost first. The top frame
     * is the library call it waits in ({@code Coroutine.yield}, {@code Channel.receive}, ...); the
     * library's machinery above it is left out. For main, the frames of the thread below the
     * coroutines running on top of it.
     *
     * @return the frames; empty if it has not started or has ended
     * @throws IllegalStateException if it is {@code RUNNING} (it is the caller: use
     *                               {@link Thread#getStackTrace()}), or belongs to another thread
     */
    public StackTraceElement[] stackTrace() {
        scheduler.checkCaller(this, "take the stack trace of");
        return switch (state) {
            case SUSPENDED, PARKED -> StackTraces.of(this);
            case RUNNING -> throw new IllegalStateException("cannot take the stack trace of " + describe()
                    + ": it is RUNNING, it is the caller itself; use Thread.currentThread().getStackTrace()");
            case NEW, FINISHED, FAILED, CLOSED -> new StackTraceElement[0];
        };
    }

    /**
     * A readable listing of every context of the calling thread's run list: index, name, state,
     * what a parked one waits for, and the top frames of each suspended or parked one, e.g.
     * <pre>
     * thread 'worker': 4 contexts, current index 0
     *   [0] main: RUNNING (the caller)
     *   [1] coroutine 'producer': PARKED, waits to send to channel 'numbers'
     *         at dev.coro.Channel.send(Channel.java:120)
     *         at app.Pipeline.produce(Pipeline.java:12)
     *   [2] coroutine 'ticker': SUSPENDED
     *         at dev.coro.Coroutine.yield(Coroutine.java:200)
     *         at app.Pipeline.tick(Pipeline.java:20)
     *   [3] coroutine 'idle': NEW
     * </pre>
     *
     * <p>The frames are those of {@link #stackTrace()}, at most three per context.
     *
     * @return the dump, one line per context plus its frames; just main before any create
     */
    public static String dump() {
        return ThreadDump.of(Scheduler.current());
    }

    /**
     * Whether this is main's handle: the thread itself, entry 0 of its run list.
     *
     * @return true for main's handle
     */
    public boolean isMain() {
        return scheduler.main == this;
    }

    /**
     * Name and state, e.g. {@code Coroutine[ping, SUSPENDED]}. Safe to call from any thread.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "Coroutine[" + name() + ", " + state + "]";
    }

    // ---- package-private machinery --------------------------------------------------------

    /** The state, read without the caller check. */
    State stateUnchecked() {
        return state;
    }

    /** Moves to {@code to}; the only place where the state changes. Asserts the edge is in the table. */
    void moveTo(State to) {
        assert state.canMoveTo(to) : name() + ": " + state + " -> " + to;
        state = to;
    }

    /** Puts back the state a transfer the JDK refused had set; bypasses the table on purpose. */
    void revertTo(State to) {
        state = to;
    }

    /** Runs the body once; the engine calls this on the coroutine's own stack. */
    void runBody() {
        body.run();
    }

    /** Drops the body and the strand so an ended coroutine keeps nothing reachable. */
    void release() {
        body = null;
        strand = null;
        closer = null;
    }

    /** A phrase naming this coroutine for error messages, e.g. {@code coroutine 'ping'}. */
    String describe() {
        return (scheduler.main == this ? "main context '" : "coroutine '") + name() + "'";
    }
}
