package dev.coro;

import java.lang.ref.WeakReference;

/**
 * A body with a stack of its own that can be resumed, suspended, closed, and can fail: what a
 * coroutine's {@link Context} and a {@link Generator} share.
 *
 * <p>One closing protocol for both: a close ({@link Coroutine#close}, {@link Generator#close}) marks the fiber {@link #closing}, and from then on
 * every suspension point of its body throws its {@link #exit exit signal}, so that the body unwinds
 * through its {@code finally} blocks; {@link #ending} then says how the body ended and what its
 * waiter gets. A suspension the JDK refuses becomes an {@link IllegalStateException} in plain words
 * through {@link #refused}.
 */
abstract class Fiber {

    /** How a body ended. */
    enum Ending {
        /** It returned. */
        FINISHED,
        /** It unwound while being closed, or a signal unwinding its caller passed through it. */
        CLOSED,
        /** It threw. */
        FAILED
    }

    /** Set when closing starts: the body is unwinding and every suspension point throws the exit signal. */
    boolean closing;

    /** A phrase naming this fiber for messages, e.g. {@code coroutine 'ping'}. */
    abstract String describe();

    /**
     * The signal that the suspension point {@code operation} throws while this fiber is being closed. It
     * refers to this fiber weakly, so that a signal kept after the body ended keeps none of it alive (its
     * context, its scheduler and their other contexts): a body that stored its signal, the future of a
     * pool task ended by {@code closeNow()}, or the JVM, which may keep the last exception a thread
     * threw in a slot of that thread until it is overwritten (on the thread engine, of the carrier that
     * ran the ended body's virtual thread, idle from then on).
     */
    final CoroutineExit exit(Object operation) {
        return new CoroutineExit(new WeakReference<>(this), exitText(Wait.describeOperation(operation)));
    }

    /**
     * The signal a close leaves for this fiber, suspended or parked in a call its closer cannot name (which
     * wait, a {@code yield} or a {@code switchTo}): this fiber throws, as it resumes, {@link #exit} of that
     * call instead, its text made there; this one, naming {@code its suspended call}, only if that fails.
     */
    final CoroutineExit exitLeftByClose() {
        return new CoroutineExit(new WeakReference<>(this), exitText("suspended call"), true);
    }

    /** The text of this fiber's exit signal thrown from {@code call}, e.g. {@code receive from channel 'jobs'}. */
    private String exitText(String call) {
        return describe() + " is being closed: its " + call + " throws this signal so that it unwinds (state RUNNING, closing)";
    }

    /** Whether {@code exit} is the signal of this fiber's own close ({@link #exit}), not of a timeout or of another fiber. */
    final boolean isOwn(CoroutineExit exit) {
        return exit.source instanceof WeakReference<?> closed && closed.get() == this;
    }

    /** Throws the exit signal of {@code operation} if this fiber is being closed; on return it is not. */
    final void checkNotClosing(Object operation) {
        if (closing) {
            throw exit(operation);
        }
    }

    /**
     * How a body that threw {@code thrown} (null: it returned) ended: a body being closed ends
     * {@code CLOSED} if it returned or threw its own close's signal; so does one that the signal of its
     * own expired {@code withTimeout}, still active, ended. An exit signal that is neither (one the body
     * kept from another coroutine or generator, or from a {@code withTimeout} it has left, and threw
     * again, while being closed too) is a failure like any other exception: it ends it {@code FAILED},
     * and its creator, consumer or closer is told, where taking it for a close would drop it silently.
     */
    final Ending ending(Throwable thrown) {
        if (thrown == null) {
            return closing ? Ending.CLOSED : Ending.FINISHED;
        }
        if (thrown instanceof CoroutineExit exit && unwoundBy(exit)) {
            return Ending.CLOSED;
        }
        return Ending.FAILED;
    }

    /**
     * Whether {@code exit}, thrown out of this fiber's code, unwinds it: the signal is its own close's or
     * that of its own expired {@code withTimeout}, still active; not one its code kept from another
     * coroutine or generator, or from a {@code withTimeout} it has left, and threw again, which is a
     * failure like any other, also while this fiber is being closed (its {@code finally} that throws it
     * fails it, as any exception it throws there).
     */
    final boolean unwoundBy(CoroutineExit exit) {
        return isOwn(exit) || exit.timeoutScope() instanceof TimeoutScope t && t.context == this && t.isActive();
    }

    /**
     * Whether {@code thrown}, the exception a body ended by, is a signal that unwinds this fiber (it would
     * end {@code CLOSED}) carrying failures suppressed in it: a resource of a try-with-resources whose close
     * failed as the signal passed, a {@code finally} that added one; not a note of how much of a call
     * it cut short had been done ({@link CoroutineExit#addNote}). Those would be dropped with the signal;
     * the body ends {@code FAILED} by the first of them instead ({@link #carried}).
     */
    final boolean carriesFailures(Throwable thrown) {
        return thrown instanceof CoroutineExit exit && exit.failures().length != 0 && unwoundBy(exit);
    }

    /**
     * The failures suppressed in {@code exit}, a signal that {@link #carriesFailures carries} them, in the
     * order they were added (its notes left out: {@link CoroutineExit#addNote}): what its body ends by in
     * its place, the first with the others added to it.
     */
    static Throwable[] carried(Throwable exit) {
        return ((CoroutineExit) exit).failures();
    }

    /**
     * What a body ends by whose own signal {@code exit} {@link #carriesFailures carries} failures: the first of them,
     * the others added to it as suppressed; those it cannot take ({@link Scheduler#addedAsSuppressed}: it takes no
     * suppressed ones, or they hold it) are added to {@code uncarried}, for its report. One it holds already (the
     * end reported again after a stack overflow stopped it) is neither added again nor put there.
     */
    static Throwable firstCarried(Throwable exit, java.util.List<Throwable> uncarried) {
        Throwable[] carried = carried(exit);
        Throwable first = carried[0];
        for (int i = 1; i < carried.length; i++) {
            if (!Scheduler.holds(first, carried[i]) && !Scheduler.addedAsSuppressed(first, carried[i])) {
                uncarried.add(carried[i]);
            }
        }
        return first;
    }

    /** What a body that threw {@code thrown} and ended {@code FAILED} hands to whoever waits for it. */
    final CoroutineException failure(Throwable thrown) {
        return failure(thrown, SafeText.of(thrown));
    }

    /** {@link #failure(Throwable)} with {@code thrown}'s text made already ({@link SafeText#of}). */
    final CoroutineException failure(Throwable thrown, String text) {
        return new CoroutineException(describe() + (closing ? " failed while being closed: " : " failed: ") + text, thrown);
    }

    /**
     * The exception for a transfer that could not happen: {@code attempt} (e.g. {@code main context 'main'
     * cannot emit from generator 'g' (RUNNING)}), why not, then {@code outcome} (e.g. {@code it keeps running}).
     */
    static IllegalStateException refused(String attempt, PinnedException e, String outcome) {
        return new IllegalStateException(attempt + ": " + e.why + "; " + outcome, e);
    }
}
