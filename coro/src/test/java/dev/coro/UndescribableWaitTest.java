package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import dev.coro.management.CoroutinesManagement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait whose description fails, because the user's object it names (an awaited future) throws
 * from its {@code toString()}, as each observer shows it: the dumps and the park event name the
 * object's class and what it threw, and no observer throws into the program; nor do the errors and
 * signals that name a wait (a deadlock, a refused {@code switchTo}, an expired {@code withTimeout}),
 * which name a wait that cannot say what it is by its kind, as the dumps do.
 */
@ExtendWith(FreshThread.class)
class UndescribableWaitTest {

    /** A future whose {@code toString()} throws. */
    static final class Unprintable<T> extends CompletableFuture<T> {
        @Override
        public String toString() {
            throw new IllegalStateException("no text for this future");
        }
    }

    private static final String UNPRINTABLE = Unprintable.class.getName();

    /** A wait of the library whose description throws: what a user's object in a wait could make of it. */
    static final class Undescribable implements Wait {
        @Override
        public boolean interrupt() {
            return true;
        }

        @Override
        public String reason() {
            return "channel";
        }

        @Override
        public String toString() {
            throw new IllegalStateException("no text for this wait");
        }
    }

    /** How the errors name an {@link Undescribable} wait: its kind, and what its description threw. */
    private static final String KIND_ONLY = "channel (its description threw java.lang.IllegalStateException)";

    @Test
    void aDeadlockNamesTheWaitsThatCannotSayWhatTheyAreByTheirKind() {
        Coroutine parked = Coroutine.create("parked", () -> Scheduler.current().park(new Undescribable()));
        parked.switchTo();
        Throwable thrown = catchThrowable(() -> Scheduler.current().park(new Undescribable()));
        assertThat(thrown).isInstanceOf(DeadlockException.class)
                .hasMessageStartingWith("main context 'main' cannot " + KIND_ONLY + ": every other context of thread ");
        assertThat(((DeadlockException) thrown).waits()).containsExactly(
                "main context 'main' would wait to " + KIND_ONLY,
                "coroutine 'parked' waits to " + KIND_ONLY);
        parked.close();
        assertThat(parked.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void aSwitchToACoroutineParkedOnAWaitThatCannotSayWhatItIsNamesTheWaitByItsKind() {
        Coroutine parked = Coroutine.create("parked", () -> Scheduler.current().park(new Undescribable()));
        parked.switchTo();
        assertThat(catchThrowable(parked::switchTo)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot switchTo coroutine 'parked' (PARKED): it waits to " + KIND_ONLY
                        + "; only what it waits for can wake it");
        parked.close();
    }

    @Test
    void aSwitchToACoroutineAwaitingAFutureThatCannotSayWhatItIsNamesTheFutureByItsClass() {
        Unprintable<String> f = new Unprintable<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
        awaiter.switchTo();
        assertThat(catchThrowable(awaiter::switchTo)).isInstanceOf(IllegalStateException.class)
                .message().matches("main context 'main' cannot switchTo coroutine 'awaiter' \\(PARKED\\): it waits to"
                        + " await " + UNPRINTABLE.replace("$", "\\$") + "@[0-9a-f]+ \\(its toString\\(\\) threw"
                        + " java.lang.IllegalStateException\\); only what it waits for can wake it");
        f.complete("done");
        Coroutine.yield();
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aWithTimeoutThatExpiresOverAWaitThatCannotSayWhatItIsTimesOutAndItsSignalNamesTheWaitByItsKind() {
        Throwable[] thrown = new Throwable[1];
        VirtualTime.run(() -> thrown[0] = catchThrowable(() -> Coroutine.withTimeout(Duration.ofMillis(5), () -> {
            Scheduler.current().park(new Undescribable()); // a timer is pending: no deadlock, the clock jumps to it
            return null;
        })));
        assertThat(thrown[0]).isInstanceOf(CoroutineTimeoutException.class)
                .hasMessage("main context 'main' timed out: withTimeout(PT0.005S) expired before its body returned");
        assertThat(thrown[0].getCause()).isInstanceOf(CoroutineExit.class)
                .hasMessage("main context 'main': its withTimeout(PT0.005S) expired; its " + KIND_ONLY
                        + " throws this signal so that the body unwinds to it");
    }

    @Test
    void theDumpNamesTheClassOfAnAwaitedFutureThatCannotSayWhatItIsAndWhatItThrew() {
        Unprintable<String> f = new Unprintable<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
        Coroutine selector = Coroutine.create("selector", () -> new Select<String>().onComplete(f, v -> v).select());
        awaiter.switchTo();
        selector.switchTo();
        String dump = Coroutine.dump();
        f.complete("done");
        Coroutine.yield();
        Coroutine.yield();
        assertThat(dump).containsPattern("\\[1] coroutine 'awaiter': PARKED, waits to await " + UNPRINTABLE.replace("$", "\\$")
                + "@[0-9a-f]+ \\(its toString\\(\\) threw java.lang.IllegalStateException\\)\n");
        assertThat(dump).containsPattern("\\[2] coroutine 'selector': PARKED, waits to select over completion of "
                + UNPRINTABLE.replace("$", "\\$") + "@[0-9a-f]+ \\(its toString\\(\\) threw java.lang.IllegalStateException\\)\n");
        assertThat(List.of(awaiter.state(), selector.state())).containsExactly(State.FINISHED, State.FINISHED);
    }

    @Test
    void aRecordedParkOnAFutureThatCannotSayWhatItIsEndsAsItWouldUnrecorded() throws Exception {
        Object[] got = new Object[1];
        List<RecordedEvent> parks = JfrEventsTest.record(r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
            Unprintable<String> f = new Unprintable<>();
            Coroutine.create("completer", () -> f.complete("done")); // runs once main parks in await
            try {
                got[0] = Coroutine.await(f);
            } catch (RuntimeException e) {
                got[0] = e;
            }
        }, "dev.coro.Park");
        assertThat(got[0]).as("what await returned").isEqualTo("done");
        assertThat(parks).extracting(e -> e.getString("coroutine") + " / " + e.getString("reason")).containsExactly("main / thread");
        assertThat(parks.get(0).getString("waitsFor")).startsWith("await " + UNPRINTABLE + "@")
                .endsWith(" (its toString() threw java.lang.IllegalStateException)");
    }

    @Test
    void aJmxDumpOfAThreadWhoseCoroutineAwaitsAFutureThatCannotSayWhatItIsThrowsNothingIntoThatThread() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        CountDownLatch parked = new CountDownLatch(1);
        AtomicReference<Throwable> ownerGot = new AtomicReference<>();
        Unprintable<String> f = new Unprintable<>();
        Thread owner = Thread.ofPlatform().name("unprintable-owner").start(() -> {
            Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
            awaiter.switchTo();
            parked.countDown();
            try {
                Coroutine.await(release); // main parks too: the thread is idle, and the dump's request wakes it
            } catch (RuntimeException e) {
                ownerGot.set(e);
            }
            f.complete("done");
            Coroutine.yield();
        });
        String dump;
        try {
            parked.await();
            Scheduler s = Monitoring.live().stream().filter(x -> x.owner == owner).findFirst().orElseThrow();
            while (s.main.state() != State.PARKED) {
                Thread.onSpinWait();
            }
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            release.complete(null);
            owner.join();
        }
        assertThat(ownerGot.get()).as("what the owner's await threw").isNull();
        assertThat(CoroutinesMXBeanTest.section(dump, "unprintable-owner"))
                .startsWith("thread 'unprintable-owner': 2 contexts, current index 0\n"
                        + "  [0] main: PARKED (current), waits to await java.util.concurrent.CompletableFuture@")
                .containsPattern("\\[1] coroutine 'awaiter': PARKED, waits to await " + UNPRINTABLE.replace("$", "\\$")
                        + "@[0-9a-f]+ \\(its toString\\(\\) threw java.lang.IllegalStateException\\)\n");
    }

    /** A future whose {@code toString()} throws an error, not an exception. */
    static final class UnprintableByError<T> extends CompletableFuture<T> {
        @Override
        public String toString() {
            throw new AssertionError("no text for this future");
        }
    }

    @Test
    void aFutureWhoseTextThrowsAnErrorIsNamedByItsClassInTheDumpAndInAJmxDumpAndThrowsIntoNoThread() {
        UnprintableByError<String> f = new UnprintableByError<>();
        Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
        awaiter.switchTo();
        String dump = Coroutine.dump();
        AtomicReference<String> jmx = new AtomicReference<>();
        AtomicReference<Throwable> dumperGot = new AtomicReference<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().name("dumper").start(() -> {
            try {
                jmx.set(CoroutinesManagement.mxBean().dump(5));
            } catch (Throwable t) {
                dumperGot.set(t);
            } finally {
                done.complete(null);
            }
        });
        Coroutine.await(done); // main idles in its event loop, which runs the dump's request
        f.complete("done");
        Coroutine.yield();
        String named = "waits to await " + UnprintableByError.class.getName().replace("$", "\\$")
                + "@[0-9a-f]+ \\(its toString\\(\\) threw java.lang.AssertionError\\)\n";
        assertThat(dump).containsPattern("\\[1] coroutine 'awaiter': PARKED, " + named);
        assertThat(dumperGot.get()).isNull();
        assertThat(jmx.get()).containsPattern("coroutine 'awaiter': PARKED, " + named);
        assertThat(awaiter.state()).isEqualTo(State.FINISHED);
    }
}
