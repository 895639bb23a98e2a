package dev.coro;

/**
 * A {@link Channel} operation needs an open channel, or a value, and the channel is closed.
 *
 * <p>Thrown by {@link Channel#send} on a closed channel (also to senders parked when it closes), by
 * {@link Channel#receive} on a closed channel whose buffer is drained (also to receivers parked when it closes), and by {@link Select#select()} and
 * {@link Select#selectUnbiased()} for an {@code onSend} clause on a closed channel or an
 * {@code onReceive} clause on a closed and drained one. The {@code try} operations never throw it.
 * {@link #channel()} tells which channel it was: a select over several channels drops that one's
 * clause and goes on with the others. A channel closed by {@link Channel#close(Throwable)} gives its
 * cause as this exception's {@link #getCause() cause}, and its iterator throws this exception where it
 * would have ended.
 */
public final class ChannelClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The channel; not serialized (a channel belongs to its thread). */
    private final transient Channel<?> channel;

    /** Made on {@code channel}, closed: its cause, if it was closed with one, becomes this exception's. */
    ChannelClosedException(String message, Channel<?> channel) {
        super(message, channel == null ? null : channel.closeCause().orElse(null));
        this.channel = channel;
    }

    /**
     * The closed channel the operation was refused on.
     *
     * @return the channel; null only for an exception deserialized from another JVM or stream
     */
    public Channel<?> channel() {
        return channel;
    }
}
