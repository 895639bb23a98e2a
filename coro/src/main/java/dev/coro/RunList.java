package dev.coro;

import java.util.Arrays;

/**
 * One thread's run list {@code L}: its contexts in order, with swap-remove, and an index of which
 * entries are runnable (not parked) so that finding the previous runnable entry costs the same with
 * a hundred thousand parked entries as with none.
 *
 * <p>The runnable index is a two-level bit set: one bit per entry, and one summary bit per 64-bit
 * word of entries that has any bit set. The previous runnable entry before index {@code k} is then
 * found in a few word operations: the entry's word, else the summary, else a scan of summary words
 * (one per 4,096 entries).
 */
final class RunList {

    private Context[] entries = new Context[8];
    private int size;
    /** Bit {@code k}: entry {@code k} is runnable. */
    private long[] runnable = new long[1];
    /** Bit {@code w}: word {@code w} of {@link #runnable} is not zero. */
    private long[] summary = new long[1];

    /** How many entries there are. */
    int size() {
        return size;
    }

    /** The entry at {@code k}, which is below {@link #size()}. */
    Context get(int k) {
        return entries[k];
    }

    /** A copy of the entries, entry 0 first. */
    Context[] toArray() {
        return Arrays.copyOf(entries, size);
    }

    /** Appends {@code c}; on return it is the last entry and its index says so. */
    void add(Context c) {
        if (size == entries.length) {
            entries = Arrays.copyOf(entries, size * 2);
        }
        int k = size++;
        entries[k] = c;
        c.index = k;
        ensureBits(size);
        setRunnable(k, c.isRunnable());
    }

    /**
     * Swap-removes {@code c}: the last entry takes its slot. On return {@code c} is not in the list
     * and its index is -1.
     *
     * @return the index {@code c} had
     */
    int remove(Context c) {
        int k = c.index;
        int last = size - 1;
        Context moved = entries[last];
        entries[k] = moved;
        moved.index = k;
        setRunnable(k, moved.isRunnable());
        setRunnable(last, false);
        entries[last] = null;
        size = last;
        c.index = -1;
        if (entries.length > 64 && size < entries.length / 4) {
            entries = Arrays.copyOf(entries, entries.length / 2);
        }
        return k;
    }

    /** Records whether the entry at {@code k} may be selected; called when it parks or is woken. */
    void setRunnable(int k, boolean yes) {
        int w = k >>> 6;
        long bit = 1L << k;
        if (yes) {
            runnable[w] |= bit;
            summary[w >>> 6] |= 1L << w;
        } else if ((runnable[w] & bit) != 0) {
            runnable[w] &= ~bit;
            if (runnable[w] == 0) {
                summary[w >>> 6] &= ~(1L << w);
            }
        }
    }

    /**
     * The first runnable entry among {@code count} entries counted backwards from {@code start},
     * wrapping from 0 to the last entry; null if none of them is runnable.
     *
     * @param start the first index to look at; -1 means the last entry
     * @param count how many entries to look at, at most {@link #size()}
     */
    Context previousRunnable(int start, int count) {
        if (count <= 0) {
            return null;
        }
        int k = start < 0 ? start + size : start;
        int j = highestAtOrBelow(k);
        if (j >= 0) {
            return k - j < count ? entries[j] : null;
        }
        int m = highestAtOrBelow(size - 1);
        return m > k && (k + 1) + (size - 1 - m) < count ? entries[m] : null;
    }

    /** The highest runnable index at or below {@code k}; -1 if there is none. */
    private int highestAtOrBelow(int k) {
        if (k < 0) {
            return -1;
        }
        int w = k >>> 6;
        long bits = runnable[w] & (-1L >>> (63 - (k & 63)));
        if (bits != 0) {
            return (w << 6) + 63 - Long.numberOfLeadingZeros(bits);
        }
        if (w == 0) {
            return -1;
        }
        int below = w - 1;
        int s = below >>> 6;
        long words = summary[s] & (-1L >>> (63 - (below & 63)));
        while (words == 0) {
            if (s == 0) {
                return -1;
            }
            words = summary[--s];
        }
        int word = (s << 6) + 63 - Long.numberOfLeadingZeros(words);
        return (word << 6) + 63 - Long.numberOfLeadingZeros(runnable[word]);
    }

    /** Grows the bit sets to hold {@code n} entries. */
    private void ensureBits(int n) {
        int words = (n + 63) >>> 6;
        if (words > runnable.length) {
            runnable = Arrays.copyOf(runnable, Math.max(words, runnable.length * 2));
        }
        int summaries = (runnable.length + 63) >>> 6;
        if (summaries > summary.length) {
            summary = Arrays.copyOf(summary, summaries);
        }
    }
}
