package dev.coro;

/**
 * The signal that unwinds a coroutine being closed.
 *
 * <p>{@link Coroutine#close()} on a suspended coroutine makes its pending {@code yield()} or
 * {@code switchTo()} throw this, so that its {@code finally} blocks and try-with-resources run and
 * the monitors it holds are released. Every further suspension while it unwinds throws it again,
 * so swallowing it does not keep the coroutine alive. Code that catches {@link Throwable} should
 * rethrow it. It is an {@link Error}, like {@code ThreadDeath} was, so that {@code catch (Exception e)}
 * lets it through.
 *
 * <p>Its stack trace shows where it is thrown: the call the closed coroutine was suspended or parked in
 * (its {@code yield()}, its {@code receive}), and the body's frames under it, though the closer made it;
 * an expired {@code withTimeout}'s signal, made as the body resumes, shows its wait likewise. Its message
 * names the coroutine and that call, as a dump names the wait: {@code coroutine 'receiver' is being closed:
 * its receive from channel 'jobs' throws this signal so that it unwinds (state RUNNING, closing)}.
 */
public final class CoroutineExit extends Error {
    private static final long serialVersionUID = 1L;

    /**
     * Whose unwinding this signal is: a weak reference to the coroutine or generator being closed, so that
     * a signal kept after its body ended keeps none of it alive ({@link Fiber#exit}), or one to the
     * {@link TimeoutScope} that expired ({@link TimeoutScope.Ref}), so that a signal kept after its scope was
     * left (the cause of the {@link CoroutineTimeoutException} its {@code withTimeout} threw) keeps neither
     * the scope nor its context alive; not serialized.
     */
    final transient Object source;
    /**
     * Whether this is the signal a close leaves for a suspended or parked coroutine, its text naming no call
     * ({@code its suspended call}): the closer cannot tell which call that is, the coroutine can, and throws,
     * as it resumes, the same signal naming it, with what was added to this one as suppressed
     * ({@link Fiber#exitLeftByClose}); this one is thrown only if that naming failed (a stack overflow as it
     * resumed near its stack's end); not serialized.
     */
    final transient boolean namesNoCall;
    /**
     * Whether the coroutine this signal naming no call was left for has resumed and taken it, to name its call: the
     * signal stays pending meanwhile, and a close that then fails in its closer (closed from that text's code) must
     * not read it as one that never reached the coroutine, and undo the coroutine's close; not serialized.
     */
    transient boolean taken;

    /**
     * What was added to this signal's suppressed exceptions as a note, not a failure: how much of a call it
     * cut short had been done ({@code … was interrupted reading from connection A -> B (open): 3 of the 10
     * bytes of this read were read into the array before it}), for whoever catches it; a body that ends by
     * its own signal ends {@code CLOSED} whatever notes it holds, where a failure suppressed in it makes it
     * end {@code FAILED} by that failure ({@link Fiber#carriesFailures}); null while none; not serialized.
     */
    private transient Throwable[] notes;

    CoroutineExit(Object source, String message) {
        this(source, message, false);
    }

    CoroutineExit(Object source, String message, boolean namesNoCall) {
        super(message);
        this.source = source;
        this.namesNoCall = namesNoCall;
    }

    /** Adds {@code note} to this signal's suppressed exceptions as a note ({@link #notes}), not a failure. */
    void addNote(Throwable note) {
        addSuppressed(note);
        Throwable[] n = notes;
        if (n == null) {
            notes = new Throwable[] {note};
        } else {
            n = java.util.Arrays.copyOf(n, n.length + 1);
            n[n.length - 1] = note;
            notes = n;
        }
    }

    /**
     * Adds to this signal, which takes {@code replaced}'s place, what was added to {@code replaced}: its notes as
     * notes, its other suppressed exceptions as suppressed ones, in their order.
     */
    void takeOverAdded(CoroutineExit replaced) {
        for (Throwable t : replaced.getSuppressed()) {
            if (replaced.isNote(t)) {
                addNote(t);
            } else {
                addSuppressed(t);
            }
        }
    }

    /** Whether {@code t}, suppressed in this signal, was added as a note ({@link #addNote}). */
    boolean isNote(Throwable t) {
        Throwable[] n = notes;
        if (n != null) {
            for (Throwable note : n) {
                if (note == t) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The failures suppressed in this signal: its suppressed exceptions but its notes, in the order they came. */
    Throwable[] failures() {
        Throwable[] all = getSuppressed();
        if (notes == null) {
            return all;
        }
        int n = 0;
        for (Throwable t : all) {
            if (!isNote(t)) {
                all[n++] = t;
            }
        }
        return java.util.Arrays.copyOf(all, n);
    }

    /** Whether this is the signal of an expired {@code withTimeout}, not of a close. */
    boolean isTimeout() {
        return source instanceof TimeoutScope.Ref;
    }

    /**
     * The {@code withTimeout} scope whose expiry this signal is; null for a close's signal, or once the
     * scope is gone (its {@code withTimeout}'s frame holds it for as long as it runs, the only time it is asked for).
     */
    TimeoutScope timeoutScope() {
        return source instanceof TimeoutScope.Ref r ? r.get() : null;
    }
}
