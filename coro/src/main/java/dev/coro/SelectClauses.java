package dev.coro;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The kinds of a {@link Select}'s clause ({@link SelectClause}): a {@link ChannelClause} ({@link ReceiveClause},
 * {@link SendClause}), a {@link TimeoutClause} and a {@link CompleteClause}. Nested in a class of their own, not in
 * the interface: a class nested in an interface is public, and a public class extending a package-private one
 * ({@link ChannelWaiter}) gets bridges to its public methods, overrides that a call on any channel waiter would then
 * have to tell apart.
 */
final class SelectClauses {

    private SelectClauses() {
    }

    /**
     * A channel clause: a waiter queued on its channel while the select waits, whose completion wins
     * the select. {@link ReceiveClause} and {@link SendClause} add what they do with the value.
     */
    abstract static class ChannelClause<T, R> extends ChannelWaiter<T> implements SelectClause<R> {
        final Select<R> select;

        ChannelClause(Select<R> select, Channel<T> channel, boolean sender, T value) {
            super(channel, sender, null, value);
            this.select = select;
        }

        /** Whether the channel belongs to another thread than the one that last checked the select. */
        boolean foreign;

        @Override
        public boolean isForeign() {
            return foreign = !channel.isCallersOwn();
        }

        @Override
        public RemoteOp<?> registerAcross(Context self, Scheduler s, SelectClaim claim) {
            SelectOp<T> op = new SelectOp<>(this, self, claim);
            if (foreign) {
                channel.registerFromAfar(op);
            } else {
                channel.registerHere(op);
            }
            return op;
        }

        /** Never asked: its operation ({@link SelectOp}) holds the run's wait, not the clause. */
        @Override
        public void waitIn(SelectClaim claim) {
        }

        @Override
        public void withdrawAcross(RemoteOp<?> op) {
            if (op == null) {
                return; // not registered: a clause before it won the run
            }
            @SuppressWarnings("unchecked")
            RemoteOp<T> mine = (RemoteOp<T>) op;
            channel.withdrawClause(mine);
        }

        /** The value a waiting sender offers (null for a receiver). */
        abstract T offered();

        /**
         * From a thread without a scheduler, its channel being another thread's: the refusal naming {@code caller}
         * that firing the clause throws if its channel is closed (and drained, for a receive) as read in place; null
         * if it is not, or the clause fires otherwise there ({@code ifClosed}).
         */
        abstract ChannelClosedException refusedInPlace(String caller);

        /**
         * What a run throws for the clause's {@code REFUSED}, naming {@code self}: its failure on its closed channel (drained,
         * for a receive), or the refusal of its channel whose thread has ended.
         */
        final RuntimeException refusal(Context self) {
            return channel.isClosed() ? closedRefusal(self) : channel.clauseRefusedAsItsThreadEnded(sender, self);
        }

        /** The failure of the clause on its closed channel (drained, for a receive), naming {@code self}. */
        abstract ChannelClosedException closedRefusal(Context self);

        @Override
        public void register(Context self, Scheduler s) {
            context = self;
            value = offered();
            done = false;
            closed = false;
            channel.enqueue(this);
        }

        @Override
        void complete(boolean closed) {
            select.won(this);
            super.complete(closed);
        }

        @Override
        public void unregister() {
            channel.dequeue(this);
            channel.uncountAsForeign(this);
        }

        /**
         * What the clause waits to do, as a plain wait names it: {@code receive from channel 'jobs'} (or
         * {@code send to …}) on a channel of the select's thread, or of a select that has not run yet (it
         * belongs to no thread); on a channel of another thread, with that thread, as a {@code receive} of the
         * select's thread would wait there ({@link Channel#describeOperationAfar}): {@code receive from channel
         * 'jobs' of thread 'main' (#1)}. Made only when a dump or a refusal names the select, never by a run.
         */
        @Override
        public String describe() {
            String op = sender ? "send to" : "receive from";
            Scheduler s = select.boundTo;
            return s == null || channel.owner() == s.owner ? channel.describeOperation(op) : channel.describeOperationAfar(op);
        }

        /** As {@link #describe()}: the clause as a waiter queued on its channel. */
        @Override
        public String toString() {
            return describe();
        }
    }

    /** A receive clause: a receiver queued on its channel while the select waits. */
    static final class ReceiveClause<T, R> extends ChannelClause<T, R> {
        private final Function<? super T, ? extends R> f;
        /** What the clause makes of its channel closed and drained; null for the plain clause, which throws. */
        private final Function<? super ChannelClosedException, ? extends R> ifClosed;

        ReceiveClause(Select<R> select, Channel<T> channel, Function<? super T, ? extends R> f,
                      Function<? super ChannelClosedException, ? extends R> ifClosed) {
            super(select, channel, false, null);
            this.f = f;
            this.ifClosed = ifClosed;
        }

        @Override
        public boolean isReady() {
            return channel.canReceiveNow();
        }

        @Override
        public Object fireNow(Context self) {
            T v = channel.pollNow();
            if (v == null) {
                if (channel.isClosed()) {
                    return closedOutcome(self);
                }
                return Select.NOT_READY;
            }
            select.fired();
            return Callback.apply(f, v);
        }

        @Override
        T offered() {
            return null;
        }

        @Override
        public Object tryFire(Context self, boolean definite) {
            if (!foreign) { // fireNow, but a refusal is returned
                if (!isReady()) {
                    return Select.NOT_READY;
                }
                T v = channel.pollNow();
                if (v == null) {
                    return !channel.isClosed() ? Select.NOT_READY : ifClosed == null ? Select.REFUSED : closedOutcome(self);
                }
                select.fired();
                return Callback.apply(f, v);
            }
            T v = channel.pollInPlace();
            if (v == null && channel.isClosed() && channel.closedAndDrainedFromAfar()) {
                // ready, as a closed channel of the caller's own thread is, shared or not: it fires in its place
                return ifClosed == null ? Select.REFUSED : Select.CLOSED_IN_PLACE;
            }
            if (v == null && !definite) {
                channel.askToShare(); // not shared yet, it is not tried in place: the next runs will
            }
            if (v == null && definite) {
                if (channel.refusesAsItsThreadEnded(false)) {
                    return Select.REFUSED; // nothing to ask of its thread, nor to take
                }
                RemoteOp<T> r = channel.tryFromAfar(false, null);
                if (r.value == null && r.closed) {
                    return closedOutcome(self);
                }
                v = r.value;
            }
            if (v == null) {
                return Select.NOT_READY;
            }
            select.fired();
            return Callback.apply(f, v);
        }

        @Override
        public R resultAcross(Context self, RemoteOp<?> op) {
            if (op.closed) {
                return closedOutcome(self);
            }
            @SuppressWarnings("unchecked")
            T v = (T) op.value;
            op.value = null;
            return Callback.apply(f, v);
        }

        @Override
        public R result(Context self) {
            if (closed) {
                return closedOutcome(self);
            }
            T v = value;
            value = null;
            return Callback.apply(f, v);
        }

        @Override
        public boolean keeps() {
            if (value == null || closed) {
                return false;
            }
            if (!channel.giveBack(value, handed)) {
                return true;
            }
            value = null;
            return false;
        }

        /**
         * The clause fired on its channel closed and drained: throws its failure ({@link #closed}), or, for a clause
         * given {@code ifClosed}, lets the channels go as a fired clause does ({@link Select#fired()}, before the
         * user's code runs: it may suspend) and returns what {@code ifClosed} makes of that failure.
         */
        R closedOutcome(Context self) {
            ChannelClosedException e = closed(self);
            if (ifClosed == null) {
                throw e;
            }
            select.fired();
            return Callback.apply(ifClosed, e);
        }

        @Override
        ChannelClosedException refusedInPlace(String caller) {
            return ifClosed == null && channel.isClosed() && channel.closedAndDrainedFromAfar() ? closed(caller) : null;
        }

        @Override
        ChannelClosedException closedRefusal(Context self) {
            return closed(self);
        }

        /** The clause's failure on its closed channel, naming {@code self} (and its thread, if the channel is another thread's), as every refusal of a channel does. */
        private ChannelClosedException closed(Context self) {
            return closed(channel.caller(self));
        }

        /** The clause's failure on its closed channel, naming {@code caller} as {@link #closed(Context)} does. */
        private ChannelClosedException closed(String caller) {
            return new ChannelClosedException(caller + " cannot select onReceive from " + channel.describe()
                    + " (" + channel.state() + "): " + Channel.NONE_LEFT + "; leave the clause out to go on", channel);
        }
    }

    /** A send clause: a sender queued on its channel with its value while the select waits. */
    static final class SendClause<T, R> extends ChannelClause<T, R> {
        private final T toSend;
        private final Supplier<? extends R> f;

        SendClause(Select<R> select, Channel<T> channel, T value, Supplier<? extends R> f) {
            super(select, channel, true, value);
            this.toSend = value;
            this.f = f;
        }

        @Override
        public boolean isReady() {
            return channel.canSendNow();
        }

        @Override
        public Object fireNow(Context self) {
            if (!channel.offerNow(toSend)) {
                if (channel.isClosed()) {
                    throw closed(self);
                }
                return Select.NOT_READY;
            }
            select.fired();
            return Callback.get(f);
        }

        @Override
        T offered() {
            return toSend;
        }

        @Override
        public Object tryFire(Context self, boolean definite) {
            if (channel.isClosed()) {
                return Select.REFUSED; // a closed channel's clause is ready, and fires so: refused, the value not delivered
            }
            if (!foreign) {
                return isReady() ? fireNow(self) : Select.NOT_READY;
            }
            if (!channel.offerInPlace(toSend)) {
                if (!definite) {
                    channel.askToShare(); // not shared yet, it is not tried in place: the next runs will
                    return Select.NOT_READY;
                }
                if (channel.refusesAsItsThreadEnded(true)) {
                    return Select.REFUSED; // nothing to ask of its thread
                }
                RemoteOp<T> r = channel.tryFromAfar(true, toSend);
                if (r.closed) {
                    throw closed(self);
                }
                if (!r.ok) {
                    return Select.NOT_READY;
                }
            }
            select.fired();
            return Callback.get(f);
        }

        @Override
        public R resultAcross(Context self, RemoteOp<?> op) {
            if (op.closed) {
                throw closed(self);
            }
            return Callback.get(f);
        }

        @Override
        public R result(Context self) {
            if (closed) {
                throw closed(self);
            }
            return Callback.get(f);
        }

        @Override
        public boolean keeps() {
            return false;
        }

        @Override
        ChannelClosedException refusedInPlace(String caller) {
            return channel.isClosed() ? closed(caller) : null;
        }

        @Override
        ChannelClosedException closedRefusal(Context self) {
            return closed(self);
        }

        /** The clause's failure on its closed channel, naming {@code self} (and its thread, if the channel is another thread's), as every refusal of a channel does. */
        private ChannelClosedException closed(Context self) {
            return closed(channel.caller(self));
        }

        /** The clause's failure on its closed channel, naming {@code caller} as {@link #closed(Context)} does. */
        private ChannelClosedException closed(String caller) {
            return new ChannelClosedException(caller + " cannot select onSend(" + SafeText.line(toSend) + ") to "
                    + channel.describe() + " (" + channel.state() + "): " + Channel.NOT_DELIVERED
                    + "; leave the clause out to go on", channel);
        }
    }

    /** A timeout clause: a timer scheduled while the select waits. */
    static final class TimeoutClause<R> extends Timer implements SelectClause<R> {
        private final Select<R> select;
        final long nanos;
        private final Duration d;
        private final Supplier<? extends R> f;
        private Context context;
        private EventLoop loop;

        TimeoutClause(Select<R> select, long nanos, Duration d, Supplier<? extends R> f) {
            this.select = select;
            this.nanos = nanos;
            this.d = d;
            this.f = f;
        }

        /** The wait of the run across threads it waits in; null in any other run. */
        private SelectClaim claim;

        @Override
        public boolean isForeign() {
            return false;
        }

        @Override
        public boolean isReady() {
            return nanos == 0;
        }

        @Override
        public void waitIn(SelectClaim claim) {
            this.claim = claim;
        }

        @Override
        public Object fireNow(Context self) {
            select.fired();
            return Callback.get(f);
        }

        @Override
        public void register(Context self, Scheduler s) {
            context = self;
            loop = s.loop;
            loop.schedule(this, loop.deadlineAfter(nanos));
        }

        @Override
        void expire() {
            SelectClaim c = claim;
            if (c != null) { // a run across threads
                c.winIfFirst(this);
                return;
            }
            if (context.state() == Coroutine.State.PARKED) {
                select.won(this);
                context.scheduler.unpark(context);
            }
        }

        @Override
        public void unregister() {
            if (loop != null) {
                loop.cancel(this);
            }
        }

        @Override
        public R result(Context self) {
            return Callback.get(f);
        }

        @Override
        public boolean keeps() {
            return false;
        }

        @Override
        public String describe() {
            // read once: a dump of another thread may read while the owner schedules the timer, and need not
            // see its writes in their order (a timer pending before its loop is seen is shown without its deadline)
            EventLoop l = loop;
            long at = deadline;
            if (l != null && at == Long.MAX_VALUE) { // past the clock's range: no timer, as for a sleep
                return "timeout " + d + " for ever (a duration past the clock's range)";
            }
            return "timeout " + d + (isPending() && l != null ? " (" + l.describeDeadline(at) + ")" : "");
        }
    }

    /**
     * An {@code onComplete} clause: while the select waits, a waiter queued under its future in the
     * thread's {@link FutureWaits} (one callback per future and thread, however many runs lose), whose
     * completion, on the caller's thread, wins the run.
     */
    static final class CompleteClause<T, R> extends FutureWaits.Waiter implements SelectClause<R> {
        private final Select<R> select;
        /** The stage the clause was given, as its texts name it; {@link #future} is what the thread waits on for it. */
        private final CompletionStage<T> stage;
        private final CompletableFuture<T> future;
        private final Function<? super T, ? extends R> f;
        private Context context;
        private EventLoop loop;
        private boolean registered;

        CompleteClause(Select<R> select, CompletionStage<T> stage, CompletableFuture<T> future, Function<? super T, ? extends R> f) {
            this.select = select;
            this.stage = stage;
            this.future = future;
            this.f = f;
        }

        /** The wait of the run across threads it waits in; null in any other run. */
        private SelectClaim claim;

        @Override
        public boolean isForeign() {
            return false;
        }

        @Override
        public boolean isReady() {
            return future.isDone();
        }

        @Override
        public void waitIn(SelectClaim claim) {
            this.claim = claim;
        }

        @Override
        public Object fireNow(Context self) {
            select.fired();
            return Callback.apply(f, joined(self));
        }

        /**
         * The stage's value, or what {@code join()} throws: a cancellation naming {@code self}, the clause and
         * the stage, read as an await reads it ({@link Coroutine#joined}).
         */
        private T joined(Context self) {
            try {
                return Coroutine.joined(future);
            } catch (CancellationException e) {
                CancellationException c = new CancellationException(self.describe() + " cannot select: its clause onComplete("
                        + SafeText.line(stage) + ") fired on a cancelled stage");
                c.initCause(e);
                throw c;
            } catch (CompletionException e) {
                // what join() throws, its cause the stage's failure, but saying which clause fired: a select of
                // several onComplete clauses would otherwise leave the caller to guess which stage failed
                // a cause that cannot be read (the user's getCause() throws) counts as none
                Throwable cause = Scheduler.causeOf(e);
                Throwable failure = cause != null ? cause : e;
                throw new CompletionException(self.describe() + " cannot select: its clause onComplete("
                        + SafeText.line(stage) + ") fired on a stage that failed: " + SafeText.of(failure), failure);
            }
        }

        @Override
        public void register(Context self, Scheduler s) {
            context = self;
            loop = s.loop;
            registered = true;
            loop.foreignWaitStarted();
            loop.futureWaits().add(future, this);
        }

        /** On the caller's thread: the stage completed while this run waited for it. */
        @Override
        void completed() {
            SelectClaim c = claim;
            if (c != null) { // a run across threads
                if (registered) {
                    c.winIfFirst(this);
                }
                return;
            }
            if (registered && select.winner == null && context.state() == Coroutine.State.PARKED) {
                select.won(this);
                context.scheduler.unpark(context);
            }
        }

        @Override
        public void unregister() {
            if (registered) {
                registered = false;
                loop.futureWaits().remove(this);
                loop.foreignWaitEnded();
            }
        }

        @Override
        public R result(Context self) {
            return Callback.apply(f, joined(self));
        }

        @Override
        public boolean keeps() {
            return false;
        }

        @Override
        public String describe() {
            return "completion of " + SafeText.line(stage); // one line, however the stage prints
        }
    }
}
