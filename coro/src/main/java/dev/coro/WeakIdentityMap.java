package dev.coro;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.function.BiConsumer;

/**
 * A hash map whose keys are compared by identity and held weakly: an entry goes once its key is
 * collected. {@code WeakHashMap} compares keys with {@code equals}, so two futures or stages that call
 * each other equal (a value class's) would share one entry; here each object is its own key. One
 * thread only.
 *
 * @param <K> the type of the keys
 * @param <V> the type of the values
 */
final class WeakIdentityMap<K, V> {

    /** An entry: its key weakly, its identity hash, its value, the next entry of its chain. */
    private static final class Entry<K, V> extends WeakReference<K> {
        final int hash;
        V value;
        Entry<K, V> next;

        Entry(K key, int hash, V value, Entry<K, V> next, ReferenceQueue<Object> queue) {
            super(key, queue);
            this.hash = hash;
            this.value = value;
            this.next = next;
        }
    }

    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
    @SuppressWarnings("unchecked")
    private Entry<K, V>[] table = new Entry[16];
    private int size;

    /** The value of {@code key}, or null if it has none. */
    V get(K key) {
        expunge();
        int h = System.identityHashCode(key);
        for (Entry<K, V> e = table[h & (table.length - 1)]; e != null; e = e.next) {
            if (e.hash == h && e.refersTo(key)) {
                return e.value;
            }
        }
        return null;
    }

    /** Gives {@code key} the value {@code value}, replacing the one it had. */
    void put(K key, V value) {
        expunge();
        int h = System.identityHashCode(key);
        int i = h & (table.length - 1);
        for (Entry<K, V> e = table[i]; e != null; e = e.next) {
            if (e.hash == h && e.refersTo(key)) {
                e.value = value;
                return;
            }
        }
        table[i] = new Entry<>(key, h, value, table[i], collected);
        if (++size > table.length - (table.length >>> 2)) {
            resize(table.length * 2);
        }
    }

    /** Removes the entry of {@code key} and returns its value, or null if it had none. */
    V remove(K key) {
        return remove(key, null, false);
    }

    /** Removes the entry of {@code key} if its value is {@code value} (by identity). */
    void remove(K key, V value) {
        remove(key, value, true);
    }

    private V remove(K key, V value, boolean onlyIf) {
        expunge();
        int h = System.identityHashCode(key);
        int i = h & (table.length - 1);
        Entry<K, V> prev = null;
        for (Entry<K, V> e = table[i]; e != null; prev = e, e = e.next) {
            if (e.hash == h && e.refersTo(key)) {
                if (onlyIf && e.value != value) {
                    return null;
                }
                V v = e.value;
                unlink(i, prev, e);
                e.clear();
                shrink();
                return v;
            }
        }
        return null;
    }

    /** How many keys have an entry (a key collected since the last call no longer counts). */
    int size() {
        expunge();
        return size;
    }

    /** Whether no key has an entry. */
    boolean isEmpty() {
        return size() == 0;
    }

    /** Calls {@code action} with each key still alive and its value; {@code action} must not change the map. */
    void forEach(BiConsumer<? super K, ? super V> action) {
        expunge();
        for (Entry<K, V> head : table) {
            for (Entry<K, V> e = head; e != null; e = e.next) {
                K k = e.get();
                if (k != null) {
                    action.accept(k, e.value);
                }
            }
        }
    }

    /** Drops the entries whose keys were collected. */
    @SuppressWarnings("unchecked")
    private void expunge() {
        for (Object r; (r = collected.poll()) != null; ) {
            Entry<K, V> gone = (Entry<K, V>) r;
            int i = gone.hash & (table.length - 1);
            Entry<K, V> prev = null;
            for (Entry<K, V> e = table[i]; e != null; prev = e, e = e.next) {
                if (e == gone) {
                    unlink(i, prev, e);
                    break;
                }
            }
        }
        shrink();
    }

    /**
     * Gives the table back the room a crowd of keys took, once few are left: a thread that once waited
     * on many futures at a time (each wait timed out, its future completed later or collected) does not
     * keep a table of that crowd's size, scanned whole by every {@link #forEach}, for as long as it lives.
     * The change before it is made already: a stack overflow as the smaller table is made leaves the map
     * whole, only larger for now (a later change shrinks it), and is not to stop its caller halfway.
     */
    private void shrink() {
        try {
            int length = table.length;
            while (length > 16 && size < length >>> 3) {
                length >>>= 1;
            }
            if (length != table.length) {
                resize(length);
            }
        } catch (StackOverflowError e) {
            // the map is whole: it stays larger
        }
    }

    /** The length of its table, for the tests of its memory. */
    int tableLength() {
        return table.length;
    }

    private void unlink(int i, Entry<K, V> prev, Entry<K, V> e) {
        if (prev == null) {
            table[i] = e.next;
        } else {
            prev.next = e.next;
        }
        e.value = null;
        size--;
    }

    @SuppressWarnings("unchecked")
    private void resize(int length) {
        Entry<K, V>[] old = table;
        table = new Entry[length];
        for (Entry<K, V> head : old) {
            for (Entry<K, V> e = head; e != null; ) {
                Entry<K, V> next = e.next;
                int i = e.hash & (length - 1);
                e.next = table[i];
                table[i] = e;
                e = next;
            }
        }
    }
}
