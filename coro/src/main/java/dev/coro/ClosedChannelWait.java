package dev.coro;

import java.nio.channels.ClosedChannelException;

/**
 * The refusal of an I/O wait on a closed channel: the JDK's {@link ClosedChannelException}, which
 * callers of NIO catch, with a message (the JDK's has none) naming the caller, its wait and the channel.
 */
final class ClosedChannelWait extends ClosedChannelException {
    private static final long serialVersionUID = 1L;

    /** The message; {@link ClosedChannelException} has no constructor that takes one. */
    private final String message;

    /**
     * The refusal of {@code operation} (e.g. {@code await OP_READ on ...}) to {@code self}, in the shape of
     * every refusal: {@code coroutine 'w' cannot await OP_WRITE on ... (closed): a closed channel is never ready}.
     */
    ClosedChannelWait(Context self, Object operation) {
        this(self.describe(), operation);
    }

    /** The refusal of {@code operation} to {@code caller}, as it names itself ({@code thread 'worker' (#31)}: a thread without a scheduler). */
    ClosedChannelWait(String caller, Object operation) {
        this.message = caller + " cannot " + operation + " (closed): a closed channel is never ready";
    }

    @Override
    public String getMessage() {
        return message;
    }
}
