package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of making a channel, a generator (plain or read-ahead) or a
 * semaphore counts no creation: the next one made is named {@code channel-1}, {@code generator-1} or
 * {@code semaphore-1} as if the failed one had never been tried, and works. Each allocation is made to fail
 * in turn ({@link AllocationFailingCopy}), each time on a fresh thread.
 */
@Timeout(60)
class OutOfMemoryInMakingAChannelGeneratorOrSemaphoreTest {

    @Test
    void aChannelWhoseMakingFailedForWantOfMemoryNumbersNoneAndTheNextIsChannelOne() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "channel");
    }

    @Test
    void aGeneratorWhoseMakingFailedForWantOfMemoryNumbersNoneAndTheNextIsGeneratorOne() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "generator");
    }

    @Test
    void aReadAheadGeneratorWhoseMakingFailedForWantOfMemoryNumbersNoneAndTheNextIsGeneratorOne() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "buffered");
    }

    @Test
    void aSemaphoreWhoseMakingFailedForWantOfMemoryNumbersNoneAndTheNextIsSemaphoreOne() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "semaphore");
    }

    /** Runs in the copy: each allocation of one making fails in turn, each time on a fresh thread. */
    static final class Scenario {

        private Scenario() {
        }

        static void channel() throws InterruptedException {
            failEachAllocationOf("channel-1", () -> new Channel<Integer>(2), made -> {
                Channel<Integer> c = made;
                c.send(1);
                c.send(2);
                assertThat(List.of(c.receive(), c.receive())).containsExactly(1, 2);
                return c.name();
            });
        }

        static void generator() throws InterruptedException {
            failEachAllocationOf("generator-1", () -> Generator.<Integer>of(out -> {
                out.emit(1);
                out.emit(2);
            }), Scenario::drain);
        }

        static void buffered() throws InterruptedException {
            failEachAllocationOf("generator-1", () -> Generator.<Integer>buffered(4, out -> {
                out.emit(1);
                out.emit(2);
            }), Scenario::drain);
        }

        static void semaphore() throws InterruptedException {
            failEachAllocationOf("semaphore-1", () -> new Semaphore(1), s -> {
                s.acquire();
                assertThat(s.tryAcquire()).as("a second permit of one").isFalse();
                s.release();
                assertThat(s.availablePermits()).isEqualTo(1);
                return s.name();
            });
        }

        private static String drain(Generator<Integer> g) {
            assertThat(g.stream().toList()).containsExactly(1, 2);
            return g.name();
        }

        /** What a thing made is checked with: it works, and it tells its name. */
        interface Check<T> {
            String nameAfterUse(T made);
        }

        private static <T> void failEachAllocationOf(String firstName, Supplier<T> make, Check<T> check)
                throws InterruptedException {
            trial(firstName, make, check, 0); // every class loaded before any allocation fails
            for (int k = 1; trial(firstName, make, check, k); k++) {
                assertThat(k).as("allocations tried").isLessThan(1000);
            }
        }

        /** @return whether the {@code k}-th allocation failed (false: the making made fewer) */
        private static <T> boolean trial(String firstName, Supplier<T> make, Check<T> check, int k)
                throws InterruptedException {
            boolean[] failed = new boolean[1];
            Throwable[] broken = new Throwable[1];
            Thread t = Thread.ofPlatform().name("trial-" + k).start(() -> {
                try {
                    Scheduler.current(); // the thread's scheduler made first: only the making fails
                    AllocationFailures.failAt(k);
                    T made = null;
                    try {
                        made = make.get();
                    } catch (OutOfMemoryError e) {
                        if (!AllocationFailures.injected(e)) {
                            throw e;
                        }
                    }
                    failed[0] = AllocationFailures.stop();
                    assertThat(made == null).as("the making failed").isEqualTo(failed[0]);
                    if (made == null) {
                        made = make.get();
                    }
                    assertThat(check.nameAfterUse(made)).isEqualTo(firstName);
                } catch (Throwable e) {
                    broken[0] = e;
                }
            });
            t.join();
            if (broken[0] != null) {
                throw new AssertionError("with allocation " + k + " of the making failing: " + broken[0], broken[0]);
            }
            return failed[0];
        }
    }
}
