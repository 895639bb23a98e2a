package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesMXBean;
import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The JMX view shows live scheduler threads only: a thread that ended, the coroutines it left unfinished
 * included, has no row, is not in the dump and counts no coroutine, and the view's reads keep nothing of it;
 * nor do the threads of a pool closed; and rows read from another thread while coroutines run keep the
 * view's promises, however the thread moves meanwhile.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class JmxViewOfEndedThreadsTest {

    @Test
    @Timeout(30)
    void aThreadThatEndedWithCoroutinesLeftHasNoRowNoSectionOfTheDumpAndCountsNone() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        List<WeakReference<Object>> left = new ArrayList<>();
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread leaver = Thread.ofPlatform().name("leaver").start(() -> {
            for (int k = 0; k < 3; k++) {
                Coroutine c = Coroutine.create("left-" + k, () -> new Channel<Integer>("never", 0).receive());
                c.switchTo(); // parked: the thread ends with it unfinished
                left.add(new WeakReference<>(c));
            }
            left.add(new WeakReference<>(Scheduler.current()));
            made.countDown();
            Maker.blockOn(end);
        });
        made.await();
        assertThat(rowsOf(view, leaver)).singleElement()
                .satisfies(r -> assertThat(List.of(r.contexts(), r.parked(), r.oldestParked()))
                        .containsExactly(4, 3, "coroutine 'left-0'"));
        int counted = view.getCoroutineCount();
        end.countDown();
        leaver.join();
        assertThat(rowsOf(view, leaver)).isEmpty();
        assertThat(view.getCoroutineCount()).as("the three coroutines it left are no longer counted")
                .isLessThanOrEqualTo(counted - 3);
        assertThat(view.dump(10)).doesNotContain("thread 'leaver'");
        assertThat(Collected.all(left)).as("the view's reads keep nothing of the ended thread").isTrue();
    }

    @Test
    @Timeout(30)
    void theThreadsOfAPoolClosedHaveNoRowsOnceTheyHaveEnded() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        CoroutinePool pool = CoroutinePool.start("viewed", 2);
        List<Thread> threads = new ArrayList<>();
        try {
            CompletableFuture<Void> gate = new CompletableFuture<>();
            List<CompletableFuture<Thread>> runs = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                runs.add(pool.submit(() -> {
                    Coroutine.await(gate);
                    return Thread.currentThread();
                }));
            }
            assertThat(view.getSchedulers()).extracting(SchedulerInfo::threadName).contains("viewed-0", "viewed-1");
            gate.complete(null);
            for (CompletableFuture<Thread> r : runs) {
                threads.add(Coroutine.await(r));
            }
        } finally {
            PoolsClosed.close(pool);
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(view.getSchedulers()).extracting(SchedulerInfo::threadName).doesNotContain("viewed-0", "viewed-1");
        assertThat(view.dump(10)).doesNotContain("thread 'viewed-");
    }

    /**
     * Rows read from another thread while a thread's coroutines switch, park, end and are created keep what
     * the view promises of each, though the counts are of a moment near the read: the oldest parked context,
     * its wait and how long it has waited are all there or all absent, the time never negative; no count is
     * negative, and main is always counted.
     */
    @Test
    @Timeout(60)
    void rowsReadWhileTheThreadRunsKeepThePromisesOfTheView() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        Thread busy = Thread.ofPlatform().name("busy").start(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            started.countDown();
            while (!stop.get()) {
                Coroutine sender = Coroutine.create("sender", () -> {
                    for (int i = 0; i < 20; i++) {
                        ch.send(i);
                    }
                });
                Coroutine receiver = Coroutine.create("receiver", () -> {
                    for (int i = 0; i < 20; i++) {
                        ch.receive();
                    }
                });
                Generator<Integer> g = Generator.of("g", out -> {
                    for (int i = 0; i < 5; i++) {
                        out.emit(i);
                        Coroutine.yield();
                    }
                });
                Coroutine consumer = Coroutine.create("consumer", () -> g.forEach(v -> { }));
                while (!sender.isFinished() || !receiver.isFinished() || !consumer.isFinished()) {
                    Coroutine.yield();
                }
            }
        });
        started.await();
        List<String> broken = new ArrayList<>();
        try {
            for (int read = 0; read < 3000 && broken.isEmpty(); read++) {
                for (SchedulerInfo r : rowsOf(view, busy)) {
                    boolean none = r.oldestParked().isEmpty();
                    if (none != r.oldestParkedWaits().isEmpty() || none != (r.oldestParkedMillis() == -1)
                            || r.oldestParkedMillis() < -1 || r.contexts() < 1 || r.created() < 0 || r.running() < 0
                            || r.suspended() < 0 || r.parked() < 0 || r.timers() < 0 || r.ioWaits() < 0
                            || r.schedulingPoints() < 0) {
                        broken.add(r.toString());
                    }
                }
                if (view.getCoroutineCount() < 0) {
                    broken.add("CoroutineCount " + view.getCoroutineCount());
                }
            }
        } finally {
            stop.set(true);
            busy.join();
        }
        assertThat(broken).isEmpty();
    }

    /** The rows of {@code t}: one while it lives, none once it has ended. */
    private static List<SchedulerInfo> rowsOf(CoroutinesMXBean view, Thread t) {
        return view.getSchedulers().stream().filter(r -> r.threadId() == t.threadId()).toList();
    }
}
