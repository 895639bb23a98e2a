package dev.coro;

/**
 * A first-in first-out queue of values in a ring of slots that gives back the room a burst took once
 * it is emptied: a channel's buffer, a pool thread's bodies waiting to start. An {@code ArrayDeque}
 * never shrinks, so a queue that one burst filled with a million values would keep that burst's array
 * for as long as its owner lives.
 *
 * <p>Not thread-safe: its owner guards it.
 *
 * @param <T> the values' type
 */
final class Fifo<T> {

    /** The room made at first, and the most an emptied queue keeps. */
    static final int KEPT_ROOM = 1024;
    private static final int FIRST_ROOM = 16;

    private Object[] slots = new Object[FIRST_ROOM];
    /** The slot of the oldest value. */
    private int head;
    private int size;

    /** Adds {@code value} (not null) at the tail. */
    void add(T value) {
        Object[] s = slots;
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

    /** For tests: how many values it has room for without growing. */
    int room() {
        return slots.length;
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
