package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The waiters' queue: first in, first out, and any waiter can leave from anywhere in it. */
class WaitQueueTest {

    private static final class Waiter extends WaitQueue.Node<Waiter> {
        final String name;

        Waiter(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final WaitQueue<Waiter> queue = new WaitQueue<>();
    private final Waiter a = new Waiter("a");
    private final Waiter b = new Waiter("b");
    private final Waiter c = new Waiter("c");

    /** Polls the queue until it is empty; afterwards it is. */
    private List<Waiter> drain() {
        List<Waiter> out = new ArrayList<>();
        for (Waiter w; (w = queue.poll()) != null; ) {
            assertThat(w.queued).as("%s after poll", w).isFalse();
            assertThat(w.prev).isNull();
            assertThat(w.next).isNull();
            out.add(w);
        }
        assertThat(queue.isEmpty()).isTrue();
        return out;
    }

    private void addAll() {
        queue.add(a);
        queue.add(b);
        queue.add(c);
    }

    @Test
    void anEmptyQueuePollsNull() {
        assertThat(queue.isEmpty()).isTrue();
        assertThat(queue.poll()).isNull();
    }

    @Test
    void waitersLeaveInTheOrderTheyCame() {
        addAll();
        assertThat(queue.isEmpty()).isFalse();
        assertThat(a.queued).isTrue();
        assertThat(drain()).containsExactly(a, b, c);
    }

    @Test
    void theHeadCanLeaveAndTheNextBecomesTheHead() {
        addAll();
        queue.remove(a);
        assertThat(a.queued).isFalse();
        assertThat(a.next).isNull();
        assertThat(b.prev).isNull();
        assertThat(drain()).containsExactly(b, c);
    }

    @Test
    void aWaiterInTheMiddleCanLeaveAndItsNeighboursAreLinked() {
        addAll();
        queue.remove(b);
        assertThat(b.queued).isFalse();
        assertThat(b.prev).isNull();
        assertThat(b.next).isNull();
        assertThat(a.next).isSameAs(c);
        assertThat(c.prev).isSameAs(a);
        assertThat(drain()).containsExactly(a, c);
    }

    @Test
    void theTailCanLeaveAndALaterWaiterComesAfterTheNewTail() {
        addAll();
        queue.remove(c);
        assertThat(b.next).isNull();
        assertThat(c.prev).isNull();
        Waiter d = new Waiter("d");
        queue.add(d);
        assertThat(d.prev).isSameAs(b);
        assertThat(drain()).containsExactly(a, b, d);
    }

    @Test
    void theOnlyWaiterLeavingEmptiesTheQueue() {
        queue.add(a);
        queue.remove(a);
        assertThat(queue.isEmpty()).isTrue();
        assertThat(queue.poll()).isNull();
        queue.add(b);
        assertThat(b.prev).as("nothing is left of a").isNull();
        assertThat(drain()).containsExactly(b);
    }

    @Test
    void removingAWaiterThatIsNotQueuedChangesNothing() {
        queue.add(a);
        queue.add(b);
        queue.remove(c);
        queue.remove(a);
        queue.remove(a);
        assertThat(drain()).containsExactly(b);
    }

    @Test
    void eachWaiterLinksToTheOneAfterItAndTheLastToNone() {
        addAll();
        queue.remove(b);
        assertThat(queue.first()).isSameAs(a);
        assertThat(queue.next(a)).as("b left: c follows a").isSameAs(c);
        assertThat(queue.next(c)).as("the last").isNull();
        assertThat(drain()).containsExactly(a, c);
    }

    @Test
    void aWaiterThatLeftCanComeBackAtTheEnd() {
        addAll();
        queue.remove(a);
        queue.add(a);
        assertThat(drain()).containsExactly(b, c, a);
    }

    @Test
    void aWaiterPutFirstGoesAheadOfTheQueuedAndStaysWhenTheFormerHeadLeaves() {
        queue.add(a);
        queue.add(b);
        queue.addFirst(c);
        assertThat(queue.first()).isSameAs(c);
        assertThat(c.queued).isTrue();
        assertThat(a.prev).as("the former head links back to the waiter put first").isSameAs(c);
        queue.remove(a);
        assertThat(queue.next(c)).as("a left: b follows c").isSameAs(b);
        assertThat(drain()).containsExactly(c, b);
    }

    @Test
    void aWaiterPutFirstIntoAnEmptyQueueIsAlsoItsLast() {
        queue.addFirst(a);
        queue.add(b);
        assertThat(a.next).isSameAs(b);
        assertThat(b.prev).isSameAs(a);
        assertThat(drain()).containsExactly(a, b);
    }

    @Test
    void randomArrivalsAndDeparturesKeepTheOrderOfAList() {
        Random random = new Random(3);
        List<Waiter> model = new ArrayList<>();
        List<Waiter> pool = new ArrayList<>();
        for (int k = 0; k < 40; k++) {
            pool.add(new Waiter("w" + k));
        }
        for (int step = 0; step < 5_000; step++) {
            Waiter w = pool.get(random.nextInt(pool.size()));
            switch (random.nextInt(3)) {
                case 0 -> {
                    if (!w.queued) {
                        if (random.nextBoolean()) {
                            queue.add(w);
                            model.add(w);
                        } else {
                            queue.addFirst(w);
                            model.add(0, w);
                        }
                    }
                }
                case 1 -> {
                    queue.remove(w);
                    model.remove(w);
                }
                default -> assertThat(queue.poll()).isSameAs(model.isEmpty() ? null : model.remove(0));
            }
            assertThat(queue.isEmpty()).isEqualTo(model.isEmpty());
        }
        assertThat(drain()).containsExactlyElementsOf(model);
    }
}
