package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The exit signal a close throws into a suspended or parked coroutine names the call it ends, in the words a
 * dump names that coroutine's wait in ({@code its receive from channel 'jobs' throws this signal}, {@code its
 * yield}, {@code its switchTo}, {@code …, inside generator 'g',}), on both engines, where it said only
 * {@code its suspended call}: the text is made as the coroutine resumes, so that a wait's text that runs the
 * user's code sees that coroutine running.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CloseSignalNamesItsCallTest {

    private final List<String> log = new CopyOnWriteArrayList<>(); // a pool's thread adds to it too

    /** A body that may throw anything, for {@link #logSignal}. */
    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    /** A coroutine body that runs {@code body} and logs the message of the exit signal that ends it. */
    private Runnable logSignal(Body body) {
        return () -> {
            try {
                body.run();
                log.add("returned");
            } catch (CoroutineExit e) {
                log.add(e.getMessage());
                throw e;
            } catch (Exception e) {
                log.add("threw " + e);
            }
        };
    }

    /** The message of the close's signal of coroutine {@code name} thrown from {@code call}. */
    private static String signal(String name, String call) {
        return "coroutine '" + name + "' is being closed: its " + call + " throws this signal so that it unwinds"
                + " (state RUNNING, closing)";
    }

    /** Closes {@code c}, parked, and checks that it ended {@code CLOSED}. */
    private static void closeParked(Coroutine c) {
        assertThat(c.state()).isEqualTo(State.PARKED);
        c.close();
        assertThat(c.state()).isEqualTo(State.CLOSED);
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAReceiveNamesTheReceiveAndTheChannel() {
        VirtualTime.run(() -> {
            Channel<String> jobs = new Channel<>("jobs", 0);
            Coroutine c = Coroutine.create("receiver", logSignal(jobs::receive));
            Coroutine.yield(); // it parks in its receive
            closeParked(c);
        });
        assertThat(log).containsExactly(signal("receiver", "receive from channel 'jobs'"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInASendNamesTheSendAndTheChannel() {
        VirtualTime.run(() -> {
            Channel<String> jobs = new Channel<>("jobs", 0);
            Coroutine c = Coroutine.create("sender", logSignal(() -> jobs.send("job")));
            Coroutine.yield(); // it parks in its send
            closeParked(c);
        });
        assertThat(log).containsExactly(signal("sender", "send to channel 'jobs'"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInATimedReceiveNamesTheTimedCall() {
        VirtualTime.run(() -> {
            Channel<String> jobs = new Channel<>("jobs", 0);
            Coroutine c = Coroutine.create("receiver", logSignal(() -> jobs.tryReceive(Duration.ofSeconds(1))));
            Coroutine.yield(); // it parks in its tryReceive
            closeParked(c);
        });
        assertThat(log).containsExactly(signal("receiver", "tryReceive from channel 'jobs'"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInASleepNamesTheSleepAndItsDeadline() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create("sleeper", logSignal(() -> Coroutine.sleep(Duration.ofSeconds(2))));
            Coroutine.yield(); // it parks in its sleep
            Coroutine.sleep(Duration.ofMillis(500));
            closeParked(c);
        });
        assertThat(log).containsExactly(signal("sleeper", "sleep 2,000.000 ms (t=2,000.000 ms on the virtual clock,"
                + " 1,500.000 ms left)"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAnAwaitNamesTheAwaitAndTheFuture() {
        CompletableFuture<String> reply = new CompletableFuture<>() {
            @Override
            public String toString() {
                return "the reply";
            }
        };
        Coroutine c = Coroutine.create("awaiter", logSignal(() -> Coroutine.await(reply)));
        Coroutine.yield(); // it parks in its await
        closeParked(c);
        assertThat(log).containsExactly(signal("awaiter", "await the reply"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInASelectNamesTheSelectAndItsClauses() {
        VirtualTime.run(() -> {
            Channel<String> jobs = new Channel<>("jobs", 0);
            Channel<String> out = new Channel<>("out", 0);
            Coroutine c = Coroutine.create("selector", logSignal(() -> new Select<String>()
                    .onReceive(jobs, v -> v)
                    .onSend(out, "result", () -> "sent")
                    .onTimeout(Duration.ofSeconds(1), () -> "timed out")
                    .select()));
            Coroutine.yield(); // it parks in its select
            closeParked(c);
        });
        assertThat(log).hasSize(1);
        assertThat(log.get(0)).isEqualTo(signal("selector", "select over receive from channel 'jobs', send to channel"
                + " 'out', timeout PT1S (t=1,000.000 ms on the virtual clock, 1,000.000 ms left)"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAnAcquireNamesTheSemaphoresCall() {
        VirtualTime.run(() -> {
            Semaphore permits = new Semaphore("permits", 1);
            permits.acquire();
            Coroutine c = Coroutine.create("acquirer", logSignal(permits::acquire));
            Coroutine.yield(); // it parks in its acquire
            closeParked(c);
            permits.release();
            assertThat(permits.availablePermits()).isOne();
        });
        assertThat(log).containsExactly(signal("acquirer", "acquire a permit of Semaphore[permits, 0 of 1 permits free]"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAJoinNamesTheJoinAndTheCoroutine() {
        VirtualTime.run(() -> {
            Coroutine never = Coroutine.create("never", () -> Coroutine.sleep(Duration.ofSeconds(1)));
            Coroutine c = Coroutine.create("joiner", logSignal(never::join));
            Coroutine.yield(); // both park
            closeParked(c);
            never.close();
        });
        assertThat(log).containsExactly(signal("joiner", "join coroutine 'never'"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAYieldNamesTheYield() {
        Coroutine c = Coroutine.create("yielder", logSignal(Coroutine::yield));
        c.switchTo();
        c.close();
        assertThat(log).containsExactly(signal("yielder", "yield"));
    }

    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInASwitchToNamesTheSwitchTo() {
        Coroutine main = Coroutine.current();
        Coroutine other = Coroutine.create("other", main::switchTo);
        Coroutine c = Coroutine.create("switcher", logSignal(other::switchTo));
        c.switchTo(); // c switches to other, which switches back to main
        assertThat(c.state()).isEqualTo(State.SUSPENDED);
        c.close();
        other.close();
        assertThat(log).containsExactly(signal("switcher", "switchTo"));
    }

    /** Coroutine 'a' closes 'b', whose {@code finally} closes 'a' back, suspended in that close. */
    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedWhileSuspendedInItsOwnCloseOfAnotherNamesTheClose() {
        Coroutine[] a = new Coroutine[1];
        Coroutine b = Coroutine.create("b", () -> {
            try {
                Coroutine.yield();
            } finally {
                a[0].close();
            }
        });
        b.switchTo();
        a[0] = Coroutine.create("a", logSignal(b::close));
        a[0].switchTo();
        assertThat(a[0].state()).isEqualTo(State.CLOSED);
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(log).containsExactly(signal("a", "close"));
    }

    /** The call is named as the dump names it, with the generator whose body it is in. */
    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedInAWaitOfAGeneratorsBodyNamesTheWaitAndTheGenerator() {
        VirtualTime.run(() -> {
            Channel<String> lines = new Channel<>("lines", 0);
            Generator<String> g = Generator.of("words", out -> out.emit(lines.receive()));
            Coroutine c = Coroutine.create("reader", logSignal(g::next));
            Coroutine.yield(); // it parks in the generator's receive
            assertThat(Coroutine.dump()).contains("coroutine 'reader': PARKED, waits to receive from channel 'lines',"
                    + " inside generator 'words'\n");
            closeParked(c);
            assertThat(g.state()).isEqualTo(Generator.State.CLOSED);
        });
        assertThat(log).containsExactly(signal("reader", "receive from channel 'lines', inside generator 'words',"));
    }

    /**
     * A wait completed before the close, the coroutine not run yet: its call, which throws the signal, is named (the
     * value handed to it goes on to the next receiver in line).
     */
    @Test
    @Timeout(10)
    void theSignalOfACoroutineClosedAfterAValueWasHandedToItAndBeforeItRanNamesItsReceive() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine next = Coroutine.create("next", () -> log.add("next received " + ch.receive()));
            Coroutine c = Coroutine.create("receiver", logSignal(() -> ch.tryReceive(Duration.ofSeconds(1))));
            Coroutine.yield(); // both park, c first (the last created runs first)
            ch.send(7); // hands 7 to c and wakes it, without a switch
            assertThat(c.state()).isEqualTo(State.SUSPENDED);
            c.close();
            assertThat(c.state()).isEqualTo(State.CLOSED);
            next.join();
        });
        assertThat(log).containsExactly(signal("receiver", "tryReceive from channel 'ch'"), "next received 7");
    }

    /**
     * The text of the signal is made in the coroutine it unwinds, once that runs again, not in its closer: an awaited
     * future's {@code toString()} sees that coroutine as the caller, running.
     */
    @Test
    @Timeout(10)
    void theToStringOfAnAwaitedFutureInTheSignalRunsInTheClosedCoroutine() {
        List<String> seen = new ArrayList<>();
        SignalTextTest.Looking<String> f = new SignalTextTest.Looking<>(seen, () -> seen.add(Coroutine.dump().lines()
                .filter(l -> l.contains("(the caller)")).findFirst().orElse("no caller in the dump")));
        Coroutine c = Coroutine.create("awaiter", logSignal(() -> Coroutine.await(f)));
        Coroutine.yield(); // it parks in its await
        closeParked(c);
        assertThat(log).containsExactly(signal("awaiter", "await Looking"));
        assertThat(seen).containsExactly("toString in awaiter (RUNNING, index 1)",
                "  [1] coroutine 'awaiter': RUNNING (the caller)", "toString returns in awaiter");
    }

    /**
     * A yield inside that {@code toString()} cannot suspend the coroutine, being closed: it throws the signal, and the
     * text names the future's class and that its {@code toString()} threw it; the coroutine unwinds all the same.
     */
    @Test
    @Timeout(10)
    void aYieldInsideTheToStringOfAnAwaitedFutureInTheSignalThrowsItAndTheTextNamesTheClass() {
        List<String> seen = new ArrayList<>();
        SignalTextTest.Looking<String> f = new SignalTextTest.Looking<>(seen, Coroutine::yield);
        Coroutine c = Coroutine.create("awaiter", logSignal(() -> Coroutine.await(f)));
        Coroutine.yield(); // it parks in its await
        closeParked(c);
        assertThat(log).containsExactly(signal("awaiter", "await " + f.getClass().getName() + "@"
                + Integer.toHexString(System.identityHashCode(f)) + " (its toString() threw dev.coro.CoroutineExit)"));
        assertThat(seen).containsExactly("toString in awaiter (RUNNING, index 1)");
    }

    /**
     * A close inside that {@code toString()} closes the other coroutine and throws the signal (a scheduling point);
     * the failure of that coroutine's unwinding, added to the signal the close left, is suppressed in the signal
     * the closed coroutine gets, as in any close's signal, where naming the call dropped it; rethrown with it,
     * the signal ends the coroutine {@code FAILED} by that failure, which reaches its closer.
     */
    @Test
    @Timeout(10)
    void theUnwindingFailureOfACoroutineClosedInsideTheToStringOfAnAwaitedFutureIsSuppressedInTheSignal() {
        List<String> seen = new ArrayList<>();
        Coroutine other = Coroutine.create("other", () -> {
            try {
                Coroutine.sleep(Duration.ofHours(1));
            } finally {
                throw new IllegalStateException("unwinding failed");
            }
        });
        SignalTextTest.Looking<String> f = new SignalTextTest.Looking<>(seen, other::close);
        Coroutine c = Coroutine.create("awaiter", () -> {
            try {
                Coroutine.await(f);
            } catch (CoroutineExit e) {
                log.add(e.getMessage());
                for (Throwable t : e.getSuppressed()) {
                    log.add("suppressed " + t.getMessage());
                }
                throw e;
            }
        });
        Coroutine.yield(); // both park
        assertThat(c.state()).isEqualTo(State.PARKED);
        Throwable t = catchThrowable(c::close);
        assertThat(other.state()).isEqualTo(State.FAILED);
        assertThat(log).containsExactly(signal("awaiter", "await " + f.getClass().getName() + "@"
                + Integer.toHexString(System.identityHashCode(f)) + " (its toString() threw dev.coro.CoroutineExit)"),
                "suppressed coroutine 'other' failed while being closed: java.lang.IllegalStateException: unwinding failed");
        // the awaiter rethrew its signal with that failure in it: it ends by the failure, which reaches its closer
        assertThat(c.state()).isEqualTo(State.FAILED);
        assertThat(t).isInstanceOf(CoroutineException.class).hasMessage("coroutine 'awaiter' failed while being closed:"
                + " dev.coro.CoroutineException: coroutine 'other' failed while being closed: java.lang.IllegalStateException:"
                + " unwinding failed");
        assertThat(t.getCause().getCause()).hasMessage("unwinding failed");
    }

    /**
     * A close inside that {@code toString()} of the coroutine that closes it unwinds that closer, suspended in its
     * close, then throws the signal (a scheduling point); the coroutine stays closing, its {@code finally} unwound as
     * any closed coroutine's: a timed receive there that would wait throws the signal, where the closer's close,
     * reading the signal it left still pending, took it for one that never reached the coroutine and undid it (the
     * receive waited its 5 seconds, and the closer's join returned with the coroutine still parked in it).
     */
    @Test
    @Timeout(10)
    void aCoroutineWhoseAwaitedFuturesToStringClosesItsCloserStaysClosingAndItsFinallyCannotWait() {
        @SuppressWarnings("unchecked")
        SignalTextTest.Looking<String>[] f = new SignalTextTest.Looking[1];
        VirtualTime.run(() -> {
            Coroutine[] closer = new Coroutine[1];
            Channel<String> ch = new Channel<>("ch", 0);
            f[0] = new SignalTextTest.Looking<>(new ArrayList<>(), () -> closer[0].close());
            Coroutine c = Coroutine.create("awaiter", logSignal(() -> {
                try {
                    Coroutine.await(f[0]);
                } finally {
                    try {
                        log.add("finally received " + ch.tryReceive(Duration.ofSeconds(5)));
                    } catch (CoroutineExit e) {
                        log.add("finally: " + e.getMessage());
                    }
                }
            }));
            Coroutine.yield(); // it parks in its await
            closer[0] = Coroutine.create("closer", logSignal(c::close));
            closer[0].join();
            assertThat(c.state()).isEqualTo(State.CLOSED);
            assertThat(closer[0].state()).isEqualTo(State.CLOSED);
        });
        assertThat(log).containsExactly(signal("closer", "close"),
                "finally: " + signal("awaiter", "tryReceive from channel 'ch'"),
                signal("awaiter", "await " + SignalTextTest.Looking.class.getName() + "@"
                        + Integer.toHexString(System.identityHashCode(f[0])) + " (its toString() threw dev.coro.CoroutineExit)"));
    }

    /** A pool's {@code closeNow()} closes its parked bodies' coroutines the same way. */
    @Test
    @Timeout(10)
    void theSignalOfAPoolBodyEndedByCloseNowNamesItsCall() {
        CompletableFuture<Void> parked = new CompletableFuture<>();
        CoroutinePool pool = CoroutinePool.start(1);
        pool.execute("consumer", logSignal(() -> {
            Channel<String> jobs = new Channel<>("jobs", 0);
            parked.complete(null);
            jobs.receive();
        }));
        Coroutine.await(parked);
        Coroutine.withTimeout(PoolsClosed.GUARD, pool::closeNow);
        assertThat(log).containsExactly(signal("consumer", "receive from channel 'jobs'"));
    }
}
