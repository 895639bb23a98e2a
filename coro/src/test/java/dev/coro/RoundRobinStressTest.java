package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A million coroutines on one thread yield round robin in the C runtime's order, and all finish. */
@Tag("stress")
@ExtendWith(FreshThread.class)
class RoundRobinStressTest {

    private static final int COROUTINES = 1_000_000;
    private static final int ROUNDS = 3;

    /** Who ran last, and every time a coroutine found someone else than its expected predecessor. */
    private int lastRan;
    private int outOfOrder;
    private long steps;

    @Test
    void aMillionCoroutinesYieldRoundRobinInTheSeedsOrderAndAllFinish() {
        StressFigures figures = StressFigures.start();
        Coroutine[] all = new Coroutine[COROUTINES + 1];
        for (int id = 1; id <= COROUTINES; id++) {
            int self = id;
            all[id] = Coroutine.create(() -> {
                for (int round = 0; round < ROUNDS; round++) {
                    step(self);
                    Coroutine.yield();
                }
                step(self);
            });
        }
        for (int round = 0; round < ROUNDS; round++) {
            lastRan = COROUTINES + 1;
            Coroutine.yield();
            assertThat(lastRan).as("round %d ends with coroutine 1", round).isEqualTo(1);
            if (round == 0) {
                StressFigures.printLiveHeap(COROUTINES + " suspended coroutines");
            }
        }
        lastRan = COROUTINES + 1;
        Coroutine.yield();
        figures.print(COROUTINES + " coroutines, " + (ROUNDS + 1) + " rounds");

        assertThat(outOfOrder).isZero();
        assertThat(steps).isEqualTo((long) COROUTINES * (ROUNDS + 1));
        assertThat(all[1].isFinished()).isTrue();
        assertThat(all[COROUTINES].isFinished()).isTrue();
        assertThat(Coroutine.currentId()).isZero();
    }

    /** Coroutine {@code self} runs: its predecessor must be {@code self + 1}, its index {@code self}. */
    private void step(int self) {
        if (lastRan != self + 1 || Coroutine.currentId() != self) {
            outOfOrder++;
        }
        lastRan = self;
        steps++;
    }
}
