package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import dev.coro.management.CoroutinesManagement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A JMX dump answered by a thread that waits in its event loop, whose text of a wait calls coro (an awaited
 * future's {@code toString()} that yields or asks for the current coroutine): no context of that thread runs,
 * so the call is refused, naming the thread, and the dump names the future by its class and what its text
 * threw; the thread's contexts run on as if never dumped. Before, a yield there moved the parked context
 * that idled as if it ran, and switched to another: the thread never woke it again, and the dump was lost.
 */
@ExtendWith(FreshThread.class)
class JmxDumpWhoseWaitTextCallsCoroTest {

    /** A future whose text runs {@code call} (a call of coro), recording what it threw, and throws it on. */
    static final class Calling<T> extends CompletableFuture<T> {
        final List<Throwable> thrown = Collections.synchronizedList(new ArrayList<>());
        Runnable call = () -> { };

        @Override
        public String toString() {
            try {
                call.run();
            } catch (RuntimeException e) {
                thrown.add(e);
                throw e;
            }
            return "a calling future";
        }
    }

    /** The refusal of a call of coro in a dump's text on the idle thread {@code owner} (RefusedSwitchInIdleDumpKeepsPostOrderTest's too). */
    static String refusal(Thread owner) {
        return "thread '" + owner.getName() + "' (#" + owner.threadId() + ") cannot use coroutines in the text of a dump it"
                + " makes for another thread while it waits in its event loop: no context of it runs to yield, park or be"
                + " named (an awaited future's toString() calls coro)";
    }

    /**
     * Thread 'idler': coroutine 'awaiter' awaits {@code f}, coroutine 'other' awaits {@code g}, and main awaits
     * a release, so the thread idles and answers the JMX dump made meanwhile; {@code prepare} runs first on that
     * thread. Returns that dump's section of the
     * thread, the refusal expected there, and what the thread did (each context's end last), once it has ended.
     */
    static Object[] dumpWhileIdle(Calling<String> f, CompletableFuture<Void> g, Runnable prepare) throws Exception {
        return dumpWhileIdle(f, g, prepare, false);
    }

    /**
     * {@link #dumpWhileIdle(Calling, CompletableFuture, Runnable)}; if {@code endABody}, a coroutine that main
     * creates as it parks runs and ends before the dump, so that the thread idles after a body's end, none current.
     */
    private static Object[] dumpWhileIdle(Calling<String> f, CompletableFuture<Void> g, Runnable prepare, boolean endABody)
            throws Exception {
        CompletableFuture<Coroutine> ended = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        CountDownLatch parked = new CountDownLatch(1);
        List<String> did = Collections.synchronizedList(new ArrayList<>());
        Thread owner = Thread.ofPlatform().name("idler").start(() -> {
            prepare.run();
            Coroutine awaiter = Coroutine.create("awaiter", () -> did.add("awaiter got " + Coroutine.await(f)));
            awaiter.switchTo();
            Coroutine other = Coroutine.create("other", () -> {
                Coroutine.await(g);
                did.add("other woke as " + Coroutine.current());
            });
            other.switchTo();
            parked.countDown();
            if (endABody) {
                // runs once main parks, and ends with every other context parked: the thread idles, none current
                ended.complete(Coroutine.create("ender", () -> { }));
            }
            Coroutine.await(release);
            did.add("main released");
            f.complete("done");
            g.complete(null);
            awaiter.join();
            other.join();
            did.add("ended: " + awaiter.state() + ", " + other.state());
        });
        String dump;
        try {
            parked.await();
            Scheduler s = Monitoring.live().stream().filter(x -> x.owner == owner).findFirst().orElseThrow();
            while (s.main.state() != State.PARKED || endABody && !(ended.isDone() && ended.join().context.state() == State.FINISHED)) {
                Thread.onSpinWait();
            }
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            release.complete(null);
            owner.join();
        }
        return new Object[] {CoroutinesMXBeanTest.section(dump, "idler"), refusal(owner), List.copyOf(did)};
    }

    /**
     * Checks what {@link #dumpWhileIdle} gave: the dump's section of the thread, the awaiter of {@code f} named
     * by the future's class, the refusal {@code f}'s text met, and that every context ran on to its end.
     */
    static void assertAnsweredAndRanOn(Object[] got, Calling<String> f) {
        assertThat((String) got[0]).startsWith("thread 'idler': 3 contexts, current index 0\n"
                + "  [0] main: PARKED (current), waits to await java.util.concurrent.CompletableFuture@")
                .contains("  [1] coroutine 'awaiter': PARKED, waits to await " + f.getClass().getName() + "@"
                        + Integer.toHexString(System.identityHashCode(f)) + " (its toString() threw java.lang.IllegalStateException)\n")
                .contains("  [2] coroutine 'other': ");
        assertThat(f.thrown).hasSize(1);
        assertThat(f.thrown.get(0)).isExactlyInstanceOf(IllegalStateException.class).hasMessage((String) got[1]);
        @SuppressWarnings("unchecked")
        List<String> did = (List<String>) got[2];
        assertThat(did).containsExactlyInAnyOrder("main released", "awaiter got done", "other woke as Coroutine[other, RUNNING]",
                "ended: FINISHED, FINISHED");
        assertThat(did.get(3)).isEqualTo("ended: FINISHED, FINISHED");
    }

    /**
     * The text wakes coroutine 'other' and yields: the yield is refused (it had switched to 'other' from main's
     * idle wait, main left suspended for good, the thread hung and the dump was lost), and every context runs on.
     */
    @Test
    @Timeout(30)
    void aYieldInTheTextOfAJmxDumpOfAnIdleThreadIsRefusedAndTheThreadRunsOn() throws Exception {
        Calling<String> f = new Calling<>();
        CompletableFuture<Void> g = new CompletableFuture<>();
        f.call = () -> {
            g.complete(null);
            Coroutine.yield();
        };
        assertAnsweredAndRanOn(dumpWhileIdle(f, g, () -> { }), f);
    }

    /** The text asks for the current coroutine: refused, since none of the thread runs (main is parked). */
    @Test
    @Timeout(30)
    void askingForTheCurrentCoroutineInTheTextOfAJmxDumpOfAnIdleThreadIsRefused() throws Exception {
        Calling<String> f = new Calling<>();
        f.call = Coroutine::current;
        assertAnsweredAndRanOn(dumpWhileIdle(f, new CompletableFuture<>(), () -> { }), f);
    }

    /**
     * The text sends to a channel of the thread, where nobody receives: the send would park main, parked already,
     * on the owner thread, which reaches the scheduler through the channel without looking it up; refused all
     * the same (main was left parked twice over, and the thread hung).
     */
    @Test
    @Timeout(30)
    void aSendThatWouldParkInTheTextOfAJmxDumpOfAnIdleThreadIsRefused() throws Exception {
        List<Channel<Integer>> made = new ArrayList<>();
        Calling<String> f = new Calling<>();
        f.call = () -> made.get(0).send(1);
        assertAnsweredAndRanOn(dumpWhileIdle(f, new CompletableFuture<>(), () -> made.add(new Channel<>("unread", 0))), f);
    }

    /**
     * The thread idles after a body ended, none of its contexts current (the index held is the ended body's): the
     * text's {@code Coroutine.current()} is refused, where it had named whichever context held that index.
     */
    @Test
    @Timeout(30)
    void askingForTheCurrentCoroutineInTheTextOfAJmxDumpOfAThreadIdlingAfterABodyEndedIsRefused() throws Exception {
        Calling<String> f = new Calling<>();
        f.call = Coroutine::current;
        Object[] got = dumpWhileIdle(f, new CompletableFuture<>(), () -> { }, true);
        assertThat((String) got[0]).startsWith("thread 'idler': 3 contexts, none current (the thread waits in its event"
                + " loop after a body ended)\n  [0] main: PARKED, waits to await java.util.concurrent.CompletableFuture@")
                .contains("  [1] coroutine 'awaiter': PARKED, waits to await " + f.getClass().getName() + "@"
                        + Integer.toHexString(System.identityHashCode(f)) + " (its toString() threw java.lang.IllegalStateException)\n");
        assertThat(f.thrown).hasSize(1);
        assertThat(f.thrown.get(0)).isExactlyInstanceOf(IllegalStateException.class).hasMessage((String) got[1]);
        @SuppressWarnings("unchecked")
        List<String> did = (List<String>) got[2];
        assertThat(did).containsExactlyInAnyOrder("main released", "awaiter got done", "other woke as Coroutine[other, RUNNING]",
                "ended: FINISHED, FINISHED");
    }

    /**
     * The text closes coroutine 'victim', parked on the thread: the close, which would run it and switch away from
     * main, parked already, as if main ran (main moved from PARKED to SUSPENDED), is refused before it does
     * anything; the victim stays parked and every other context runs on.
     */
    @Test
    @Timeout(30)
    void aCloseOfAParkedCoroutineInTheTextOfAJmxDumpOfAnIdleThreadIsRefused() throws Exception {
        List<Coroutine> made = new ArrayList<>();
        Calling<String> f = new Calling<>();
        f.call = () -> made.get(0).close();
        Object[] got = dumpWhileIdle(f, new CompletableFuture<>(), () -> {
            Coroutine victim = Coroutine.create("victim", () -> Coroutine.await(new CompletableFuture<Void>()));
            victim.switchTo();
            made.add(victim);
        });
        assertThat((String) got[0]).startsWith("thread 'idler': 4 contexts, current index 0\n"
                + "  [0] main: PARKED (current), waits to await java.util.concurrent.CompletableFuture@")
                .contains("  [1] coroutine 'victim': PARKED, waits to await java.util.concurrent.CompletableFuture@")
                .contains("  [2] coroutine 'awaiter': PARKED, waits to await " + f.getClass().getName() + "@"
                        + Integer.toHexString(System.identityHashCode(f)) + " (its toString() threw java.lang.IllegalStateException)\n");
        assertThat(f.thrown).hasSize(1);
        assertThat(f.thrown.get(0)).isExactlyInstanceOf(IllegalStateException.class).hasMessage((String) got[1]);
        @SuppressWarnings("unchecked")
        List<String> did = (List<String>) got[2];
        assertThat(did).containsExactlyInAnyOrder("main released", "awaiter got done", "other woke as Coroutine[other, RUNNING]",
                "ended: FINISHED, FINISHED");
    }
}
