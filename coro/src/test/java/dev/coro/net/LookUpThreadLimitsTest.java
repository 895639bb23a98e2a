package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The limits of the name look-up threads, as NET.md states them: at most 16 look-ups run at once, a 17th waits,
 * queued, until one of them has ended, then runs on the thread that one freed; a look-up thread idle for its
 * keep-alive (30 s) ends, and the next look-up starts another. The resolver is a test's, which holds each look-up
 * until the test answers it; the keep-alive is shortened on the look-ups' own executor for the idle end, so that
 * nothing here sleeps or measures time.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class LookUpThreadLimitsTest {

    /** A bound for a wait that is expected to end long before it: a guard against a hang, not a timing assertion. */
    private static final Duration GUARD = Duration.ofSeconds(30);

    private final NameLookup.Resolver realResolver = NameLookup.resolver;

    @AfterEach
    void restore() {
        NameLookup.resolver = realResolver;
        NameLookup.EXECUTOR.setKeepAliveTime(NameLookup.KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(60)
    void atMostSixteenLookUpsRunAtOnceAndASeventeenthRunsOnTheThreadTheFirstToEndFrees() throws Exception {
        int running = 16;
        Map<String, CompletableFuture<InetAddress[]>> answers = new ConcurrentHashMap<>();
        Map<String, String> threadOf = new ConcurrentHashMap<>();
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> allRunning = new CompletableFuture<>();
        Map<String, CompletableFuture<Void>> asked = new ConcurrentHashMap<>();
        NameLookup.resolver = host -> {
            threadOf.put(host, Thread.currentThread().getName());
            synchronized (log) {
                log.add("asked " + host);
                if (log.size() == running) {
                    allRunning.complete(null);
                }
            }
            asked.computeIfAbsent(host, h -> new CompletableFuture<>()).complete(null);
            return answers.computeIfAbsent(host, h -> new CompletableFuture<>()).join();
        };
        InetAddress[] loopback = {InetAddress.ofLiteral("127.0.0.1")};
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            Crew crew = new Crew();
            List<Coroutine> callers = new ArrayList<>();
            List<String> connected = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i <= running; i++) {
                String host = "h" + i + ".test";
                callers.add(crew.spawn("caller " + i, () -> {
                    try (TcpConnection c = TcpConnection.connect(host, port)) {
                        connected.add(host);
                    }
                }));
            }
            try {
                Coroutine.withTimeout(GUARD, () -> Coroutine.await(allRunning)); // a guard against a hang
                for (int i = 0; i < 100_000 && !callers.stream().allMatch(c -> c.state() == Coroutine.State.PARKED); i++) {
                    Coroutine.yield(); // until each caller has handed its look-up over and parked
                }
                assertThat(callers).as("every caller parked in its look-up").allMatch(c -> c.state() == Coroutine.State.PARKED);
                assertThat(NameLookup.EXECUTOR.getActiveCount() + " running, " + NameLookup.EXECUTOR.getQueue().size()
                        + " queued, at most " + NameLookup.EXECUTOR.getLargestPoolSize() + " threads ever")
                        .isEqualTo(running + " running, 1 queued, at most " + running + " threads ever");
                String first;
                String queued;
                synchronized (log) {
                    assertThat(log).as("hosts the resolver was asked for while every look-up thread is held").hasSize(running);
                    first = log.get(0).substring("asked ".length());
                    queued = java.util.stream.IntStream.rangeClosed(0, running).mapToObj(i -> "h" + i + ".test")
                            .filter(h -> !log.contains("asked " + h)).findFirst().orElseThrow();
                    log.add("answered " + first);
                }
                answers.computeIfAbsent(first, h -> new CompletableFuture<>()).complete(loopback);
                // a guard against a hang
                Coroutine.withTimeout(GUARD, () -> Coroutine.await(asked.computeIfAbsent(queued, h -> new CompletableFuture<>())));
                assertThat(log).hasSize(running + 2).endsWith("answered " + first, "asked " + queued);
                assertThat(threadOf.get(queued)).as("the thread of the seventeenth look-up, %s", queued)
                        .isEqualTo(threadOf.get(first));
            } finally {
                for (int i = 0; i <= running; i++) {
                    answers.computeIfAbsent("h" + i + ".test", h -> new CompletableFuture<>()).complete(loopback);
                }
            }
            crew.join();
            assertThat(connected).hasSize(running + 1);
            assertThat(NameLookup.EXECUTOR.getLargestPoolSize()).as("the most look-up threads ever at once").isEqualTo(running);
        }
    }

    @Test
    @Timeout(60)
    void aLookUpThreadIdleForItsKeepAliveEndsAndTheNextLookUpStartsAnother() throws Exception {
        List<Thread> ran = Collections.synchronizedList(new ArrayList<>());
        NameLookup.resolver = host -> {
            ran.add(Thread.currentThread());
            return new InetAddress[] {InetAddress.ofLiteral("127.0.0.1")};
        };
        long keepAlive = NameLookup.EXECUTOR.getKeepAliveTime(TimeUnit.SECONDS);
        NameLookup.EXECUTOR.setKeepAliveTime(1, TimeUnit.MILLISECONDS); // restored after the test
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            try (TcpConnection c = TcpConnection.connect("first.test", port)) {
                assertThat(c.isOpen()).isTrue();
            }
            Thread first = ran.get(0);
            first.join(GUARD); // a guard against a hang: it ends once idle for its keep-alive
            assertThat(first.isAlive()).as("%s, idle past its keep-alive", first.getName()).isFalse();
            try (TcpConnection c = TcpConnection.connect("second.test", port)) {
                assertThat(c.isOpen()).isTrue();
            }
            assertThat(ran).hasSize(2);
            assertThat(ran.get(1)).as("the thread of the next look-up").isNotSameAs(first);
            assertThat(ran.get(1).getName()).startsWith("coro-name-lookup-");
        }
        assertThat(keepAlive + " s, core threads time out: " + NameLookup.EXECUTOR.allowsCoreThreadTimeOut())
                .as("the keep-alive of the look-up threads, as NET.md states it").isEqualTo("30 s, core threads time out: true");
    }
}
