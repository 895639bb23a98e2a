package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.management.CoroutinesManagement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Features used together (generators across and around {@link VirtualTime#run}, a semaphore under timeouts and
 * closes, a select over a pool thread's channel inside a generator's body, two-way and read-ahead generators under
 * their consumer's {@code withTimeout}, dumps and the JMX view taken meanwhile, pools started inside a run, a pool
 * closed from a generator's body) trace exactly, the same on both engines, each feature keeping its own rules where
 * it meets another.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(30)
class FeaturesCombinedUnderVirtualTimeTest {

    private final List<String> log = new ArrayList<>();

    private static long ms() {
        return Coroutine.nanoTime() / 1_000_000;
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    /** The lines of a dump that name a context, as {@code EveryKindOfWaitInTheDumpsTest} reads them. */
    private static List<String> contextLines(String dump) {
        return dump.lines().filter(l -> l.startsWith("  [")).toList();
    }

    /**
     * A generator is no context, so a run may start while one is suspended at an emit: its body sleeps on the clock
     * of whichever run resumes it, virtual inside the run and real again after it.
     */
    @Test
    void aGeneratorStartedOnTheRealClockSleepsOnTheVirtualOneWhileConsumedInsideARun() {
        boolean[] inRun = {false};
        Generator<String> g = Generator.of("g", out -> {
            for (int i = 0; ; i++) {
                Coroutine.sleep(ms(1));
                out.emit("v" + i + (inRun[0] ? " at " + ms() : " on the real clock"));
            }
        });
        try (g) {
            log.add(g.next());
            VirtualTime.run(() -> {
                inRun[0] = true;
                log.add(g.next() + ", " + g.next());
                inRun[0] = false;
            });
            log.add(g.next());
        }
        assertThat(log).containsExactly("v0 on the real clock", "v1 at 1, v2 at 2", "v3 on the real clock");
    }

    /**
     * A body consumed by main is main's code, which may start a run (and emit after it, not inside it); one consumed
     * by a coroutine is that coroutine's, which may not, and the refusal is the body's failure.
     */
    @Test
    void aGeneratorsBodyMayStartARunWhereItsConsumerMayNot() {
        Generator<String> ofMain = Generator.of("of-main", out -> {
            out.emit("before");
            VirtualTime.run(() -> {
                Coroutine.sleep(ms(100));
                log.add("inside the run at " + ms());
            });
            out.emit("after");
        });
        ofMain.forEachRemaining(log::add);
        Coroutine consumer = Coroutine.create("consumer", () -> {
            Generator<String> ofCoroutine = Generator.of("of-coroutine", out -> VirtualTime.run(() -> log.add("never")));
            log.add(catchThrowable(ofCoroutine::next).getMessage() + " (" + ofCoroutine.state() + ")");
        });
        consumer.join();
        assertThat(log).containsExactly("before", "inside the run at 100", "after",
                "generator 'of-coroutine' failed: java.lang.IllegalStateException: coroutine 'consumer' of thread "
                        + Scheduler.describe(Thread.currentThread()) + " (state RUNNING) cannot start VirtualTime.run:"
                        + " it is a coroutine; only main may start it, on a thread with no live coroutine (FAILED)");
    }

    /**
     * The holder of the only permit is closed at the very instant a waiter's {@code withTimeout} expires: the
     * waiter's timer, due then, expires before the closer it woke runs (TIME.md, due timers expire before any woken
     * context runs), so the waiter takes nothing and the permit the close gives back stays free.
     */
    @Test
    void aHolderClosedAtTheInstantAWaitersTimeoutExpiresGivesThePermitBackToNoOne() {
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            Coroutine holder = Coroutine.create("holder", () -> s.withPermit(() -> Coroutine.sleep(ms(500))));
            Coroutine.yield();
            Coroutine waiter = Coroutine.create("waiter", () -> {
                try {
                    Coroutine.withTimeout(ms(100), () -> s.withPermit(() -> log.add("the waiter holds it")));
                } catch (CoroutineTimeoutException e) {
                    log.add(e.getCause().getMessage() + " at " + ms());
                }
            });
            Coroutine.create("closer", () -> {
                Coroutine.sleep(ms(100));
                log.add("closing the holder at " + ms() + ": " + s);
                holder.close();
                log.add("closed: " + s);
            });
            Coroutine.yield();
            log.addAll(contextLines(Coroutine.dump()));
            waiter.join();
            log.add("at the end: " + s + " at " + ms() + ", holder " + holder.state());
        });
        assertThat(log).containsExactly(
                "  [0] main: RUNNING (the caller)",
                "  [1] coroutine 'holder': PARKED, waits to sleep 500.000 ms (t=500.000 ms on the virtual clock, 500.000 ms left)",
                "  [2] coroutine 'waiter': PARKED, waits to acquire a permit of Semaphore[s, 0 of 1 permits free]",
                "  [3] coroutine 'closer': PARKED, waits to sleep 100.000 ms (t=100.000 ms on the virtual clock, 100.000 ms left)",
                "closing the holder at 100: Semaphore[s, 0 of 1 permits free]",
                "closed: Semaphore[s, 1 of 1 permits free]",
                // the signal's text is made as the waiter runs again, after the close: its permits free counted then
                "coroutine 'waiter': its withTimeout(PT0.1S) expired; its acquire a permit of Semaphore[s, 1 of 1 permits"
                        + " free] throws this signal so that the body unwinds to it at 100",
                "at the end: Semaphore[s, 1 of 1 permits free] at 100, holder CLOSED");
    }

    /**
     * A generator's body selects over a pool thread's channel with an {@code onTimeout}: with nothing coming the
     * timeout fires at its virtual deadline; under its consumer's shorter {@code withTimeout} the consumer's expires
     * first and unwinds the body, the signal naming the wait with its thread and the generator; the lost clause
     * leaves nothing on the other thread's channel, whose next send goes to main's receive, the clock still.
     */
    @Test
    void aSelectOverAPoolThreadsChannelInsideAGeneratorsBodyTimesOutOnTheVirtualClockAndLeavesNoTrace() {
        try (CoroutinePool pool = CoroutinePool.start("peer", 1)) {
            VirtualTime.run(() -> {
                Thread peer = Coroutine.await(pool.submit(() -> Scheduler.current().owner));
                Channel<String> remote = Coroutine.await(pool.submit(() -> new Channel<String>("remote", 0)));
                Generator<String> g = Generator.of("g", out -> {
                    while (true) {
                        out.emit(new Select<String>().onReceive(remote, v -> v).onTimeout(ms(100), () -> "its onTimeout")
                                .select() + " at " + ms());
                    }
                });
                log.add(g.next());
                Throwable t = catchThrowable(() -> Coroutine.withTimeout(ms(40), g::next));
                log.add(t.getMessage());
                log.add(t.getCause().getMessage().replace(Scheduler.describe(peer), "PEER"));
                log.add(g.state() + " at " + ms());
                log.add("the peer's trySend: " + Coroutine.await(pool.submit(() -> remote.trySend("lost"))));
                pool.execute(() -> remote.send("sent"));
                log.add("main received " + remote.receive() + " at " + ms());
            });
        }
        assertThat(log).containsExactly("its onTimeout at 100",
                "main context 'main' timed out: withTimeout(PT0.04S) expired before its body returned",
                "main context 'main': its withTimeout(PT0.04S) expired; its select over receive from channel 'remote' of"
                        + " thread PEER, timeout PT0.1S (t=200.000 ms on the virtual clock, 60.000 ms left), inside generator"
                        + " 'g', throws this signal so that the body unwinds to it",
                "CLOSED at 140", "the peer's trySend: false", "main received sent at 140");
    }

    /**
     * A two-way generator's body sleeps for what it is sent: the consumer's {@code withTimeout} around a
     * {@code send} cuts the sleep short and closes the generator, whose next {@code send} is refused saying so.
     */
    @Test
    void aTwoWayGeneratorsSendCutShortByItsConsumersTimeoutClosesIt() {
        VirtualTime.run(() -> {
            Generator.TwoWay<String, Integer> g = Generator.twoWay("tw", out -> {
                int millis = out.emit("first");
                while (true) {
                    Coroutine.sleep(ms(millis));
                    millis = out.emit("slept " + millis + " to " + ms());
                }
            });
            log.add(g.next());
            log.add(g.send(10));
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(ms(50), () -> g.send(100)));
            log.add(t.getCause().getMessage());
            log.add(g.state() + " at " + ms() + ", hasNext " + g.hasNext());
            log.add(catchThrowable(() -> g.send(1)).getMessage());
        });
        assertThat(log).containsExactly("first", "slept 10 to 10",
                "main context 'main': its withTimeout(PT0.05S) expired; its sleep 100.000 ms (t=110.000 ms on the virtual"
                        + " clock, 50.000 ms left), inside generator 'tw', throws this signal so that the body unwinds to it",
                "CLOSED at 60, hasNext false",
                "main context 'main' cannot send to generator 'tw' (CLOSED): it has ended, and no emit is left to reply to");
    }

    /**
     * A read-ahead body takes a permit around each sleep: the consumer's {@code withTimeout} that expires inside
     * one unwinds it through its {@code withPermit}, so the permit is free again, and the value emitted before
     * stays the consumer's.
     */
    @Test
    void aReadAheadBodyHoldingAPermitWhenItsConsumersTimeoutExpiresGivesItBackAndKeepsItsValues() {
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 1);
            Generator<String> g = Generator.buffered("g", 2, out -> {
                for (int i = 0; ; i++) {
                    s.withPermit(() -> Coroutine.sleep(ms(30)));
                    out.emit("v" + i + " at " + ms());
                }
            });
            Coroutine.create("hog", () -> s.withPermit(() -> Coroutine.sleep(ms(45))));
            Coroutine.yield();
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(ms(100), g::next));
            log.add(t.getCause().getMessage());
            log.add(g.state() + ", " + s + " at " + ms());
            g.forEachRemaining(log::add);
            log.add(g.state() + ", " + s);
        });
        assertThat(log).containsExactly(
                "main context 'main': its withTimeout(PT0.1S) expired; its sleep 30.000 ms (t=105.000 ms on the virtual"
                        + " clock, 5.000 ms left), inside generator 'g', throws this signal so that the body unwinds to it",
                "SUSPENDED, Semaphore[s, 1 of 1 permits free] at 100", "v0 at 75", "CLOSED, Semaphore[s, 1 of 1 permits free]");
    }

    /**
     * A generator's body joins a child it made; a dump and the JMX view taken meanwhile name main's wait with the
     * generator; the consumer's {@code withTimeout} unwinds the body from its join, and the child, main's and not
     * the generator's, sleeps on to its end before the run returns.
     */
    @Test
    void aJoinInsideAGeneratorsBodyIsNamedInTheDumpsAndItsConsumersTimeoutLeavesTheChildToTheRun() {
        String thread = Thread.currentThread().getName(); // on the thread engine a body runs on a thread of its own
        VirtualTime.run(() -> {
            Generator<String> g = Generator.of("g", out -> {
                Coroutine child = Coroutine.create("child", () -> {
                    try {
                        Coroutine.sleep(ms(200));
                    } finally {
                        log.add("the child ends at " + ms());
                    }
                });
                child.join();
                out.emit("never");
            });
            Coroutine.create("observer", () -> {
                Coroutine.sleep(ms(10));
                log.addAll(contextLines(Coroutine.dump()));
                log.addAll(contextLines(CoroutinesMXBeanTest.section(CoroutinesManagement.mxBean().dump(10),
                        thread)));
            });
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(ms(100), g::next));
            log.add(t.getCause().getMessage());
            log.add(g.state() + " at " + ms());
        });
        String[] lines = {
            "  [0] main: PARKED, waits to join coroutine 'child', inside generator 'g'",
            "  [1] coroutine 'observer': RUNNING (the caller)",
            "  [2] coroutine 'child': PARKED, waits to sleep 200.000 ms (t=200.000 ms on the virtual clock, 190.000 ms left)"};
        List<String> expected = new ArrayList<>(List.of(lines));
        expected.addAll(List.of(lines));
        expected.addAll(List.of(
                "main context 'main': its withTimeout(PT0.1S) expired; its join coroutine 'child', inside generator 'g',"
                        + " throws this signal so that the body unwinds to it",
                "CLOSED at 100", "the child ends at 200"));
        assertThat(log).containsExactlyElementsOf(expected);
    }

    /**
     * A run restarts the thread's own default names, not a pool's: a pool started inside it without a name is
     * numbered among the JVM's pools (and its thread's names count on that thread), so two runs name their pools
     * apart; a pool named by the run names alike on every run.
     */
    @Test
    void aPoolStartedWithoutANameInsideARunIsNumberedAmongTheJvmsPoolsSoTwoRunsNameTheirsApart() {
        List<String> names = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            VirtualTime.run(() -> {
                try (CoroutinePool unnamed = CoroutinePool.start(1); CoroutinePool named = CoroutinePool.start("sim", 1)) {
                    names.add(new Channel<String>(0).name() + ", " + unnamed.name() + ", " + named.name() + ": "
                            + Coroutine.await(named.submit(() -> new Channel<String>(0).name())));
                }
            });
        }
        assertThat(names).hasSize(2);
        String pattern = "channel-1, coro-pool-(\\d+), sim: channel-1";
        assertThat(names).allMatch(n -> n.matches(pattern));
        long first = Long.parseLong(names.get(0).replaceAll(pattern, "$1"));
        long second = Long.parseLong(names.get(1).replaceAll(pattern, "$1"));
        assertThat(second).as("the second run's pool, numbered after the first's").isGreaterThan(first);
    }

    /**
     * A pool body iterates a generator whose body loops over a channel of the run's thread: a {@code close()} of
     * the pool bounded by {@code tryWithTimeout} waits for that body, holding the virtual clock as a wait for another
     * thread does until its real quiet has lasted the timeout, then gives up at its deadline, the pool still
     * closing; once main ends the feed the generator ends, the body with it, and the next close returns, every value
     * taken once, in order.
     */
    @Test
    void aPoolWhoseBodyIteratesAGeneratorFedByTheRunClosesOnceTheFeedEndsAndABoundedCloseBeforeGivesUp() {
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        VirtualTime.run(() -> {
            Channel<String> feed = new Channel<>("feed", 0);
            CoroutinePool pool = CoroutinePool.start("readers", 1);
            pool.execute("reader", () -> {
                try (Generator<String> lines = Generator.of("lines", out -> {
                    for (String v : feed) {
                        out.emit(v.toUpperCase(Locale.ROOT));
                    }
                })) {
                    lines.forEachRemaining(got::add);
                }
            });
            feed.send("a");
            log.add("a bounded close: " + Coroutine.tryWithTimeout(ms(50), pool::close) + " at " + ms() + ", " + pool);
            feed.send("b");
            feed.close();
            pool.close();
            log.add("closed at " + ms() + ", " + pool + ", the reader got " + got);
        });
        assertThat(log).containsExactly("a bounded close: false at 50, CoroutinePool[readers, 1 thread, closing]",
                "closed at 50, CoroutinePool[readers, 1 thread, closed], the reader got [A, B]");
    }

    /**
     * A generator's body consumed by main closes a pool whose body waits: a dump names main's wait for the close with
     * the generator; the consumer's {@code withTimeout} unwinds the body from it at its virtual deadline, the
     * generator {@code CLOSED} and the pool left closing, and a later close returns once the pool's body ends.
     */
    @Test
    void aPoolsCloseInsideAGeneratorsBodyIsNamedInADumpAndItsConsumersTimeoutLeavesThePoolClosing() {
        VirtualTime.run(() -> {
            CompletableFuture<Void> gate = new CompletableFuture<>();
            CoroutinePool pool = CoroutinePool.start("p", 1);
            pool.execute("gated", () -> Coroutine.await(gate));
            Generator<String> g = Generator.of("closing", out -> {
                pool.close();
                out.emit("never");
            });
            Coroutine.create("observer", () -> {
                Coroutine.sleep(ms(10));
                log.addAll(contextLines(Coroutine.dump()));
            });
            Throwable t = catchThrowable(() -> Coroutine.withTimeout(ms(40), g::next));
            log.add(t.getCause().getMessage());
            log.add(g.state() + ", " + pool + " at " + ms());
            gate.complete(null);
            pool.close();
            log.add(pool + " at " + ms());
        });
        assertThat(log).containsExactly(
                "  [0] main: PARKED, waits to await the close of p (1 submitted body has not ended), inside generator 'closing'",
                "  [1] coroutine 'observer': RUNNING (the caller)",
                "main context 'main': its withTimeout(PT0.04S) expired; its await the close of p (1 submitted body has not"
                        + " ended), inside generator 'closing', throws this signal so that the body unwinds to it",
                "CLOSED, CoroutinePool[p, 1 thread, closing] at 40", "CoroutinePool[p, 1 thread, closed] at 40");
    }
}
