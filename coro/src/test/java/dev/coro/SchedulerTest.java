package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The run list grows and shrinks underneath the rules without changing who runs next. */
@ExtendWith(FreshThread.class)
class SchedulerTest {

    private static final int MANY = 300;

    @Test
    void hundredsOfCoroutinesKeepTheSeedsOrderWhileTheRunListGrowsAndShrinks() {
        List<Integer> ran = new ArrayList<>();
        for (int id = 1; id <= MANY; id++) {
            int self = id;
            Coroutine.create(() -> {
                ran.add(self * 10_000 + Coroutine.currentId());
                Coroutine.yield();
                ran.add(-self);
            });
        }
        Coroutine.yield();
        List<Integer> firstRound = new ArrayList<>();
        for (int id = MANY; id >= 1; id--) {
            firstRound.add(id * 10_000 + id);
        }
        assertThat(ran).isEqualTo(firstRound);

        ran.clear();
        Coroutine.yield();
        assertThat(ran).hasSize(MANY).first().isEqualTo(-MANY);
        assertThat(ran).last().isEqualTo(-1);
        assertThat(Coroutine.currentId()).isZero();

        ran.clear();
        for (int id = 1; id <= 3; id++) {
            int self = id;
            Coroutine.create(() -> ran.add(self * 10_000 + Coroutine.currentId()));
        }
        Coroutine.yield();
        assertThat(ran).containsExactly(30_003, 20_002, 10_001);
    }

    private static void waitHere() {
        Coroutine.yield();
    }

    @Test
    void aSuspendedCoroutinesStrandShowsTheFramesItWaitsIn() {
        Coroutine c = Coroutine.create("waiting", SchedulerTest::waitHere);
        c.switchTo();

        assertThat(c.context.stack.frames()).extracting(StackTraceElement::getMethodName)
                .contains("waitHere", "yield");
        c.switchTo();
        assertThat(c.context.stack).as("an ended coroutine drops its strand").isNull();
    }

    @Test
    void everyParkYieldAndEndOfABodyCountsAsOneSchedulingPoint() {
        Scheduler s = Scheduler.current();
        Channel<Integer> ch = new Channel<>("ch", 0);
        Coroutine.create("sender", () -> ch.send(1));
        long before = s.schedulingPoints;
        assertThat(ch.receive()).isEqualTo(1);
        // main's receive parks (1); the sender's send completes it without parking; its body ends (2)
        assertThat(s.schedulingPoints - before).isEqualTo(2);
        Coroutine.yield(); // main alone: still a scheduling point (3)
        assertThat(s.schedulingPoints - before).isEqualTo(3);
    }
}
