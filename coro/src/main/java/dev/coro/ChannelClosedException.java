package dev.coro;

/**
 * A {@link Channel} operation needs an open channel, or a value, and the channel is closed.
 *
 * <p>Thrown by {@link Channel#send} and {@link Channel#trySend} on a closed channel (also to
 * senders parked when it closes), and by {@link Channel#receive} on a closed channel whose buffer is
 * drained (also to receivers parked when it closes).
 */
public final class ChannelClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ChannelClosedException(String message) {
        super(message);
    }
}
