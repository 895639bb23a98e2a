package dev.coro;

import java.lang.ref.WeakReference;

/**
 * A {@link Channel} operation needs an open channel, or a value, and the channel is closed.
 *
 * <p>Thrown by {@link Channel#send} on a closed channel (also to senders parked when it closes), by
 * {@link Channel#receive} on a closed channel whose buffer is drained (also to receivers parked when it closes), and by {@link Select#select()} and
 * {@link Select#selectUnbiased()} for an {@code onSend} clause on a closed channel or an
 * {@code onReceive} clause on a closed and drained one (an {@code onReceive} given {@code ifClosed} hands it to
 * that function instead, {@link Select#onReceive(Channel, java.util.function.Function, java.util.function.Function)}).
 * The {@code try} operations never throw it. {@link #channel()} tells which channel it was: a select over several
 * channels drops that one's clause and goes on with the others. A channel closed by {@link Channel#close(Throwable)} gives its
 * cause as this exception's {@link #getCause() cause}, and its iterator throws this exception where it
 * would have ended.
 *
 * <p>It refers to its channel weakly, so that one kept after the operation (logged, stored in a list,
 * the cause of the user's own exception) keeps alive neither the channel, with the values left in its
 * buffer, nor, once the channel's thread has ended, that thread's scheduler and the coroutines it left
 * suspended. It serializes with its message and its cause (which must be serializable for that), not the
 * channel.
 */
public final class ChannelClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * The channel, weakly: an exception kept after the operation must not keep the channel's buffered values,
     * its scheduler and that scheduler's coroutines alive; null if made without one. Not serialized (a channel
     * belongs to its thread).
     */
    private final transient WeakReference<Channel<?>> channel;

    /** Made on {@code channel}, closed: its cause, if it was closed with one, becomes this exception's. */
    ChannelClosedException(String message, Channel<?> channel) {
        super(message, channel == null ? null : channel.closeCause().orElse(null));
        this.channel = channel == null ? null : new WeakReference<>(channel);
    }

    /**
     * The closed channel the operation was refused on. A caller that holds the channel (a select over it,
     * which compares it with this) always finds it here.
     *
     * @return the channel; null for an exception deserialized from another JVM or stream, and once nothing
     *         but this exception refers to the channel (the garbage collector may then have reclaimed it)
     */
    public Channel<?> channel() {
        return channel == null ? null : channel.get();
    }
}
