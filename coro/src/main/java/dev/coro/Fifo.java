package dev.coro;

/**
 * A first-in first-out queue of values in a ring of slots that gives back the room a burst took once
 * it is emptied: a channel's buffer, a pool thread's bodies waiting to start. An {@code ArrayDeque}
 * never shrinks, so a queue that one burst filled with a million values would keep that burst's array
 * for as long as its owner lives. A queue of copies of one value (a semaphore's permits) keeps only
 * their count.
 *
 * <p>Not thread-safe: its owner guards it.
 *
 * @param <T> the values' type
 */
final class Fifo<T> {

    /** The room made at first, and the most an emptied queue keeps. */
    static final int KEPT_ROOM = 1024;
    private static final int FIRST_ROOM = 16;
    /**
     * The most values a queue of any values holds, 2^30 (its ring of references would take 4 GiB and more):
     * one more is refused with an {@code OutOfMemoryError}. A power of two, at least {@link #FIRST_ROOM}; a test
     * sets a smaller one to reach that refusal, and sets it back.
     */
    static int mostValues = 1 << 30;

    /** The ring; null in a queue of copies of one value, which counts them instead ({@link #only}). */
    private Object[] slots;
    /** The slot of the oldest value. */
    private int head;
    private int size;
    /** The one value of a queue of copies of it ({@link #Fifo(Object, int)}); null in a queue of any values. */
    private final T only;
    /** The channel whose buffer it is, which names the refusal of a value past {@link #mostValues}; null for another queue. */
    private final Channel<?> channel;

    /** An empty queue of any values. */
    Fifo() {
        this(null);
    }

    /** An empty queue of any values, the buffer of {@code channel} (null for another queue). */
    Fifo(Channel<?> channel) {
        this.slots = new Object[FIRST_ROOM];
        this.only = null;
        this.channel = channel;
    }

    /**
     * A queue of {@code count} copies of {@code only}, to which nothing but {@code only} is ever added (a
     * semaphore's permits): it keeps their count alone, so that it takes no room for them, however many
     * (up to {@code Integer.MAX_VALUE}), and is made at once.
     */
    Fifo(T only, int count) {
        this.slots = null;
        this.only = only;
        this.size = count;
        this.channel = null;
    }

    /** Adds {@code value} (not null) at the tail. */
    void add(T value) {
        Object[] s = slots;
        if (s == null) {
            assert value == only : value + " added to a queue of copies of " + only;
            size++;
            return;
        }
        if (size == s.length) {
            s = grow();
        }
        s[(head + size) & (s.length - 1)] = value;
        size++;
    }

    /** Takes the value at the head; null if there is none. */
    @SuppressWarnings("unchecked")
    T poll() {
        if (size == 0) {
            return null;
        }
        Object[] s = slots;
        if (s == null) {
            size--;
            return only;
        }
        T v = (T) s[head];
        s[head] = null;
        head = (head + 1) & (s.length - 1);
        if (--size == 0) {
            head = 0;
            if (s.length > KEPT_ROOM) {
                slots = new Object[FIRST_ROOM];
            }
        }
        return v;
    }

    /** How many values it holds. */
    int size() {
        return size;
    }

    /** For tests: how many values it has room for without growing; 0 for a queue of copies of one value, which counts them. */
    int room() {
        Object[] s = slots;
        return s == null ? 0 : s.length;
    }

    /**
     * Doubles the room, the values kept in their order from slot 0; past {@link #mostValues}, refuses, naming
     * for a channel's buffer the caller, the send and the channel ({@link Channel#pastTheMostBuffered}).
     */
    private Object[] grow() {
        Object[] old = slots;
        if (old.length >= mostValues) {
            throw new OutOfMemoryError(channel != null ? channel.pastTheMostBuffered(old.length)
                    : "a queue cannot hold more than " + old.length + " values");
        }
        Object[] s = new Object[old.length << 1];
        int first = old.length - head;
        System.arraycopy(old, head, s, 0, first);
        System.arraycopy(old, 0, s, first, head);
        head = 0;
        slots = s;
        return s;
    }
}
