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

    /** The ring; null in a queue of copies of one value, which counts them instead ({@link #only}). */
    private Object[] slots;
    /** The slot of the oldest value. */
    private int head;
    private int size;
    /** The one value of a queue of copies of it ({@link #Fifo(Object, int)}); null in a queue of any values. */
    private final T only;

    /** An empty queue of any values. */
    Fifo() {
        this.slots = new Object[FIRST_ROOM];
        this.only = null;
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

    /** Doubles the room, the values kept in their order from slot 0. */
    private Object[] grow() {
        Object[] old = slots;
        if (old.length >= 1 << 30) {
            throw new OutOfMemoryError("a queue cannot hold more than " + old.length + " values");
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
