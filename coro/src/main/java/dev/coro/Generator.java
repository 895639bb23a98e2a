package dev.coro;

import java.lang.ref.WeakReference;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A body with a stack of its own that produces values on demand: a lazy iterator written as a loop.
 *
 * <pre>{@code
 * try (Generator<Integer> squares = Generator.of(out -> {
 *     for (int i = 1; ; i++) out.emit(i * i);
 * })) {
 *     squares.next(); // 1, and the body stops right after emit(1)
 * }
 * }</pre>
 *
 * <h2>The rules, one per line</h2>
 * <ul>
 *   <li>The body runs only inside {@link #hasNext()}, {@link #next()}, {@link TwoWay#send} and
 *       {@link #close()}, until it emits or ends, while the caller waits; nothing runs it otherwise. It
 *       runs on the caller's thread on the continuation engine, and on a virtual thread of its own,
 *       {@code coro generator NAME}, on the thread engine.</li>
 *   <li>It is not a coroutine of the run list: its consumer drives it. Any context can consume it
 *       (main, a coroutine, another generator's body), and generators nest: on the thread engine to
 *       any depth; on the continuation engine each nested body runs on its consumer's stack, so the
 *       thread's stack bounds the nesting (some hundreds of levels on a 1 MiB stack), and going past it
 *       fails cleanly: a {@link CoroutineException} whose root cause is the {@link StackOverflowError}.</li>
 *   <li>{@link Coroutine#yield()} (or a parking {@link Channel} operation) inside the body suspends
 *       the consuming context, generator and all; both resume intact when it is selected again.</li>
 *   <li>The body may {@link Coroutine#sleep sleep} and use {@link Coroutine#withTimeout} between its
 *       emits, but not emit inside a {@code withTimeout} it opened itself: that {@code emit} throws
 *       {@link IllegalStateException}, since the timer would run on while the body is suspended and
 *       interrupt its consumer instead. Nor inside a {@link VirtualTime#run} (or {@link VirtualTime#call}) it opened: its consumer
 *       would go on on the virtual clock.</li>
 *   <li>{@link Emitter#emit} returns what the consumer sent with {@link TwoWay#send}; null after
 *       {@code hasNext()}/{@code next()}, and always null in a one-way generator.</li>
 *   <li>An exception from the body reaches the consumer from the call that ran it, as a
 *       {@link CoroutineException} whose cause is the original; the generator is then {@code FAILED}.</li>
 *   <li>{@link #close()} unwinds a body suspended at {@code emit}: that {@code emit} throws
 *       {@link CoroutineExit}, so {@code finally} blocks run; every further {@code emit} throws it again.</li>
 *   <li>If the consuming coroutine is closed while the body is inside {@code Coroutine.yield()}, the
 *       body unwinds, the generator becomes {@code CLOSED}, and the exit signal passes on to the consumer.</li>
 *   <li>A coroutine created in the body is its consumer's child: its failure goes to the consumer,
 *       thrown by the consumer's pending call; if that is a {@code Coroutine.yield()} in the body and
 *       the body does not catch it, the body unwinds, the generator becomes {@code CLOSED}, and the
 *       failure passes on to the consumer as it is (so too if the body catches it and throws it again
 *       before it emits). Such a failure that a body throws after it reached its context's own code, after
 *       the body caught it and emitted a value, or that was delivered to another context, is that body's
 *       failure, as any exception it throws.</li>
 *   <li>A generator dropped while suspended, without {@code close()}, never runs its {@code finally}
 *       blocks: consume it with try-with-resources, or to its end (a {@link #stream()} that stops early,
 *       by {@code findFirst} or {@code limit}, leaves it suspended: close the stream, or the generator).
 *       It is garbage once nothing refers to it, with what its frames held, even if a generator its
 *       body consumed lives on.</li>
 *   <li>{@link #buffered(String, int, Body) Generator.buffered(name, n, body)} lets the body run ahead
 *       of its consumer by up to {@code n} values, one resume per {@code n} values: its side effects
 *       happen earlier than the consumer sees the values; every other rule above holds as written,
 *       a failure reaching the consumer after the values emitted before it.</li>
 *   <li>It belongs to the thread that created it. Consuming it from another thread, from inside its
 *       own body, or while it is suspended inside a {@code Coroutine.yield()}, a {@code switchTo} or a wait
 *       (a sleep, a channel, a select, an await) of another consumer
 *       throws {@link IllegalStateException}; so do reading its {@link #state()} and emitting from
 *       another thread. Its {@link #name()} and {@link #toString()} answer any thread.</li>
 * </ul>
 *
 * <p>States: {@code NEW -> RUNNING} (first resumed), {@code RUNNING -> SUSPENDED} (it emitted),
 * {@code SUSPENDED -> RUNNING} (resumed again), {@code RUNNING -> FINISHED | FAILED | CLOSED} (its
 * body returned, threw, or unwound from {@link #close()}), {@code NEW -> CLOSED} (closed unstarted);
 * a read-ahead generator whose body ended with values waiting goes {@code SUSPENDED -> FINISHED |
 * FAILED | CLOSED} when they are taken or dropped.
 * A generator is never {@code PARKED}: its consumer is.
 *
 * @param <T> the type of the emitted values
 */
public sealed class Generator<T> extends Fiber implements Iterator<T>, Iterable<T>, AutoCloseable
        permits Generator.TwoWay, BufferedGenerator {

    /**
     * The life cycle of a generator. A generator is never parked: its consumer is.
     *
     * <p>Transitions (trigger on the right):
     * <pre>
     * NEW       -> RUNNING     first hasNext/next/close that resumes it
     * NEW       -> CLOSED      close() before it ever ran
     * RUNNING   -> SUSPENDED   its body emits
     * SUSPENDED -> RUNNING     hasNext/next/send resumes it, or close() starts unwinding it
     * SUSPENDED -> FINISHED | FAILED | CLOSED
     *                         read-ahead only: its body ended with values waiting, and hasNext/next
     *                         found none left (FINISHED, FAILED), or close() dropped them (CLOSED)
     * RUNNING   -> FINISHED    its body returns
     * RUNNING   -> FAILED      its body throws (also while being closed, if it throws something else)
     * RUNNING   -> CLOSED      its body ends while being closed, or its consumer's exit signal, or a
     *                         coroutine's failure delivered to its consumer, unwinds it
     * </pre>
     */
    public enum State {
        /** Created, its body has not started yet. */
        NEW,
        /** Its body is executing, on behalf of its consumer (which may itself be suspended meanwhile). */
        RUNNING,
        /**
         * Suspended at an {@code emit}, waiting for its consumer to ask again; for a
         * {@link Generator#buffered read-ahead} generator, also while values it emitted wait to be
         * taken after its body has ended.
         */
        SUSPENDED,
        /** Its body returned. */
        FINISHED,
        /** Its body threw; the exception was delivered to its consumer. */
        FAILED,
        /** It was closed: before it started, or unwound from an {@code emit}. */
        CLOSED
    }

    /**
     * What a generator's body emits through.
     *
     * @param <T> the type of the emitted values
     * @param <R> the type of the replies a {@link TwoWay} consumer sends back; {@code Void} for one way
     */
    @FunctionalInterface
    public interface Emitter<T, R> {
        /**
         * Hands {@code value} to the consumer and suspends the body until the consumer asks again.
         *
         * @param value the value; may be null
         * @return what the consumer sent back with {@link TwoWay#send}, or null
         * @throws CoroutineExit         if the generator is being closed, or its consumer has been closed or a
         *                               {@link Coroutine#withTimeout} of it has expired since the consumer
         *                               resumed the body (the body is being unwound with it); not if that
         *                               signal has not been thrown yet because the wait the body parked in
         *                               had completed first and kept its result (a value received): then the
         *                               value is handed over and the signal comes at the consumer's next
         *                               scheduling point
         * @throws IllegalStateException if not called from this generator's running body (a call from another
         *                               thread never is, even while the body runs: the message names both
         *                               threads), if called inside
         *                               a {@link Coroutine#withTimeout} that the body itself opened (its
         *                               timer would run on against the consumer while the body is
         *                               suspended) or a {@link VirtualTime#run} or {@link VirtualTime#call} that it opened (its consumer
         *                               would run on the virtual clock), or if the JDK cannot suspend it here
         *                               (the message says which)
         */
        R emit(T value);
    }

    /**
     * A generator's body.
     *
     * @param <T> the type of the emitted values
     * @param <R> the type of the replies; {@code Void} for one way
     */
    @FunctionalInterface
    public interface Body<T, R> {
        /**
         * Runs the body, emitting through {@code out}.
         *
         * @param out the emitter
         * @throws Exception anything; it reaches the consumer as the cause of a {@link CoroutineException}
         */
        void run(Emitter<T, R> out) throws Exception;
    }

    /**
     * A generator whose consumer sends a reply back for each value, as with Python's {@code send}.
     *
     * <pre>{@code
     * Generator.TwoWay<Integer, Integer> g = Generator.twoWay(out -> {
     *     int total = 0;
     *     while (true) total += out.emit(total);
     * });
     * g.next();     // 0
     * g.send(5);    // 5
     * g.send(2);    // 7
     * }</pre>
     *
     * @param <T> the type of the emitted values
     * @param <R> the type of the replies
     */
    public static final class TwoWay<T, R> extends Generator<T> {
        TwoWay(String name, Body<? extends T, ? super R> body) {
            super(name, body);
        }

        /**
         * Resumes the body so that its pending {@code emit} returns {@code reply}, and returns the
         * next value it emits.
         *
         * @param reply what the pending {@code emit} returns
         * @return the next emitted value
         * @throws NoSuchElementException if the body ends without emitting again, or had ended
         * @throws IllegalStateException  if there is no pending {@code emit} to reply to: the body has
         *                                not emitted yet, its value was not taken yet ({@code hasNext()}
         *                                ran it to its first emit), or {@code hasNext()} already resumed it
         * @throws CoroutineException     if the body throws, or as for {@link #hasNext()}
         * @throws CoroutineExit          as for {@link #hasNext()}
         */
        public T send(R reply) {
            return resumeWith(reply);
        }

        @Override
        public boolean hasNext() {
            if (Thread.currentThread() != owner || state == S_RUNNING) {
                // refused before it records anything: a refused call resumes nothing, and the mark is the consumer's
                checkConsumer(HAS_NEXT);
            }
            if (!((Generator<T>) this).hasBuffered) { // it resumes the body: from NEW to its first emit, or past an emit replying null
                firstWaiting = state == S_NEW;
            }
            return super.hasNext();
        }
    }

    private static final State[] STATES = State.values();
    static final byte S_NEW = (byte) State.NEW.ordinal();
    static final byte S_RUNNING = (byte) State.RUNNING.ordinal();
    static final byte S_SUSPENDED = (byte) State.SUSPENDED.ordinal();
    static final byte S_FINISHED = (byte) State.FINISHED.ordinal();
    static final byte S_FAILED = (byte) State.FAILED.ordinal();
    static final byte S_CLOSED = (byte) State.CLOSED.ordinal();

    /**
     * The scheduler of the thread that created it, held weakly: its thread holds it while it lives, and
     * a generator kept after that thread ended (its body suspended, or never started) must not keep it
     * and all it holds. Any call that reads it runs as that thread, which is alive then; a call from
     * another thread finds it gone once the thread has ended and is refused ({@link #checkThread}).
     */
    private final WeakReference<Scheduler> home;
    /**
     * For a read-ahead generator, the context that runs its body, from the resume until control is
     * back with that consumer; else null. Each of the many emits per resume checks against it in a few
     * loads ({@link #checkEmitter}); a plain generator, one emit per resume, does not store it: the
     * collector's barrier on that store would cost more than the check saves. A body runs only while
     * its thread lives, so this keeps nothing past that thread.
     */
    private Context runningIn;
    /** The scheduler's thread, kept here so that the consumer check of each call is one comparison. */
    final Thread owner;
    private final String name;
    /** The body's stack; null once the body has ended or if it was closed unstarted. */
    GeneratorStack stack;
    /**
     * The state, as the ordinal of its {@link State} ({@link #S_NEW} ...): a byte, so that the two
     * changes of each element are plain stores, without the GC's write barrier of a reference.
     */
    byte state = S_NEW;
    /** A value emitted and not yet taken. */
    private boolean hasBuffered;
    private T buffered;
    /** What the pending emit returns: set by {@link TwoWay#send} only, null at every other time. */
    private Object reply;
    /** The body ended; {@link #thrown} says how. */
    private boolean ended;
    /** What the body threw, if it ended by throwing. */
    Throwable thrown;
    /**
     * While resumed: the generator that was innermost on the consumer's stack before this one; null
     * otherwise. Written only when there is one (a nested resume), and cleared when that resume
     * returns, so that a generator that lives on never keeps the one whose body consumed it (and
     * that body's frames) reachable.
     */
    private Generator<?> outer;
    private boolean iterated;
    /**
     * Two-way only: the last {@code hasNext()} that resumed the body ran it from {@code NEW}, so a
     * value it left waiting is the body's first and no emit was resumed; read only while a value
     * waits, which only such a {@code hasNext()} leaves. For the message of a {@code send} then.
     */
    boolean firstWaiting;
    /**
     * What is true of the body's current resume, in bits: {@link #RESUMED_UNDER_SIGNAL} and
     * {@link #FAILURE_THROWN_INSIDE}. Each resume stores it whole, so that a mark of the last resume
     * is gone without a store of its own.
     */
    private byte resumeMarks;
    /**
     * A bit of {@link #resumeMarks}: its consumer had a signal pending when it resumed the body (it is
     * being closed, or a {@code withTimeout} of it has expired), thrown already: a consumer unwinding
     * through a {@code finally} may still consume a generator there. One that arose since, or one held
     * back then ({@link Context#signalHeldBack}: the consumer was not unwinding yet), is unwinding the
     * body itself, and every emit throws it again ({@link #checkEmitter}).
     */
    private static final byte RESUMED_UNDER_SIGNAL = 1;
    /**
     * A bit of {@link #resumeMarks}: a coroutine's failure delivered to its consumer, {@link #failureInside},
     * was thrown in this resume at the consumer's pending call inside this body or one it consumes
     * ({@link #failureThrownInside}); set on that cold path only.
     */
    private static final byte FAILURE_THROWN_INSIDE = 2;
    /**
     * With {@link #FAILURE_THROWN_INSIDE}: that failure. Thrown again by the body before it emits, it is
     * still its consumer's ({@link #consumers}); once the body has handed a value over since, it is the
     * body's own. Cleared as the body's end is told. Held weakly: a body that caught it and dropped it
     * cannot throw it again, and a generator left suspended must not keep it (with what it references)
     * for its life; one the body still holds to throw again stays reachable through the body's stack.
     */
    private WeakReference<CoroutineException> failureInside;

    Generator(String name, Body<? extends T, ?> body) {
        Scheduler s = Scheduler.current();
        this.home = s.weakly;
        this.owner = s.owner;
        this.name = name != null ? name : defaultName(s);
        // the body emits values of a subtype of T and takes replies of a supertype of the consumer's: it may
        // be handed an emitter of T and of any reply
        @SuppressWarnings("unchecked")
        Body<T, Object> b = (Body<T, Object>) body;
        // one emitter class per kind, so that each emit call site stays monomorphic; a read-ahead
        // generator is one-way, so its emit returns no reply
        @SuppressWarnings("unchecked")
        Emitter<T, Object> out = this instanceof BufferedGenerator<?> ahead
                ? v -> {
                    ((BufferedGenerator<T>) ahead).emitAhead(v);
                    return null;
                } : this::emitFromBody;
        this.stack = s.engine.newGeneratorStack(this.name, body, () -> {
            try {
                b.run(out);
            } catch (Throwable t) {
                thrown = t;
            } finally {
                ended = true;
            }
        });
        s.generatorsCreated++; // counted once it is made: one that failed for want of memory numbers none
    }

    /**
     * Makes a one-way generator named {@code generator-N}; its body does not start yet.
     *
     * @param body the body, emitting through its argument
     * @param <T>  the type of the values
     * @return the generator, in state {@code NEW}
     * @throws NullPointerException if {@code body} is null
     */
    public static <T> Generator<T> of(Body<? extends T, Void> body) {
        return new Generator<>(null, Objects.requireNonNull(body, "body"));
    }

    /**
     * Makes a named one-way generator; its body does not start yet.
     *
     * @param name the name shown in messages and {@link #toString()}, made safe for one line as for {@link Coroutine#create(String, Runnable)}
     * @param body the body, emitting through its argument
     * @param <T>  the type of the values
     * @return the generator, in state {@code NEW}
     * @throws NullPointerException if {@code name} or {@code body} is null
     */
    public static <T> Generator<T> of(String name, Body<? extends T, Void> body) {
        return new Generator<>(Objects.requireNonNull(name, "name"), Objects.requireNonNull(body, "body"));
    }

    /**
     * Makes a two-way generator named {@code generator-N}: each {@code emit} returns the consumer's reply.
     *
     * @param body the body, emitting through its argument
     * @param <T>  the type of the values
     * @param <R>  the type of the replies
     * @return the generator, in state {@code NEW}
     * @throws NullPointerException if {@code body} is null
     */
    public static <T, R> TwoWay<T, R> twoWay(Body<? extends T, ? super R> body) {
        return new TwoWay<>(null, Objects.requireNonNull(body, "body"));
    }

    /**
     * Makes a named two-way generator.
     *
     * @param name the name shown in messages and {@link #toString()}, made safe for one line as for {@link Coroutine#create(String, Runnable)}
     * @param body the body, emitting through its argument
     * @param <T>  the type of the values
     * @param <R>  the type of the replies
     * @return the generator, in state {@code NEW}
     * @throws NullPointerException if {@code name} or {@code body} is null
     */
    public static <T, R> TwoWay<T, R> twoWay(String name, Body<? extends T, ? super R> body) {
        return new TwoWay<>(Objects.requireNonNull(name, "name"), Objects.requireNonNull(body, "body"));
    }

    /**
     * Makes a read-ahead generator named {@code generator-N}: see {@link #buffered(String, int, Body)}.
     *
     * @param n    how many values the body may run ahead of its consumer, at least 1
     * @param body the body, emitting through its argument
     * @param <T>  the type of the values
     * @return the generator, in state {@code NEW}
     * @throws IllegalArgumentException if {@code n < 1}, naming the generator and {@code n}
     * @throws NullPointerException     if {@code body} is null
     */
    public static <T> Generator<T> buffered(int n, Body<? extends T, Void> body) {
        return readAhead(null, n, Objects.requireNonNull(body, "body"));
    }

    /**
     * Makes a named read-ahead generator: its body runs ahead of its consumer by up to {@code n}
     * values, so that one resume and one suspension are paid per {@code n} values instead of per value.
     *
     * <p>Each time its consumer needs a value and none is left, the body runs on, past each
     * {@code emit}, until it has emitted {@code n} values (it suspends inside the {@code n}-th
     * {@code emit}) or has ended; the consumer then takes those values without running it.
     * <b>The body's side effects therefore happen earlier than the consumer sees the values:</b>
     * whatever the body does between its emits (printing, I/O, changing state it shares, taking
     * from a channel) may happen up to {@code n} values before the consumer has taken the value
     * emitted there. Use it for bodies whose work between emits is private to them.
     *
     * <p>Everything else is as for {@link #of(String, Body)}: nothing runs before the first
     * {@code hasNext()}/{@code next()}; a failure of the body reaches the consumer at the value
     * where it happened (first every value emitted before it, then the {@link CoroutineException});
     * {@code close()} drops the values not yet taken and unwinds the body ({@code finally} blocks
     * run); {@code Coroutine.yield()} in the body suspends the consumer with it; it nests, streams,
     * and is confined to its thread alike. While values are waiting it is {@code SUSPENDED}, even
     * if its body has already ended: the consumer learns how it ended ({@code FINISHED} or
     * {@code FAILED}) from the {@code hasNext()}/{@code next()} that finds no value left.
     * {@code buffered(name, 1, body)} is a plain generator. There is no read-ahead two-way generator:
     * each reply must reach the body before it emits again.
     *
     * @param name the name shown in messages and {@link #toString()}, made safe for one line as for {@link Coroutine#create(String, Runnable)}
     * @param n    how many values the body may run ahead of its consumer, at least 1
     * @param body the body, emitting through its argument
     * @param <T>  the type of the values
     * @return the generator, in state {@code NEW}
     * @throws IllegalArgumentException if {@code n < 1}, naming the generator and {@code n}
     * @throws NullPointerException     if {@code name} or {@code body} is null
     */
    public static <T> Generator<T> buffered(String name, int n, Body<? extends T, Void> body) {
        return readAhead(Objects.requireNonNull(name, "name"), n, Objects.requireNonNull(body, "body"));
    }

    private static <T> Generator<T> readAhead(String name, int n, Body<? extends T, Void> body) {
        if (n < 1) {
            Scheduler s = Scheduler.currentOrNull(); // a refusal makes the thread no scheduler (SEMANTICS)
            String named = name != null ? name : "generator-" + ((s == null ? 0 : s.generatorsCreated) + 1);
            throw new IllegalArgumentException(Scheduler.describeCaller() + " cannot make generator '" + SafeText.name(named)
                    + "' buffered with n = " + n
                    + ": it must be able to run ahead by at least 1 value (n >= 1)");
        }
        return n == 1 ? new Generator<>(name, body) : new BufferedGenerator<>(name, n, body);
    }

    /** The name the next generator made without one on {@code s}'s thread gets. */
    private static String defaultName(Scheduler s) {
        return "generator-" + (s.generatorsCreated + 1);
    }

    /**
     * Whether the body emits another value: runs it up to its next {@code emit} if no value is waiting.
     *
     * @return false once the body has ended
     * @throws CoroutineException    if the body throws (once; the generator is then {@code FAILED}); or a
     *                               coroutine's failure delivered to the caller while inside the body (the body
     *                               unwound by it, the generator {@code CLOSED})
     * @throws CoroutineExit         if the caller is closed, or a {@link Coroutine#withTimeout} of it expires, while
     *                               inside the body (the body unwound by it, the generator {@code CLOSED})
     * @throws IllegalStateException on misuse: another thread, from its own body, or while another
     *                               consumer is suspended inside it
     */
    @Override
    public boolean hasNext() {
        return available(HAS_NEXT);
    }

    /** How a refusal of {@link #hasNext()} names the call. */
    static final String HAS_NEXT = "hasNext on";
    /** How a refusal of {@link #next()} names the call: the one its caller made, not the {@code hasNext()} it runs. */
    static final String NEXT = "take the next value of";

    /** How a refusal of {@link #forEachRemaining} names the call: the one its caller made, not the {@code hasNext()} it runs. */
    static final String FOR_EACH_REMAINING = "forEachRemaining on";

    /** {@link #hasNext()} for a caller that made another call, which {@code op} names for a refusal; overridden by a read-ahead generator. */
    boolean hasNextFor(String op) {
        return available(op);
    }

    /** {@link #hasNext()}, called directly by {@link #next()}: {@code op} names the call for a refusal. */
    private boolean available(String op) {
        if (Thread.currentThread() != owner || state == S_RUNNING) {
            checkConsumer(op);
        }
        if (!hasBuffered && (state == S_SUSPENDED || state == S_NEW)) {
            advance();
        }
        return hasBuffered;
    }

    /**
     * The next emitted value: runs the body up to its next {@code emit} if no value is waiting.
     *
     * @return the value
     * @throws NoSuchElementException if the body has ended
     * @throws CoroutineException     if the body throws (once; the generator is then {@code FAILED}), or as for
     *                                {@link #hasNext()}
     * @throws CoroutineExit          as for {@link #hasNext()}
     * @throws IllegalStateException  on misuse, as for {@link #hasNext()}
     */
    @Override
    public T next() {
        if (!available(NEXT)) {
            throw noNext();
        }
        return takeValue();
    }

    /**
     * Hands each remaining value to {@code action}, in order, running the body as {@link #next()} does;
     * a refusal names this call, where {@link Iterator}'s default would name the {@code hasNext()} it runs.
     *
     * @param action what each value is handed to
     * @throws CoroutineException    as for {@link #next()}
     * @throws CoroutineExit         as for {@link #hasNext()}
     * @throws IllegalStateException on misuse, as for {@link #hasNext()}
     * @throws NullPointerException  if {@code action} is null
     */
    @Override
    public void forEachRemaining(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action");
        while (available(FOR_EACH_REMAINING)) {
            Callback.accept(action, takeValue());
        }
    }

    /**
     * Hands each value to {@code action}, in order, as a {@code for} loop over this generator does
     * (through {@link #iterator()}, which counts as the one iteration); a null {@code action} is refused
     * naming it before anything runs, where {@link Iterable}'s default names nothing.
     *
     * @param action what each value is handed to
     * @throws NullPointerException  if {@code action} is null
     * @throws IllegalStateException as for {@link #iterator()}, or on misuse as for {@link #hasNext()}
     * @throws CoroutineException    as for {@link #next()}
     * @throws CoroutineExit         as for {@link #hasNext()}
     */
    @Override
    public void forEach(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action");
        for (T v : this) { // Iterable's default, through a frame that tells where the action begins
            Callback.accept(action, v);
        }
    }

    /**
     * Refused: a generator hands its values out, it holds none to remove. Said in the shape of every
     * refusal (the caller, the call, the generator and its state), where {@link Iterator}'s default says
     * only {@code remove}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void remove() {
        Scheduler here = Scheduler.currentOrNull();
        // a caller of another thread is named with its thread, as every refusal names it
        String caller = here != null && here.owner == owner ? here.currentContext().describe() : Scheduler.describeCallerAndThread();
        throw new UnsupportedOperationException(caller + " cannot remove a value of " + describe()
                + " (" + stateNow() + "): a generator hands its values out and holds none to remove");
    }

    /** What {@code next()} throws when the body has ended: names the consumer, as a channel iterator does. */
    final NoSuchElementException noNext() {
        return new NoSuchElementException(caller() + " cannot take the next value of " + describe() + " ("
                + stateNow() + "): it has ended, and no value can come");
    }

    /**
     * This generator itself, once: a generator is iterated only once.
     *
     * @return this
     * @throws IllegalStateException if called a second time, or after {@link #stream()} or {@link #spliterator()},
     *                               or from another thread, or while the body runs (from inside it, or while its
     *                               consumer is suspended inside it); a refused call does not count as the one iteration
     */
    @Override
    public Iterator<T> iterator() {
        markIterated("iterate over");
        return this;
    }

    /**
     * The remaining values as the source of {@link #stream()}: ordered, of unknown size (estimated as
     * {@code Long.MAX_VALUE} until it has seen the body's end, then as 0), and never split,
     * so that a stream made of it ({@code StreamSupport.stream(g.spliterator(), true)}) takes the values
     * one by one on the thread of its terminal operation, as {@link #stream()} does. {@link Iterable}'s
     * default would split off batches of the iterator, running the body up to thousands of values ahead
     * of the consumer and handing the rest to worker threads, which this generator refuses. A stream made
     * of it has no close handler: closing that stream leaves this generator as it is; close the generator.
     *
     * @return the spliterator
     * @throws IllegalStateException as for {@link #iterator()}: this counts as the one iteration
     */
    @Override
    public Spliterator<T> spliterator() {
        markIterated("take a spliterator of");
        return values();
    }

    /**
     * The remaining values as an ordered, lazy stream; closing the stream closes this generator. A
     * terminal operation does not close the stream (as for any {@link Stream}), so one that stops early
     * ({@code findFirst}, {@code limit}, {@code anyMatch}) leaves this generator suspended, its body's
     * {@code finally} blocks not run, until the stream or the generator is closed: use the stream in a
     * {@code try}-with-resources, or close the generator after it. The stream never splits its source, so a {@code parallel()} stream works too: the values are taken
     * one by one on the thread that runs the terminal operation (this generator's), and only the
     * stages after the source run in parallel where the stream framework splits them. Made part of
     * another stream ({@code Stream.concat}, the inner stream of a parallel {@code flatMap}), the
     * stream may be handed whole to a worker thread, where this generator refuses it as any call
     * from another thread: combine it sequentially.
     *
     * @return the stream
     * @throws IllegalStateException if this generator was already iterated or streamed, or if called from another
     *                               thread or while the body runs (as {@link #iterator()})
     */
    public Stream<T> stream() {
        markIterated("stream");
        return StreamSupport.stream(values(), false).onClose(this::close);
    }

    /**
     * Ends this generator. Not started: it never will. Suspended at an {@code emit}: the body is
     * unwound (that {@code emit} throws {@link CoroutineExit}, {@code finally} blocks run) and this
     * call returns when it has ended. Its body ended, but a stack overflow of its consumer stopped the
     * call that was telling how: this call tells it, as for {@link #hasNext()}. Ended: nothing happens.
     *
     * @throws IllegalStateException if the body is running (the call comes from inside it, or its
     *                               consumer is suspended inside it), or from another thread
     * @throws CoroutineException    if the body, while unwinding, threw something other than its own exit signal,
     *                               or had failed and its failure was still to tell
     */
    @Override
    public void close() {
        checkConsumer("close");
        if (state == S_NEW) {
            state = S_CLOSED;
            stack = null;
        } else if (state == S_SUSPENDED) {
            // a body that has ended (an overflow struck its consumer as it told how) is not being closed:
            // its end is told now, as it was
            if (!ended) {
                closing = true;
            }
            hasBuffered = false;
            buffered = null;
            advance();
        }
    }

    /**
     * This generator's state: {@code NEW}, {@code RUNNING}, {@code SUSPENDED} (at an {@code emit}),
     * {@code FINISHED}, {@code FAILED} or {@code CLOSED}.
     *
     * @return the state
     * @throws IllegalStateException if called from a thread other than the owner (as {@link Coroutine#state()})
     */
    public State state() {
        if (Thread.currentThread() != owner) {
            checkThread("read the state of");
        }
        return STATES[state];
    }

    /** The state, for messages and {@link #toString()}: read from any thread, unchecked. */
    private State stateNow() {
        return STATES[state];
    }

    /**
     * This generator's name: the one given at creation, or {@code generator-N}. Safe to call from any thread.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Name and state, e.g. {@code Generator[squares, SUSPENDED]}. Like {@link #name()}, safe to call
     * from any thread.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return "Generator[" + SafeText.name(name) + ", " + stateNow() + "]";
    }

    // ---- machinery ------------------------------------------------------------------------

    /** {@link TwoWay#send}: replies to the pending emit and returns the next value. */
    T resumeWith(Object reply) {
        checkConsumer("send to");
        if (state == S_NEW) {
            throw new IllegalStateException(caller() + " cannot send to " + describe()
                    + " (NEW): it has no pending emit to reply to; take its first value with next()");
        }
        if (hasBuffered) {
            throw new IllegalStateException(caller() + " cannot send to " + describe() + " (SUSPENDED): " + (firstWaiting
                    ? "hasNext() ran it to its first emit, whose value is not taken yet; take that value with next(),"
                            + " then send replies to that emit"
                    : "hasNext() already resumed it past its emit (replying null); take that value with next()"));
        }
        if (state >= S_FINISHED) {
            throw new NoSuchElementException(caller() + " cannot send to " + describe() + " (" + stateNow()
                    + "): it has ended, and no emit is left to reply to");
        }
        this.reply = reply;
        try {
            advance();
        } finally {
            this.reply = null; // taken by the emit it resumed; cleared here if the body ended or never ran
        }
        if (!hasBuffered) {
            throw new NoSuchElementException(caller() + " cannot take the value of its send to " + describe()
                    + " (" + stateNow() + "): its body ended without emitting a value after the reply");
        }
        return takeValue();
    }

    /**
     * The context whose call is refused, for the message, which names the caller as every refusal does;
     * the caller runs as this generator's thread.
     */
    private String caller() {
        return scheduler().currentContext().describe();
    }

    /**
     * Throws if the caller may not resume this generator now; on return it may (or it has ended).
     * The hot paths call it only when the caller is not the owner thread or the generator is
     * {@code RUNNING}, and it is then the whole check.
     */
    final void checkConsumer(String op) {
        if (Thread.currentThread() != owner) {
            checkThread(op);
        }
        if (state != S_RUNNING) {
            return;
        }
        Context here = scheduler().currentContext();
        for (Generator<?> g = here.innermostGenerator; g != null; g = g.outer) {
            if (g == this) {
                GeneratorStack k = stack;
                throw new IllegalStateException(here.describe() + " cannot " + op + " " + describe() + " (RUNNING): "
                        + (k == null || k.runsTheCaller() ? "the call comes from inside its own body, which cannot resume itself"
                                : "the thread is not on its body's stack: another copy of coro (loaded by another class loader)"
                                        + " suspended the body, with the coroutine of that copy it runs in, and runs other code now;"
                                        + " the body goes on once that coroutine runs again"));
            }
        }
        // whatever its consumer waits in there (a yield, a switchTo, a sleep, a channel, a select, an await, I/O)
        Context consumer = consumer();
        Wait w = consumer.waitingFor;
        throw new IllegalStateException(here.describe() + " cannot " + op + " " + describe()
                + " (RUNNING): its body is suspended, at a yield, a switchTo or a wait, inside its consumer "
                + consumer.describe() + " (" + consumer.state() + ")"
                + (consumer.state == Context.PARKED && w != null ? ", which waits to " + Wait.describe(w) : "")
                + "; only that consumer can resume it");
    }

    /**
     * While {@code RUNNING}: the context whose code runs the body, the one with this generator on its
     * chain of resumed generators (found when a message needs it, so that no resume pays for it).
     */
    private Context consumer() {
        for (Context c : scheduler().contexts()) {
            for (Generator<?> g = c.innermostGenerator; g != null; g = g.outer) {
                if (g == this) {
                    return c;
                }
            }
        }
        throw new AssertionError(describe() + " is RUNNING but on no context's chain of resumed generators");
    }

    /**
     * Runs the body until it emits or ends; on return the state says which. An error such as a
     * {@link StackOverflowError} of the consumer's stack that escapes the resume without the body
     * having emitted or ended leaves the state as it was before; one that strikes on the way back after
     * the body ended is rethrown, leaving it {@code SUSPENDED}, and the next call reports how the body ended.
     */
    final void advance() {
        if (ended) {
            // an error struck the consumer on the way back from the body's end: report that end now
            reportEnd();
            return;
        }
        Scheduler s = scheduler();
        s.refuseWhileObservingIdle(); // the consumer's context, parked, does not run: its body would run as it
        Context here = s.currentContext();
        Generator<?> was = here.innermostGenerator;
        if (was != null) {
            outer = was; // cleared below: a plain (not nested) resume stores nothing
        }
        TimeoutScope scopes = here.timeouts; // no call here: the consumer's stack may be near its end
        // a signal held back (not thrown yet: the consumer is not unwinding) unwinds the body as one that arises in it
        resumeMarks = (here.closing || scopes != null && scopes.fired != null) && !here.signalHeldBack ? RESUMED_UNDER_SIGNAL : 0;
        here.innermostGenerator = this;
        byte from = state;
        state = S_RUNNING;
        if (this instanceof BufferedGenerator<?>) {
            runningIn = here;
        }
        try {
            stack.resume();
        } catch (PinnedException e) {
            if (e.stuck) {
                state = S_FAILED; // its body can never run; its stuck thread is abandoned
                stack = null;
            } else {
                state = from;
            }
            throw refused(here.describe() + " cannot run the body of " + describe() + " (" + STATES[from] + ")", e,
                    "it " + (e.stuck ? "is FAILED" : "stays " + STATES[from]));
        } catch (Throwable t) {
            // the consumer's stack gave out on the way in, or on the way back: never left RUNNING with no
            // consumer. A body that emitted is SUSPENDED with its value waiting; one that did not get to
            // run is as it was; one that ended is SUSPENDED with its end to report (see above), even if it
            // was NEW, which a close() would end unreported. No call here: the stack may be exhausted still.
            if (state == S_RUNNING) {
                state = ended ? S_SUSPENDED : from;
            }
            throw t;
        } finally {
            if (this instanceof BufferedGenerator<?>) {
                runningIn = null;
            }
            here.innermostGenerator = was;
            if (was != null) {
                outer = null;
            }
        }
        if (ended) {
            // SUSPENDED with its end to report until reportEnd runs: the call itself may overflow
            state = S_SUSPENDED;
            reportEnd();
        }
    }

    /**
     * {@link #bodyEnded()}, for a body that has ended, called with the generator {@code SUSPENDED}. An
     * error of the consumer's stack (a {@link StackOverflowError}) that strikes before it has set the
     * state leaves the generator {@code SUSPENDED} with the end still to report, as one that struck on
     * the way back from the body: the next call reports it; never {@code RUNNING} with no consumer.
     * That holds for one that strikes as this method is entered (a frame this size, when the JIT has not
     * inlined it, may not fit where the body's frames did), before its handler exists: the state is
     * {@code RUNNING} only inside it. No call in the handler: the stack may be exhausted still.
     */
    private void reportEnd() {
        try {
            state = S_RUNNING;
            bodyEnded();
        } catch (Throwable t) {
            if (state == S_RUNNING) {
                state = S_SUSPENDED;
            }
            throw t;
        }
    }

    /**
     * Records how the body ended and tells the consumer: a failure as a {@link CoroutineException} (so
     * the failures its own close's signal carries, {@link #carriesFailures}: it ends by the first); an
     * exit signal that is not this generator's own (its consumer is being closed and was unwinding
     * through the body) passes on to the consumer, even while this generator was being closed. Every
     * call it makes (the failure's message and stack trace included) comes before it clears or sets
     * anything, so that an overflow of the consumer's stack leaves the end to report again.
     */
    void bodyEnded() {
        Throwable t = thrown;
        boolean consumers = consumers(t);
        java.util.List<Throwable> uncarried = null;
        if (!consumers && carriesFailures(t)) {
            uncarried = new java.util.ArrayList<>(0);
            t = firstCarried(t, uncarried); // its close's signal carried failures (a resource whose close failed)
        }
        Ending how = consumers ? Ending.CLOSED : ending(t);
        CoroutineException failed = how == Ending.FAILED ? failure(t) : null;
        if (failed != null && uncarried != null) {
            uncarried.forEach(failed::addSuppressed); // what the first could not carry goes in the report
        }
        boolean reachesItsCode = consumers && t instanceof CoroutineException && scheduler().currentContext().innermostGenerator == null;
        // no call from here on: plain stores, then the throw
        stack = null;
        thrown = null;
        failureInside = null;
        state = how == Ending.FINISHED ? S_FINISHED : how == Ending.CLOSED ? S_CLOSED : S_FAILED;
        if (failed != null) {
            throw failed;
        }
        if (t instanceof CoroutineExit exit && consumers) {
            throw exit;
        }
        if (consumers) {
            if (reachesItsCode) {
                ((CoroutineException) t).passingTo = null; // out of the outermost body: the consumer's own code has it
            }
            throw (CoroutineException) t;
        }
    }

    /**
     * Whether {@code t}, which the body ended by, is its consumer's and not the body's own failure: the
     * consumer's exit signal (it is being closed, or a {@code withTimeout} of it expired, while inside
     * the body), or a coroutine's failure delivered to the consumer ({@link CoroutineException#delivered}:
     * the consumer's pending call, where a failure of its child is thrown, was inside the body, and the
     * failure has not reached the consumer's own code since: {@link CoroutineException#passingTo}), thrown
     * in the body's current resume and not emitted past ({@link #passedOnBy}). It unwinds the body, which
     * ends {@code CLOSED}, and passes on to the consumer as it is. An exit signal of anyone else (one the
     * body kept from another coroutine or generator and threw again), or of a {@code withTimeout} of the
     * consumer that has been left (its signal kept and thrown again), is the body's own failure; so is a
     * coroutine's failure delivered to another context, that reached its context's own code, or that the
     * body caught and emitted past (the consumer's call it was thrown at returned a value) before it threw
     * it again.
     */
    final boolean consumers(Throwable t) {
        if (t instanceof CoroutineExit exit) {
            if (isOwn(exit)) {
                return false;
            }
            Context consumer = scheduler().currentContext();
            return consumer.isOwn(exit)
                    || exit.timeoutScope() instanceof TimeoutScope scope && scope.context == consumer && scope.isActive();
        }
        return t instanceof CoroutineException e && e.passingTo != null && e.passingTo.get() == scheduler().currentContext()
                && passedOnBy(e);
    }

    /**
     * Whether the body, ending by {@code e}, a failure delivered to its consumer, passes it on: it was
     * thrown inside the body's current resume and the body has emitted nothing since; overridden by a
     * read-ahead generator, whose emits need not end the resume. A plain generator's emit ends it, and
     * the next resume's store of {@link #resumeMarks} forgets the mark.
     */
    boolean passedOnBy(CoroutineException e) {
        return (resumeMarks & FAILURE_THROWN_INSIDE) != 0 && failureInside != null && failureInside.refersTo(e);
    }

    /**
     * Marks {@code e}, a coroutine's failure delivered to its consumer and about to be thrown at the
     * consumer's pending call inside this generator's running body (or one it consumes), as thrown inside
     * its current resume; a cold path. Overridden by a read-ahead generator, which notes its batch too.
     */
    void failureThrownInside(CoroutineException e) {
        failureInside = new WeakReference<>(e);
        resumeMarks |= FAILURE_THROWN_INSIDE;
    }

    /** Forgets a failure marked by {@link #failureThrownInside}: the body's end, which it might be, is decided. */
    final void forgetFailureInside() {
        failureInside = null;
    }

    /** The body's emit: hands the value over and suspends; returns the reply. */
    private Object emitFromBody(T value) {
        checkEmitter();
        buffered = value;
        hasBuffered = true;
        try {
            suspendAtEmit();
        } catch (Throwable t) {
            // the value was not handed over; or the consumer took it before it resumed the body (and it
            // clears it before it does): nothing waits. No call here: the stack may be exhausted still
            hasBuffered = false;
            buffered = null;
            throw t;
        }
        Object r = reply;
        if (r != null) {
            reply = null;
        }
        return r;
    }

    /**
     * Called by the body, at an {@code emit} that has stored its value for the consumer: suspends the
     * body until the consumer resumes it, then throws the exit signal if it is being closed. If the JDK
     * refuses the suspension, or an error such as a {@link StackOverflowError} strikes before the
     * consumer took over, the body keeps running: the state is {@code RUNNING} again and the caller
     * withdraws its value (without a call: the stack may be exhausted still) and lets the exception
     * pass on, a refusal as the {@link IllegalStateException} of {@link #emitRefused}. One that strikes
     * after the consumer resumed the body passes on as it is.
     */
    final void suspendAtEmit() {
        state = S_SUSPENDED;
        try {
            stack.suspend();
        } catch (PinnedException e) {
            state = S_RUNNING;
            throw emitRefused(e);
        } catch (Throwable t) {
            // the consumer makes the state RUNNING when it resumes the body. No call here: the stack may
            // be exhausted still
            if (state == S_SUSPENDED) {
                state = S_RUNNING;
            }
            throw t;
        }
        checkNotClosing("emit");
    }

    /**
     * Throws unless the caller is this generator's own body, running (the innermost generator of the
     * running context), not being closed, not inside a {@code withTimeout} or a
     * {@link VirtualTime#run} its body opened, and its consumer has no signal pending that arose
     * since it resumed the body: the exit signal if it is being closed, {@link IllegalStateException}
     * for the scopes, and the consumer's signal if the consumer has been closed or a {@code withTimeout}
     * of it has expired meanwhile (the body is being unwound with it: an emit, a suspension of the
     * consumer's stack, throws it again, as every suspension of an unwinding body does, instead of
     * handing a value over while the signal waits in the suspended body for whatever call resumes it).
     * A signal held back is not thrown yet ({@link Context#signalHeldBack}: the wait the body parked
     * in completed first and kept its result, a value received, say): the body is not unwinding, and
     * its emit hands the value over; the signal comes at the consumer's next scheduling point.
     * A thread that does not run as the generator's own thread (the owner, the body's thread, or an
     * engine's thread on the owner's behalf) is refused first: the contexts it would look at are not its own.
     */
    final void checkEmitter() {
        Context in = runningIn;
        if (in != null && in.state == Context.RUNNING && Thread.currentThread() == owner && state == S_RUNNING
                && in.innermostGenerator == this && !closing && in.timeouts == null && !in.closing
                && in.scheduler.virtualOpenedBy != this) {
            // a read-ahead body's emit, the common case: its consumer is the running context (a thread
            // runs one at a time), with no scope open and no signal pending, so every check below passes
            return;
        }
        checkEmitterFully();
    }

    /** {@link #checkEmitter}, every case. */
    private void checkEmitterFully() {
        Thread caller = Thread.currentThread();
        if (caller != owner && caller != stackThread()) {
            checkEmitterThread();
        }
        Context in = runningIn;
        Scheduler s = in != null ? in.scheduler : scheduler();
        Context here = s.currentContext();
        if (state != S_RUNNING || here.innermostGenerator != this) {
            throw notItsBody(here);
        }
        checkNotClosing("emit");
        TimeoutScope t = here.timeouts;
        if (t != null && t.openedBy == this || s.virtualOpenedBy == this) {
            throw insideItsOwnScope(here, t, s.virtualMethod);
        }
        if ((resumeMarks & RESUMED_UNDER_SIGNAL) == 0 && here.hasSignalPending() && !here.signalHeldBack) {
            throw consumersSignal(here, t);
        }
    }

    /** The refusal of an emit by a thread that does not run as this generator's thread, naming both threads. */
    private void checkEmitterThread() {
        checkThread("emit from");
    }

    /**
     * Throws unless the caller runs as this generator's thread (its owner, or an engine's thread on its
     * behalf), naming {@code op} and both threads; so does every call once that thread has ended.
     */
    final void checkThread(String op) {
        Scheduler s = home.get();
        if (s == null) {
            throw Scheduler.notOwner(owner, op, describe(), stateNow()); // the thread has ended, its scheduler is gone
        }
        s.checkCaller(op, describe(), stateNow());
    }

    /** The scheduler of this generator's thread, for a caller that runs as that thread (so it is alive). */
    final Scheduler scheduler() {
        return home.get();
    }

    /** The signal pending for {@code here}, the consumer running this body: its close's, else that of its expired scope {@code t}. */
    private CoroutineExit consumersSignal(Context here, TimeoutScope t) {
        String emit = "emit of " + describe();
        return here.closing ? here.exit(emit) : t.fired.signal(emit);
    }

    /**
     * The refusal of an emit by {@code here}, which is not this generator's body running: the caller
     * is the body of the innermost generator {@code here} runs, if any, else {@code here} itself.
     */
    private IllegalStateException notItsBody(Context here) {
        Generator<?> body = here.innermostGenerator;
        String caller = body != null && body != this
                ? "the body of " + body.describe() + " (run by " + here.describe() + ")"
                : here.describe();
        return new IllegalStateException(caller + " cannot emit from " + describe() + " (" + stateNow()
                + "): emit may only be called by its own body while it runs");
    }

    /**
     * The refusal of an emit inside a {@code withTimeout} or {@code tryWithTimeout} ({@code t}, if its body opened it) or a
     * {@link VirtualTime#run} (or {@link VirtualTime#call}: {@code method} names which) that its own body opened.
     */
    private IllegalStateException insideItsOwnScope(Context here, TimeoutScope t, String method) {
        if (t != null && t.openedBy == this) {
            // its timer would run on while the consumer holds the body suspended, and interrupt the consumer
            // named as the call that opened it (withTimeout or tryWithTimeout), as its signal names it
            return new IllegalStateException(here.describe() + " cannot emit from " + describe()
                    + " (RUNNING): it is inside a " + t.operation + "(" + t.timeout + ") that its own body opened; a body"
                    + " cannot suspend inside its own " + t.operation + " (its timer would run on against the consumer):"
                    + " emit after it returns");
        }
        // the run would stay open while the consumer goes on, on its virtual clock
        return new IllegalStateException(here.describe() + " cannot emit from " + describe()
                + " (RUNNING): it is inside a " + method + " that its own body opened; a body cannot suspend"
                + " inside its own " + method + " (its consumer would run on the virtual clock): emit after it returns");
    }

    /** The exception of an emit whose suspension the JDK refused; the body keeps running. */
    final IllegalStateException emitRefused(PinnedException e) {
        return refused(caller() + " cannot emit from " + describe() + " (RUNNING)", e, "it keeps running");
    }

    /** The thread this generator's body runs on while resumed, if the engine gives it one; null otherwise. */
    Thread stackThread() {
        GeneratorStack st = stack; // read once: an observer of another thread may see the generator end between two reads
        return st == null ? null : st.thread();
    }

    /** While resumed: the generator that was innermost on the consumer's stack before this one. */
    Generator<?> outerGenerator() {
        return outer;
    }

    /** Takes the value waiting, which {@link #hasNext()} said there is; overridden by a read-ahead generator. */
    T take() {
        return takeValue();
    }

    private T takeValue() {
        T v = buffered;
        buffered = null;
        hasBuffered = false;
        return v;
    }

    /** Marks the one iteration taken by {@code op}; another thread is refused first, and marks nothing. */
    private void markIterated(String op) {
        if (Thread.currentThread() != owner || state == S_RUNNING) {
            checkConsumer(op); // refused as a resume is: from inside its body, or while a consumer is inside it
        }
        if (iterated) {
            throw new IllegalStateException(caller() + " cannot " + op + " " + describe() + " (" + stateNow()
                    + "): it was already iterated, and a generator can be iterated only once");
        }
        iterated = true;
    }

    /** A phrase naming this generator for messages, e.g. {@code generator 'squares'}. */
    @Override
    String describe() {
        return "generator '" + SafeText.name(name) + "'";
    }

    /**
     * The source of {@link #stream()} and {@link #spliterator()}: the values in order, one at a time; a
     * refusal names what a stream does ({@code take the next value of}), not a {@code hasNext} its user
     * never called.
     */
    private Spliterator<T> values() {
        return new OneAtATime<>(() -> hasNextFor(NEXT), this::take, Spliterator.ORDERED);
    }
}
