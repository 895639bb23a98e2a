package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code switchTo} or {@code yield} refused in the text of a dump that a thread makes for another while it waits in
 * its event loop is refused before it runs anything: the operations other threads posted to that thread meanwhile
 * run after the ones posted before them, which the thread took with the dump's request and runs once the dump is
 * made. Before, the refused call ran the newer posts first, out of the order they were made in.
 */
@ExtendWith(FreshThread.class)
class RefusedSwitchInIdleDumpKeepsPostOrderTest {

    /** A future whose text, the first time it is asked, runs {@code call} once another post has come, and records what it threw. */
    static final class Calling extends CompletableFuture<Void> {
        final List<Throwable> thrown = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch inText = new CountDownLatch(1);
        final AtomicBoolean asked = new AtomicBoolean();
        volatile Scheduler scheduler;
        volatile Runnable call = () -> { };

        @Override
        public String toString() {
            if (asked.compareAndSet(false, true)) {
                inText.countDown();
                while (scheduler.loop.inbox.isEmpty()) { // the newer post comes: the test posts it once told
                    Thread.onSpinWait();
                }
                try {
                    call.run();
                } catch (RuntimeException e) {
                    thrown.add(e);
                    throw e;
                }
            }
            return "a calling future";
        }
    }

    /**
     * Thread 'idler' parks main on {@code waited} with a dump's request and then the post "first" pending, so that
     * one drain takes both; the text of {@code waited}, in the dump, runs {@code call} (given the thread's other
     * coroutine, 'other', never run) once "second" is posted. Returns the order in which the posts ran.
     */
    private static List<String> postsRunAround(Calling waited, Consumer<Coroutine> call, String[] dump) throws Exception {
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Scheduler> made = new CompletableFuture<>();
        CountDownLatch hold = new CountDownLatch(1);
        Thread owner = Thread.ofPlatform().name("idler").start(() -> {
            Coroutine other = Coroutine.create("other", () -> { });
            waited.call = () -> call.accept(other);
            made.complete(Scheduler.current());
            try {
                hold.await(); // no scheduling point: the posts wait in the inbox
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            Coroutine.await(waited);
            other.switchTo();
        });
        try {
            Scheduler s = made.join();
            waited.scheduler = s;
            CompletableFuture<String> answer = new CompletableFuture<>();
            MonitorSupport.DumpRequest.ask(s, answer, 5);
            s.loop.post(() -> ran.add("first"));
            hold.countDown();
            waited.inText.await();
            s.loop.post(() -> ran.add("second"));
            dump[0] = answer.join();
        } finally {
            waited.complete(null);
            owner.join();
        }
        return List.copyOf(ran);
    }

    /**
     * The posts ran in the order they were made, the call in the text was refused naming the thread, and the dump
     * names the future by its class and what its text threw.
     */
    private static void assertRefusedInOrder(Calling waited, List<String> ran, String dump) {
        assertThat(ran).containsExactly("first", "second");
        assertThat(waited.thrown).hasSize(1);
        assertThat(waited.thrown.get(0)).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessage(JmxDumpWhoseWaitTextCallsCoroTest.refusal(waited.scheduler.owner));
        assertThat(dump).startsWith("thread 'idler': 2 contexts, current index 0\n  [0] main: PARKED (current), waits to await "
                + waited.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(waited))
                + " (its toString() threw java.lang.IllegalStateException)\n");
    }

    /** A switchTo reaches the scheduler through the coroutine, without a look-up: refused all the same, before any post. */
    @Test
    @Timeout(30)
    void aSwitchToRefusedInTheTextOfADumpOfAnIdleThreadRunsNoPostBeforeThoseTakenWithTheDump() throws Exception {
        Calling waited = new Calling();
        String[] dump = new String[1];
        List<String> ran = postsRunAround(waited, Coroutine::switchTo, dump);
        assertRefusedInOrder(waited, ran, dump[0]);
    }

    /** A yield, which finds its scheduler by looking it up, is refused by that look-up, before it runs anything too. */
    @Test
    @Timeout(30)
    void aYieldRefusedInTheTextOfADumpOfAnIdleThreadRunsNoPostBeforeThoseTakenWithTheDump() throws Exception {
        Calling waited = new Calling();
        String[] dump = new String[1];
        List<String> ran = postsRunAround(waited, other -> Coroutine.yield(), dump);
        assertRefusedInOrder(waited, ran, dump[0]);
    }
}
