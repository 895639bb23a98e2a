package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Java interrupt of a scheduler thread while its contexts wait: it ends no wait of coro (an I/O wait, a
 * wait for another thread's channel, a sleep that another context's idle wait holds, a sleep, an acquire, a
 * select, a timed receive), and it is not lost:
 * the thread has it set once the wait is over, on both engines and on a platform or a virtual thread.
 */
@ExtendWith(FreshThread.class)
class InterruptWhileWaitingTest {

    private static final SocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final List<String> log = new ArrayList<>();

    /**
     * Starts, from a coroutine that runs once every other context of the thread waits, a thread that
     * interrupts {@code owner} and then runs {@code then}: the interrupt comes while the thread idles.
     */
    private static void interruptOnceAllWait(Thread owner, Runnable then) {
        Coroutine.create("interrupter", () -> Thread.ofPlatform().name("interrupting").start(() -> {
            owner.interrupt();
            then.run();
        }));
    }

    /**
     * A thread whose main waits in a read and whose coroutine waits in an accept, interrupted while it idles
     * in its selector, goes on waiting: the connection that comes is accepted, the bytes that come are read,
     * and the thread has its interrupt set afterwards, once.
     */
    @Test
    @Tag("net")
    @Timeout(20)
    void anInterruptWhileContextsWaitOnIoEndsNeitherWaitAndIsKeptOnAPlatformOrAVirtualThread() throws Exception {
        waitOnIoWhileInterrupted();
        assertThat(Peer.call(Thread.ofVirtual(), "virtual owner", () -> {
            waitOnIoWhileInterrupted();
            return "done";
        })).isEqualTo("done");
        assertThat(log).containsExactly("accepted", "read 3 bytes", "interrupted true, then false",
                "accepted", "read 3 bytes", "interrupted true, then false");
    }

    private void waitOnIoWhileInterrupted() {
        CompletableFuture<Socket> second = new CompletableFuture<>();
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            Coroutine acceptor = Coroutine.create("acceptor", () -> {
                try (TcpConnection accepted = listener.accept()) {
                    log.add("accepted");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Coroutine.yield(); // the acceptor parks
            InetSocketAddress address = (InetSocketAddress) listener.localAddress();
            interruptOnceAllWait(Thread.currentThread(), () -> {
                try {
                    second.complete(new Socket(address.getAddress(), address.getPort()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Coroutine.create("writer", () -> {
                acceptor.join();
                try {
                    client.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            ByteBuffer b = ByteBuffer.allocate(16);
            while (b.position() < 3) {
                server.read(b); // parks: the writer waits for the acceptor, which waits for the interrupting thread
            }
            log.add("read " + b.position() + " bytes");
            log.add("interrupted " + Thread.interrupted() + ", then " + Thread.interrupted());
            Coroutine.await(second).close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Main waiting to receive from a channel of a pool thread, interrupted meanwhile, goes on waiting: it
     * receives the value the pool's body sends after the interrupt, and has its interrupt set afterwards;
     * so too on a virtual thread.
     */
    @Test
    @Timeout(20)
    void anInterruptWhileMainWaitsForAnotherThreadsChannelDoesNotEndTheWaitAndIsKept() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            receiveWhileInterrupted(pool, 1);
            assertThat(Peer.call(Thread.ofVirtual(), "virtual owner", () -> {
                receiveWhileInterrupted(pool, 2);
                return "done";
            })).isEqualTo("done");
        }
        assertThat(log).containsExactly("received 1", "interrupted true, then false", "received 2", "interrupted true, then false");
    }

    private void receiveWhileInterrupted(CoroutinePool pool, int value) {
        Channel<Integer> ch = Coroutine.await(pool.submit(() -> new Channel<Integer>("pool's", 0)));
        CompletableFuture<Void> gate = new CompletableFuture<>();
        pool.execute(() -> {
            Coroutine.await(gate);
            ch.send(value);
        });
        interruptOnceAllWait(Thread.currentThread(), () -> gate.complete(null));
        log.add("received " + ch.receive());
        log.add("interrupted " + Thread.interrupted() + ", then " + Thread.interrupted());
    }

    /**
     * A thread interrupted while main waits in a join of a coroutine that awaits a future (the thread's idle
     * wait run by a coroutine: on the thread engine, on a coroutine's own thread while the owner thread
     * waits for its turn) does not end the await, and does not lose the interrupt: main has it set once the
     * join returns, on both engines.
     */
    @Test
    @Timeout(20)
    void anInterruptWhileACoroutineRunsTheIdleWaitAndMainJoinsItReachesMainOnceTheJoinReturns() {
        CompletableFuture<String> gate = new CompletableFuture<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("awaited " + Coroutine.await(gate)));
        awaiter.switchTo(); // it parks in its await; main runs again
        interruptOnceAllWait(Thread.currentThread(), () -> gate.complete("after the interrupt"));
        awaiter.join(); // the interrupter runs, then the thread idles until the gate opens
        log.add("interrupted " + Thread.interrupted() + ", then " + Thread.interrupted());
        assertThat(log).containsExactly("awaited after the interrupt", "interrupted true, then false");
    }

    /**
     * An interrupt that comes from another thread while main sleeps, acquires a permit, selects, or
     * receives with a timeout (on a virtual clock, held still by a coroutine awaiting the gate that
     * thread opens after the interrupt) ends none of these waits: the sleep ends at its time, the
     * permit is taken once its holder releases it, the select gets the value sent after the
     * interrupt, the timed receive times out at its time; and main has its interrupt set afterwards,
     * once, on both engines.
     */
    @Test
    @Timeout(20)
    void anInterruptThatComesWhileMainSleepsAcquiresSelectsOrReceivesWithATimeoutEndsNoneAndIsKeptOnce() {
        Map<String, BiFunction<CompletableFuture<Void>, Runnable, String>> waits = new LinkedHashMap<>();
        waits.put("sleep", (gate, interruptWhileWaiting) -> {
            Coroutine.create("waiter", () -> Coroutine.await(gate));
            interruptWhileWaiting.run();
            Coroutine.sleep(Duration.ofHours(1));
            return "slept";
        });
        waits.put("acquire", (gate, interruptWhileWaiting) -> {
            Semaphore permits = new Semaphore("permits", 1);
            Coroutine.create("holder", () -> {
                permits.acquire();
                Coroutine.await(gate);
                log.add("holder releases");
                permits.release();
            });
            Coroutine.yield(); // the holder takes the permit and parks in its await
            interruptWhileWaiting.run();
            permits.acquire();
            permits.release();
            return "acquired";
        });
        waits.put("select", (gate, interruptWhileWaiting) -> {
            Channel<Integer> ch = new Channel<>("values", 0);
            Coroutine.create("sender", () -> {
                Coroutine.await(gate);
                ch.send(7);
            });
            interruptWhileWaiting.run();
            return new Select<String>()
                    .onReceive(ch, v -> "received " + v)
                    .onTimeout(Duration.ofHours(1), () -> "timed out")
                    .select();
        });
        waits.put("tryReceive", (gate, interruptWhileWaiting) -> {
            Coroutine.create("waiter", () -> Coroutine.await(gate));
            interruptWhileWaiting.run();
            return "tried " + new Channel<Integer>("silent", 0).tryReceive(Duration.ofHours(1));
        });
        Thread owner = Thread.currentThread();
        waits.forEach((kind, wait) -> VirtualTime.run(() -> {
            CompletableFuture<Void> gate = new CompletableFuture<>();
            String value = wait.apply(gate, () -> interruptOnceAllWait(owner, () -> gate.complete(null)));
            log.add(kind + ": " + value + " at " + Coroutine.nanoTime() / 1_000_000_000L + " s, gate open "
                    + gate.isDone() + ", interrupted " + Thread.interrupted() + ", then " + Thread.interrupted());
        }));
        assertThat(log).containsExactly(
                "sleep: slept at 3600 s, gate open true, interrupted true, then false",
                "holder releases",
                "acquire: acquired at 0 s, gate open true, interrupted true, then false",
                "select: received 7 at 0 s, gate open true, interrupted true, then false",
                "tryReceive: tried Optional.empty at 3600 s, gate open true, interrupted true, then false");
    }
}
