package dev.coro;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * One thread's run list {@code L}: its contexts in order, with swap-remove, and an index of which
 * entries are runnable (not parked) so that finding the previous runnable entry costs the same with
 * a hundred thousand parked entries as with none.
 *
 * <p>The runnable index is a bit set in levels: level 0 has one bit per entry, and each level above
 * one bit per 64-bit word of the level below that has any bit set, up to a level of one word. The
 * previous runnable entry before index {@code k} is then found in a few word operations per level
 * (three levels for a quarter of a million entries), whatever lies parked in between.
 */
final class RunList {

    private Context[] entries = new Context[8];
    private int size;
    /**
     * {@code levels[0]} bit {@code k}: entry {@code k} is runnable; {@code levels[i + 1]} bit {@code w}: word
     * {@code w} of {@code levels[i]} is not zero. Besides {@link #setRunnable}, the scheduler sets and clears bits
     * here itself, with no call, as it puts back a park or a close whose transfer did not happen.
     */
    long[][] levels = {new long[1]};

    /** How many entries there are. */
    int size() {
        return size;
    }

    /** The entry at {@code k}, which is below {@link #size()}. */
    Context get(int k) {
        return entries[k];
    }

    /**
     * For an observer on another thread (statistics, the JMX view, the blocked-loop watchdog): runs
     * {@code visit} on the entries as they may be now, read without synchronization while the owner
     * goes on, so an entry may be missed or seen twice and a moved one seen at its old place; never
     * throws for that.
     */
    void forEachRacy(Consumer<Context> visit) {
        Context[] e = entries;
        int n = Math.min(size, e.length);
        for (int k = 0; k < n; k++) {
            Context c = e[k];
            if (c != null) {
                visit.accept(c);
            }
        }
    }

    /** For an observer on another thread: the entry at {@code k} as it may be now, or null (see {@link #forEachRacy}). */
    Context getRacy(int k) {
        Context[] e = entries;
        return k >= 0 && k < e.length ? e[k] : null;
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
        ensureBits(size + 1); // allocates first: an OutOfMemoryError leaves the list as it was
        int k = size++;
        entries[k] = c;
        c.index = k;
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
            shrinkBits(entries.length);
        }
        return k;
    }

    /**
     * What the list holds on to besides its entries, as {@code entries E, bits B in L levels}: the
     * length of its array, the words of its index's level 0, and how many levels the index has. Read by
     * the tests of its memory: a crowd of coroutines, once ended, must not leave it large.
     */
    String footprint() {
        return "entries " + entries.length + ", bits " + levels[0].length + " in " + levels.length + " levels";
    }

    /** Records whether the entry at {@code k} may be selected; called when it parks or is woken. */
    void setRunnable(int k, boolean yes) {
        for (long[] bits : levels) {
            int w = k >>> 6;
            long bit = 1L << k;
            long was = bits[w];
            long now = yes ? was | bit : was & ~bit;
            bits[w] = now;
            if ((was == 0) == (now == 0)) {
                return; // the word's summary bit above is already right
            }
            k = w;
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
        Context c = entries[k];
        return c.isRunnable() ? c : previousRunnableBelow(k, count);
    }

    /** {@link #previousRunnable} when the entry at {@code k} itself is parked: the index's search. */
    private Context previousRunnableBelow(int k, int count) {
        int j = highestAtOrBelow(k);
        if (j >= 0) {
            return k - j < count ? entries[j] : null;
        }
        int m = highestAtOrBelow(size - 1);
        return m > k && (k + 1) + (size - 1 - m) < count ? entries[m] : null;
    }

    /** The highest runnable index at or below {@code k}; -1 if there is none. */
    private int highestAtOrBelow(int k) {
        return highest(0, k);
    }

    /** The highest set bit at or below {@code k} in {@code levels[level]}; -1 if there is none. */
    private int highest(int level, int k) {
        if (k < 0) {
            return -1;
        }
        long[] bits = levels[level];
        int w = k >>> 6;
        long m = bits[w] & (-1L >>> (63 - (k & 63)));
        if (m != 0) {
            return (w << 6) + 63 - Long.numberOfLeadingZeros(m);
        }
        // the level above says which words below w have a bit; at the top level, one word, w is 0
        // and the search above starts at -1: there is nothing below
        int word = highest(level + 1, w - 1);
        return word < 0 ? -1 : (word << 6) + 63 - Long.numberOfLeadingZeros(bits[word]);
    }

    /**
     * Gives the index back the room a crowd of entries took, once the entries' array has shrunk to
     * {@code n} slots: each level cut to the words {@code n} entries need, and the levels above the first
     * of one word dropped. Every bit past the entries is clear already, and so is every summary bit of a
     * word cut off. The new levels are made whole before the one write that puts them in place.
     */
    private void shrinkBits(int n) {
        int words = (n + 63) >>> 6;
        if (levels[0].length <= 2 * words) {
            return; // grown by doubling: only a crowd's index is worth making again
        }
        long[][] fewer = new long[levels.length][];
        int count = 0;
        do {
            fewer[count] = Arrays.copyOf(levels[count], Math.min(words, levels[count].length));
            words = (words + 63) >>> 6;
        } while (fewer[count++].length > 1);
        levels = Arrays.copyOf(fewer, count);
    }

    /** Grows the bit sets to hold {@code n} entries, adding levels until the top one is one word. */
    private void ensureBits(int n) {
        int words = (n + 63) >>> 6;
        if (words > levels[0].length) {
            growBits(words);
        }
    }

    /**
     * {@link #ensureBits} when level 0 must grow to {@code words} words. The grown levels are made whole
     * before the one write that puts them in place: an {@link OutOfMemoryError} at any of their
     * allocations leaves the index as it was (a level grown without the level above it that its length
     * needs, or a level added empty, would break every search and every later growth).
     */
    private void growBits(int words) {
        long[][] old = levels;
        long[][] made = new long[8][]; // 64^8 entries: no list needs more levels
        for (int level = 0; ; level++) {
            long[] bits = level < old.length ? old[level] : null;
            long[] grown;
            if (bits == null) {
                grown = new long[Math.max(1, words)];
                // the level below was the top, one word, until it grew just now: only its word 0 may have a bit
                if (made[level - 1][0] != 0) {
                    grown[0] = 1;
                }
            } else if (words > bits.length) {
                grown = Arrays.copyOf(bits, Math.max(words, bits.length * 2));
            } else {
                grown = bits;
            }
            made[level] = grown;
            if (grown.length == 1) {
                levels = Arrays.copyOf(made, level + 1);
                return;
            }
            words = (grown.length + 63) >>> 6;
        }
    }
}
