package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesManagement;
import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every kind of wait (a channel, a sleep, a select, an await, a join, a semaphore, I/O, a pool's close, a
 * wait inside a generator's body, a send to and a receive from another thread's channel, a select over a
 * completion and another thread's channel) is described alike by the thread's own dump and by the JMX view's
 * listing of the thread from outside (it is blocked, so it cannot answer): the same line for each context,
 * on both engines, whose texts are made there from another thread as the thread's own are.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class EveryKindOfWaitInTheDumpsTest {

    @Test
    @Timeout(60)
    void theThreadsOwnDumpAndTheListingFromOutsideDescribeEveryKindOfWaitAlike() throws Exception {
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch unstick = new CountDownLatch(1);
        CountDownLatch endMaker = new CountDownLatch(1);
        Maker<Integer> maker = Maker.start(() -> new Channel<>("far", 0), () -> Maker.blockOn(endMaker));
        Channel<Integer> far = maker.channel();
        String[] own = new String[1];
        int[] port = new int[1];
        Thread kinds = Thread.ofPlatform().name("kinds").start(() -> {
            try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
                 CoroutinePool pool = CoroutinePool.start("kinds-pool", 1)) {
                port[0] = ((InetSocketAddress) listener.localAddress()).getPort();
                Channel<Integer> jobs = new Channel<>("jobs", 0);
                Semaphore db = new Semaphore("db", 1);
                db.acquire();
                CompletableFuture<String> reply = new CompletableFuture<>() {
                    @Override
                    public String toString() {
                        return "the reply";
                    }
                };
                CompletableFuture<Void> gate = new CompletableFuture<>();
                pool.execute("gated", () -> Coroutine.await(gate));
                List<Coroutine> all = new ArrayList<>();
                Coroutine receiver = Coroutine.create("receiver", jobs::receive);
                all.add(receiver);
                all.add(Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1))));
                all.add(Coroutine.create("selector", () -> new Select<String>().onReceive(jobs, v -> "value")
                        .onTimeout(Duration.ofHours(2), () -> "timeout").select()));
                all.add(Coroutine.create("awaiter", () -> Coroutine.await(reply)));
                all.add(Coroutine.create("joiner", receiver::join));
                all.add(Coroutine.create("acquirer", db::acquire));
                all.add(Coroutine.create("acceptor", () -> {
                    try {
                        listener.accept().close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
                all.add(Coroutine.create("closer", pool::close));
                Generator<Integer> lines = Generator.of("lines", out -> out.emit(jobs.receive()));
                all.add(Coroutine.create("consumer", lines::next));
                all.add(Coroutine.create("far-receiver", far::receive));
                all.add(Coroutine.create("far-sender", () -> far.send(1)));
                all.add(Coroutine.create("far-selector", () -> new Select<String>().onComplete(reply, v -> v)
                        .onReceive(far, v -> "value").select()));
                Coroutine.yield(); // each parks in its wait
                own[0] = Coroutine.dump();
                ready.countDown();
                Maker.blockOn(unstick); // blocked outside coro: the view lists the thread from outside
                gate.complete(null);
                for (Coroutine c : all) {
                    c.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String dump;
        try {
            ready.await();
            dump = CoroutinesManagement.mxBean().dump(100);
        } finally {
            unstick.countDown();
            kinds.join();
            endMaker.countDown();
            maker.thread().join();
        }
        String of = " of thread " + Scheduler.describe(maker.thread());
        List<String> waits = List.of(
                "  [1] coroutine 'receiver': PARKED, waits to receive from channel 'jobs'",
                "  [2] coroutine 'sleeper': PARKED, waits to sleep 3,600,000.000 ms (_ ms left)",
                "  [3] coroutine 'selector': PARKED, waits to select over receive from channel 'jobs', timeout PT2H (_ ms left)",
                "  [4] coroutine 'awaiter': PARKED, waits to await the reply",
                "  [5] coroutine 'joiner': PARKED, waits to join coroutine 'receiver'",
                "  [6] coroutine 'acquirer': PARKED, waits to acquire a permit of Semaphore[db, 0 of 1 permits free]",
                "  [7] coroutine 'acceptor': PARKED, waits to accept on listener /127.0.0.1:" + port[0],
                "  [8] coroutine 'closer': PARKED, waits to await the close of kinds-pool (1 submitted body has not ended)",
                "  [9] coroutine 'consumer': PARKED, waits to receive from channel 'jobs', inside generator 'lines'",
                "  [10] coroutine 'far-receiver': PARKED, waits to receive from channel 'far'" + of,
                "  [11] coroutine 'far-sender': PARKED, waits to send to channel 'far'" + of,
                "  [12] coroutine 'far-selector': PARKED, waits to select over completion of the reply, receive from"
                        + " channel 'far'" + of);
        List<String> expectedOwn = new ArrayList<>(List.of("  [0] main: RUNNING (the caller)"));
        expectedOwn.addAll(waits);
        assertThat(contextLines(own[0])).containsExactlyElementsOf(expectedOwn);
        String outside = CoroutinesMXBeanTest.section(dump, "kinds");
        assertThat(outside).startsWith("thread 'kinds': 13 contexts, listed from outside (it did not reach a scheduling"
                + " point within 500 ms): no frames\n");
        List<String> expectedOutside = new ArrayList<>(List.of("  [0] main: RUNNING"));
        expectedOutside.addAll(waits);
        assertThat(contextLines(outside)).containsExactlyElementsOf(expectedOutside);
    }

    /** The lines of a dump's section that name a context, the time a timer has left made {@code _}. */
    private static List<String> contextLines(String section) {
        return section.lines().filter(l -> l.startsWith("  ["))
                .map(l -> l.replaceAll("\\([\\d,.]+ ms left\\)", "(_ ms left)")).toList();
    }
}
