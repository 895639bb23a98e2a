package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The ring of slots behind a channel's buffer and a pool thread's queue of bodies. */
class FifoTest {

    @Test
    @Timeout(30)
    void randomAddsAndPollsGiveWhatAnArrayDequeGives() {
        Random random = new Random(7);
        Fifo<Integer> fifo = new Fifo<>();
        ArrayDeque<Integer> model = new ArrayDeque<>();
        int next = 0;
        for (int step = 0; step < 200_000; step++) {
            // runs of adds and polls, long enough to grow past the kept room and to empty again
            boolean add = (step / 3_000) % 2 == 0 ? random.nextInt(10) < 7 : random.nextInt(10) < 3;
            if (add) {
                fifo.add(next);
                model.add(next);
                next++;
            } else {
                assertThat(fifo.poll()).isEqualTo(model.poll());
            }
            assertThat(fifo.size()).isEqualTo(model.size());
        }
        while (!model.isEmpty()) {
            assertThat(fifo.poll()).isEqualTo(model.poll());
        }
        assertThat(fifo.poll()).isNull();
        assertThat(fifo.size()).isZero();
    }

    @Test
    @Timeout(10)
    void anEmptiedQueueKeepsNoMoreThanItsKeptRoom() {
        Fifo<String> fifo = new Fifo<>();
        for (int i = 0; i < 5_000; i++) {
            fifo.add("v" + i);
        }
        assertThat(fifo.room()).isGreaterThanOrEqualTo(5_000);
        for (int i = 0; i < 4_999; i++) {
            assertThat(fifo.poll()).isEqualTo("v" + i);
        }
        assertThat(fifo.room()).as("room while one value is left").isGreaterThanOrEqualTo(5_000);
        assertThat(fifo.poll()).isEqualTo("v4999");
        assertThat(fifo.room()).isLessThanOrEqualTo(Fifo.KEPT_ROOM);
        // a queue that never grew past the kept room keeps what it has
        for (int i = 0; i < Fifo.KEPT_ROOM; i++) {
            fifo.add("w" + i);
        }
        int room = fifo.room();
        for (int i = 0; i < Fifo.KEPT_ROOM; i++) {
            fifo.poll();
        }
        assertThat(fifo.room()).isEqualTo(room);
    }

    @Test
    @Timeout(30)
    void aPolledValueIsNoLongerHeldByTheQueue() {
        Fifo<Object> fifo = new Fifo<>();
        Object value = new Object();
        WeakReference<Object> ref = new WeakReference<>(value);
        fifo.add(value);
        fifo.add("kept");
        assertThat(fifo.poll()).isSameAs(value);
        value = null;
        assertThat(Collected.all(List.of(ref))).as("the slot it left was cleared").isTrue();
        assertThat(fifo.poll()).isEqualTo("kept");
    }

    @Test
    void aQueueOfCopiesOfOneValueCountsThemUpToTheLargestIntAndTakesNoRoom() {
        Fifo<String> permits = new Fifo<>("permit", Integer.MAX_VALUE);
        assertThat(permits.size()).isEqualTo(Integer.MAX_VALUE);
        assertThat(permits.room()).isZero();
        assertThat(permits.poll()).isEqualTo("permit");
        assertThat(permits.poll()).isEqualTo("permit");
        assertThat(permits.size()).isEqualTo(Integer.MAX_VALUE - 2);
        permits.add("permit");
        assertThat(permits.size()).isEqualTo(Integer.MAX_VALUE - 1);
        Fifo<String> one = new Fifo<>("permit", 1);
        assertThat(one.poll()).isEqualTo("permit");
        assertThat(one.poll()).isNull();
        assertThat(one.size()).isZero();
        one.add("permit");
        assertThat(one.poll()).isEqualTo("permit");
        assertThat(one.room()).isZero();
    }
}
