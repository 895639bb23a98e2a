package dev.coro;

import java.util.Objects;
import java.util.Spliterator;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The source of a stream over a generator or a channel: it takes one value as the stream asks for
 * it, and never splits, so that even a parallel stream takes every value once, in order, on the
 * thread that runs its terminal operation, and no sooner than it asks.
 *
 * <p>{@link Iterable}'s default would split off batches of the iterator, running a generator's body
 * (or receiving from a channel) up to thousands of values ahead of the stream, and hand the rest of
 * the iterator to worker threads, which the generator or the channel refuses.
 *
 * @param <T> the values' type
 */
final class OneAtATime<T> implements Spliterator<T> {

    private final BooleanSupplier hasNext;
    private final Supplier<T> next;
    private final int characteristics;
    /** {@link #hasNext} said no value comes: the iteration has ended, and no value is left. */
    private boolean ended;

    /**
     * A source that asks {@code hasNext} before each value and takes it with {@code next}.
     *
     * @param hasNext         whether a value comes, waiting for it if need be; what it throws, the stream does
     * @param next            the value {@code hasNext} said comes
     * @param characteristics {@link #ORDERED}, and {@link #NONNULL} if no value is null
     */
    OneAtATime(BooleanSupplier hasNext, Supplier<T> next, int characteristics) {
        this.hasNext = hasNext;
        this.next = next;
        this.characteristics = characteristics;
    }

    @Override
    public boolean tryAdvance(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action"); // before the value is taken, which a null action would lose
        if (!hasNext.getAsBoolean()) {
            ended = true;
            return false;
        }
        action.accept(next.get());
        return true;
    }

    @Override
    public Spliterator<T> trySplit() {
        return null;
    }

    /**
     * Unknown, {@code Long.MAX_VALUE}, until the iteration has ended ({@link #tryAdvance} found no value
     * to come); 0 from then on, as the JDK's spliterators say once exhausted. Never exact: not {@link #SIZED}.
     */
    @Override
    public long estimateSize() {
        return ended ? 0 : Long.MAX_VALUE;
    }

    @Override
    public int characteristics() {
        return characteristics;
    }
}
