package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The observers that any thread may call (toString, name, isClosed, size, capacity, availablePermits,
 * threads) read from another thread while the owner churns, from a thread that has no scheduler, and on
 * objects of ended threads: never a throw, never a value outside its documented range, never a side effect.
 */
@ExtendWith(FreshThread.class)
class ObserversAcrossThreadsTest {

    /** How many rounds each churning owner makes; bounded so that a test ends in any case. */
    private static final int ROUNDS = 20_000;

    private static final Pattern COROUTINE_TEXT =
            Pattern.compile("Coroutine\\[churner, (NEW|RUNNING|SUSPENDED|PARKED|FINISHED)\\]");
    private static final Pattern GENERATOR_TEXT =
            Pattern.compile("Generator\\[squares, (NEW|RUNNING|SUSPENDED|FINISHED)\\]");
    private static final Pattern CHANNEL_TEXT =
            Pattern.compile("Channel\\[jobs, capacity 3, [0-3] buffered, (open|closed)\\]");
    private static final Pattern SEMAPHORE_TEXT =
            Pattern.compile("Semaphore\\[db, [0-2] of 2 permits free\\]");

    /**
     * Starts a thread, which has no scheduler, reading {@code read} until {@code done} (at most
     * {@code ROUNDS * 10} times), and waits for its first read; {@code read} returns null, or the text of
     * what it saw wrong, which goes to {@code wrong} (as does a throw, and the reader being given a scheduler).
     */
    private static Thread observe(AtomicBoolean done, List<String> wrong, Supplier<String> read) throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        Thread t = Thread.ofPlatform().name("observer").start(() -> {
            try {
                for (int i = 0; i < ROUNDS * 10 && !done.get(); i++) {
                    String problem = read.get();
                    started.countDown();
                    if (problem != null && wrong.size() < 5) {
                        wrong.add(problem);
                    }
                }
                if (Scheduler.currentOrNull() != null) {
                    wrong.add("the observer thread was given a scheduler");
                }
            } catch (Throwable e) {
                wrong.add("threw " + e);
            } finally {
                started.countDown();
            }
        });
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        return t;
    }

    @Test
    void aCoroutineReadFromAnotherThreadWhileItsOwnerChurnsAlwaysShowsItsNameAndAStateOfTheTable() throws Exception {
        Channel<Integer> ch = new Channel<>("ticks", 0);
        Coroutine churner = Coroutine.create("churner", () -> {
            for (int i = 0; i < ROUNDS; i++) {
                if ((i & 1) == 0) {
                    Coroutine.yield();
                } else {
                    ch.receive();
                }
            }
        });
        AtomicBoolean done = new AtomicBoolean();
        List<String> wrong = new CopyOnWriteArrayList<>();
        Thread reader = observe(done, wrong, () -> {
            String s = churner.toString();
            return COROUTINE_TEXT.matcher(s).matches() && churner.name().equals("churner") ? null : s;
        });
        int sent = 0;
        while (!churner.isFinished()) {
            if (churner.state() == Coroutine.State.PARKED) {
                ch.send(sent++);
            } else {
                Coroutine.yield();
            }
        }
        done.set(true);
        reader.join();
        assertThat(wrong).isEmpty();
        assertThat(sent).isEqualTo(ROUNDS / 2);
        assertThat(churner.toString()).isEqualTo("Coroutine[churner, FINISHED]");
    }

    @Test
    void aChannelReadFromAnotherThreadWhileItsOwnerChurnsShowsACountWithinItsCapacityAndClosesOnce() throws Exception {
        Channel<Integer> jobs = new Channel<>("jobs", 3);
        long[] received = new long[1];
        Coroutine.create("consumer", () -> {
            for (Integer v : jobs) {
                received[0] += v;
            }
        });
        AtomicBoolean done = new AtomicBoolean();
        AtomicBoolean sawClosed = new AtomicBoolean();
        List<String> wrong = new CopyOnWriteArrayList<>();
        Thread reader = observe(done, wrong, () -> {
            boolean closedBefore = sawClosed.get();
            int size = jobs.size();
            boolean closed = jobs.isClosed();
            String s = jobs.toString();
            if (closed) {
                sawClosed.set(true);
            }
            return size >= 0 && size <= 3 && jobs.capacity() == 3 && jobs.name().equals("jobs") && (!closedBefore || closed)
                    && CHANNEL_TEXT.matcher(s).matches() ? null : size + " " + closed + " " + s;
        });
        long sent = 0;
        for (int i = 0; i < ROUNDS; i++) {
            jobs.send(i);
            sent += i;
            if (i % 7 == 0) {
                Coroutine.yield();
            }
        }
        jobs.close();
        Coroutine.yield();
        done.set(true);
        reader.join();
        assertThat(wrong).isEmpty();
        assertThat(received[0]).isEqualTo(sent);
        assertThat(jobs.toString()).isEqualTo("Channel[jobs, capacity 3, 0 buffered, closed]");
    }

    @Test
    void aSemaphoreReadFromAnotherThreadWhileItsOwnersCoroutinesTakeTurnsShowsItsFreePermitsWithinItsCount() throws Exception {
        Semaphore db = new Semaphore("db", 2);
        int[] held = new int[1];
        int[] most = new int[1];
        List<Coroutine> users = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            users.add(Coroutine.create("user-" + c, () -> {
                for (int i = 0; i < ROUNDS / 3; i++) {
                    db.withPermit(() -> {
                        most[0] = Math.max(most[0], ++held[0]);
                        Coroutine.yield();
                        held[0]--;
                    });
                }
            }));
        }
        AtomicBoolean done = new AtomicBoolean();
        List<String> wrong = new CopyOnWriteArrayList<>();
        Thread reader = observe(done, wrong, () -> {
            int free = db.availablePermits();
            String s = db.toString();
            return free >= 0 && free <= 2 && db.name().equals("db") && SEMAPHORE_TEXT.matcher(s).matches() ? null : free + " " + s;
        });
        for (Coroutine user : users) {
            user.join();
        }
        done.set(true);
        reader.join();
        assertThat(wrong).isEmpty();
        assertThat(most[0]).isEqualTo(2);
        assertThat(db.toString()).isEqualTo("Semaphore[db, 2 of 2 permits free]");
    }

    @Test
    void aGeneratorReadFromAnotherThreadWhileItsConsumerDrivesItShowsAStateOfTheTableAndItselfRunningInsideItsBody() throws Exception {
        List<String> inside = new ArrayList<>();
        Generator<?>[] self = new Generator<?>[1];
        Generator<Long> squares = Generator.of("squares", out -> {
            inside.add(self[0].toString() + " " + self[0].state());
            for (long i = 0; i < ROUNDS; i++) {
                out.emit(i * i);
            }
        });
        self[0] = squares;
        AtomicBoolean done = new AtomicBoolean();
        List<String> wrong = new CopyOnWriteArrayList<>();
        Thread reader = observe(done, wrong, () -> {
            String s = squares.toString();
            return GENERATOR_TEXT.matcher(s).matches() && squares.name().equals("squares") ? null : s;
        });
        long sum = 0;
        long count = 0;
        while (squares.hasNext()) {
            sum += squares.next();
            count++;
        }
        done.set(true);
        reader.join();
        assertThat(wrong).isEmpty();
        assertThat(count).isEqualTo(ROUNDS);
        assertThat(inside).containsExactly("Generator[squares, RUNNING] RUNNING");
        assertThat(squares.toString()).isEqualTo("Generator[squares, FINISHED]");
    }

    @Test
    void aSelectReadFromAnotherThreadWhileItsRunsWaitAndFireShowsItsClausesAndATimeoutThatIsLeftOrDue() throws Exception {
        Channel<Integer> replies = new Channel<>("replies", 0);
        Select<Integer> select = new Select<Integer>()
                .onReceive(replies, v -> v)
                .onTimeout(Duration.ofHours(1), () -> -1);
        Pattern text = Pattern.compile(
                "Select\\[receive from channel 'replies', timeout PT1H( \\(([0-9,]+\\.[0-9]{3} ms left|due)\\))?\\]");
        long[] got = new long[1];
        int runs = ROUNDS / 10;
        Coroutine selector = Coroutine.create("selector", () -> {
            for (int i = 0; i < runs; i++) {
                got[0] += select.select();
            }
        });
        AtomicBoolean done = new AtomicBoolean();
        List<String> wrong = new CopyOnWriteArrayList<>();
        Thread reader = observe(done, wrong, () -> {
            String s = select.toString();
            return text.matcher(s).matches() ? null : s;
        });
        long sent = 0;
        for (int i = 0; i < runs; i++) {
            replies.send(i);
            sent += i;
        }
        selector.join();
        done.set(true);
        reader.join();
        assertThat(wrong).isEmpty();
        assertThat(got[0]).isEqualTo(sent);
        assertThat(select.toString()).isEqualTo("Select[receive from channel 'replies', timeout PT1H]");
    }

    @Test
    void theOwnersObserversRefusedToAnotherThreadNameItAndLeaveItWithoutAScheduler() throws Exception {
        Coroutine co = Coroutine.create("co", Coroutine::yield);
        Generator<Integer> gen = Generator.of("gen", out -> out.emit(1));
        List<String> seen = new ArrayList<>();
        Throwable thrown = OtherThread.thrownOn("other", () -> {
            for (Runnable read : List.<Runnable>of(co::state, co::isFinished, gen::state)) {
                try {
                    read.run();
                    seen.add("answered");
                } catch (IllegalStateException e) {
                    seen.add(e.getMessage().replaceAll("\\(#[0-9]+\\)", "(#N)"));
                }
            }
            seen.add(co + " " + gen + " " + (Scheduler.currentOrNull() == null ? "no scheduler" : "a scheduler"));
        });
        String me = Thread.currentThread().getName();
        assertThat(thrown).isNull();
        assertThat(seen).containsExactly(
                "thread 'other' (#N) cannot read the state of coroutine 'co' (NEW): it belongs to thread '" + me + "' (#N)",
                "thread 'other' (#N) cannot ask isFinished() of coroutine 'co' (NEW): it belongs to thread '" + me + "' (#N)",
                "thread 'other' (#N) cannot read the state of generator 'gen' (NEW): it belongs to thread '" + me + "' (#N)",
                "Coroutine[co, NEW] Generator[gen, NEW] no scheduler");
    }

    @Test
    void theObjectsOfAThreadThatHasEndedShowWhatItLeftThemWith() throws Exception {
        Object[] left = new Object[7];
        Throwable thrown = OtherThread.thrownOn("owner", () -> {
            Channel<Integer> ch = new Channel<>("left", 3);
            ch.send(1);
            ch.send(2);
            Semaphore sem = new Semaphore("sem", 3);
            sem.acquire();
            Coroutine suspended = Coroutine.create("suspended", () -> {
                Coroutine.yield();
                Coroutine.yield();
            });
            Coroutine sender = Coroutine.create("sender", () -> ch.send(3));
            Generator<Integer> gen = Generator.of("gen", out -> {
                out.emit(1);
                out.emit(2);
            });
            gen.next();
            Coroutine.yield();
            ch.close();
            left[0] = ch;
            left[1] = sem;
            left[2] = suspended;
            left[3] = sender;
            left[4] = gen;
            left[5] = Generator.of("unstarted", out -> out.emit(1));
            left[6] = Coroutine.current();
        });
        assertThat(thrown).isNull();
        List<String> texts = new ArrayList<>();
        for (Object o : left) {
            texts.add(o.toString());
        }
        assertThat(texts).containsExactly("Channel[left, capacity 3, 3 buffered, closed]", "Semaphore[sem, 2 of 3 permits free]",
                "Coroutine[suspended, SUSPENDED]", "Coroutine[sender, FINISHED]", "Generator[gen, SUSPENDED]",
                "Generator[unstarted, NEW]", "Coroutine[main, RUNNING]");
        Channel<?> ch = (Channel<?>) left[0];
        assertThat(ch.size()).isEqualTo(3);
        assertThat(ch.isClosed()).isTrue();
        assertThat(((Semaphore) left[1]).availablePermits()).isEqualTo(2);
    }

    /** What {@link Initialized} reads; set before that class is first used. */
    private static Object[] seenByInitializer;

    /** Reads its objects' texts, and the state of the context that initializes it, as it is initialized. */
    static final class Initialized {
        static final Object[] seen = seenByInitializer;
        static final String TEXT;

        static {
            TEXT = seen[0] + " " + seen[1] + " " + seen[2] + " " + Coroutine.current() + " " + Coroutine.current().state()
                    + " " + ((Channel<?>) seen[1]).size();
        }
    }

    @Test
    void aClassInitializerAndTheFinallyOfAClosedCoroutineReadTheObserversAsAnyCodeDoes() {
        Channel<Integer> ch = new Channel<>("ch", 2);
        ch.send(7);
        Generator<Integer> gen = Generator.of("gen", out -> out.emit(1));
        Coroutine waiting = Coroutine.create("waiting", Coroutine::yield);
        seenByInitializer = new Object[] {waiting, ch, gen};
        List<String> log = new ArrayList<>();
        Coroutine initializer = Coroutine.create("initializer", () -> log.add(Initialized.TEXT));
        initializer.join();
        Coroutine closed = Coroutine.create("closed", () -> {
            try {
                new Channel<Integer>("never", 0).receive();
            } finally {
                Coroutine self = Coroutine.current();
                log.add(self + " " + self.state() + " " + self.isFinished() + " " + ch);
            }
        });
        Coroutine.yield();
        closed.close();
        log.add(closed + " " + closed.isFinished());
        assertThat(log).containsExactly(
                "Coroutine[waiting, NEW] Channel[ch, capacity 2, 1 buffered, open] Generator[gen, NEW] Coroutine[initializer, RUNNING] RUNNING 1",
                "Coroutine[closed, RUNNING] RUNNING false Channel[ch, capacity 2, 1 buffered, open]",
                "Coroutine[closed, CLOSED] true");
    }

    @Test
    void aPoolReadFromItsOwnBodiesAndFromOutsideIsRunningThenClosed() {
        CoroutinePool pool = CoroutinePool.start(2);
        String name = pool.toString().substring("CoroutinePool[".length(), pool.toString().indexOf(','));
        List<String> inside = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inside.add(Coroutine.await(pool.submit(() -> pool + " " + pool.threads())));
        }
        pool.close();
        assertThat(inside).containsOnly("CoroutinePool[" + name + ", 2 threads, running] 2");
        assertThat(pool.toString()).isEqualTo("CoroutinePool[" + name + ", 2 threads, closed]");
        assertThat(pool.threads()).isEqualTo(2);
    }

    @Test
    void aChannelSharedWithAPoolThreadReadFromAThirdThreadShowsACountWithinItsCapacityAndLosesNothing() throws Exception {
        Channel<Integer> jobs = new Channel<>("jobs", 3);
        int n = ROUNDS / 4;
        AtomicBoolean done = new AtomicBoolean();
        List<String> wrong = new CopyOnWriteArrayList<>();
        long received = 0;
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            var sender = pool.submit(() -> {
                long sum = 0;
                for (int i = 0; i < n; i++) {
                    jobs.send(i);
                    sum += i;
                }
                return sum;
            });
            Thread reader = observe(done, wrong, () -> {
                int size = jobs.size();
                String s = jobs.toString();
                return size >= 0 && size <= 3 && CHANNEL_TEXT.matcher(s).matches() ? null : size + " " + s;
            });
            for (int i = 0; i < n; i++) {
                received += jobs.receive();
            }
            assertThat(Coroutine.await(sender)).isEqualTo(received);
            done.set(true);
            reader.join();
        }
        assertThat(wrong).isEmpty();
        assertThat(jobs.toString()).isEqualTo("Channel[jobs, capacity 3, 0 buffered, open]");
    }
}
