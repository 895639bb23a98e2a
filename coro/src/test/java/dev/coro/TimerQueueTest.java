package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The timer queue: timers come out by deadline, then in the order they were added, whatever was cancelled. */
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
}
