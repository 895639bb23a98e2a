package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The run list's swap-remove and its two-level index of runnable entries, checked against a plain
 * scan of the list: with thousands of entries, so that the bit words (64 entries each) and the summary
 * words (4,096 entries each) have boundaries to get wrong.
 *
 * <p>Each test fills its fresh thread's own scheduler's list with contexts that never run; they park
 * and wake through {@link Context#revertTo}, the path that keeps the list's index in step.
 */
@ExtendWith(FreshThread.class)
class RunListTest {

    /** The test thread's scheduler and its list: set by the first {@link #context()}, on that thread. */
    private Scheduler scheduler;
    private RunList list;
    private int created;

    /** A context that never runs, runnable until parked. */
    private Context context() {
        if (scheduler == null) {
            scheduler = Scheduler.current();
            list = scheduler.runList;
            assertThat(list.size()).as("a fresh thread's list").isZero();
        }
        created++;
        return new Context(scheduler, scheduler.main, "entry-" + created, created, () -> { });
    }

    /** Appends {@code n} contexts; those whose index {@code parked} accepts are parked. */
    private List<Context> fill(int n, IntPredicate parked) {
        List<Context> added = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            Context c = context();
            if (parked.test(k)) {
                c.revertTo(State.PARKED);
            }
            list.add(c);
            added.add(c);
        }
        return added;
    }

    private static void park(Context c) {
        c.revertTo(State.PARKED);
    }

    private static void wake(Context c) {
        c.revertTo(State.SUSPENDED);
    }

    /** What {@link RunList#previousRunnable} must return: a scan backwards from {@code start}, wrapping. */
    private Context scan(int start, int count) {
        int n = list.size();
        int k = start < 0 ? start + n : start;
        for (int step = 0; step < count; step++) {
            Context c = list.get(Math.floorMod(k - step, n));
            if (c.isRunnable()) {
                return c;
            }
        }
        return null;
    }

    /** Every entry knows its own index, and the list holds exactly {@code expected}, in order. */
    private void assertEntries(List<Context> expected) {
        assertThat(list.size()).isEqualTo(expected.size());
        assertThat(list.toArray()).containsExactlyElementsOf(expected);
        for (int k = 0; k < expected.size(); k++) {
            assertThat(list.get(k).index).as("index of entry %d", k).isEqualTo(k);
        }
    }

    /** previousRunnable agrees with the scan from every start, for the whole list and shorter counts. */
    private void assertAgreesWithScanEverywhere() {
        int n = list.size();
        for (int start = -1; start < n; start++) {
            for (int count : new int[] {n, n - 1, 1, 2, 65, 4_097}) {
                if (count > n) {
                    continue;
                }
                assertThat(list.previousRunnable(start, count)).as("previousRunnable(%d, %d) of %d", start, count, n)
                        .isSameAs(scan(start, count));
            }
        }
    }

    @Test
    void anEmptyRangeHasNoRunnableEntry() {
        fill(3, k -> false);
        assertThat(list.previousRunnable(2, 0)).isNull();
        assertThat(list.previousRunnable(2, -1)).isNull();
        assertThat(list.previousRunnable(2, 1)).isSameAs(list.get(2));
    }

    /**
     * An observer on another thread reads an index it got before the owner moved on: one past the entries'
     * array, or below 0, is no entry (null), never an exception; one inside the array but past the
     * entries is null too.
     */
    @Test
    void anObserversReadOfAnIndexOutsideTheEntriesIsNullNeverAnException() {
        List<Context> all = fill(3, k -> false);
        assertThat(list.footprint()).startsWith("entries 8,");
        assertThat(list.getRacy(2)).isSameAs(all.get(2));
        assertThat(list.getRacy(3)).as("inside the array, past the entries").isNull();
        assertThat(list.getRacy(8)).as("one past the array").isNull();
        assertThat(list.getRacy(-1)).isNull();
    }

    @Test
    void minusOneStartsAtTheLastEntry() {
        List<Context> all = fill(5, k -> false);
        assertThat(list.previousRunnable(-1, 1)).isSameAs(all.get(4));
        park(all.get(4));
        assertThat(list.previousRunnable(-1, 1)).isNull();
        assertThat(list.previousRunnable(-1, 2)).isSameAs(all.get(3));
    }

    @Test
    void theStartItselfIsTheFirstCandidate() {
        List<Context> all = fill(200, k -> k != 64 && k != 63 && k != 0);
        assertThat(list.previousRunnable(64, 1)).isSameAs(all.get(64));
        assertThat(list.previousRunnable(63, 1)).isSameAs(all.get(63));
        assertThat(list.previousRunnable(0, 1)).isSameAs(all.get(0));
        assertThat(list.previousRunnable(65, 1)).isNull();
        assertThat(list.previousRunnable(65, 2)).isSameAs(all.get(64));
    }

    @Test
    void aRunnableEntryIsFoundAcrossWordAndSummaryBoundaries() {
        int n = 3 * 4_096 + 100;
        List<Context> all = fill(n, k -> true);
        for (int only : new int[] {0, 1, 62, 63, 64, 65, 127, 128, 4_031, 4_032, 4_095, 4_096, 4_097, 8_191, 8_192, n - 1}) {
            wake(all.get(only));
            for (int start : new int[] {only, only + 1, only + 63, only + 64, only + 4_095, only + 4_096, n - 1}) {
                if (start >= n) {
                    continue;
                }
                assertThat(list.previousRunnable(start, start - only + 1)).as("from %d back to %d", start, only)
                        .isSameAs(all.get(only));
                assertThat(list.previousRunnable(start, start - only)).as("from %d, one short of %d", start, only)
                        .isNull();
            }
            park(all.get(only));
        }
    }

    @Test
    void aSearchWrapsFromTheFirstEntryToTheLastRunnableOne() {
        int n = 2 * 4_096 + 7;
        List<Context> all = fill(n, k -> true);
        for (int only : new int[] {n - 1, n - 2, n - 8, 4_096, 4_095, 100}) {
            wake(all.get(only));
            for (int start : new int[] {0, 1, 63, 64, 4_095, 4_096}) {
                if (start >= only) {
                    continue;
                }
                int distance = (start + 1) + (n - 1 - only);
                assertThat(list.previousRunnable(start, distance + 1)).as("from %d around to %d", start, only)
                        .isSameAs(all.get(only));
                assertThat(list.previousRunnable(start, distance)).as("from %d, one short of %d", start, only)
                        .isNull();
            }
            park(all.get(only));
        }
    }

    @Test
    void aSearchWrapsToTheLastEntryOfAListThatFillsItsBitWordsExactly() {
        List<Context> all = fill(64, k -> k != 63);
        assertThat(list.previousRunnable(0, 2)).isSameAs(all.get(63));
        assertThat(list.previousRunnable(0, 1)).isNull();
        all.addAll(fill(64, k -> k != 63));
        assertThat(list.size()).isEqualTo(128);
        assertThat(list.previousRunnable(0, 2)).isSameAs(all.get(127));
        assertThat(list.previousRunnable(62, 64)).as("63 parked entries back, then around to 127").isSameAs(all.get(127));
        assertThat(list.previousRunnable(62, 63)).isNull();
    }

    @Test
    void aListWithEveryEntryParkedHasNoRunnableEntryFromAnyStart() {
        int n = 2 * 4_096 + 1;
        fill(n, k -> true);
        for (int start : new int[] {-1, 0, 63, 64, 4_095, 4_096, 4_097, n - 1}) {
            assertThat(list.previousRunnable(start, n)).as("from %d", start).isNull();
        }
    }

    @Test
    void parkingOneOfTwoRunnableEntriesOfAWordKeepsTheOtherFindable() {
        int n = 4_096 + 200;
        List<Context> all = fill(n, k -> k != 70 && k != 100);
        park(all.get(100));
        assertThat(list.previousRunnable(n - 1, n)).isSameAs(all.get(70));
        assertThat(list.previousRunnable(4_100, n)).isSameAs(all.get(70));
        park(all.get(100));
        assertThat(list.previousRunnable(n - 1, n)).as("parking twice changes nothing").isSameAs(all.get(70));
        park(all.get(70));
        assertThat(list.previousRunnable(n - 1, n)).isNull();
        wake(all.get(100));
        wake(all.get(100));
        park(all.get(100));
        assertThat(list.previousRunnable(n - 1, n)).as("woken twice, parked once").isNull();
    }

    @Test
    void removingAnEntryMovesTheLastIntoItsSlotWithItsRunnability() {
        List<Context> all = fill(130, k -> k == 129);
        Context removed = all.get(3);
        Context last = all.get(129);

        assertThat(list.remove(removed)).isEqualTo(3);

        assertThat(removed.index).isEqualTo(-1);
        assertThat(last.index).isEqualTo(3);
        assertThat(list.get(3)).isSameAs(last);
        assertThat(list.size()).isEqualTo(129);
        assertThat(list.previousRunnable(3, 1)).as("the parked entry moved into slot 3").isNull();
        assertThat(list.previousRunnable(4, 2)).isSameAs(all.get(4));
        assertThat(list.previousRunnable(3, 2)).isSameAs(all.get(2));

        wake(last);
        assertThat(list.previousRunnable(3, 1)).isSameAs(last);
    }

    @Test
    void removingTheLastEntryLeavesNoTraceOfItsRunnability() {
        List<Context> all = fill(65, k -> k != 64);
        assertThat(list.remove(all.get(64))).isEqualTo(64);
        assertThat(list.size()).isEqualTo(64);
        assertThat(list.previousRunnable(63, 64)).isNull();

        Context parked = context();
        park(parked);
        list.add(parked);
        assertThat(parked.index).isEqualTo(64);
        assertThat(list.previousRunnable(64, 65)).as("the new entry in the old slot is parked").isNull();
    }

    @Test
    void thousandsOfEntriesAddedThenRemovedKeepEveryEntryAndItsIndex() {
        List<Context> model = new ArrayList<>(fill(10_000, k -> k % 3 == 0));
        assertEntries(model);
        Random random = new Random(42);
        while (model.size() > 1) {
            int k = random.nextInt(model.size());
            Context c = model.get(k);
            assertThat(list.remove(c)).isEqualTo(k);
            Context last = model.remove(model.size() - 1);
            if (last != c) {
                model.set(k, last);
            }
            if (model.size() % 997 == 0 || model.size() < 70) {
                assertEntries(model);
                assertAgreesWithScanEverywhere();
            }
        }
        assertEntries(model);
        list.remove(model.get(0));
        assertThat(list.size()).isZero();
        assertThat(list.toArray()).isEmpty();
    }

    @Test
    @Timeout(60)
    void aCrowdOfEntriesOnceRemovedLeavesTheListAndItsIndexSmall() {
        List<Context> model = new ArrayList<>();
        for (int crowd = 0; crowd < 2; crowd++) {
            model.addAll(fill(100_000, k -> k % 2 == 0));
            assertThat(list.footprint()).isEqualTo("entries 131072, bits 2048 in 3 levels");
            while (model.size() > 3) {
                list.remove(model.removeLast());
            }
            assertEntries(model);
            assertAgreesWithScanEverywhere();
            assertThat(list.footprint()).as("after crowd %d", crowd).isEqualTo("entries 64, bits 2 in 2 levels");
            park(model.get(2));
            wake(model.get(1));
            assertAgreesWithScanEverywhere();
        }
    }

    @Test
    void randomAddsRemovesParksAndWakesAgreeWithAScanOfTheList() {
        Random random = new Random(7);
        List<Context> model = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            int target = round % 2 == 0 ? 9_000 : 150;
            while (model.size() != target) {
                if (model.size() < target) {
                    Context c = context();
                    if (random.nextInt(4) != 0) {
                        park(c);
                    }
                    list.add(c);
                    model.add(c);
                } else {
                    int k = random.nextInt(model.size());
                    list.remove(model.get(k));
                    Context last = model.remove(model.size() - 1);
                    if (k < model.size()) {
                        model.set(k, last);
                    }
                }
                if (!model.isEmpty() && random.nextInt(3) == 0) {
                    Context c = model.get(random.nextInt(model.size()));
                    if (c.isRunnable()) {
                        park(c);
                    } else {
                        wake(c);
                    }
                }
            }
            assertEntries(model);
            for (int q = 0; q < 3_000; q++) {
                int start = random.nextInt(model.size() + 1) - 1;
                int count = random.nextInt(model.size() + 1);
                assertThat(list.previousRunnable(start, count)).as("previousRunnable(%d, %d)", start, count)
                        .isSameAs(scan(start, count));
            }
        }
    }
}
