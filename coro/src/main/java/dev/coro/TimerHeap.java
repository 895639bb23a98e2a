package dev.coro;

import java.util.Arrays;

/**
 * A binary min-heap of {@link Timer}s ordered by deadline, then by order of scheduling: adding,
 * removing the earliest and cancelling any entry are O(log n), and the earliest is read in O(1).
 */
final class TimerHeap {

    private Timer[] heap = new Timer[16];
    private int size;

    /** How many timers are pending. */
    int size() {
        return size;
    }

    /** The earliest timer; null if none. */
    Timer peek() {
        return size == 0 ? null : heap[0];
    }

    /** Adds {@code t}, which is in no heap. */
    void add(Timer t) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        siftUp(size++, t);
    }

    /** Removes and returns the earliest timer; the heap is not empty. */
    Timer poll() {
        Timer first = heap[0];
        removeAt(0);
        return first;
    }

    /** Removes {@code t} if it is in this heap; O(log n). */
    void remove(Timer t) {
        int i = t.heapIndex;
        if (i >= 0 && i < size && heap[i] == t) {
            removeAt(i);
        }
    }

    private void removeAt(int i) {
        Timer gone = heap[i];
        gone.heapIndex = -1;
        Timer last = heap[--size];
        heap[size] = null;
        if (i < size) {
            siftDown(i, last);
            if (heap[i] == last) {
                siftUp(i, last);
            }
        }
        if (heap.length > 64 && size < heap.length / 4) {
            heap = Arrays.copyOf(heap, heap.length / 2);
        }
    }

    private void siftUp(int i, Timer t) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (!t.before(p)) {
                break;
            }
            place(i, p);
            i = parent;
        }
        place(i, t);
    }

    private void siftDown(int i, Timer t) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            Timer c = heap[child];
            int right = child + 1;
            if (right < size && heap[right].before(c)) {
                child = right;
                c = heap[child];
            }
            if (!c.before(t)) {
                break;
            }
            place(i, c);
            i = child;
        }
        place(i, t);
    }

    private void place(int i, Timer t) {
        heap[i] = t;
        t.heapIndex = i;
    }
}
