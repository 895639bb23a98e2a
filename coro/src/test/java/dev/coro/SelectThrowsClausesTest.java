package dev.coro;

import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code @throws} clauses of {@link Select} that no other test triggered: an {@code onSend} or an
 * {@code onComplete} added while a run waits, or after it was woken and before its context ran again, and
 * a {@code selectUnbiased()} refused where {@code select()} is (a run of the select in another context not
 * over, a run from a thread other than the one the select belongs to); each refused with the caller, the
 * call and the state named in full, as its sibling's refusal is, and nothing taken, sent or left behind.
 */
@ExtendWith(FreshThread.class)
class SelectThrowsClausesTest {

    private final List<String> log = new ArrayList<>();

    /**
     * While a run waits in a coroutine, an {@code onSend} and an {@code onComplete} are refused as an
     * {@code onReceive} is, naming the caller, the clause and the waiting context with its state. The
     * refusal comes before anything is made of the clause: a stage that is not a plain future, which a
     * clause asks for its future (and a thread keeps that future), is asked nothing, and the channel of the
     * refused send holds nothing.
     * The waiting run is unharmed: the value sent to it afterwards fires its clause.
     */
    @Test
    @Timeout(10)
    void onSendAndOnCompleteAddedWhileARunWaitsAreRefusedNamingTheWaitingContextAndLeaveNothingBehind() {
        Channel<Integer> in = new Channel<>("in", 0);
        Channel<String> out = new Channel<>("out", 1);
        Select<String> sel = new Select<String>().onReceive(in, v -> "got " + v);
        Coroutine waiter = Coroutine.create("waiter", () -> log.add("waiter " + sel.select()));
        waiter.switchTo();
        assertThat(waiter.state()).isEqualTo(Coroutine.State.PARKED);
        AtomicInteger asked = new AtomicInteger();
        CompletableFuture<String> stage = new CompletableFuture<>() {
            @Override
            public CompletableFuture<String> toCompletableFuture() {
                asked.incrementAndGet();
                return super.toCompletableFuture();
            }
        };
        String waiting = " clause to a select: it is waiting in coroutine 'waiter' (state PARKED); add clauses before or"
                + " between its runs";

        assertThat(catchThrowable(() -> sel.onSend(out, "late", () -> "sent"))).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot add an onSend" + waiting);
        assertThat(catchThrowable(() -> sel.onComplete(stage, v -> "completed " + v)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot add an onComplete" + waiting);

        assertThat(asked.get()).as("calls of the refused clause's toCompletableFuture()").isZero();
        assertThat(stage.getNumberOfDependents()).as("callbacks left on the refused clause's stage").isZero();
        assertThat(out.size()).as("values in the refused send's channel").isZero();
        assertThat(sel).hasToString("Select[receive from channel 'in']");
        in.send(7);
        Coroutine.yield();
        assertThat(waiter.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(log).containsExactly("waiter got 7");
    }

    /**
     * A run woken from its wait is not over until its context has run again and taken the outcome: an
     * {@code onSend}, an {@code onComplete} and a {@code selectUnbiased()} meanwhile are refused, saying
     * that the run is not over rather than that it still waits, as {@code select()} and {@code onTimeout}
     * are; the woken context then takes the value its clause was handed.
     */
    @Test
    @Timeout(10)
    void onSendOnCompleteAndSelectUnbiasedWhileAWokenRunIsNotOverAreRefusedSayingSo() {
        Channel<Integer> in = new Channel<>("in", 0);
        Channel<String> out = new Channel<>("out", 1);
        Select<String> sel = new Select<String>().onReceive(in, v -> "got " + v);
        Coroutine waiter = Coroutine.create("waiter", () -> log.add("waiter " + sel.select()));
        waiter.switchTo();
        in.send(1); // its clause fires: the waiter is woken, and has not run since
        assertThat(waiter.state()).isEqualTo(Coroutine.State.SUSPENDED);
        String notOver = "run in coroutine 'waiter' (state SUSPENDED) is not over: its wait has ended, and that context"
                + " takes the outcome when it runs again; ";

        assertThat(catchThrowable(() -> sel.onSend(out, "late", () -> "sent"))).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot add an onSend clause to a select: its " + notOver
                        + "add clauses before or between its runs");
        assertThat(catchThrowable(() -> sel.onComplete(new CompletableFuture<String>(), v -> "completed " + v)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot add an onComplete clause to a select: its " + notOver
                        + "add clauses before or between its runs");
        assertThat(catchThrowable(sel::selectUnbiased)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot select over receive from channel 'in': this select's " + notOver
                        + "a select waits in one context at a time, so give each context its own");

        assertThat(out.size()).as("values in the refused send's channel").isZero();
        Coroutine.yield();
        assertThat(waiter.state()).isEqualTo(Coroutine.State.FINISHED);
        assertThat(log).containsExactly("waiter got 1");
    }

    /**
     * A {@code selectUnbiased()} while a run of the same select waits in another context is refused as
     * {@code select()} is, naming the caller, the wait and the context it waits in; it takes nothing (a
     * sender ready for the select stays for the waiting run), and the waiting run is unharmed.
     */
    @Test
    @Timeout(10)
    void selectUnbiasedWhileARunWaitsInAnotherContextIsRefusedNamingThatContextAndTakesNothing() {
        Channel<Integer> in = new Channel<>("in", 0);
        Select<String> sel = new Select<String>().onReceive(in, v -> "got " + v);
        Coroutine waiter = Coroutine.create("waiter", () -> log.add("waiter " + sel.selectUnbiased()));
        waiter.switchTo();
        assertThat(waiter.state()).isEqualTo(Coroutine.State.PARKED);

        assertThat(catchThrowable(sel::selectUnbiased)).isInstanceOf(IllegalStateException.class)
                .hasMessage("main context 'main' cannot select over receive from channel 'in': this select is waiting"
                        + " already, in coroutine 'waiter' (state PARKED); a select waits in one context at a time, so give"
                        + " each context its own");

        in.send(2);
        Coroutine.yield();
        assertThat(log).containsExactly("waiter got 2");
        assertThat(in.tryReceive()).as("left in the channel").isEmpty();
    }

    /**
     * A select with a channel clause belongs to the thread that ran it first: a {@code selectUnbiased()}
     * from another thread is refused as a {@code select()} is, naming the caller with its thread, the wait
     * and the thread it belongs to, and takes nothing; on its own thread it runs on.
     */
    @Test
    @Timeout(10)
    void selectUnbiasedFromAnotherThreadThanTheOneTheSelectBelongsToIsRefusedNamingBothThreads() throws InterruptedException {
        Channel<String> mine = new Channel<>("mine", 2);
        mine.send("x");
        Select<String> sel = new Select<String>().onReceive(mine, v -> "got " + v).onDefault(() -> "default");
        assertThat(sel.selectUnbiased()).isEqualTo("got x");
        mine.send("y");

        Throwable refused = OtherThread.thrownOn("intruder", sel::selectUnbiased);

        assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageMatching("thread 'intruder' \\(#\\d+\\)"
                + " cannot select over receive from channel 'mine': this select belongs to thread " + Pattern.quote(thread())
                + " \\(which ran it first\\); a select with a channel clause runs on one thread, so give each thread its own");
        assertThat(mine.tryReceive()).as("untouched by the refused run").contains("y");
        assertThat(sel.selectUnbiased()).as("on its own thread it runs again").isEqualTo("default");
    }
}
