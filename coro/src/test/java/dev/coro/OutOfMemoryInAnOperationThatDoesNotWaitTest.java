package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of an operation of the caller that does not wait for another
 * coroutine (a buffered channel growing, a generator's first {@code next}, a dump) changes nothing half-way: the
 * same operation works once memory is back. Each allocation of the caller is made to fail in turn
 * ({@link AllocationFailingCopy}), each time on a fresh thread.
 */
@Timeout(60)
class OutOfMemoryInAnOperationThatDoesNotWaitTest {

    @Test
    void aSendThatFailedForWantOfMemoryAsTheBufferGrewLeavesTheBufferedValuesInOrderAndTheNextSendGrowsIt() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "bufferGrow");
    }

    @Test
    void aGeneratorsFirstNextThatFailedForWantOfMemoryLeavesItWholeOrFailedWithThatError() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "generator");
    }

    @Test
    void aDumpThatFailedForWantOfMemoryChangesNothingAndTheNextShowsTheParkedCoroutine() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "dump");
    }

    /** Runs in the copy. */
    static final class Scenario {

        private Scenario() {
        }

        static void bufferGrow() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                Channel<Integer> c = new Channel<>(100);
                List<Integer> expected = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    c.send(i); // the buffer's first room, full
                    expected.add(i);
                }
                boolean failed = AllocationFailures.failing(k, InTheCopy.here(), () -> c.send(16));
                assertThat(c.size()).as("values buffered").isEqualTo(failed ? 16 : 17);
                if (failed) {
                    c.send(16);
                }
                expected.add(16);
                List<Integer> got = new ArrayList<>();
                while (c.size() > 0) {
                    got.add(c.receive());
                }
                assertThat(got).containsExactlyElementsOf(expected);
                return failed;
            });
        }

        static void generator() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                Generator<Integer> g = Generator.of(out -> {
                    out.emit(1);
                    out.emit(2);
                });
                List<Integer> got = new ArrayList<>();
                boolean failed;
                try {
                    failed = AllocationFailures.failing(k, InTheCopy.here(), () -> got.add(g.next()));
                } catch (CoroutineException e) {
                    // the allocation was the body's (the thread engine starts it on a thread of its own): the
                    // generator failed with it, as with any error of its body, and a new one works
                    assertThat(e.getMessage()).isEqualTo("generator 'generator-1' failed: java.lang.OutOfMemoryError: "
                            + AllocationFailures.MESSAGE);
                    assertThat(AllocationFailures.stop()).as("the failure was the injected one").isTrue();
                    Generator<Integer> again = Generator.of(out -> {
                        out.emit(1);
                        out.emit(2);
                    });
                    assertThat(again.stream().toList()).containsExactly(1, 2);
                    return true;
                }
                g.forEachRemaining(got::add);
                assertThat(got).containsExactly(1, 2);
                return failed;
            });
        }

        static void dump() throws InterruptedException {
            AllocationFailures.eachInTurn(k -> {
                Channel<Integer> c = new Channel<>(0);
                Coroutine r = Coroutine.create("r", () -> c.receive());
                Coroutine.yield();
                boolean failed = AllocationFailures.failing(k, InTheCopy.here(), () -> Coroutine.dump());
                assertThat(Coroutine.dump()).contains("coroutine 'r': PARKED");
                c.send(1);
                r.join();
                return failed;
            });
        }
    }
}
