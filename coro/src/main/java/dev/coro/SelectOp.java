package dev.coro;

/** A channel clause's operation in a {@link Select}'s run across threads: a send or a receive whose completion must lock the run's {@link SelectClaim}. */
final class SelectOp<T> extends RemoteOp<T> {
    private final SelectClaim claim;
    private final SelectClauses.ChannelClause<T, ?> clause;

    SelectOp(SelectClauses.ChannelClause<T, ?> clause, Context self, SelectClaim claim) {
        super(clause.channel, clause.sender ? RemoteOp.SEND : RemoteOp.RECEIVE, self, clause.offered(),
                clause.sender ? "select a send to" : "select a receive from", claim);
        this.claim = claim;
        this.clause = clause;
    }

    @SuppressWarnings("unchecked")
    <R> SelectClauses.ChannelClause<T, R> clause() {
        return (SelectClauses.ChannelClause<T, R>) clause;
    }

    @Override
    ForeignWait selectClaim() {
        return claim;
    }

    @Override
    long claimOrder() {
        return claim.order;
    }

    /** Locks the run's wait, waiting while another clause's channel holds it (the rest is {@link RemoteOp#lock}'s). */
    @Override
    boolean lockTicket() {
        return claim.lockSpinning();
    }

    @Override
    boolean isStale() {
        return !claim.isOpen() || !claim.waiterThreadAlive();
    }

    /**
     * The channel's scheduler has ended and refused or dropped this clause's post: noted for the select's
     * failure, which names this channel though its thread may still be alive for a moment, then the run's
     * wait ends.
     */
    @Override
    void ownerEnded() {
        if (claim.endedBy == null) {
            claim.endedBy = this;
        }
        super.ownerEnded();
    }

    /** Wins the run's wait, locked by {@link #lockTicket}: the select fires this clause. */
    @Override
    void finishTicket() {
        claim.wonBy(this);
    }

    @Override
    public boolean sentItsValue() {
        return sender && done && !closed;
    }

    /** Gives the value this receive was handed back to its channel; false if the channel is closed (it keeps it). */
    boolean giveBack() {
        return channel.giveBackFromClause(value, handed);
    }
}
