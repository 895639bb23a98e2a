package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link StackOverflowError} and {@link OutOfMemoryError} inside a coroutine are delivered to its
 * creator like any failure, and the thread's scheduler stays usable.
 */
@Tag("stress")
@ExtendWith(FreshThread.class)
class FailureStressTest {

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    /** Creates two coroutines that ping-pong; on return both finished in the C runtime's order. */
    private static void assertSchedulerStillWorks() {
        List<String> log = new ArrayList<>();
        Coroutine a = Coroutine.create("a", () -> {
            log.add("a1 id=" + Coroutine.currentId());
            Coroutine.yield();
            log.add("a2");
        });
        Coroutine b = Coroutine.create("b", () -> {
            log.add("b1 id=" + Coroutine.currentId());
            Coroutine.yield();
            log.add("b2");
        });
        Coroutine.yield();
        Coroutine.yield();
        assertThat(log).containsExactly("b1 id=2", "a1 id=1", "b2", "a2");
        assertThat(a.isFinished()).isTrue();
        assertThat(b.isFinished()).isTrue();
        assertThat(Coroutine.currentId()).isZero();
    }

    @Test
    void aStackOverflowInsideACoroutineIsDeliveredToItsCreatorAndTheSchedulerStaysUsable() {
        StressFigures figures = StressFigures.start();
        Coroutine overflowing = Coroutine.create("overflowing", () -> recurse(0));

        assertThatThrownBy(overflowing::switchTo)
                .isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("coroutine 'overflowing' failed: java.lang.StackOverflowError")
                .cause().isInstanceOf(StackOverflowError.class);
        figures.print("stack overflow inside a coroutine");

        assertThat(overflowing.state()).isEqualTo(Coroutine.State.FAILED);
        assertThat(Coroutine.currentId()).isZero();
        assertSchedulerStillWorks();
    }

    @Test
    void aStackOverflowInANestedCoroutineReachesItsCreatorWhichGoesOn() {
        List<String> log = new ArrayList<>();
        Coroutine parent = Coroutine.create("parent", () -> {
            Coroutine child = Coroutine.create("child", () -> recurse(0));
            try {
                child.switchTo();
            } catch (CoroutineException e) {
                log.add("parent caught " + e.getCause().getClass().getSimpleName() + " at id=" + Coroutine.currentId());
            }
            Coroutine.yield();
            log.add("parent resumed");
        });

        parent.switchTo();
        assertThat(log).containsExactly("parent caught StackOverflowError at id=1");
        parent.switchTo();
        assertThat(log).endsWith("parent resumed");
        assertSchedulerStillWorks();
    }

    @Test
    void runningOutOfHeapInsideACoroutineIsDeliveredToItsCreatorAndTheSchedulerStaysUsable() {
        StressFigures figures = StressFigures.start();
        Coroutine hungry = Coroutine.create("hungry", () -> {
            List<long[]> hoard = new ArrayList<>();
            while (true) {
                hoard.add(new long[1 << 20]);
            }
        });

        assertThatThrownBy(hungry::switchTo)
                .isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("coroutine 'hungry' failed: java.lang.OutOfMemoryError")
                .cause().isInstanceOf(OutOfMemoryError.class);
        figures.print("out of memory inside a coroutine");

        assertThat(hungry.state()).isEqualTo(Coroutine.State.FAILED);
        assertSchedulerStillWorks();
    }
}
