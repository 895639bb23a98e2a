package dev.coro;

import dev.coro.CoroutinePool.Failure;
import dev.coro.CoroutinePool.Task;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The future of a submission to a {@link CoroutinePool}, and of every stage derived from it.
 *
 * <p>It tells its submission when a read hands its caller a failure, or a handler of
 * failures is attached (an {@code Async} one once its executor has taken its task, or the task has started); futures
 * derived from it ({@code thenApply}, {@code thenCompose} …) are of this kind too, so a failure read through them
 * counts as read. Its blocking reads
 * ({@code join()}, {@code get()}, a timed {@code get}) wait cooperatively on a thread with a
 * scheduler (see {@link CoroutinePool#submit}); so do those of the futures derived from it.
 * Its kinds are nested here: a submission's future ({@link ObservedFuture}), a stage derived from one
 * ({@link DerivedFuture}) and a minimal stage ({@link MinimalFuture}), with the task of an {@code Async}
 * handler ({@link HandlerTask}) and what a composing function returned ({@link Composed}).
 */
abstract class PoolFuture<T> extends CompletableFuture<T> {

    /** A read handed its caller this future's failure. */
    abstract void failureRead();

    /**
     * The state as the JDK's {@code toString()} ends with it ({@code [Not completed]},
     * {@code [Completed normally]} …): its text after {@link Object#toString()}'s, the class and identity
     * hash it starts with, whatever the state's text holds (the class name of a failure, which may hold an
     * {@code @} or a bracket).
     */
    final String stateText() {
        String jdks = super.toString();
        return jdks.substring(getClass().getName().length() + 1 + Integer.toHexString(hashCode()).length());
    }

    /**
     * What it failed with, without counting as a read: the exception a {@code join()} throws, or that
     * exception's cause if it wraps one (a cancellation and a body's own {@code CancellationException}
     * included, each as it is); null unless it failed. The JDK's own methods, not a minimal stage's refusals.
     */
    final Throwable failureUnread() {
        if (!super.isCompletedExceptionally()) {
            return null;
        }
        try {
            super.getNow(null);
            return null; // obtruded with a value meanwhile
        } catch (CompletionException e) {
            return asRead(e);
        } catch (CancellationException e) {
            // the JDK's read wraps the cancellation it holds in a new one naming the read
            return e.getCause() instanceof CancellationException held ? held : e;
        }
    }

    /**
     * {@code failure} as {@link #failureUnread} gives it once a future holds it: a {@code CompletionException}'s
     * cause, any other exception as it is; a cause that cannot be read (a body's own {@code CompletionException},
     * thrown as it is, whose {@code getCause()} throws) counts as none, the exception given as it is.
     */
    static Throwable asRead(Throwable failure) {
        Throwable cause = failure instanceof CompletionException ? Scheduler.causeOf(failure) : null;
        return cause != null ? cause : failure;
    }

    /**
     * The failure, if it is a {@code CompletionException} that gives no cause (a body's own, thrown as it is): none,
     * or one its {@code getCause()}, the user's code, throws when read ({@link Scheduler#causeOf}); null for any
     * other outcome. The JDK's {@code get()} and {@code exceptionNow()} hand such a failure over as it is, but read
     * its cause first, and would let out what that {@code getCause()} throws instead, the failure neither handed
     * over nor read: the reads of this future hand it over themselves.
     */
    final CompletionException causelessFailure() {
        if (!super.isCompletedExceptionally()) {
            return null;
        }
        try {
            super.getNow(null);
            return null; // obtruded with a value meanwhile
        } catch (CompletionException e) {
            return Scheduler.causeOf(e) == null ? e : null; // the JDK's own wrapping of a failure has it as its cause
        } catch (CancellationException e) {
            return null;
        }
    }

    /**
     * What a {@code get} throws where the JDK's let an exception of the user's code out: if the failure is a
     * {@code CompletionException} without a cause that can be read ({@link #causelessFailure}), whose
     * {@code getCause()} the JDK's read called once its wait had ended, that failure, read, in an
     * {@code ExecutionException}, as the JDK's {@code get} hands over a failure without a cause; else null.
     */
    final ExecutionException causelessRead() {
        CompletionException causeless = causelessFailure();
        if (causeless == null) {
            return null;
        }
        failureRead();
        return inExecutionException(causeless);
    }

    /**
     * {@code failure} in the {@code ExecutionException} of a {@code get}, as the JDK's wraps it: its text the
     * message, or, if its {@code toString()} throws, an empty one, what that threw suppressed in it.
     */
    private static ExecutionException inExecutionException(Throwable failure) {
        String message;
        Throwable unknown = null;
        try {
            message = failure.toString();
        } catch (Throwable t) {
            message = "";
            unknown = t;
        }
        ExecutionException e = new ExecutionException(message, failure);
        if (unknown != null) {
            e.addSuppressed(unknown);
        }
        return e;
    }

    /**
     * A callback that sees this future's failure was attached: on a future complete already, whose handler the JDK
     * runs before the call returns, it counts as reading the failure now; on one still pending, not before the
     * handler runs, which then has to call {@link #handedToTheHandler}: the failure to come is not known yet (the
     * submission's, or another), and a handler whose own stage its caller settles first never runs, the JDK
     * handing it nothing.
     *
     * @return whether the handler counts as it runs: this future is still pending
     */
    final boolean handlerAttached() {
        if (!super.isDone()) {
            return true;
        }
        failureRead();
        return false;
    }

    /** The submission whose future this is, or is derived from. */
    abstract ObservedFuture<?> submission();

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new DerivedFuture<>(submission());
    }

    /**
     * A minimal stage of this future whose reads (through its {@code toCompletableFuture()}) and
     * handlers count as the submission's, as on a derived future: the JDK's own minimal stage
     * relays to plain futures, and an {@code await} of it would have read the failure unseen.
     */
    @Override
    public CompletionStage<T> minimalCompletionStage() {
        MinimalFuture<T> m = new MinimalFuture<>(submission());
        relayTo(m);
        return m;
    }

    /** Completes {@code d} as this future completes; attaching the relay reads nothing. */
    final void relayTo(PoolFuture<T> d) {
        super.whenComplete(d::settle);
    }

    /**
     * A handler attached while this stage was pending ({@link #handlerAttached} true) is handed {@code e}, the
     * stage's failure if not null: it reads it as it runs, before the handler's own code, so that whatever the
     * handler or its stage's callbacks set off (a close of the pool among them) finds it read. A callback of
     * the stage's own, pushed as the handler was attached, once read it: the JDK runs a stage's callbacks in an
     * order of its own, and a thread that completed the stage could run the handler and its stage's callbacks
     * first, a close made meanwhile reporting the failure the handler had been handed.
     */
    final void handedToTheHandler(Throwable e) {
        if (e != null) {
            failureRead();
        }
    }

    /** Completes this future with a relayed outcome: {@code v}, or {@code e} if not null. */
    private void settle(T v, Throwable e) {
        if (e == null) {
            super.complete(v);
        } else {
            super.completeExceptionally(e);
        }
    }

    /**
     * As {@code CompletableFuture.join()}; on a thread with a scheduler, a wait for a future not
     * complete yet parks only the calling context, as {@link Coroutine#await} (see {@link CoroutinePool#submit}).
     */
    @Override
    public T join() {
        if (!isDone()) {
            FutureWait.parkUntilDone(this, "join");
        }
        try {
            return super.join();
        } catch (CompletionException e) {
            failureRead();
            throw e;
        } catch (CancellationException e) {
            throw cancelled("join", e);
        }
    }

    /**
     * As {@code CompletableFuture.get()}; on a thread with a scheduler, a wait for a future not
     * complete yet parks only the calling context, as {@link Coroutine#await} (see {@link CoroutinePool#submit}).
     */
    @Override
    public T get() throws InterruptedException, ExecutionException {
        if (!isDone()) {
            FutureWait.parkUntilDone(this, "get");
        }
        try {
            return super.get();
        } catch (ExecutionException e) {
            failureRead(); // an interrupted get read nothing; a value is never reported anyway
            throw e;
        } catch (CancellationException e) {
            throw cancelled("get", e);
        } catch (RuntimeException | Error e) {
            ExecutionException read = causelessRead(); // the JDK's read of a cause let out what getCause() threw
            if (read == null) {
                throw e;
            }
            throw read;
        }
    }

    /**
     * The cancellation a read ({@code join}, {@code get}) of this future found, as {@link Coroutine#await}
     * reports it: naming the caller, the read and this future, the JDK's exception (which names only
     * its own method) as its cause. Apart from the reads, so that they stay small.
     */
    final CancellationException cancelled(String read, CancellationException e) {
        failureRead();
        CancellationException c = new CancellationException(
                Scheduler.describeCaller() + " cannot " + read + " " + SafeText.of(this) + ": it was cancelled");
        c.initCause(e);
        return c;
    }

    /**
     * As {@code CompletableFuture.get(timeout, unit)}; on a thread with a scheduler, a wait for a
     * future not complete yet parks only the calling context, at most {@code timeout} on the
     * scheduler's clock, as {@code withTimeout} around {@link Coroutine#await} (see {@link CoroutinePool#submit}).
     */
    @Override
    public T get(long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        given(unit, "unit");
        if (!isDone()) {
            FutureWait.parkAtMost(this, timeout, unit);
        }
        try {
            return super.get(timeout, unit);
        } catch (TimeoutException e) {
            throw FutureWait.timedOut(this, timeout, unit); // the JDK's wait (no scheduler, or one that cannot suspend the caller) expired
        } catch (ExecutionException e) {
            failureRead(); // a get that timed out read nothing
            throw e;
        } catch (CancellationException e) {
            throw cancelled("get", e);
        } catch (RuntimeException | Error e) {
            ExecutionException read = causelessRead(); // the JDK's read of a cause let out what getCause() threw
            if (read == null) {
                throw e;
            }
            throw read;
        }
    }

    @Override
    public T getNow(T valueIfAbsent) {
        try {
            return super.getNow(valueIfAbsent);
        } catch (CompletionException | CancellationException e) {
            failureRead(); // a getNow before the failure came read nothing
            throw e;
        }
    }

    /**
     * As {@code CompletableFuture.resultNow()}; refused on a failure, it has told its caller the outcome and counts
     * as reading it, as {@link #exceptionNow} refused on a cancellation does. Before the outcome it told nothing:
     * one that comes as the JDK refuses counts for nothing (whether it was done is asked first). Its refusal, an
     * {@code IllegalStateException} as the JDK's, says why ({@link #refusedNow}).
     */
    @Override
    public T resultNow() {
        boolean done = super.isDone();
        String asked = done ? null : SafeText.of(this); // as it was before its outcome, should one come meanwhile
        try {
            return super.resultNow();
        } catch (IllegalStateException e) {
            if (done) {
                failureRead(); // it told its caller that the body failed
            }
            throw refusedNow("resultNow", asked);
        }
    }

    /**
     * As {@code CompletableFuture.exceptionNow()}; it reads the failure it hands over, and also one it refuses
     * as the JDK's does, a {@code CancellationException} (a body's own, which the JDK counts as cancelled): the
     * refusal told its caller the outcome, as {@link #resultNow} refused on a failure does. Before the outcome, or
     * on a value, it read nothing. Its refusal, an {@code IllegalStateException} as the JDK's, says why
     * ({@link #refusedNow}).
     */
    @Override
    public Throwable exceptionNow() {
        CompletionException causeless = causelessFailure(); // handed over as it is, as the JDK's exceptionNow() does
        if (causeless != null) {
            failureRead();
            return causeless;
        }
        boolean done = super.isDone();
        String asked = done ? null : SafeText.of(this); // as it was before its outcome, should one come meanwhile
        Throwable failure;
        try {
            failure = super.exceptionNow();
        } catch (IllegalStateException e) {
            if (done && super.isCancelled()) {
                failureRead(); // it told its caller the body's own cancellation, refusing it
            }
            throw refusedNow("exceptionNow", asked);
        }
        failureRead();
        return failure;
    }

    /**
     * The refusal of {@code read} ({@code resultNow}, {@code exceptionNow}), where the JDK's says nothing: the
     * caller, the read, this future and why, in the shape of every refusal: {@code thread 'main' (#1) cannot
     * resultNow the future of submit #1 to coro-pool-1[…]: it failed with java.lang.IllegalStateException: boom},
     * {@code it was cancelled} (as {@link #cancelled} says it; {@code it was cancelled with
     * java.util.concurrent.CancellationException: stop} for one that says more than its class, a body's own),
     * {@code it completed normally}. {@code asked} is this future's text taken before the read if it had no
     * outcome then, null if it had: such a read is refused as it was then, {@code it has not completed}, whatever
     * came meanwhile. Reads nothing; the JDK's exception, which says nothing, is not kept.
     */
    final IllegalStateException refusedNow(String read, String asked) {
        Throwable failure = asked != null ? null : failureUnread();
        String why;
        if (asked != null) {
            why = "it has not completed";
        } else if (failure == null) {
            why = "it completed normally";
        } else if (super.isCancelled() && failure instanceof CancellationException) {
            String shown = SafeText.line(failure); // a cancel()'s says no more than its class
            why = shown.equals(failure.getClass().getName()) ? "it was cancelled" : "it was cancelled with " + shown;
        } else {
            why = "it failed with " + SafeText.line(failure);
        }
        return new IllegalStateException(Scheduler.describeCaller() + " cannot " + read + " "
                + (asked != null ? asked : SafeText.of(this)) + ": " + why);
    }

    @Override
    public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
        // a thread's one callback for its awaits reads nothing: each await reads for itself; nor does the
        // callback by which orTimeout and completeOnTimeout cancel their timer
        if (!FutureWaits.isWatch(given(action, "action")) && !isTimeoutCanceller(action) && handlerAttached()) {
            return super.whenComplete((v, e) -> {
                handedToTheHandler(e);
                action.accept(v, e);
            });
        }
        return super.whenComplete(action);
    }

    /**
     * Whether {@code action} is the JDK's callback that {@code orTimeout} and {@code completeOnTimeout}
     * attach through {@code whenComplete} to cancel their timer once the future completes: it hands
     * nobody the failure, so attaching it reads nothing.
     */
    private static boolean isTimeoutCanceller(Object action) {
        return action.getClass().getName().equals("java.util.concurrent.CompletableFuture$Canceller");
    }

    @Override
    public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action) {
        return super.whenCompleteAsync(given(action, "action"), takenAsAHandler(defaultExecutor()));
    }

    @Override
    public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action,
                                                  Executor executor) {
        Executor e = takenAsAHandler(executor);
        return super.whenCompleteAsync(given(action, "action"), e);
    }

    @Override
    public <U> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
        given(fn, "fn");
        if (handlerAttached()) {
            return super.handle((v, e) -> {
                handedToTheHandler(e);
                return fn.apply(v, e);
            });
        }
        return super.handle(fn);
    }

    @Override
    public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn) {
        return super.handleAsync(given(fn, "fn"), takenAsAHandler(defaultExecutor()));
    }

    @Override
    public <U> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn,
                                                Executor executor) {
        Executor e = takenAsAHandler(executor);
        return super.handleAsync(given(fn, "fn"), e);
    }

    @Override
    public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
        given(fn, "fn");
        if (handlerAttached()) {
            return super.exceptionally(e -> {
                handedToTheHandler(e);
                return fn.apply(e);
            });
        }
        return super.exceptionally(fn);
    }

    @Override
    public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn) {
        return super.exceptionallyAsync(given(fn, "fn"), takenAsAHandler(defaultExecutor()));
    }

    @Override
    public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn, Executor executor) {
        Executor e = takenAsAHandler(executor);
        return super.exceptionallyAsync(given(fn, "fn"), e);
    }

    @Override
    public CompletableFuture<T> exceptionallyCompose(
            Function<Throwable, ? extends CompletionStage<T>> fn) {
        given(fn, "fn");
        Composed c = new Composed();
        if (handlerAttached()) {
            return c.madeOf(super.exceptionallyCompose(e -> {
                handedToTheHandler(e);
                return c.relayed(fn.apply(e));
            }));
        }
        return c.madeOf(super.exceptionallyCompose(e -> c.relayed(fn.apply(e))));
    }

    @Override
    public CompletableFuture<T> exceptionallyComposeAsync(
            Function<Throwable, ? extends CompletionStage<T>> fn) {
        given(fn, "fn");
        Composed c = new Composed();
        return c.madeOf(super.exceptionallyComposeAsync(e -> c.relayed(fn.apply(e)), takenAsAHandler(defaultExecutor())));
    }

    @Override
    public CompletableFuture<T> exceptionallyComposeAsync(
            Function<Throwable, ? extends CompletionStage<T>> fn, Executor executor) {
        Executor e = takenAsAHandler(executor);
        given(fn, "fn");
        Composed c = new Composed();
        return c.madeOf(super.exceptionallyComposeAsync(x -> c.relayed(fn.apply(x)), e));
    }

    /**
     * {@code executor}, refused if null with a {@code NullPointerException} that names the argument, as every
     * null refusal of the library does, where the JDK's own check of an {@code Async} method's executor says
     * nothing; before anything else, as the JDK checks it first.
     */
    private static Executor named(Executor executor) {
        return Objects.requireNonNull(executor, "executor");
    }

    /**
     * An argument of a stage's method, named {@code argument}: a handler's {@code function} (its {@code fn},
     * {@code action} or {@code supplier}), the {@code other} stage of a method of two, a timeout's {@code unit},
     * the {@code ex} a caller completes or obtrudes;
     * refused if null with a {@code NullPointerException} that names the argument, where the JDK's says
     * nothing (or names a parameter of its own code, {@code "o" is null}); before the handler counts as
     * attached, so that a refused handler reads nothing of the failure. A function is checked before the other
     * stage, as the JDK checks them.
     */
    private static <F> F given(F function, String argument) {
        return Objects.requireNonNull(function, argument);
    }

    @Override
    public <U> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
        return super.thenApply(given(fn, "fn"));
    }

    @Override
    public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn) {
        return super.thenApplyAsync(given(fn, "fn"));
    }

    @Override
    public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
        return super.thenAccept(given(action, "action"));
    }

    @Override
    public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action) {
        return super.thenAcceptAsync(given(action, "action"));
    }

    @Override
    public CompletableFuture<Void> thenRun(Runnable action) {
        return super.thenRun(given(action, "action"));
    }

    @Override
    public CompletableFuture<Void> thenRunAsync(Runnable action) {
        return super.thenRunAsync(given(action, "action"));
    }

    @Override
    public <U> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
        given(fn, "fn");
        Composed c = new Composed();
        return c.madeOf(super.thenCompose(v -> c.relayed(fn.apply(v))));
    }

    @Override
    public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn) {
        given(fn, "fn");
        Composed c = new Composed();
        return c.madeOf(super.thenComposeAsync(v -> c.relayed(fn.apply(v))));
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other,
                                                  BiFunction<? super T, ? super U, ? extends V> fn) {
        given(fn, "fn");
        return super.thenCombine(given(other, "other"), fn);
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other,
                                                       BiFunction<? super T, ? super U, ? extends V> fn) {
        given(fn, "fn");
        return super.thenCombineAsync(given(other, "other"), fn);
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other,
                                                      BiConsumer<? super T, ? super U> action) {
        given(action, "action");
        return super.thenAcceptBoth(given(other, "other"), action);
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other,
                                                           BiConsumer<? super T, ? super U> action) {
        given(action, "action");
        return super.thenAcceptBothAsync(given(other, "other"), action);
    }

    @Override
    public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
        given(action, "action");
        return super.runAfterBoth(given(other, "other"), action);
    }

    @Override
    public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action) {
        given(action, "action");
        return super.runAfterBothAsync(given(other, "other"), action);
    }

    @Override
    public <U> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        given(fn, "fn");
        return super.applyToEither(given(other, "other"), fn);
    }

    @Override
    public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn) {
        given(fn, "fn");
        return super.applyToEitherAsync(given(other, "other"), fn);
    }

    @Override
    public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
        given(action, "action");
        return super.acceptEither(given(other, "other"), action);
    }

    @Override
    public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action) {
        given(action, "action");
        return super.acceptEitherAsync(given(other, "other"), action);
    }

    @Override
    public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
        given(action, "action");
        return super.runAfterEither(given(other, "other"), action);
    }

    @Override
    public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action) {
        given(action, "action");
        return super.runAfterEitherAsync(given(other, "other"), action);
    }

    @Override
    public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
        return super.orTimeout(timeout, given(unit, "unit"));
    }

    @Override
    public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
        return super.completeOnTimeout(value, timeout, given(unit, "unit"));
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
        return super.completeExceptionally(given(ex, "ex"));
    }

    @Override
    public void obtrudeException(Throwable ex) {
        super.obtrudeException(given(ex, "ex"));
    }

    @Override
    public <U> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn, Executor executor) {
        Executor e = named(executor);
        return super.thenApplyAsync(given(fn, "fn"), e);
    }

    @Override
    public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action, Executor executor) {
        Executor e = named(executor);
        return super.thenAcceptAsync(given(action, "action"), e);
    }

    @Override
    public CompletableFuture<Void> thenRunAsync(Runnable action, Executor executor) {
        Executor e = named(executor);
        return super.thenRunAsync(given(action, "action"), e);
    }

    @Override
    public <U, V> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other,
                                                       BiFunction<? super T, ? super U, ? extends V> fn,
                                                       Executor executor) {
        Executor e = named(executor);
        given(fn, "fn");
        return super.thenCombineAsync(given(other, "other"), fn, e);
    }

    @Override
    public <U> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other,
                                                           BiConsumer<? super T, ? super U> action,
                                                           Executor executor) {
        Executor e = named(executor);
        given(action, "action");
        return super.thenAcceptBothAsync(given(other, "other"), action, e);
    }

    @Override
    public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action, Executor executor) {
        Executor e = named(executor);
        given(action, "action");
        return super.runAfterBothAsync(given(other, "other"), action, e);
    }

    @Override
    public <U> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other,
                                                       Function<? super T, U> fn, Executor executor) {
        Executor e = named(executor);
        given(fn, "fn");
        return super.applyToEitherAsync(given(other, "other"), fn, e);
    }

    @Override
    public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other,
                                                     Consumer<? super T> action, Executor executor) {
        Executor e = named(executor);
        given(action, "action");
        return super.acceptEitherAsync(given(other, "other"), action, e);
    }

    @Override
    public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action, Executor executor) {
        Executor e = named(executor);
        given(action, "action");
        return super.runAfterEitherAsync(given(other, "other"), action, e);
    }

    @Override
    public <U> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn,
                                                     Executor executor) {
        Executor e = named(executor);
        given(fn, "fn");
        Composed c = new Composed();
        return c.madeOf(super.thenComposeAsync(v -> c.relayed(fn.apply(v)), e));
    }

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
        Executor e = named(executor);
        return super.completeAsync(given(supplier, "supplier"), e);
    }

    /**
     * {@code executor} (refused if null, {@link #named naming the argument}), for the task of an {@code Async} handler of this future: the
     * handler counts as attached once the executor has taken its task, not before, so that a handler whose
     * executor refuses the task (the pool itself, closing; one shut down) and which never runs hands nobody
     * the failure, which stays for close() to report; the JDK fails the handler's stage with the refusal.
     * A task that starts before the executor's {@code execute} returns (a direct executor runs it there)
     * counts as it starts: its handler has the failure, whatever a close does before that call returns.
     * Given the submission's own pool, whose close() waits for the handler's coroutine, the handler counts
     * once that coroutine starts: one whose task {@link CoroutinePool#closeNow()} drops before it started never runs either.
     */
    private Executor takenAsAHandler(Executor executor) {
        CoroutinePool own = submission().pool;
        if (executor == own) {
            return task -> own.execute(new HandlerTask(this, task));
        }
        named(executor);
        return task -> {
            executor.execute(new HandlerTask(this, task));
            handlerAttached(); // the JDK hands the task over once this stage is complete: it counts now
        };
    }

    /**
     * The task of an {@code Async} handler of a pool future, as the JDK made it, which counts the handler as
     * attached as it starts; an {@code AsynchronousCompletionTask} still, as the JDK's own is, for an executor
     * that tells those apart.
     */
    private static final class HandlerTask implements Runnable, CompletableFuture.AsynchronousCompletionTask {
        private final PoolFuture<?> future;
        private final Runnable task;

        HandlerTask(PoolFuture<?> future, Runnable task) {
            this.future = future;
            this.task = task;
        }

        @Override
        public void run() {
            future.handlerAttached(); // its stage is complete as its task runs: it counts now
            task.run();
        }
    }

    /**
     * What the composing function of a stage ({@code thenCompose}, {@code exceptionallyCompose}, their {@code Async}
     * forms) returned, whose outcome the stage relays: a pool future (a submission's, or a stage derived from one),
     * whose body's failure read through the composed stage counts as read ({@link DerivedFuture#failureRead}).
     */
    private static final class Composed {
        /** The pool future the function returned, once it has; null before, or if it returned another stage. */
        private volatile PoolFuture<?> returned;

        /** The composed stage {@code d}, which knows this from now on (before its caller has it), handed back. */
        <U> CompletableFuture<U> madeOf(CompletableFuture<U> d) {
            if (d instanceof DerivedFuture<U> derived) {
                derived.composed = this; // the JDK makes it with newIncompleteFuture(): always so
            }
            return d;
        }

        /** The function returned {@code stage}, which the composed stage relays: handed back to the JDK as it is, kept if it is a pool future. */
        <S extends CompletionStage<?>> S relayed(S stage) {
            if (stage instanceof PoolFuture<?> r) {
                returned = r;
            }
            return stage;
        }
    }

    /** The future of a submitted body, which knows whether anyone read its outcome. */
    static final class ObservedFuture<T> extends PoolFuture<T> {
        private final CoroutinePool pool;
        /** Its submission's number. */
        final long seq;
        /** Its place in the order close() reports failures in. */
        final long order;
        /** Whether its outcome was read (or handed to a handler of failures). */
        volatile boolean observed;
        /** Whether the pool keeps it for close(): it failed before anyone read it. */
        volatile boolean retained;
        /** What its body threw and where, once retained (guarded by the pool's {@code failures}). */
        Failure failure;
        /** Whether its caller obtruded an outcome on it ({@code obtrudeValue}, {@code obtrudeException}). */
        volatile boolean obtruded;
        /** Retained, then let go to keep the pool's failures bounded: counted as not kept (guarded by the pool's {@code failures}). */
        boolean letGo;
        /** Its submission, whose coroutine a {@code cancel(true)} closes. */
        volatile Task task;
        /** The name its body's coroutine was given; null for the default one. */
        private final String name;

        ObservedFuture(CoroutinePool pool, long seq, long order, String name) {
            this.pool = pool;
            this.seq = seq;
            this.order = order;
            this.name = name;
        }

        /**
         * Its submission as messages name it: {@code submit #1 to coro-pool-1}, and for a named body
         * {@code submit #1 (coroutine 'acceptor') to coro-pool-1}.
         */
        String submissionText() {
            return "submit #" + seq + (name == null ? "" : " (coroutine '" + SafeText.name(name) + "')") + " to " + pool.name;
        }

        /**
         * Cancels it, as a {@code CompletableFuture} is cancelled; with {@code mayInterruptIfRunning}, a
         * body that has started and not ended is closed too, as a {@code FutureTask}'s thread is
         * interrupted (see {@link CoroutinePool#submit}), but only by the call that cancels it: one of a
         * future settled already (a {@code cancel(false)} before it, a {@code CancellationException} its
         * caller completed it with), which the JDK answers {@code true} all the same, closes nothing, as
         * a {@code FutureTask}'s later cancel interrupts nothing.
         */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean settled = super.isDone(); // two cancels racing may both see it open: both then close, as either first would
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            Task t = task;
            if (cancelled && !settled && mayInterruptIfRunning && t != null && t.context != null) {
                PoolWorker w = t.worker;
                if (w != null) {
                    w.requestClose(t);
                }
            }
            return cancelled;
        }

        /**
         * Someone reads it: close() does not report its failure, and the pool lets it go; unless what it
         * holds now is an outcome its caller obtruded over the body's failure kept for close(), which hands
         * nobody that failure (close() reports the body's failure, not the obtruded outcome).
         */
        void observe() {
            if (!observed && !obtrudedOverKeptFailure()) {
                bodysFailureRead();
            }
        }

        /**
         * A read handed its caller the body's failure itself (through a stage derived from this future, which
         * holds it whatever its caller obtruded here since): close() does not report it, and the pool lets it go.
         */
        void bodysFailureRead() {
            if (!observed) {
                observed = true;
                if (retained) {
                    pool.forget(this);
                }
            }
        }

        /**
         * The body's failure as a read of a stage derived from this future hands it over ({@link #asRead}): the
         * failure kept for close() once its caller obtruded another outcome over it, which a stage that failed with
         * it before still holds; this future's own failure otherwise; null if it has none.
         */
        Throwable bodysFailure() {
            if (obtruded && retained) {
                Failure kept;
                synchronized (pool.failures) {
                    kept = failure;
                }
                if (kept != null) {
                    return asRead(kept.thrown());
                }
            }
            return failureUnread();
        }

        /**
         * Whether its caller obtruded another outcome ({@code obtrudeValue}, {@code obtrudeException})
         * over the body's failure kept for close(): a read or handler then sees the caller's outcome.
         * Off the reads' path: only a read of a failure or an attached handler asks.
         */
        private boolean obtrudedOverKeptFailure() {
            if (!obtruded || !retained) {
                return false;
            }
            Failure kept;
            synchronized (pool.failures) {
                kept = failure;
            }
            return kept != null && failureUnread() != kept.thrown();
        }

        /** Replaces its outcome, as the JDK's does; a failure of the body kept for close() stays kept. */
        @Override
        public void obtrudeValue(T value) {
            obtruded = true; // before the outcome: a reader that sees the new one sees this
            super.obtrudeValue(value);
        }

        /**
         * Replaces its outcome, as the JDK's does; a failure of the body kept for close() stays kept. A null
         * {@code ex} is refused before the future counts as obtruded: the refused call obtrudes nothing.
         */
        @Override
        public void obtrudeException(Throwable ex) {
            PoolFuture.given(ex, "ex");
            obtruded = true;
            super.obtrudeException(ex);
        }

        @Override
        void failureRead() {
            observe();
        }

        @Override
        ObservedFuture<?> submission() {
            return this;
        }

        /**
         * {@code the future of submit #1 to coro-pool-1[Not completed]}, or of a named body {@code the future
         * of submit #1 (coroutine 'acceptor') to coro-pool-1[Not completed]}: the submission, then the JDK's state.
         */
        @Override
        public String toString() {
            return "the future of " + submissionText() + stateText();
        }
    }

    /**
     * A future derived from a submission's ({@code thenApply}, {@code thenCompose}, {@code whenComplete}
     * …): a failure read from it, or handled on it, is the submission's once the submission has
     * failed (a derived future fails with its source's failure), so it counts as reading that.
     */
    private static class DerivedFuture<T> extends PoolFuture<T> {
        private final ObservedFuture<?> submission;

        DerivedFuture(ObservedFuture<?> submission) {
            this.submission = submission;
        }

        /** The composing function that made this stage ({@code thenCompose} …), or null: made otherwise. */
        volatile Composed composed;

        /**
         * A read handed its caller this stage's failure: the submission's only if it is the one the
         * submission's body failed with (which this stage keeps after the submission's caller obtruded another
         * outcome there), not one of its own (a {@code cancel} or {@code completeExceptionally}
         * of this stage, an {@code orTimeout}'s) or of another source ({@code applyToEither}), which may
         * have come before the submission failed too; on a composed stage, the failure of the body of the
         * submission whose pool future its function returned, if it is that one, at any depth of compositions
         * (a cycle of composed stages, each relaying another, ends the search).
         */
        @Override
        void failureRead() {
            Throwable failure = failureUnread();
            if (failure == null) {
                return;
            }
            Set<PoolFuture<?>> passed = null;
            for (PoolFuture<?> at = this; at != null; ) {
                ObservedFuture<?> s = at.submission();
                if (s.bodysFailure() == failure) {
                    s.bodysFailureRead();
                    return;
                }
                Composed c = at instanceof DerivedFuture<?> d ? d.composed : null;
                at = c == null ? null : c.returned;
                if (at != null) {
                    if (passed == null) {
                        passed = Collections.newSetFromMap(new IdentityHashMap<>());
                    }
                    if (!passed.add(at)) {
                        return;
                    }
                }
            }
        }

        @Override
        ObservedFuture<?> submission() {
            return submission;
        }

        /** {@code a stage of the future of submit #1 to coro-pool-1[Not completed]}: its submission, then its own state. */
        @Override
        public String toString() {
            return "a stage of the future of " + submission.submissionText() + stateText();
        }
    }

    /**
     * The minimal stage of a submission's future, or of one derived from it: like the JDK's, it
     * refuses every method that is not a {@link java.util.concurrent.CompletionStage}'s (naming the
     * caller, the call and the stage, where the JDK's says nothing), and its
     * {@code toCompletableFuture()} is a new future relayed from it; unlike the JDK's, that future,
     * and the stages made from it, count a read or a handler of the failure as the submission's.
     */
    static final class MinimalFuture<T> extends DerivedFuture<T> {

        MinimalFuture(ObservedFuture<?> submission) {
            super(submission);
        }

        /**
         * The refusal of {@code method}, which is not a {@link java.util.concurrent.CompletionStage}'s: named
         * in the shape of every refusal (the caller, the call, this stage and its state) where the JDK's
         * minimal stage throws a bare {@link UnsupportedOperationException}.
         */
        private UnsupportedOperationException refused(String method) {
            return new UnsupportedOperationException(Scheduler.describeCaller() + " cannot " + method + " " + this
                    + ": a minimal stage offers only the methods of CompletionStage; use toCompletableFuture()"
                    + " for the others");
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new MinimalFuture<>(submission());
        }

        @Override
        public CompletableFuture<T> toCompletableFuture() {
            DerivedFuture<T> d = new DerivedFuture<>(submission());
            relayTo(d);
            return d;
        }

        @Override
        public T get() {
            throw refused("get");
        }

        @Override
        public T get(long timeout, TimeUnit unit) {
            throw refused("get");
        }

        @Override
        public T getNow(T valueIfAbsent) {
            throw refused("getNow");
        }

        @Override
        public T join() {
            throw refused("join");
        }

        @Override
        public T resultNow() {
            throw refused("resultNow");
        }

        @Override
        public Throwable exceptionNow() {
            throw refused("exceptionNow");
        }

        @Override
        public boolean complete(T value) {
            throw refused("complete");
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            throw refused("completeExceptionally");
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            throw refused("cancel");
        }

        @Override
        public void obtrudeValue(T value) {
            throw refused("obtrudeValue");
        }

        @Override
        public void obtrudeException(Throwable ex) {
            throw refused("obtrudeException");
        }

        @Override
        public boolean isDone() {
            throw refused("isDone");
        }

        @Override
        public boolean isCancelled() {
            throw refused("isCancelled");
        }

        @Override
        public boolean isCompletedExceptionally() {
            throw refused("isCompletedExceptionally");
        }

        @Override
        public State state() {
            throw refused("state");
        }

        @Override
        public int getNumberOfDependents() {
            throw refused("getNumberOfDependents");
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
            throw refused("completeAsync");
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
            throw refused("completeAsync");
        }

        @Override
        public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
            throw refused("orTimeout");
        }

        @Override
        public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
            throw refused("completeOnTimeout");
        }
    }
}
