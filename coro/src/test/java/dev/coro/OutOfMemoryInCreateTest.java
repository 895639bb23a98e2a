package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An {@link OutOfMemoryError} at any allocation of {@code Coroutine.create} leaves the thread's scheduler as it
 * was: the failed creation counts for nothing, the coroutines created before run to their end, the next
 * creation succeeds and is numbered on from them, and the thread's scheduler is listed for the dumps. Each
 * allocation of the creation is made to fail in turn ({@link AllocationFailingCopy}), at the thread's first
 * creation (which makes its scheduler) and where the run list grows (its 9th entry, and its 65th, where its
 * index of runnable entries gains a level).
 */
@Timeout(60)
class OutOfMemoryInCreateTest {

    @Test
    void anAllocationFailingAnywhereInAThreadsFirstCreateLeavesNoSchedulerHalfMade() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "first");
    }

    @Test
    void anAllocationFailingAnywhereInTheCreateOfTheRunListsNinthEntryLeavesTheListWhole() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "ninth");
    }

    @Test
    void anAllocationFailingAnywhereInTheCreateOfTheRunListsSixtyFifthEntryLeavesItsIndexWhole() throws Throwable {
        AllocationFailingCopy.run(Scenario.class, "sixtyFifth");
    }

    /** Runs in the copy: each allocation of one creation fails in turn, each time on a fresh thread. */
    static final class Scenario {

        private Scenario() {
        }

        static void first() throws InterruptedException {
            failEachAllocationOfACreateAfter(0);
        }

        static void ninth() throws InterruptedException {
            failEachAllocationOfACreateAfter(7); // main and 7 coroutines: the list's first 8 entries
        }

        static void sixtyFifth() throws InterruptedException {
            failEachAllocationOfACreateAfter(63);
        }

        private static void failEachAllocationOfACreateAfter(int before) throws InterruptedException {
            trial(before, 0); // every class loaded before any allocation fails
            for (int k = 1; trial(before, k); k++) {
                assertThat(k).as("allocations tried").isLessThan(1000);
            }
        }

        /**
         * On a fresh thread: {@code before} coroutines made, then one more with its {@code k}-th allocation
         * failing; then checks the scheduler.
         *
         * @return whether the allocation failed (false: the creation made fewer than {@code k})
         */
        private static boolean trial(int before, int k) throws InterruptedException {
            boolean[] failed = new boolean[1];
            Throwable[] broken = new Throwable[1];
            Thread t = Thread.ofPlatform().name("trial-" + k).start(() -> {
                try {
                    failed[0] = createFailingAt(before, k);
                } catch (Throwable e) {
                    broken[0] = e;
                }
            });
            t.join();
            if (broken[0] != null) {
                throw new AssertionError("with allocation " + k + " of the creation failing: " + broken[0], broken[0]);
            }
            return failed[0];
        }

        private static boolean createFailingAt(int before, int k) {
            List<String> log = new ArrayList<>();
            List<Coroutine> made = new ArrayList<>();
            for (int i = 1; i <= before; i++) {
                made.add(body(i, log));
            }
            AllocationFailures.failAt(k);
            Coroutine extra = null;
            try {
                extra = body(before + 1, log);
            } catch (OutOfMemoryError e) {
                if (!AllocationFailures.injected(e)) {
                    throw e;
                }
            }
            boolean failed = AllocationFailures.stop();
            assertThat(extra == null).as("the creation failed").isEqualTo(failed);
            if (failed) {
                extra = body(before + 1, log);
            }
            made.add(extra);

            Scheduler s = Scheduler.current();
            assertThat(Monitoring.live()).as("the schedulers listed for the dumps").contains(s);
            assertRunListWhole(s.runList);
            for (int i = 0; i < made.size(); i++) {
                assertThat(made.get(i).name()).isEqualTo("coroutine-" + (i + 1));
            }
            assertThat(Coroutine.dump(made.size() + 1)).contains("coroutine-" + made.size() + "'");
            for (int round = 0; round < 10; round++) {
                for (Coroutine c : made) {
                    if (!c.isFinished()) {
                        c.switchTo();
                    }
                }
            }
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= made.size(); i++) {
                expected.add("start " + i);
                expected.add("end " + i);
            }
            assertThat(log).as("each body ran once, whole").containsExactlyInAnyOrderElementsOf(expected);
            assertThat(made).allMatch(Coroutine::isFinished);
            assertThat(s.runList.size()).as("main alone left in the run list").isLessThanOrEqualTo(1);
            return failed;
        }

        /** A coroutine with no name that logs its start, yields once, and logs its end. */
        private static Coroutine body(int i, List<String> log) {
            return Coroutine.create(() -> {
                log.add("start " + i);
                Coroutine.yield();
                log.add("end " + i);
            });
        }

        /** Every entry knows its index, and each level of the index of runnable entries says what the one below holds. */
        private static void assertRunListWhole(RunList list) {
            for (int k = 0; k < list.size(); k++) {
                assertThat(list.get(k).index).as("the index of entry " + k).isEqualTo(k);
            }
            long[][] levels = list.levels;
            for (int level = 0; level < levels.length; level++) {
                assertThat(levels[level]).as("level " + level + " of the index").isNotNull();
            }
            assertThat(levels[levels.length - 1]).as("its top level").hasSize(1);
            for (int k = 0; k < 64 * levels[0].length; k++) {
                boolean runnable = k < list.size() && list.get(k).isRunnable();
                assertThat((levels[0][k >>> 6] >>> k & 1) != 0).as("the bit of entry " + k).isEqualTo(runnable);
            }
            for (int level = 1; level < levels.length; level++) {
                long[] below = levels[level - 1];
                for (int w = 0; w < 64 * levels[level].length; w++) {
                    boolean any = w < below.length && below[w] != 0;
                    assertThat((levels[level][w >>> 6] >>> w & 1) != 0).as("level " + level + ", bit " + w).isEqualTo(any);
                }
            }
        }
    }
}
