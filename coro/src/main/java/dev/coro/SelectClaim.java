package dev.coro;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The wait of a {@link Select}'s run across threads: one for all its clauses, which the first completion locks and
 * completes (on whatever thread completes it, the caller woken through its event loop), and which
 * every other finds over. Its order among such waits is the order in which a channel locks two of them.
 */
final class SelectClaim extends ForeignWait {
    private static final AtomicLong ORDERS = new AtomicLong();

    final long order = ORDERS.incrementAndGet();
    private final Select<?> select;
    /** Each clause's operation on its channel, by index; null for a clause that has none, or not registered. */
    final RemoteOp<?>[] ops;
    /** How many clauses (in the run's order) started waiting. */
    int registered;
    /** What won: a channel clause's operation, or a timeout or completion clause; written before the wait completes. */
    Object winner;
    /**
     * The clause's operation whose channel's scheduler refused or dropped its post, having ended (its thread
     * may still be alive for a moment, a pool thread leaving its loop); written before the wait ends, and
     * read by {@link #ended} to name that channel. Null if none did.
     */
    volatile SelectOp<?> endedBy;
    /** The clean-up: every clause leaves its queue or timer. */
    final Cleanup withdrawal;

    SelectClaim(Context self, Select<?> select, int n) {
        super(self, self.scheduler.owner, select.waiting);
        this.select = select;
        this.ops = new RemoteOp<?>[n];
        this.withdrawal = this::withdraw;
    }

    /**
     * Ends the wait (interrupted, unless a clause won it or it ended: done by the scheduler already for its
     * signal), then every clause but the winner leaves its queue or timer; changes nothing more if done again.
     */
    private void withdraw() {
        interrupt();
        SelectClause<?>[] cs = select.clauses;
        for (int i = 0; i < ops.length; i++) {
            RemoteOp<?> op = ops[i];
            if (op != null) {
                ops[i] = null;
                if (op != winner) {
                    cs[i].withdrawAcross(op);
                }
            } else if (cs[i] != winner) {
                cs[i].withdrawAcross(null);
            }
        }
    }

    /**
     * {@code clause} (a channel clause's operation, or a timeout or completion clause) completed first, the
     * wait locked by its caller: it wins, and the wait ends, so that the select fires it.
     */
    void wonBy(Object clause) {
        winner = clause;
        finish();
    }

    /**
     * A clause with no operation of its own (a timeout, a completion), on the caller's thread: it wins
     * the run if no clause has, waiting while another thread holds the wait (it may be completing a
     * channel clause); nothing once the wait is over.
     */
    void winIfFirst(SelectClause<?> clause) {
        if (lockSpinning()) {
            wonBy(clause);
        }
    }

    /** The failure of a run whose wait ended because a channel's thread has ended. */
    IllegalStateException ended(Context self) {
        SelectOp<?> by = endedBy;
        if (by != null) { // its thread may not have ended yet, only its scheduler
            return by.channel.ownerEndedFor(self, by.sender ? "select a send to" : "select a receive from");
        }
        for (SelectClause<?> c : select.clauses) {
            if (c instanceof SelectClauses.ChannelClause<?, ?> cc && cc.foreign && !cc.channel.owner().isAlive()) {
                return cc.channel.ownerEndedFor(self, cc.sender ? "select a send to" : "select a receive from");
            }
        }
        return new IllegalStateException(self.describe() + " cannot " + Wait.describe(select.waiting)
                + ": a channel's thread has ended");
    }

    @Override
    public boolean sentItsValue() {
        return isDone() && winner instanceof SelectOp<?> op && op.sender && !op.closed;
    }

    /** On the caller's thread: whether the thread of a channel one of its clauses waits on has ended (it never completes it). */
    @Override
    boolean completerEnded() {
        for (RemoteOp<?> op : ops) {
            if (op != null && !op.channel.owner().isAlive()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String reason() {
        return "select";
    }
}
