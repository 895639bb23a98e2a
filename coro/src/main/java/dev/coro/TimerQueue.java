package dev.coro;

import java.util.Arrays;

/**
 * A thread's pending {@link Timer}s in the order they expire, deadline first and then the order of
 * scheduling: one bucket per distinct deadline, found through a hash table, holding its timers in an
 * array in the order they came, and a binary min-heap of the buckets by deadline.
 *
 * <p>Adding a timer whose deadline already has a bucket, cancelling a timer, and taking the earliest
 * are O(1) (amortized); only a new deadline, or the last timer of one leaving, costs O(log d) in the
 * number {@code d} of distinct pending deadlines, not of timers. Timers come in bunches on few
 * deadlines: sleeps of whole milliseconds under virtual time, and on the real clock deadlines rounded
 * up to the loop's tick ({@link EventLoop#TICK_NANOS}). Since the order of scheduling within a
 * deadline is the order of its bucket's array, the order is exactly that of a heap ordered by
 * (deadline, order of scheduling). A cancelled timer leaves an empty slot in its bucket's array, so
 * adding and cancelling touch only the timer and its bucket, never another timer. Emptied buckets
 * are kept for reuse (a few hundred at most), so a steady stream of timers allocates nothing here.
 *
 * <p>Each change either happens whole or not at all when a stack overflow strikes (a timer is
 * scheduled or cancelled by a context that may be at its stack's very end): an overflow strikes only
 * at a call, so every call a change needs comes before its first write, or writes nothing that the
 * structure needs (shrinking an array).
 */
final class TimerQueue {

    /** The timers of one deadline, oldest first. */
    static final class Bucket {
        long deadline;
        /** Its timers from {@link #first} (inclusive) to {@link #end} (exclusive), null where one was cancelled. */
        Timer[] timers = new Timer[8];
        int first;
        int end;
        /** How many of its slots hold a timer. */
        int live;
        /** Its index in the heap. */
        int heapIndex;
        /** The next bucket in its hash chain, or in the free list. */
        Bucket chain;
    }

    /** The multiplier of the deadlines' hash (Fibonacci hashing). */
    private static final long HASH = 0x9E3779B97F4A7C15L;
    /** The most emptied buckets kept for reuse. */
    private static final int MAX_FREE = 256;
    /**
     * A bucket whose array grew past this many slots gets a small one again when it is emptied, unless the
     * timers pending per deadline are a quarter of its length or more: a crowd that comes at every deadline
     * (100,000 sleepers over the ~1,500 ticks of 100 ms) keeps its arrays instead of growing them again from
     * 8 slots at each deadline, and a burst once gone leaves none of its large arrays behind.
     */
    private static final int MAX_KEPT_SLOTS = 64;

    private Bucket[] heap = new Bucket[16];
    private int buckets;
    /** The hash table of the buckets by deadline, chained; its length is a power of two. */
    private Bucket[] table = new Bucket[16];
    private int shift = 64 - 4;
    private int size;
    private Bucket free;
    private int freeCount;

    /** How many timers are pending. */
    int size() {
        return size;
    }

    /**
     * What the queue holds on to besides its timers, as {@code heap H, table T, kept K}: the lengths
     * of its heap and hash table, and how many emptied buckets it keeps for reuse. Read by the tests
     * of its memory: a burst of deadlines, once gone, must not leave it large.
     */
    String footprint() {
        return "heap " + heap.length + ", table " + table.length + ", kept " + freeCount;
    }

    /** The earliest deadline; {@code Long.MAX_VALUE} if no timer is pending (or the earliest is due then). */
    long firstDeadline() {
        return buckets == 0 ? Long.MAX_VALUE : heap[0].deadline;
    }

    /** Adds {@code t}, which is in no queue, after every pending timer of its deadline. */
    void add(Timer t) {
        long d = t.deadline;
        Bucket b = find(d);
        if (b == null) {
            b = newBucket(d);
        }
        int i = b.end;
        if (i == b.timers.length) {
            i = compact(b);
        }
        b.timers[i] = t; // no call from here on: the timer is in whole or not at all
        b.end = i + 1;
        b.live++;
        t.bucket = b;
        t.slot = i;
        size++;
    }

    /** Removes and returns the earliest timer; the queue is not empty. */
    Timer poll() {
        Bucket b = heap[0];
        Timer[] a = b.timers;
        int i = b.first;
        Timer t;
        while ((t = a[i]) == null) {
            i++;
        }
        boolean last = b.live == 1;
        unlink(t, b, i);
        if (!last) { // a bucket dropped is reset for reuse
            b.first = i + 1;
        }
        return t;
    }

    /** Removes {@code t} if it is in this queue; O(1) unless it was the last of its deadline. */
    void remove(Timer t) {
        Bucket b = t.bucket;
        if (b != null) {
            unlink(t, b, t.slot);
        }
    }

    private void unlink(Timer t, Bucket b, int i) {
        Timer[] a = b.timers; // dropping the bucket may give it a smaller array
        boolean drop = b.live == 1;
        if (drop) {
            dropBucket(b); // first: if a stack overflow strikes at its calls, nothing has changed
        }
        a[i] = null;
        t.bucket = null;
        size--;
        b.live--;
        if (drop) {
            shrink();
        }
    }

    /**
     * Makes room at the end of {@code b}'s full array: doubles it if more than half its slots hold a
     * timer, every timer keeping its slot, or else moves its timers to the front. Only a timer that
     * moves is written to: at scale every timer is a cache miss of its own, and a crowd of one deadline
     * fills its bucket without a gap, so growing touches none of them.
     */
    private static int compact(Bucket b) {
        Timer[] a = b.timers;
        if (b.live > a.length >>> 1) {
            b.timers = Arrays.copyOf(a, a.length * 2);
            return b.end;
        }
        int j = 0;
        for (int i = b.first; i < b.end; i++) {
            Timer t = a[i];
            if (t != null) {
                if (i != j) {
                    a[i] = null;
                    a[j] = t;
                    t.slot = j;
                }
                j++;
            }
        }
        b.first = 0;
        b.end = j;
        return j;
    }

    // ---- the buckets by deadline: the hash table --------------------------------------------

    private int slot(long deadline) {
        return (int) ((deadline * HASH) >>> shift);
    }

    private Bucket find(long deadline) {
        for (Bucket b = table[slot(deadline)]; b != null; b = b.chain) {
            if (b.deadline == deadline) {
                return b;
            }
        }
        return null;
    }

    private Bucket newBucket(long deadline) {
        if (buckets == heap.length) {
            heap = Arrays.copyOf(heap, buckets * 2);
        }
        if (buckets >= table.length - (table.length >>> 2)) {
            rehash(table.length * 2);
        }
        int s = slot(deadline);
        Bucket b = free;
        if (b == null) {
            b = new Bucket();
        }
        b.deadline = deadline;
        siftUp(buckets, b); // the last call: from its first write on, nothing here can be stopped halfway
        if (b == free) {
            free = b.chain;
            freeCount--;
        }
        buckets++;
        b.chain = table[s];
        table[s] = b;
        return b;
    }

    private void dropBucket(Bucket b) {
        int s = slot(b.deadline);
        removeFromHeap(b); // the last call the queue needs: nothing is changed before it, nor stopped after
        Bucket c = table[s];
        if (c == b) {
            table[s] = b.chain;
        } else {
            while (c.chain != b) {
                c = c.chain;
            }
            c.chain = b.chain;
        }
        int crowd = size / (buckets == 0 ? 1 : buckets); // the timers pending per deadline (no call: see above)
        if (b.timers.length > MAX_KEPT_SLOTS && b.timers.length > 4 * crowd) {
            b.timers = new Timer[8]; // every slot is empty already: only a crowd's large array is dropped
        }
        b.first = 0;
        b.end = 0;
        if (freeCount < MAX_FREE) {
            b.chain = free;
            free = b;
            freeCount++;
        } else {
            b.chain = null;
        }
    }

    /**
     * Gives the heap and the table back the room a burst of deadlines took, once few are left. Each
     * array is replaced whole; a stack overflow as it is made leaves the queue whole, only larger for
     * now (a later drop shrinks it), and is not to stop the change that came before.
     */
    private void shrink() {
        try {
            if (table.length > 64 && buckets < table.length >>> 3) {
                rehash(table.length >>> 1);
            }
            if (heap.length > 64 && buckets < heap.length >>> 2) {
                heap = Arrays.copyOf(heap, heap.length >>> 1);
            }
        } catch (StackOverflowError e) {
            // the queue is whole: it stays larger
        }
    }

    private void rehash(int length) {
        int sh = 64 - Integer.numberOfTrailingZeros(length);
        Bucket[] t = new Bucket[length];
        for (int i = 0; i < buckets; i++) { // no call from here on (slot() written out)
            Bucket b = heap[i];
            int s = (int) ((b.deadline * HASH) >>> sh);
            b.chain = t[s];
            t[s] = b;
        }
        table = t;
        shift = sh;
    }

    // ---- the buckets by deadline: the heap ---------------------------------------------------

    /**
     * Takes {@code b} out of the heap, the last bucket moved into its place and sifted down, or up if
     * it does not go down: no call (the sifts are written out), so that nothing stops it halfway.
     */
    private void removeFromHeap(Bucket b) {
        int i = b.heapIndex;
        int n = --buckets;
        Bucket last = heap[n];
        heap[n] = null;
        if (i >= n) {
            return;
        }
        long d = last.deadline;
        int half = n >>> 1;
        int at = i;
        while (at < half) {
            int child = 2 * at + 1;
            Bucket c = heap[child];
            int right = child + 1;
            if (right < n && heap[right].deadline < c.deadline) {
                child = right;
                c = heap[child];
            }
            if (c.deadline >= d) {
                break;
            }
            heap[at] = c;
            c.heapIndex = at;
            at = child;
        }
        if (at == i) { // it did not go down: up, while its parent is later
            while (at > 0) {
                int parent = (at - 1) >>> 1;
                Bucket p = heap[parent];
                if (d >= p.deadline) {
                    break;
                }
                heap[at] = p;
                p.heapIndex = at;
                at = parent;
            }
        }
        heap[at] = last;
        last.heapIndex = at;
    }

    /** Sifts {@code b} up from {@code i}, an empty slot of the heap: no call, so that nothing stops it halfway. */
    private void siftUp(int i, Bucket b) {
        long d = b.deadline;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Bucket p = heap[parent];
            if (d >= p.deadline) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = b;
        b.heapIndex = i;
    }
}
