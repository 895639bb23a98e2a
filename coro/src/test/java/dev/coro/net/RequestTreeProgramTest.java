package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.Generator;
import dev.coro.Select;
import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Whole programs with a coroutine per request whose children hold resources, closed from the top. */
@Tag("net")
class RequestTreeProgramTest {

    /** Counts, per resource, how often its clean-up ran. */
    static final class Ledger {
        final Map<String, Integer> closes = Collections.synchronizedMap(new TreeMap<>());

        void closed(String what) {
            closes.merge(what, 1, Integer::sum);
        }
    }

    /** Runs {@code body}; in its {@code finally}, closes {@code children} (the structured clean-up a user writes). */
    private static Coroutine parent(String name, Ledger ledger, List<Coroutine> children, Runnable body) {
        return Coroutine.create(name, () -> {
            try {
                body.run();
            } finally {
                for (Coroutine c : children) {
                    c.close();
                }
                ledger.closed(name);
            }
        });
    }

    @Test
    void closingARequestClosesItsChildrenWaitingOnIoTimersFuturesAndGeneratorsEachResourceOnce() throws Exception {
        Ledger ledger = new Ledger();
        List<String> states = new ArrayList<>();
        CompletableFuture<String> never = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            CompletableFuture<String> remote = pool.submit(() -> Coroutine.await(never));
            Thread t = Thread.ofPlatform().start(() -> {
                try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
                     TcpListener idle = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
                     TcpConnection out = TcpConnection.connect(l.localAddress());
                     TcpConnection in = l.accept()) {
                    List<Coroutine> children = new ArrayList<>();
                    List<Coroutine> grandchildren = new ArrayList<>();
                    Channel<String> requests = new Channel<>("requests", 0);
                    Channel<String> quiet = new Channel<>("quiet", 0);
                    Coroutine request = parent("request", ledger, children, () -> {
                        children.add(Coroutine.create("reader", () -> {
                            try (in) {
                                in.read(ByteBuffer.allocate(16));
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            } finally {
                                ledger.closed("reader");
                            }
                        }));
                        children.add(Coroutine.create("acceptor", () -> {
                            try (idle) {
                                idle.accept().close();
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            } finally {
                                ledger.closed("acceptor");
                            }
                        }));
                        children.add(Coroutine.create("awaiter", () -> {
                            try {
                                Coroutine.await(remote);
                            } finally {
                                ledger.closed("awaiter");
                            }
                        }));
                        children.add(Coroutine.create("ticker", () -> {
                            Generator<Long> ticks = Generator.of("ticks", emit -> {
                                try {
                                    for (long i = 0; i < 1_000; i++) {
                                        Coroutine.sleep(Duration.ofHours(1));
                                        emit.emit(i);
                                    }
                                } finally {
                                    ledger.closed("ticks");
                                }
                            });
                            try (ticks) {
                                for (long tick : ticks) {
                                    ledger.closed("tick " + tick);
                                }
                            } finally {
                                ledger.closed("ticker");
                            }
                        }));
                        children.add(parent("middle", ledger, grandchildren, () -> {
                            grandchildren.add(Coroutine.create("selector", () -> {
                                try {
                                    new Select<String>().onReceive(quiet, r -> r)
                                            .onTimeout(Duration.ofHours(1), () -> "none").select();
                                } finally {
                                    ledger.closed("selector");
                                }
                            }));
                            quiet.receive();
                        }));
                        try {
                            requests.send("never taken");
                        } finally {
                            ledger.closed("request body");
                        }
                    });
                    for (int i = 0; i < 10 && !Coroutine.dump().contains("'selector': PARKED"); i++) {
                        Coroutine.yield();
                    }
                    String dump = Coroutine.dump();
                    SchedulerInfo row = CoroutinesManagement.mxBean().getSchedulers().stream()
                            .filter(r -> r.threadId() == Thread.currentThread().threadId()).findFirst().orElseThrow();
                    states.add("contexts " + row.contexts() + ", running " + row.running() + ", suspended "
                            + row.suspended() + ", parked " + row.parked() + ", io " + row.ioWaits() + ", timers "
                            + row.timers());
                    request.close();
                    for (Coroutine c : children) {
                        states.add(c.name() + " " + c.state());
                    }
                    for (Coroutine c : grandchildren) {
                        states.add(c.name() + " " + c.state());
                    }
                    states.add("request " + request.state());
                    states.add("in " + in.isOpen() + ", idle " + idle.isOpen());
                    states.add(dump.contains("waits to read from connection") && dump.contains("waits to accept")
                            && dump.contains("waits to await") && dump.contains("inside generator 'ticks'")
                            ? "dump complete" : dump);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            t.join();
            never.complete("late");
            assertThat(Coroutine.await(remote)).isEqualTo("late");
        }
        assertThat(states).containsExactly("contexts 8, running 1, suspended 0, parked 7, io 2, timers 2",
                "reader CLOSED", "acceptor CLOSED", "awaiter CLOSED", "ticker CLOSED",
                "middle CLOSED", "selector CLOSED", "request CLOSED", "in false, idle false", "dump complete");
        assertThat(ledger.closes).containsOnlyKeys("reader", "acceptor", "awaiter", "ticks", "ticker", "middle",
                "selector", "request", "request body").allSatisfy((k, v) -> assertThat(v).as(k).isEqualTo(1));
    }
}
