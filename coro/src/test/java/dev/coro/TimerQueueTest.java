package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The timer queue: timers come out by deadline, then in the order they were added, whatever was cancelled. */
@Tag("no-frames") // left out of the interpreted-only and C1-only passes of CI: a data structure, no context switches
class TimerQueueTest {

    private static final class T extends Timer {
        final long order;

        T(long deadline, long order) {
            this.deadline = deadline;
            this.order = order;
        }

        @Override
        void expire() {
        }

        @Override
        public String toString() {
            return "timer " + order + " at " + deadline;
        }
    }

    private static final Comparator<T> ORDER = Comparator.<T>comparingLong(t -> t.deadline).thenComparingLong(t -> t.order);

    @Test
    void tiesComeOutInTheOrderTheyWereAdded() {
        TimerQueue q = new TimerQueue();
        T a = new T(5, 0);
        T b = new T(3, 1);
        T c = new T(5, 2);
        T d = new T(3, 3);
        for (T t : List.of(a, b, c, d)) {
            q.add(t);
        }
        assertThat(q.firstDeadline()).isEqualTo(3);
        List<Timer> out = new ArrayList<>();
        while (q.size() != 0) {
            out.add(q.poll());
        }
        assertThat(out).containsExactly(b, d, a, c);
        assertThat(out).noneMatch(Timer::isPending);
        assertThat(q.firstDeadline()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aCancelledTimerLeavesAndAReAddedOneGoesLast() {
        TimerQueue q = new TimerQueue();
        T a = new T(7, 0);
        T b = new T(7, 1);
        T c = new T(7, 2);
        q.add(a);
        q.add(b);
        q.add(c);
        q.remove(a);
        q.remove(a); // twice: nothing
        assertThat(a.isPending()).isFalse();
        q.add(a); // scheduled again: after b and c
        assertThat(q.size()).isEqualTo(3);
        assertThat(List.of(q.poll(), q.poll(), q.poll())).containsExactly(b, c, a);
    }

    /** Random adds, cancels and polls over few and many deadlines, against a sorted set. */
    @Test
    void agreesWithASortedModel() {
        for (int bound : new int[] {3, 50, 5000}) {
            Random r = new Random(bound);
            TimerQueue q = new TimerQueue();
            TreeSet<T> model = new TreeSet<>(ORDER);
            List<T> pending = new ArrayList<>();
            long order = 0;
            for (int step = 0; step < 200_000; step++) {
                int op = r.nextInt(10);
                if (op < 5 || model.isEmpty()) {
                    T t = new T(r.nextInt(bound), order++);
                    q.add(t);
                    model.add(t);
                    pending.add(t);
                } else if (op < 7) {
                    T t = pending.remove(r.nextInt(pending.size()));
                    if (model.remove(t)) {
                        q.remove(t);
                    }
                    assertThat(t.isPending()).isFalse();
                } else {
                    T expected = model.pollFirst();
                    assertThat(q.firstDeadline()).isEqualTo(expected.deadline);
                    assertThat(q.poll()).as("step %d", step).isSameAs(expected);
                }
                assertThat(q.size()).isEqualTo(model.size());
            }
            while (!model.isEmpty()) {
                assertThat(q.poll()).isSameAs(model.pollFirst());
            }
            assertThat(q.size()).isZero();
        }
    }
    @Test
    void aBurstOfDeadlinesGrowsTheQueueByHalvesAndOnceGoneLeavesItAsSmallAsANewOne() {
        TimerQueue q = new TimerQueue();
        assertThat(q.footprint()).isEqualTo("heap 16, table 16, kept 0");
        List<T> burst = new ArrayList<>();
        for (int k = 0; k < 1000; k++) {
            T t = new T(1000 + k * 7919L % 1000, k);
            burst.add(t);
            q.add(t);
            if (k == 11) { // the table grows when three quarters full, the heap when full
                assertThat(q.footprint()).isEqualTo("heap 16, table 16, kept 0");
            } else if (k == 12) {
                assertThat(q.footprint()).isEqualTo("heap 16, table 32, kept 0");
            } else if (k == 16) {
                assertThat(q.footprint()).isEqualTo("heap 32, table 32, kept 0");
            }
        }
        assertThat(q.footprint()).isEqualTo("heap 1024, table 2048, kept 0");
        Collections.shuffle(burst, new Random(7));
        for (int k = 0; k < burst.size(); k++) {
            q.remove(burst.get(k));
            int left = burst.size() - k - 1;
            if (left == 256) { // each shrinks by half when below an eighth (table) or a quarter (heap) full
                assertThat(q.footprint()).isEqualTo("heap 1024, table 2048, kept 256");
            } else if (left == 255) {
                assertThat(q.footprint()).isEqualTo("heap 512, table 1024, kept 256");
            }
        }
        assertThat(q.footprint()).isEqualTo("heap 64, table 64, kept 256");
        assertThat(q.size()).isZero();
        T again = new T(5, 0);
        q.add(again);
        assertThat(q.footprint()).isEqualTo("heap 64, table 64, kept 255");
        assertThat(q.poll()).isSameAs(again);
        assertThat(q.footprint()).isEqualTo("heap 64, table 64, kept 256");
    }

    @Test
    void aBucketKeepsItsArrayWhenEmptiedUnlessACrowdGrewItPastSixtyFourSlots() {
        TimerQueue q = new TimerQueue();
        assertThat(reusedSlotsAfter(q, 1, 64)).isEqualTo(64);
        assertThat(reusedSlotsAfter(q, 2, 65)).isEqualTo(8);
    }

    @Test
    void aBucketKeepsItsGrownArrayWhileEveryDeadlineHasACrowdAndDropsItOnceTheCrowdsAreGone() {
        TimerQueue q = new TimerQueue();
        List<T> all = new ArrayList<>();
        for (long d = 1; d <= 10; d++) { // ten deadlines of 100 timers each: 128 slots a bucket
            for (int k = 0; k < 100; k++) {
                T t = new T(d, k);
                all.add(t);
                q.add(t);
            }
        }
        for (int k = 0; k < 100; k++) { // deadline 1 taken: 900 timers left over 9 deadlines, a crowd of 100
            q.poll();
        }
        T next = new T(20, 0);
        q.add(next);
        assertThat(next.bucket.timers).as("the emptied bucket's array, reused").hasSize(128);
        q.remove(next);
        for (T t : all.subList(100, all.size())) {
            q.remove(t);
        }
        T last = new T(30, 0);
        q.add(last);
        assertThat(last.bucket.timers).as("a bucket reused once no crowd is left").hasSize(8);
    }

    /** The array length of the bucket reused after {@code n} timers of {@code deadline} came and went. */
    private static int reusedSlotsAfter(TimerQueue q, long deadline, int n) {
        List<T> crowd = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            T t = new T(deadline, k);
            crowd.add(t);
            q.add(t);
        }
        for (T t : crowd) {
            q.remove(t);
        }
        T next = new T(deadline + 100, 0);
        q.add(next);
        int slots = next.bucket.timers.length;
        q.remove(next);
        return slots;
    }

    @Test
    void aFullBucketWithHalfItsSlotsCancelledMovesItsTimersUpInsteadOfGrowing() {
        TimerQueue q = new TimerQueue();
        List<T> ts = new ArrayList<>();
        for (int k = 0; k < 8; k++) {
            T t = new T(9, k);
            ts.add(t);
            q.add(t);
        }
        for (int k = 0; k < 4; k++) {
            q.remove(ts.get(k));
        }
        T ninth = new T(9, 8);
        q.add(ninth);
        assertThat(ninth.bucket.timers).hasSize(8);
        assertThat(ninth.slot).isEqualTo(4);
        List<Timer> out = new ArrayList<>();
        while (q.size() != 0) {
            out.add(q.poll());
        }
        assertThat(out).containsExactly(ts.get(4), ts.get(5), ts.get(6), ts.get(7), ninth);
    }

    @Test
    void aFullBucketThatGrowsLeavesEveryTimerInItsSlotAndItsGapsWhereTheyAre() {
        TimerQueue q = new TimerQueue();
        List<T> ts = new ArrayList<>();
        for (int k = 0; k < 8; k++) {
            T t = new T(9, k);
            ts.add(t);
            q.add(t);
        }
        q.remove(ts.get(2)); // a gap, but more than half the slots still hold a timer: the array grows
        T ninth = new T(9, 8);
        q.add(ninth);
        assertThat(ninth.bucket.timers).hasSize(16);
        assertThat(ninth.slot).isEqualTo(8);
        for (int k = 0; k < 8; k++) {
            if (k != 2) {
                assertThat(ts.get(k).slot).as("timer %d", k).isEqualTo(k);
                assertThat(ninth.bucket.timers[k]).isSameAs(ts.get(k));
            }
        }
        assertThat(ninth.bucket.timers[2]).isNull();
        q.remove(ts.get(5)); // cancelled through the slot it kept
        List<Timer> out = new ArrayList<>();
        while (q.size() != 0) {
            out.add(q.poll());
        }
        assertThat(out).containsExactly(ts.get(0), ts.get(1), ts.get(3), ts.get(4), ts.get(6), ts.get(7), ninth);
    }

    @Test
    void pollingACrowdOfOneDeadlineStartsEachPollAtTheTimerAfterTheLastOneTaken() {
        TimerQueue q = new TimerQueue();
        List<T> ts = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            T t = new T(9, k);
            ts.add(t);
            q.add(t);
        }
        assertThat(q.poll()).isSameAs(ts.get(0));
        assertThat(q.poll()).isSameAs(ts.get(1));
        TimerQueue.Bucket b = ts.get(2).bucket;
        assertThat(b.first).isEqualTo(2); // not back at the array's start: a crowd is taken in O(1) a timer
        q.remove(ts.get(2));
        q.remove(ts.get(3)); // gaps are skipped once, by the poll that passes them
        assertThat(q.poll()).isSameAs(ts.get(4));
        assertThat(b.first).isEqualTo(5);
        assertThat(q.poll()).isSameAs(ts.get(5));
        assertThat(q.size()).isZero();
    }

    @Test
    void aBucketTakenOutOfTheHeapLeavesNoSlotPastTheHeapsEndHoldingIt() {
        TimerQueue q = new TimerQueue();
        T one = new T(1, 0);
        T two = new T(2, 1);
        T three = new T(3, 2);
        q.add(one);
        q.add(two);
        q.add(three); // the heap by deadline: 1, then 2 and 3; 3 in its last slot
        q.remove(three); // the last slot's bucket leaves
        assertThat(heap(q)).containsExactly(one.bucket, two.bucket, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null);
        q.remove(one); // a bucket from the middle: the last one moves into its place
        assertThat(heap(q)[0]).isSameAs(two.bucket);
        assertThat(heap(q)).filteredOn(b -> b != null).hasSize(1);
    }

    /** The queue's heap array, the slots past its pending buckets included. */
    private static TimerQueue.Bucket[] heap(TimerQueue q) {
        try {
            Field f = TimerQueue.class.getDeclaredField("heap");
            f.setAccessible(true);
            return (TimerQueue.Bucket[]) f.get(q);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
