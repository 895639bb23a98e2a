package dev.coro;

import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A one-way generator that reads ahead: each resume runs its body on past its emits until it has
 * emitted a batch of {@code n} values or ended, so that its consumer pays one resume and one
 * suspension per {@code n} values; what {@link Generator#buffered(String, int, Generator.Body)} makes
 * for {@code n >= 2}.
 *
 * <p>The values wait in an array (made small, grown as the body emits, up to {@code n}: a read-ahead
 * as large as {@code Integer.MAX_VALUE} costs only what its body emits) that the body fills from
 * empty and the consumer drains to empty:
 * the body is resumed only once every value of its last batch was taken, so the array never wraps.
 * A value taken stays in the array until the next batch overwrites it or the generator ends (no
 * store per value taken): at most {@code n} values are kept reachable after they were taken.
 * Its {@code emit} stores the value and suspends only when the array is full.
 *
 * <p>The body may end, returning or throwing, while values of its last batch are still waiting. The
 * generator then stays {@code SUSPENDED} and tells how the body ended, {@code FINISHED} or
 * {@code FAILED} with its {@link CoroutineException}, at the {@code hasNext()}/{@code next()} that
 * finds no value left: the consumer meets a failure at the value where it happened, as it would with
 * a plain generator. An exit signal of its consumer is not deferred, it passes on at once: that of a
 * close (the consumer is being closed while inside the body) drops the waiting values; that of an
 * expired {@code withTimeout} of the consumer leaves them for the consumer, which goes on after its
 * timeout, and the call that finds none left ends the generator {@code CLOSED} (its body was
 * unwound), as a plain generator's consumer would have taken each of them before the timeout. A
 * coroutine's failure delivered to the consumer while inside the body ({@link Generator#consumers})
 * that unwinds the body passes on at once too, and leaves the values as a timeout does.
 * {@code close()} drops the waiting values; a body that has already ended then has nothing left to unwind.
 *
 * @param <T> the type of the emitted values
 */
final class BufferedGenerator<T> extends Generator<T> {

    /**
     * The values emitted and not yet taken: {@code values[read]} to {@code values[write - 1]}. Made
     * with room for at most {@link #FIRST_ROOM} values and grown as the body emits, up to {@link #n}:
     * a large {@code n} (an unbounded read-ahead, {@code Integer.MAX_VALUE}) costs only what is emitted.
     */
    private Object[] values;
    /** How many values the body may run ahead: it suspends inside the {@code n}-th emit of a batch. */
    private final int n;
    /** Where the consumer takes the next value. */
    private int read;
    /** Where the body stores its next value; {@code n} when the batch is full. */
    private int write;
    /** The body ended while values were waiting: how it ended is told once they are all taken. */
    private boolean endPending;
    /**
     * With {@link #endPending}: the body was unwound by a timeout of its consumer or a failure delivered
     * to its consumer, which went on to the consumer already, and ends {@code CLOSED}.
     */
    private boolean unwoundForConsumer;

    /**
     * {@link #write} when a failure delivered to the consumer was thrown inside the body
     * ({@link #failureThrownInside}): the body emitted past it if the batch has grown since.
     */
    private int writeAtFailure;

    /** The room a batch has at first; more is made as the body emits past it, up to {@code n}. */
    private static final int FIRST_ROOM = 1024;

    BufferedGenerator(String name, int n, Body<? extends T, Void> body) {
        this(name, n, body, new Object[Math.min(n, FIRST_ROOM)]);
    }

    /** With its first array made before the generator is: a failure to make it (no memory left) counts no creation. */
    private BufferedGenerator(String name, int n, Body<? extends T, Void> body, Object[] values) {
        super(name, body);
        this.n = n;
        this.values = values;
    }

    /**
     * Whether another value waits or the body emits one: runs the body for its next batch if no
     * value is waiting, as {@link Generator#hasNext()} does for one value.
     *
     * @return false once the body has ended and every value it emitted was taken
     * @throws CoroutineException    if the body threw, once every value it emitted before was taken; or as
     *                               for {@link Generator#hasNext()}, at once (the values emitted stay for the caller)
     * @throws CoroutineExit         as for {@link Generator#hasNext()}: a close of the caller drops the values,
     *                               an expired {@code withTimeout} leaves them for the caller
     * @throws IllegalStateException on misuse, as for {@link Generator#hasNext()}
     */
    @Override
    public boolean hasNext() {
        return available(HAS_NEXT);
    }

    /**
     * The next value: the oldest one waiting, after running the body for its next batch if none is.
     *
     * @return the value
     * @throws NoSuchElementException if the body has ended and every value it emitted was taken
     * @throws CoroutineException     if the body threw, once every value it emitted before was taken; or as
     *                                for {@link #hasNext()}
     * @throws CoroutineExit          as for {@link #hasNext()}
     * @throws IllegalStateException  on misuse, as for {@link Generator#hasNext()}
     */
    @Override
    public T next() {
        if (!available(NEXT)) {
            throw noNext();
        }
        return take();
    }

    @Override
    boolean hasNextFor(String op) {
        return available(op);
    }

    /**
     * Hands each remaining value to {@code action}, in order, running the body for a batch whenever
     * none is waiting, as {@link #next()} does; a refusal names this call.
     *
     * @param action what each value is handed to
     * @throws CoroutineException    as for {@link #next()}
     * @throws CoroutineExit         as for {@link #hasNext()}
     * @throws IllegalStateException on misuse, as for {@link Generator#hasNext()}
     */
    @Override
    public void forEachRemaining(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action");
        while (available(FOR_EACH_REMAINING)) {
            Callback.accept(action, take());
        }
    }

    /**
     * Drops the values not taken and ends this generator: not started, it never will; suspended
     * inside its body's last {@code emit}, the body is unwound as for {@link Generator#close()}; its
     * body already ended (values were waiting), it is {@code CLOSED} at once, and a failure of the
     * body that the consumer had not met yet is dropped with the values; its body ended, every value
     * taken, and a stack overflow of its consumer stopped the call telling how: as for
     * {@link Generator#close()}. Ended: nothing happens.
     *
     * @throws IllegalStateException if the body is running, or from another thread
     * @throws CoroutineException    if the body, while unwinding, threw something other than its own exit signal,
     *                               or had failed and its failure was still to tell
     */
    @Override
    public void close() {
        checkConsumer("close");
        drop();
        if (endPending) {
            endPending = false;
            unwoundForConsumer = false;
            thrown = null;
            state = S_CLOSED;
            return;
        }
        super.close();
    }

    private boolean available(String op) {
        if (Thread.currentThread() != owner || state == S_RUNNING) {
            checkConsumer(op);
        }
        if (read == write) {
            refill();
        }
        return read < write;
    }

    /** With no value waiting: runs the body for its next batch, or tells how it ended if it has. */
    private void refill() {
        if (endPending) {
            // an overflow of the consumer's stack from here on leaves it SUSPENDED with its end to report,
            // which the next call reports through advance()
            endPending = false;
            drop();
            if (unwoundForConsumer) {
                unwoundForConsumer = false;
                state = S_CLOSED; // what unwound the body went to the consumer already
                return;
            }
            super.bodyEnded();
        } else if (state == S_SUSPENDED || state == S_NEW) {
            read = 0;
            write = 0;
            advance();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    T take() {
        int r = read;
        read = r + 1;
        return (T) values[r]; // left in place: the next batch overwrites it, an end or close drops it
    }

    /**
     * Defers telling how the body ended while values wait, unless its consumer's exit signal passes
     * through: that of an expired {@code withTimeout} passes on at once and leaves the values for the
     * consumer (the end, {@code CLOSED}, is told once they are taken); that of a close drops them.
     */
    @Override
    void bodyEnded() {
        Throwable t = thrown;
        if (read < write && !closing) {
            if (!consumers(t)) {
                forgetFailureInside(); // decided: its own end, told after the values (a batch dropped by then would not say so)
                endPending = true;
                stack = null;
                state = S_SUSPENDED;
                return;
            }
            if (!(t instanceof CoroutineExit exit) || exit.isTimeout()) {
                keepValuesForConsumer(t);
            }
        }
        drop();
        super.bodyEnded();
    }

    /**
     * The body, values waiting, was unwound by {@code signal}, a timeout of its consumer or a failure
     * delivered to its consumer: the values stay for the consumer and the signal goes on to it (a
     * timeout's unwinds it to its {@code withTimeout}; a failure that leaves the outermost body is marked
     * as at the consumer's own code, {@link CoroutineException#passingTo}). Plain stores, then the throw:
     * the consumer's stack may be exhausted still.
     */
    private void keepValuesForConsumer(Throwable signal) {
        boolean reachesItsCode = signal instanceof CoroutineException && scheduler().currentContext().innermostGenerator == null;
        forgetFailureInside();
        endPending = true;
        unwoundForConsumer = true;
        thrown = null;
        stack = null;
        state = S_SUSPENDED;
        if (signal instanceof CoroutineExit exit) {
            throw exit;
        }
        if (reachesItsCode) {
            ((CoroutineException) signal).passingTo = null; // out of the outermost body: the consumer's own code has it
        }
        throw (CoroutineException) signal;
    }

    /** As a plain generator's, and the body has emitted nothing since: its batch has not grown. */
    @Override
    boolean passedOnBy(CoroutineException e) {
        return super.passedOnBy(e) && write == writeAtFailure;
    }

    /** As a plain generator's, noting how many values its batch holds then. */
    @Override
    void failureThrownInside(CoroutineException e) {
        writeAtFailure = write;
        super.failureThrownInside(e);
    }

    /**
     * The body's emit: stores the value, and suspends the body once the batch is full, as
     * {@link Generator#suspendAtEmit} says; a value whose suspension failed is withdrawn, and the body
     * keeps running.
     */
    void emitAhead(T value) {
        checkEmitter();
        int w = write;
        Object[] vs = values;
        if (w == vs.length) {
            vs = grow(); // the batch is not full (w < n) but its array is: nothing is stored if this fails
        }
        vs[w] = value;
        write = ++w;
        if (w == n) {
            try {
                suspendAtEmit();
            } catch (Throwable t) {
                // the value was not handed over: withdrawn, unless the consumer resumed the body first (it
                // empties the batch before it does). No call here: the stack may be exhausted still
                if (write == w) {
                    values[--write] = null;
                }
                throw t;
            }
        }
    }

    /** Makes room for more values in a batch whose array is full though fewer than {@code n} were emitted. */
    private Object[] grow() {
        int length = values.length;
        return values = Arrays.copyOf(values, (int) Math.min(n, Math.max(2L * length, 1L)));
    }

    /** Forgets the values, taken or not. */
    private void drop() {
        Arrays.fill(values, null); // also the values taken, kept until now
        read = 0;
        write = 0;
    }
}
