package dev.coro;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * Time and peak heap of a stress test, printed for the record: measured, never asserted.
 *
 * <p>{@link #start()} collects garbage and resets the heap pools' peaks; {@link #print} reads them back.
 */
final class StressFigures {
    private final long started;

    private StressFigures() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
        started = System.nanoTime();
    }

    /** Starts measuring: the heap's peak is reset now. */
    static StressFigures start() {
        return new StressFigures();
    }

    /** Collects garbage and prints how much heap is still in use: the live set, with {@code what} holds it. */
    static void printLiveHeap(String what) {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        System.out.printf("[stress] %s: live heap %d MiB%n", what, (rt.totalMemory() - rt.freeMemory()) >> 20);
    }

    /** Prints the elapsed time and the peak heap since {@link #start()}, with {@code what} was done. */
    void print(String what) {
        long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf("[stress] %s: %.2f s, peak heap %d MiB (max %d MiB)%n", what, elapsedMillis / 1000.0,
                peak >> 20, Runtime.getRuntime().maxMemory() >> 20);
    }
}
