package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Awaits and selects of one thread on futures that platform threads, virtual threads and a pool
 * thread complete at random moments, cut short at random by timeouts and closes: the waiting thread's
 * idle spin takes completions in before their posts arrive, a coroutine's next wait begins while the
 * post of its last one is in flight, and a future's waits leave its queue while its completion is on
 * its way. Every wait ends exactly once, with its future's outcome, its timeout or its close; no
 * await returns before its future is complete (a wake-up meant for another wait would make it); and
 * once every post has come, no completed future keeps a callback or a queued wait, a future that
 * never completes keeps exactly one callback, and nothing is pending. Randomness is seeded; the sizes
 * are {@code -DawaitRace.rounds} (default 300).
 */
@Tag("stress")
@ExtendWith(FreshThread.class)
class AwaitRaceStressTest {

    private static final int ROUNDS = Integer.getInteger("awaitRace.rounds", 300);
    private static final int COROUTINES = 10;
    private static final int FUTURES = 3;
    /** A guard against a hang, not a performance threshold. */
    private static final Duration GUARD = Duration.ofSeconds(120);

    /** A future whose {@code join()}, which an await calls once woken, fails if it is not complete: a wake-up that was not its own. */
    static final class Checked<T> extends CompletableFuture<T> {
        private final String name;

        Checked(String name) {
            this.name = name;
        }

        @Override
        public T join() {
            if (!isDone()) {
                throw new AssertionError("an await of " + name + " returned before it completed");
            }
            return super.join();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** How the waits of a run ended. */
    private static final class Outcomes {
        int values;
        int failures;
        int timeouts;
        int closes;
        int selects;

        int total() {
            return values + failures + timeouts + closes + selects;
        }

        /** Adds the counts of {@code o}. */
        void add(Outcomes o) {
            values += o.values;
            failures += o.failures;
            timeouts += o.timeouts;
            closes += o.closes;
            selects += o.selects;
        }
    }

    /** The threads that complete the futures: two platform threads, virtual threads, one pool thread. */
    private static final class Completers implements AutoCloseable {
        final ExecutorService platform = Executors.newFixedThreadPool(2, Thread.ofPlatform().name("completer-", 0).factory());
        final ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor();
        final CoroutinePool pool = CoroutinePool.start(1);

        /** Runs {@code task} on a thread of kind {@code kind} (0 platform, 1 virtual, 2 the pool's). */
        void run(int kind, Runnable task) {
            switch (kind) {
                case 0 -> platform.execute(task);
                case 1 -> virtual.execute(task);
                default -> pool.execute(task);
            }
        }

        @Override
        public void close() throws InterruptedException {
            platform.shutdown();
            virtual.shutdown();
            pool.close();
            assertThat(platform.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
            assertThat(virtual.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
        }
    }

    /** Spins {@code n} times: a completion's random moment, with no sleep. */
    private static void spin(int n) {
        for (int i = 0; i < n; i++) {
            Thread.onSpinWait();
        }
    }

    /**
     * Each round: ten coroutines each make one to three waits, awaits (in every other round half of
     * them under a {@code withTimeout} of 1 µs to 1 ms) and selects over two futures (and then a
     * timeout), on three futures that other threads complete (some exceptionally, some holding the
     * post back by a slow newer callback) after a random spin, and in those rounds on one future that
     * never completes; a closer closes one of them at a random moment. Main waits for the round's end
     * on a channel, so the last coroutine to park is the one the idle spin watches.
     */
    @Test
    void awaitsAndSelectsOnFuturesOtherThreadsCompleteEndExactlyOnceAndLeaveNothingBehind() throws Exception {
        EventLoop loop = Scheduler.current().loop;
        FutureWaits waits = loop.futureWaits();
        Checked<Integer> never = new Checked<>("never");
        SplittableRandom random = new SplittableRandom(42);
        Outcomes outcomes = new Outcomes();
        int waitsPlanned = 0;
        AtomicInteger finished = new AtomicInteger(); // completions whose threads are done with them
        StressFigures figures = StressFigures.start();
        try (Completers completers = new Completers()) {
            for (int round = 0; round < ROUNDS; round++) {
                List<Checked<Integer>> fs = new ArrayList<>();
                for (int i = 0; i < FUTURES; i++) {
                    fs.add(new Checked<>("f" + round + "." + i));
                }
                List<Checked<Integer>> targets = new ArrayList<>(fs);
                targets.add(never);
                int r = round;
                // every other round is calm: no timeouts, never left alone, and each coroutine waits on the
                // futures in turn, so that all wait on the one that completes next and wake together
                boolean calm = round % 2 == 1;
                // the completions start when the first coroutine, the last to run, begins: all the others
                // wait by then, and it parks last, so the idle spin watches its wait
                List<Runnable> starts = new ArrayList<>();
                List<CompletableFuture<Void>> completed = new ArrayList<>();
                for (int i = 0; i < FUTURES; i++) {
                    Checked<Integer> f = fs.get(i);
                    int value = value(round, i);
                    boolean fails = random.nextInt(5) == 0;
                    int jitter = (calm ? i * 1_000 : 0) + random.nextInt(1_000);
                    int slow = random.nextBoolean() ? random.nextInt(50_000) : -1;
                    CompletableFuture<Void> done = new CompletableFuture<>();
                    completed.add(done);
                    int kind = random.nextInt(3);
                    starts.add(() -> completers.run(kind, () -> {
                        spin(jitter);
                        if (slow >= 0) { // a callback newer than the waiting thread's runs first: its post comes later
                            f.whenComplete((v, t) -> spin(slow));
                        }
                        if (fails) {
                            f.completeExceptionally(new IOException(String.valueOf(value)));
                        } else {
                            f.complete(value);
                        }
                        done.complete(null); // after f's callbacks: this thread's post for f is in its inbox
                        finished.incrementAndGet(); // and done's too: an await of done may return before it comes
                    }));
                }
                Channel<Boolean> roundDone = new Channel<>("round " + round + " done", 1); // main's wait: not on a future
                int[] ended = new int[1];
                List<Coroutine> coroutines = new ArrayList<>();
                int[] planned = new int[COROUTINES];
                int[] waited = new int[COROUTINES]; // the waits each coroutine ended, one outcome each
                for (int c = 0; c < COROUTINES; c++) {
                    SplittableRandom own = random.split();
                    int ops = calm ? FUTURES : 1 + own.nextInt(3);
                    planned[c] = ops;
                    boolean starter = c == 0;
                    int self = c;
                    coroutines.add(Coroutine.create("waiter-" + round + "." + c, () -> {
                        Outcomes mine = new Outcomes();
                        try {
                            if (starter) {
                                starts.forEach(Runnable::run);
                            }
                            for (int op = 0; op < ops; op++) {
                                try {
                                    waitOnce(own, targets, r, calm ? op : -1, mine);
                                } finally {
                                    waited[self]++;
                                    assertThat(mine.total()).as("outcomes of its waits").isEqualTo(waited[self]);
                                }
                            }
                        } finally {
                            outcomes.add(mine);
                            if (++ended[0] == COROUTINES) {
                                roundDone.trySend(true);
                            }
                        }
                    }));
                }
                if (random.nextInt(3) != 0) {
                    Coroutine victim = coroutines.get(1 + random.nextInt(COROUTINES - 1)); // not the starter
                    int yields = random.nextInt(6);
                    Coroutine.create("closer", () -> {
                        for (int k = 0; k < yields; k++) {
                            Coroutine.yield();
                        }
                        boolean unstarted = victim.state() == Coroutine.State.NEW;
                        victim.close();
                        if (unstarted && ++ended[0] == COROUTINES) { // closed before its body began: no finally ran
                            roundDone.trySend(true);
                        }
                    });
                }
                withGuard(() -> {
                    roundDone.receive();
                    for (CompletableFuture<Void> done : completed) {
                        Coroutine.await(done);
                    }
                });
                settle(finished, (round + 1) * FUTURES);
                for (Checked<Integer> f : fs) {
                    assertThat(f.getNumberOfDependents()).as("callbacks left on " + f).isZero();
                    assertThat(waits.hasWaits(f)).isFalse();
                }
                assertThat(waits.hasWaits(never)).as("waits left on never, round " + round).isFalse();
                assertThat(never.getNumberOfDependents()).as("callbacks on never, round " + round).isLessThanOrEqualTo(1);
                assertThat(waits.watchedCount()).as("futures with a callback (never only), round " + round)
                        .isEqualTo(never.getNumberOfDependents());
                assertThat(loop.hasPending()).as("anything pending, round " + round).isFalse();
                for (int c = 0; c < COROUTINES; c++) {
                    Coroutine co = coroutines.get(c);
                    if (co.state() == Coroutine.State.CLOSED) { // its wait then ended by the close, the rest never began
                        assertThat(waited[c]).as(co + ": waits ended").isBetween(0, planned[c]);
                    } else {
                        assertThat(co.state()).isEqualTo(Coroutine.State.FINISHED);
                        assertThat(waited[c]).as(co + ": waits ended").isEqualTo(planned[c]);
                    }
                    waitsPlanned += planned[c];
                }
            }
        }
        assertThat(never.getNumberOfDependents()).as("callbacks on never, awaited in some round").isEqualTo(1);
        assertThat(outcomes.values).as("awaits that returned a value").isPositive();
        assertThat(outcomes.timeouts).as("awaits that timed out").isPositive();
        figures.print(String.format("await race: %d rounds, %d waits planned: %d values, %d failures, %d timeouts,"
                        + " %d selects, %d closed (engine %s)", ROUNDS, waitsPlanned, outcomes.values, outcomes.failures,
                outcomes.timeouts, outcomes.selects, outcomes.closes, Engines.running()));
    }

    /**
     * Once the threads that complete futures have finished {@code expected} completions (each one's
     * posts are in this thread's inbox then, an await of it having returned maybe before its post came:
     * the spin took it in), takes the posts in.
     */
    private static void settle(AtomicInteger finished, int expected) {
        while (finished.get() < expected) { // a completing thread between its last post and its count: no wait
            Thread.onSpinWait();
        }
        Coroutine.yield();
    }

    /** Runs {@code body} under the guard against a hang; if it expires, fails with what each context waits for. */
    private static void withGuard(Runnable body) {
        try {
            Coroutine.withTimeout(GUARD, body);
        } catch (CoroutineTimeoutException e) {
            throw new AssertionError("a wait never ended:\n" + Coroutine.dump(), e);
        }
    }

    /** The value of future {@code i} of round {@code round}. */
    private static int value(int round, int i) {
        return round * FUTURES + i;
    }

    /** What future {@code f}, one of round {@code round}'s, must give: its value, or its failure's. */
    private static void checkOutcome(Checked<Integer> f, List<Checked<Integer>> targets, int round, int got) {
        assertThat(got).as("the value of " + f).isEqualTo(value(round, targets.indexOf(f)));
    }

    /**
     * One wait by the calling coroutine, picked by {@code random}: an await of one of {@code targets}
     * (the last never completes, and is always awaited under a timeout), or a select over two of them
     * and a timeout; its outcome is counted and checked. A calm wait (a {@code calmTurn} of 0 or more)
     * is on target {@code calmTurn} (and a select also on another), never on the last, with no timeout.
     */
    private static void waitOnce(SplittableRandom random, List<Checked<Integer>> targets, int round, int calmTurn,
                                 Outcomes outcomes) {
        boolean calm = calmTurn >= 0;
        int choices = calm ? targets.size() - 1 : targets.size();
        Checked<Integer> f = calm ? targets.get(calmTurn) : targets.get(random.nextInt(choices));
        Checked<Integer> g = targets.get(random.nextInt(choices));
        Duration d = Duration.ofNanos(1_000 + random.nextInt(random.nextBoolean() ? 50_000 : 1_000_000));
        boolean timed = !calm && (f == targets.getLast() || random.nextBoolean());
        boolean select = random.nextInt(4) == 0;
        try {
            if (select) {
                Select<String> s = new Select<String>().onComplete(f, v -> "f " + v).onComplete(g, v -> "g " + v);
                String r = (calm ? s : s.onTimeout(d, () -> "timeout")).select();
                if (r.startsWith("f ")) {
                    checkOutcome(f, targets, round, Integer.parseInt(r.substring(2)));
                } else if (r.startsWith("g ")) {
                    checkOutcome(g, targets, round, Integer.parseInt(r.substring(2)));
                } else {
                    assertThat(r).isEqualTo("timeout");
                }
                outcomes.selects++;
                return;
            }
            int v = timed ? Coroutine.withTimeout(d, () -> Coroutine.await(f)) : Coroutine.await(f);
            checkOutcome(f, targets, round, v);
            outcomes.values++;
        } catch (CoroutineTimeoutException e) {
            assertThat(select).isFalse();
            outcomes.timeouts++;
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(IOException.class);
            List<String> failed = new ArrayList<>();
            for (Checked<Integer> h : select ? List.of(f, g) : List.of(f)) {
                if (h.isCompletedExceptionally()) {
                    failed.add(String.valueOf(value(round, targets.indexOf(h))));
                }
            }
            assertThat(e.getCause().getMessage()).as("the failure of the future waited for").isIn(failed);
            outcomes.failures++;
        } catch (CoroutineExit e) {
            outcomes.closes++;
            throw e;
        }
    }

    /**
     * Two platform threads complete two futures at once (each after a random spin, released together)
     * while main selects over both and a timeout of 0 to 50 µs, and half the time a coroutine awaits
     * the first future too, parking last: exactly one clause fires, with its future's value, the
     * coroutine gets its value, and once both posts have come neither future keeps a callback.
     */
    @Test
    void aSelectOverTwoFuturesThatTwoThreadsCompleteAtOnceFiresExactlyOneClause() throws Exception {
        selectRounds(false);
    }

    /**
     * The same with the second future one that never completes: each select's clause on it leaves its
     * queue, and it keeps exactly one callback, whichever of the two futures took the slot apart.
     */
    @Test
    void aSelectOverAFutureAnotherThreadCompletesAndOneThatNeverCompletesLeavesOneCallbackOnTheLatter() throws Exception {
        selectRounds(true);
    }

    /** The rounds of the select tests: the second future one that never completes if {@code secondNever}. */
    private static void selectRounds(boolean secondNever) throws Exception {
        EventLoop loop = Scheduler.current().loop;
        FutureWaits waits = loop.futureWaits();
        Checked<Integer> never = new Checked<>("never");
        SplittableRandom random = new SplittableRandom(secondNever ? 2 : 1);
        int rounds = ROUNDS * 10;
        int sides = secondNever ? 1 : 2;
        AtomicInteger finished = new AtomicInteger(); // completions whose threads are done with them
        List<BlockingQueue<Round>> queues = new ArrayList<>();
        CyclicBarrier together = new CyclicBarrier(sides);
        List<Thread> threads = new ArrayList<>();
        for (int k = 0; k < sides; k++) {
            int side = k;
            BlockingQueue<Round> queue = new LinkedBlockingQueue<>();
            queues.add(queue);
            threads.add(Thread.ofPlatform().name("completer-" + k).start(() -> {
                SplittableRandom own = new SplittableRandom(10 + side);
                try {
                    for (Round rd; (rd = queue.take()).number >= 0; ) {
                        together.await(); // both threads go at once
                        spin(own.nextInt(2_000));
                        Checked<Integer> f = side == 0 ? rd.a : rd.b;
                        if (own.nextBoolean()) { // a callback newer than the waiting thread's runs first: its post comes later
                            int slow = own.nextInt(20_000);
                            f.whenComplete((v, t) -> spin(slow));
                        }
                        f.complete(rd.number * 2 + side);
                        (side == 0 ? rd.aDone : rd.bDone).complete(null);
                        finished.incrementAndGet();
                    }
                } catch (InterruptedException | BrokenBarrierException e) {
                    throw new AssertionError(e);
                }
            }));
        }
        int[] fired = new int[3];
        try {
            for (int n = 0; n < rounds; n++) {
                Round rd = new Round(n, secondNever ? never : new Checked<>("b" + n));
                boolean bFirst = random.nextBoolean(); // which clause comes first, and so whose future may take the slot apart
                Duration d = Duration.ofNanos(random.nextInt(50_000));
                Select<String> select = new Select<>();
                Consumer<Checked<Integer>> clause = f -> select.onComplete(f, v -> (f == rd.a ? "a " : "b ") + v);
                clause.accept(bFirst ? rd.b : rd.a);
                clause.accept(bFirst ? rd.a : rd.b);
                select.onTimeout(d, () -> "timeout");
                // half the time a coroutine parks on a after main's select: its idle spin watches a, and
                // a completion it takes in early wakes main's clause too
                int[] alsoGot = {-1};
                Coroutine also = random.nextBoolean() ? Coroutine.create("also", () -> alsoGot[0] = Coroutine.await(rd.a)) : null;
                for (BlockingQueue<Round> q : queues) {
                    q.add(rd);
                }
                String[] fired1 = new String[1];
                withGuard(() -> fired1[0] = select.select());
                String r = fired1[0];
                if (r.equals("timeout")) {
                    fired[2]++;
                } else {
                    int side = r.startsWith("a ") ? 0 : 1;
                    assertThat(Integer.parseInt(r.substring(2))).isEqualTo(n * 2 + side);
                    fired[side]++;
                }
                withGuard(() -> {
                    Coroutine.await(rd.aDone);
                    if (!secondNever) {
                        Coroutine.await(rd.bDone);
                    }
                });
                settle(finished, (n + 1) * sides);
                for (int k = 0; also != null && !also.isFinished(); k++) {
                    assertThat(k).as("yields until the coroutine on a, woken, ends").isLessThan(3);
                    Coroutine.yield();
                }
                assertThat(alsoGot[0]).isEqualTo(also == null ? -1 : n * 2);
                assertThat(rd.a.getNumberOfDependents()).isZero();
                assertThat(waits.hasWaits(rd.b)).isFalse();
                if (secondNever) { // none until a select first waits on it
                    assertThat(never.getNumberOfDependents()).as("callbacks on never, round " + n).isLessThanOrEqualTo(1);
                    assertThat(waits.watchedCount()).as("futures with a callback (never only), round " + n)
                            .isEqualTo(never.getNumberOfDependents());
                } else {
                    assertThat(rd.b.getNumberOfDependents()).isZero();
                    assertThat(waits.watchedCount()).as("futures with a callback, round " + n).isZero();
                }
                assertThat(loop.hasPending()).as("anything pending, round " + n).isFalse();
            }
        } finally {
            for (BlockingQueue<Round> q : queues) {
                q.add(new Round(-1, never));
            }
            for (Thread t : threads) {
                Peer.join(t);
            }
        }
        assertThat(fired[0] + fired[1] + fired[2]).isEqualTo(rounds);
        if (secondNever) {
            assertThat(never.getNumberOfDependents()).as("callbacks on never, waited on in some round").isEqualTo(1);
        }
        System.out.printf("[await race, select%s] %d rounds: a fired %d, b %d, the timeout %d (engine %s)%n",
                secondNever ? ", never" : "", rounds, fired[0], fired[1], fired[2], Engines.running());
    }

    /** One round of {@link #selectRounds}: its futures, and what says that their threads are done with them. */
    private static final class Round {
        final int number;
        final Checked<Integer> a;
        final Checked<Integer> b;
        final CompletableFuture<Void> aDone = new CompletableFuture<>();
        final CompletableFuture<Void> bDone = new CompletableFuture<>();

        Round(int number, Checked<Integer> b) {
            this.number = number;
            this.a = new Checked<>("a" + number);
            this.b = b;
        }
    }
}
