package dev.coro;

import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A coroutine belongs to the thread that created it: other threads get an exception naming both threads. */
@ExtendWith(FreshThread.class)
class ThreadConfinementTest {

    @Test
    void switchToFromAnotherThreadNamesTheCoroutineItsStateAndBothThreads() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        Thread.Builder other = Thread.ofPlatform().name("intruder");

        Throwable e = OtherThread.thrownOn(other, c::switchTo);

        assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessageMatching("thread 'intruder' \\(#\\d+\\) cannot switchTo coroutine 'worker' \\(NEW\\)"
                        + ": it belongs to thread " + java.util.regex.Pattern.quote(thread()));
        assertThat(c.state()).isEqualTo(Coroutine.State.NEW);
    }

    @Test
    void everyCheckedCallFromAnotherThreadThrowsAndNamesTheOperation() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        List<String> messages = new ArrayList<>();
        for (Consumer<Coroutine> call : List.<Consumer<Coroutine>>of(
                Coroutine::switchTo, Coroutine::close, Coroutine::isFinished, Coroutine::state, Coroutine::stackTrace)) {
            messages.add(OtherThread.thrownOn(Thread.ofPlatform(), () -> call.accept(c)).getMessage());
        }
        assertThat(messages).satisfiesExactly(
                m -> assertThat(m).contains(" cannot switchTo coroutine 'worker' (NEW): it belongs to thread"),
                m -> assertThat(m).contains(" cannot close coroutine 'worker' (NEW): it belongs to thread"),
                m -> assertThat(m).contains(" cannot ask isFinished() of coroutine 'worker' (NEW): it belongs to thread"),
                m -> assertThat(m).contains(" cannot read the state of coroutine 'worker' (NEW): it belongs to thread"),
                m -> assertThat(m).contains(" cannot take the stack trace of coroutine 'worker' (NEW): it belongs to thread"));
        assertThat(c.state()).isEqualTo(Coroutine.State.NEW);
    }

    @Test
    void aVirtualThreadIsNamedAsVirtual() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        Throwable e = OtherThread.thrownOn(Thread.ofVirtual().name("fiber"), c::close);
        assertThat(e).hasMessageMatching("thread 'fiber' \\(#\\d+, virtual\\) cannot close coroutine 'worker' \\(NEW\\)"
                + ": it belongs to thread .*");
    }

    @Test
    @Timeout(10)
    void aRefusalToAContextOfAnotherThreadNamesThatContextAsTheCaller() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        String owner = thread();
        List<String> messages = new ArrayList<>();
        Throwable e = OtherThread.thrownOn("intruder", () -> {
            String intruder = thread();
            Coroutine.create("caller", () -> {
                for (Runnable call : List.<Runnable>of(c::switchTo, c::close, c::isFinished, c::state, c::stackTrace)) {
                    try {
                        call.run();
                        messages.add("no refusal");
                    } catch (IllegalStateException refused) {
                        messages.add(refused.getMessage().replace(intruder, "<intruder>"));
                    }
                }
            }).switchTo();
            try {
                c.switchTo();
            } catch (IllegalStateException refused) {
                messages.add(refused.getMessage().replace(intruder, "<intruder>"));
            }
        });
        assertThat(e).isNull();
        String it = ": it belongs to thread " + owner;
        assertThat(messages).containsExactly(
                "coroutine 'caller' of thread <intruder> cannot switchTo coroutine 'worker' (NEW)" + it,
                "coroutine 'caller' of thread <intruder> cannot close coroutine 'worker' (NEW)" + it,
                "coroutine 'caller' of thread <intruder> cannot ask isFinished() of coroutine 'worker' (NEW)" + it,
                "coroutine 'caller' of thread <intruder> cannot read the state of coroutine 'worker' (NEW)" + it,
                "coroutine 'caller' of thread <intruder> cannot take the stack trace of coroutine 'worker' (NEW)" + it,
                "main context 'main' of thread <intruder> cannot switchTo coroutine 'worker' (NEW)" + it);
        assertThat(c.state()).isEqualTo(Coroutine.State.NEW);
    }

    /**
     * A coroutine kept after its thread ended can never be used again: its refusal says that the
     * thread has ended, as a channel's and a connection's do.
     */
    @Test
    @Timeout(10)
    void aRefusalOfACoroutineWhoseThreadEndedSaysSo() throws InterruptedException {
        AtomicReference<Coroutine> kept = new AtomicReference<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> kept.set(Coroutine.create("left", () -> { })));
        maker.join();
        Coroutine c = kept.get();
        Coroutine.current(); // the caller's scheduler, so that it is named as its main context
        List<String> messages = new ArrayList<>();
        for (Runnable call : List.<Runnable>of(c::switchTo, c::close, c::isFinished, c::state, c::stackTrace)) {
            try {
                call.run();
                messages.add("no refusal");
            } catch (IllegalStateException e) {
                messages.add(e.getMessage());
            }
        }
        String it = " (NEW): it belongs to thread 'maker' (#" + maker.threadId() + "), which has ended";
        String caller = "main context 'main' of thread " + thread();
        assertThat(messages).containsExactly(
                caller + " cannot switchTo coroutine 'left'" + it,
                caller + " cannot close coroutine 'left'" + it,
                caller + " cannot ask isFinished() of coroutine 'left'" + it,
                caller + " cannot read the state of coroutine 'left'" + it,
                caller + " cannot take the stack trace of coroutine 'left'" + it);
    }

    /**
     * A thread that has no scheduler is named as a thread (thread 'plain' (#N)) by every refusal, and
     * none is made for a message: those of a channel's iterator and a timed call with a negative timeout
     * had made it one, and named it as its main context, though a coroutine's refusal named it as a
     * thread; and that of a select that belongs to another thread, and of one that has no clause. (A select over
     * another thread's channel is no refusal: it selects.)
     */
    @Test
    @Timeout(10)
    void aThreadWithoutASchedulerIsNamedAsAThreadByEveryRefusalAndNoneIsMadeForTheMessage() throws InterruptedException {
        Channel<Integer> ch = new Channel<>("jobs", 1);
        Iterator<Integer> mine = ch.iterator();
        Coroutine c = Coroutine.create("worker", () -> { });
        Select<Integer> bound = new Select<Integer>().onReceive(ch, v -> v).onDefault(() -> 0);
        assertThat(bound.select()).isZero(); // it belongs to this thread from now on
        String it = " (open)";
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(c::switchTo, mine::hasNext,
                () -> ch.trySend(1, java.time.Duration.ofMillis(-1)),
                () -> ch.tryReceive(java.time.Duration.ofMillis(-1)), bound::select, new Select<Integer>()::selectUnbiased));
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        assertThat(messages).containsExactly(
                caller + " cannot switchTo coroutine 'worker' (NEW): it belongs to thread " + thread(),
                caller + " cannot iterate over channel 'jobs'" + it + " through an iterator of thread " + thread()
                        + ": an iterator belongs to the thread that called iterator(); call it on this thread for one of its own",
                caller + " cannot trySend to channel 'jobs'" + it + " with timeout PT-0.001S: a timeout must be zero or positive",
                caller + " cannot tryReceive from channel 'jobs'" + it + " with timeout PT-0.001S: a timeout must be zero or positive",
                caller + " cannot select over receive from channel 'jobs': this select belongs to thread " + thread()
                        + " (which ran it first); a select with a channel clause runs on one thread, so give each thread its own",
                caller + " cannot select: the select has no clause, so it would wait forever");
    }

    /**
     * A select without a channel clause belongs to no thread, but waits in one context at a time: a run from a thread
     * without a scheduler while it waits in a coroutine of this thread is refused naming that thread as a thread, and
     * the refusal makes it no scheduler, as every refusal (it had made one, and named the thread as its main context);
     * so is a clause added from there. The waiting run goes on, and fires when its stage completes.
     */
    @Test
    @Timeout(10)
    void aSelectWaitingInACoroutineOfAnotherThreadIsRefusedToAThreadWithoutASchedulerWhichItNamesAsAThread() throws InterruptedException {
        CompletableFuture<Integer> stage = new CompletableFuture<>();
        Select<String> select = new Select<String>().onComplete(stage, v -> "completed with " + v);
        List<String> fired = new ArrayList<>();
        Coroutine waiter = Coroutine.create("waiter", () -> fired.add(select.select()));
        Coroutine.yield();
        assertThat(waiter.state()).isEqualTo(Coroutine.State.PARKED);
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(select::select, select::selectUnbiased,
                () -> select.onDefault(() -> "default")));
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        String waiting = ": this select is waiting already, in coroutine 'waiter' of thread " + thread() + " (state PARKED);"
                + " a select waits in one context at a time, so give each context its own";
        assertThat(messages).containsExactly(
                caller + " cannot select over completion of " + stage + waiting,
                caller + " cannot select over completion of " + stage + waiting,
                caller + " cannot add an onDefault clause to a select: it is waiting in coroutine 'waiter' of thread " + thread()
                        + " (state PARKED); add clauses before or between its runs");
        stage.complete(7);
        waiter.join();
        assertThat(fired).containsExactly("completed with 7");
    }

    /**
     * A bad argument to a call of the thread's own, refused on a thread without a scheduler, names that thread as
     * the caller, and the refusal makes it no scheduler, as every refusal: a negative timeout of each
     * {@code withTimeout} call, a dump of a negative count, a read-ahead of no value (a default name the one the
     * thread's first generator would get). Each had made the thread a scheduler, and named it as its main context.
     */
    @Test
    void aNegativeTimeoutDumpCountOrReadAheadRefusedOnAThreadWithoutASchedulerNamesTheThreadAndMakesNone() throws InterruptedException {
        java.time.Duration minus = java.time.Duration.ofMillis(-1);
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(() -> Coroutine.withTimeout(minus, () -> 1),
                () -> Coroutine.withTimeout(minus, () -> { }), () -> Coroutine.tryWithTimeout(minus, () -> 1),
                () -> Coroutine.tryWithTimeout(minus, () -> { }), () -> Coroutine.callWithTimeout(minus, () -> 1),
                () -> Coroutine.tryCallWithTimeout(minus, () -> 1), () -> Coroutine.dump(-1),
                () -> Generator.buffered(0, out -> out.emit(1)), () -> Generator.buffered("g", -1, out -> out.emit(1))));
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        String negative = " with timeout PT-0.001S: a timeout must be zero or positive";
        assertThat(messages).containsExactly(
                caller + " cannot withTimeout" + negative,
                caller + " cannot withTimeout" + negative,
                caller + " cannot tryWithTimeout" + negative,
                caller + " cannot tryWithTimeout" + negative,
                caller + " cannot withTimeout" + negative,
                caller + " cannot tryWithTimeout" + negative,
                caller + " cannot dump -1 contexts: the count must be 0 or more",
                caller + " cannot make generator 'generator-1' buffered with n = 0: it must be able to run ahead by at least 1 value (n >= 1)",
                caller + " cannot make generator 'g' buffered with n = -1: it must be able to run ahead by at least 1 value (n >= 1)");
    }

    /**
     * An {@code Io.await} of a closed channel, refused on a thread without a scheduler with the JDK's
     * {@code ClosedChannelException}, names that thread as the caller and makes it no scheduler, as every refusal (it
     * had made one, and named the thread as its main context).
     */
    @Test
    void anAwaitOfAClosedChannelRefusedOnAThreadWithoutASchedulerNamesTheThreadAndMakesNone() throws Exception {
        java.nio.channels.SocketChannel closed = java.nio.channels.SocketChannel.open();
        closed.close();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        List<Boolean> scheduler = new ArrayList<>();
        Thread plain = Thread.ofPlatform().name("plain").start(() -> {
            try {
                dev.coro.net.Io.await(closed, java.nio.channels.SelectionKey.OP_READ);
            } catch (Throwable e) {
                thrown.set(e);
            }
            scheduler.add(Scheduler.currentOrNull() != null);
        });
        plain.join();
        assertThat(thrown.get()).isInstanceOf(java.nio.channels.ClosedChannelException.class)
                .hasMessage("thread 'plain' (#" + plain.threadId() + ") cannot await OP_READ on " + closed
                        + " (closed): a closed channel is never ready");
        assertThat(scheduler).as("the refusal made the thread no scheduler").containsExactly(false);
    }

    /**
     * A channel of a negative capacity or a semaphore of no permit, refused on a thread without a scheduler, names
     * that thread as the caller, and the refusal makes it no scheduler, as every other refusal; a default name is
     * the one the thread's first would get.
     */
    @Test
    void aChannelOrSemaphoreRefusedOnAThreadWithoutASchedulerNamesTheThreadAndMakesNone() throws InterruptedException {
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(() -> new Channel<Integer>("jobs", -1),
                () -> new Channel<Integer>(null, -2), () -> new Semaphore("db", 0), () -> new Semaphore(null, -1)));
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        assertThat(messages).containsExactly(
                caller + " cannot create channel 'jobs' with capacity -1: the capacity must be 0 (rendezvous) or more",
                caller + " cannot create channel 'channel-1' with capacity -2: the capacity must be 0 (rendezvous) or more",
                caller + " cannot create semaphore 'db' with 0 permits: it needs 1 or more",
                caller + " cannot create semaphore 'semaphore-1' with -1 permits: it needs 1 or more");
    }

    /**
     * A receive, and each try call, on a channel of another thread closed and drained, called on a thread without a
     * scheduler, is answered there as the channel's thread would answer it (a receive refused naming that thread as
     * the caller, a try call sending or taking nothing), and makes the thread no scheduler, as a send refused there
     * makes none: each had made it one (and posted the call to the channel's thread, which may be blocked outside
     * coro, to learn what any thread can read), and the receive named it as its main context. So on a channel that
     * other threads share already, whose calls run in place.
     */
    @Test
    @Timeout(10)
    void anOperationOnAnotherThreadsClosedChannelRefusedOnAThreadWithoutASchedulerNamesTheThreadAndMakesNone()
            throws InterruptedException {
        for (boolean shared : new boolean[] {false, true}) {
            Channel<Integer> ch = new Channel<>("jobs", 1);
            if (shared) {
                CompletableFuture<Boolean> sent = new CompletableFuture<>(); // awaited: this thread runs the post that shares it
                Thread.ofPlatform().name("sharer").start(() -> sent.completeAsync(() -> ch.trySend(5), Runnable::run));
                assertThat(Coroutine.await(sent)).isTrue();
                assertThat(ch.receive()).isEqualTo(5);
            }
            ch.close();
            List<Object> answers = new ArrayList<>();
            List<String> messages = new ArrayList<>();
            java.time.Duration brief = java.time.Duration.ofSeconds(1);
            Thread plain = refusalsOnAPlainThread(messages, List.of(() -> ch.send(1), ch::receive,
                    () -> answers.add(ch.trySend(1)), () -> answers.add(ch.trySend(1, brief)),
                    () -> answers.add(ch.tryReceive()), () -> answers.add(ch.tryReceive(brief))), true);
            String caller = "thread 'plain' (#" + plain.threadId() + ")";
            assertThat(messages).as(shared ? "shared" : "not shared").containsExactly(
                    caller + " cannot send to channel 'jobs' (closed): a closed channel takes no more values, and the value"
                            + " was not delivered",
                    caller + " cannot receive from channel 'jobs' (closed): no value is left in it, and none can come",
                    "no refusal", "no refusal", "no refusal", "no refusal");
            assertThat(answers).containsExactly(false, false, java.util.Optional.empty(), java.util.Optional.empty());
        }
    }

    /**
     * A call on a channel, or a semaphore, whose thread has ended leaving it open, refused on a thread without a
     * scheduler (nothing left in the buffer to take, nothing to wait for), names that thread as the caller and makes
     * it no scheduler, as every refusal: each had made it one, and named it as its main context.
     */
    @Test
    @Timeout(10)
    void aCallOnAChannelWhoseThreadEndedRefusedOnAThreadWithoutASchedulerNamesTheThreadAndMakesNone() throws InterruptedException {
        AtomicReference<Channel<Integer>> left = new AtomicReference<>();
        AtomicReference<Semaphore> leftSemaphore = new AtomicReference<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> {
            left.set(new Channel<>("jobs", 1));
            Semaphore s = new Semaphore("db", 1);
            s.acquire();
            leftSemaphore.set(s);
        });
        maker.join();
        Channel<Integer> ch = left.get();
        Semaphore db = leftSemaphore.get();
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(() -> ch.send(1), ch::receive, () -> ch.trySend(2),
                ch::tryReceive, db::acquire), true);
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        String ended = "it belongs to thread 'maker' (#" + maker.threadId() + "), which has ended";
        assertThat(messages).containsExactly(
                caller + " cannot send to channel 'jobs' (open): " + ended,
                caller + " cannot receive from channel 'jobs' (open): " + ended,
                caller + " cannot trySend to channel 'jobs' (open): " + ended,
                caller + " cannot tryReceive from channel 'jobs' (open): " + ended,
                caller + " cannot acquire a permit of Semaphore[db, 0 of 1 permits free]: " + ended);
    }

    /**
     * A select whose clause on a channel whose thread has ended leaving it open (nothing left in it, for a receive) fails
     * the run as the operation would, run on a thread without a scheduler, is refused naming that thread as the caller,
     * as the operation is, and makes it none: in a run that may wait (the clause found ended as the run would start to
     * wait on it, the first such in the run's order) as in one that never waits (the clause tried, in its place in the
     * order, as that thread's try call would be), biased or not. A clause before it that takes a value left in such a
     * channel fires instead, as the run does (it is an exchange, and makes the thread a scheduler).
     */
    @Test
    @Timeout(10)
    void aSelectOverAChannelWhoseThreadEndedRefusedOnAThreadWithoutASchedulerNamesTheThreadAndMakesNone()
            throws InterruptedException {
        AtomicReference<Channel<Integer>> left = new AtomicReference<>();
        AtomicReference<Channel<Integer>> withAValue = new AtomicReference<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> {
            left.set(new Channel<>("jobs", 1));
            Channel<Integer> full = new Channel<>("full", 1);
            full.send(7);
            withAValue.set(full);
        });
        maker.join();
        Channel<Integer> ch = left.get();
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(() -> new Select<String>().onReceive(ch, v -> "got").select(),
                () -> new Select<String>().onSend(ch, 1, () -> "sent").onTimeout(java.time.Duration.ofSeconds(1), () -> "timed out")
                        .selectUnbiased(),
                () -> new Select<String>().onReceive(ch, v -> "got").onDefault(() -> "default").select(),
                () -> new Select<String>().onSend(ch, 2, () -> "sent").onSend(ch, 3, () -> "sent").onDefault(() -> "default")
                        .selectUnbiased()), true);
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        String ended = " channel 'jobs' (open): it belongs to thread 'maker' (#" + maker.threadId() + "), which has ended";
        assertThat(messages).containsExactly(caller + " cannot select a receive from" + ended,
                caller + " cannot select a send to" + ended, caller + " cannot select a receive from" + ended,
                caller + " cannot select a send to" + ended);

        CompletableFuture<String> took = new CompletableFuture<>();
        Thread.ofPlatform().name("taker").start(() -> took.complete(new Select<String>()
                .onReceive(withAValue.get(), v -> "took " + v).onReceive(ch, v -> "got " + v).select()
                + (Scheduler.currentOrNull() != null ? " (a scheduler made)" : " (none made)")));
        assertThat(Coroutine.await(took)).isEqualTo("took 7 (a scheduler made)");
    }

    /**
     * A value left in a channel whose thread ended leaving it open, taken on a thread without a scheduler (a receive, a
     * try call, a loop), is an exchange with another thread, as every value taken from another thread's channel is
     * (docs/THREADS.md): the first one makes the thread its scheduler, marked as connected for its life, as a value taken
     * in place from a shared channel of a thread that lives does. Once none is left, the loop is refused naming the
     * thread's main context, as every refusal names the caller in a thread that has one.
     */
    @Test
    @Timeout(10)
    void aValueLeftInAChannelWhoseThreadEndedTakenOnAThreadWithoutASchedulerIsAnExchangeThatMakesIt() throws Exception {
        AtomicReference<Channel<Integer>> left = new AtomicReference<>();
        Thread maker = Thread.ofPlatform().name("maker").start(() -> {
            Channel<Integer> ch = new Channel<>("jobs", 3);
            ch.send(1);
            ch.send(2);
            ch.send(3);
            left.set(ch);
        });
        maker.join();
        Channel<Integer> ch = left.get();
        List<Object> seen = new ArrayList<>();
        Thread plain = Thread.ofPlatform().name("plain").start(() -> {
            seen.add(ch.receive());
            Scheduler made = Scheduler.currentOrNull();
            seen.add(made != null && made.connected ? "a connected scheduler made" : "no connected scheduler");
            seen.add(ch.tryReceive());
            try {
                for (Integer v : ch) {
                    seen.add(v);
                }
            } catch (IllegalStateException e) {
                seen.add(e.getMessage());
            }
        });
        plain.join();
        assertThat(seen).containsExactly(1, "a connected scheduler made", java.util.Optional.of(2), 3, "main context 'main' of"
                + " thread 'plain' (#" + plain.threadId() + ") cannot iterate over channel 'jobs' (open): it belongs to thread"
                + " 'maker' (#" + maker.threadId() + "), which has ended");
    }

    /**
     * A select whose clause on a channel of another thread, closed (and drained, for a receive), is the one that fires,
     * run on a thread without a scheduler, is refused naming that thread as the caller, as the send and the receive
     * are, and the refusal makes it no scheduler, nor binds the select to it: the select, run on its channel's thread
     * then, is refused there as its own. Each had made the thread a scheduler, and named it as its main context.
     */
    @Test
    @Timeout(10)
    void aSelectOverAnotherThreadsClosedChannelRefusedOnAThreadWithoutASchedulerNamesTheThreadAndMakesNone()
            throws InterruptedException {
        Channel<Integer> ch = new Channel<>("jobs", 1);
        ch.close();
        Select<String> receive = new Select<String>().onReceive(ch, v -> "received " + v);
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(receive::select, receive::selectUnbiased,
                () -> new Select<String>().onSend(ch, 1, () -> "sent").select(),
                () -> new Select<String>().onReceive(ch, v -> "received").onDefault(() -> "default").select(),
                () -> new Select<String>().onTimeout(java.time.Duration.ofSeconds(1), () -> "timed out")
                        .onSend(ch, 2, () -> "sent").select()), true);
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        String none = " cannot select onReceive from channel 'jobs' (closed): no value is left in it, and none can come;"
                + " leave the clause out to go on";
        String sent = " to channel 'jobs' (closed): a closed channel takes no more values, and the value was not delivered;"
                + " leave the clause out to go on";
        assertThat(messages).containsExactly(caller + none, caller + none, caller + " cannot select onSend(1)" + sent,
                caller + none, caller + " cannot select onSend(2)" + sent);
        assertThatThrownBy(receive::select).isInstanceOf(ChannelClosedException.class).hasMessage("main context 'main'" + none);
    }

    /**
     * A select run on a thread without a scheduler whose outcome is a refusal known in place makes it none, whatever its
     * other clauses: several clauses on closed channels of another thread (a biased run refuses the first; an unbiased
     * one the first in the order a scheduler made now would try them in, its random from the seed), an open clause
     * that is not ready before the closed one (on a channel not shared yet, and on a shared one), and an
     * {@code onDefault} beside closed clauses (a closed channel's clause is ready, so the default does not fire). Each
     * had made the thread a scheduler, and named it as its main context. A run that must ask the channel's thread
     * first (an open clause on a channel not shared yet, before the closed one, in a run that never waits) still
     * makes one, to wait for the answer.
     */
    @Test
    @Timeout(10)
    void aSelectRefusedInPlaceOnAThreadWithoutASchedulerMakesNoneWhateverItsOtherClauses() throws Exception {
        Channel<Integer> a = new Channel<>("a", 1);
        Channel<Integer> b = new Channel<>("b", 1);
        Channel<Integer> c = new Channel<>("c", 1);
        Channel<Integer> sharedIdle = new Channel<>("shared", 1);
        share(a, b, c, sharedIdle);
        a.close();
        b.close();
        c.close();
        Channel<Integer> idle = new Channel<>("idle", 1); // open, empty, no other thread has used it
        java.util.function.Supplier<Select<String>> several = () -> new Select<String>().onReceive(a, v -> "a " + v)
                .onSend(b, 1, () -> "b").onReceive(c, v -> "c " + v).onSend(c, 9, () -> "c");
        java.util.function.Supplier<Select<String>> twoAndDefault = () -> new Select<String>().onReceive(a, v -> "a " + v)
                .onReceive(c, v -> "c " + v).onDefault(() -> "default");
        List<String> messages = new ArrayList<>();
        Thread plain = refusalsOnAPlainThread(messages, List.of(() -> several.get().select(),
                () -> several.get().selectUnbiased(),
                () -> new Select<String>().onReceive(idle, v -> "idle").onReceive(sharedIdle, v -> "shared")
                        .onSend(b, 2, () -> "b").select(),
                () -> new Select<String>().onReceive(sharedIdle, v -> "shared").onReceive(idle, v -> "idle")
                        .onSend(b, 3, () -> "b").selectUnbiased(),
                () -> new Select<String>().onSend(b, 4, () -> "b").onReceive(a, v -> "a").onDefault(() -> "default").select(),
                () -> new Select<String>().onReceive(sharedIdle, v -> "shared").onReceive(a, v -> "a")
                        .onDefault(() -> "default").select(),
                () -> twoAndDefault.get().selectUnbiased()), true);
        String caller = "thread 'plain' (#" + plain.threadId() + ")";
        String none = " (closed): no value is left in it, and none can come; leave the clause out to go on";
        String sent = " to channel 'b' (closed): a closed channel takes no more values, and the value was not delivered;"
                + " leave the clause out to go on";
        assertThat(messages).containsExactly(caller + " cannot select onReceive from channel 'a'" + none,
                caller + afterTheCaller(refusalWithASchedulerMadeNow(several)),
                caller + " cannot select onSend(2)" + sent, caller + " cannot select onSend(3)" + sent,
                caller + " cannot select onSend(4)" + sent, caller + " cannot select onReceive from channel 'a'" + none,
                caller + afterTheCaller(refusalWithASchedulerMadeNow(twoAndDefault)));

        Channel<Integer> unshared = new Channel<>("unshared", 1);
        CompletableFuture<String> asked = new CompletableFuture<>();
        Thread.ofPlatform().name("asker").start(() -> {
            try {
                new Select<String>().onReceive(unshared, v -> "unshared").onReceive(a, v -> "a").onDefault(() -> "default").select();
                asked.complete("no refusal");
            } catch (ChannelClosedException e) {
                asked.complete(e.getMessage() + (Scheduler.currentOrNull() != null ? " (a scheduler made)" : " (none made)"));
            }
        });
        assertThat(Coroutine.await(asked)).endsWith(" cannot select onReceive from channel 'a'" + none + " (a scheduler made)");
    }

    /** The message of the unbiased run of {@code select}'s select on a new thread whose scheduler is made just before. */
    private static String refusalWithASchedulerMadeNow(java.util.function.Supplier<Select<String>> select) throws Exception {
        CompletableFuture<String> refusal = new CompletableFuture<>();
        Thread.ofPlatform().name("reference").start(() -> {
            Scheduler.current();
            try {
                refusal.complete("no refusal: " + select.get().selectUnbiased());
            } catch (RuntimeException e) {
                refusal.complete(e.getMessage());
            }
        });
        return refusal.get(5, TimeUnit.SECONDS);
    }

    /** {@code message} from its {@code  cannot } on: what it says after naming the caller. */
    private static String afterTheCaller(String message) {
        return message.substring(message.indexOf(" cannot "));
    }

    /** Shares each of {@code channels}, of this thread: another thread's first call (a trySend) taken, and its value received. */
    @SafeVarargs
    private static void share(Channel<Integer>... channels) {
        for (Channel<Integer> ch : channels) {
            CompletableFuture<Boolean> sent = new CompletableFuture<>(); // awaited: this thread runs the post that shares it
            Thread.ofPlatform().name("sharer").start(() -> sent.completeAsync(() -> ch.trySend(5), Runnable::run));
            assertThat(Coroutine.await(sent)).isTrue();
            assertThat(ch.receive()).isEqualTo(5);
        }
    }

    /**
     * A {@code for} loop, a {@code forEach}, a stream and an iterator's calls over a channel of another thread, closed and
     * drained, on a thread without a scheduler end there, as a receive is answered there, and make it none; on a channel
     * closed with a cause, {@code hasNext()} is refused naming the thread, and {@code next()} past the end too. Each had
     * made the thread a scheduler (the iterator was made for its contexts), and asked the channel's thread what any thread
     * can read. An iterator made there still belongs to that thread: another thread's call is refused naming both.
     */
    @Test
    @Timeout(10)
    void anIterationOverAnotherThreadsClosedChannelOnAThreadWithoutASchedulerEndsThereAndMakesNone() throws Exception {
        for (boolean shared : new boolean[] {false, true}) {
            Channel<Integer> ch = new Channel<>("jobs", 1);
            Channel<Integer> failed = new Channel<>("failed", 1);
            if (shared) {
                share(ch, failed);
            }
            ch.close();
            failed.close(new java.io.IOException("disk gone"));
            List<Object> answers = new ArrayList<>();
            AtomicReference<Iterator<Integer>> made = new AtomicReference<>();
            List<String> messages = new ArrayList<>();
            Thread plain = refusalsOnAPlainThread(messages, List.of(() -> {
                for (Integer v : ch) {
                    answers.add(v);
                }
            }, () -> ch.forEach(answers::add), () -> answers.add(java.util.stream.StreamSupport.stream(ch.spliterator(), false).count()),
                    () -> {
                        made.set(ch.iterator());
                        answers.add(made.get().hasNext());
                    }, () -> {
                        try {
                            ch.iterator().next();
                        } catch (java.util.NoSuchElementException e) {
                            answers.add(e.getMessage());
                        }
                    }, () -> failed.iterator().hasNext()), true);
            String caller = "thread 'plain' (#" + plain.threadId() + ")";
            assertThat(messages).as(shared ? "shared" : "not shared").containsExactly("no refusal", "no refusal", "no refusal",
                    "no refusal", "no refusal", caller + " cannot iterate over channel 'failed' (closed): no value is left in it,"
                            + " and none can come");
            assertThat(answers).containsExactly(0L, false,
                    caller + " cannot take the next value of channel 'jobs' (closed): no value is left in it, and none can come");
            assertThatThrownBy(made.get()::hasNext).isInstanceOf(IllegalStateException.class).hasMessage("main context 'main'"
                    + " cannot iterate over channel 'jobs' (closed) through an iterator of thread 'plain' (#" + plain.threadId()
                    + "), which has ended: an iterator belongs to the thread that called iterator(); call it on this thread for"
                    + " one of its own");
        }
    }

    /**
     * Runs each of {@code calls} on a new platform thread named {@code plain}, which has no scheduler, adding the
     * message of its refusal ({@code IllegalStateException} or {@code IllegalArgumentException}) to {@code messages},
     * or {@code no refusal}; checks that no refusal made the thread a scheduler.
     *
     * @return the thread, ended
     */
    private static Thread refusalsOnAPlainThread(List<String> messages, List<Runnable> calls) throws InterruptedException {
        return refusalsOnAPlainThread(messages, calls, false);
    }

    /**
     * {@link #refusalsOnAPlainThread(List, List)}; with {@code serve}, this thread waits for that one at a scheduling
     * point (its coroutines may run meanwhile), so that it runs what a call may post to it: a call that posts, to learn
     * what it could learn in place, fails the check instead of waiting for ever.
     */
    private static Thread refusalsOnAPlainThread(List<String> messages, List<Runnable> calls, boolean serve)
            throws InterruptedException {
        List<Boolean> schedulers = new ArrayList<>();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        Thread plain = Thread.ofPlatform().name("plain").unstarted(() -> {
            try {
                for (Runnable call : calls) {
                    try {
                        call.run();
                        messages.add("no refusal");
                    } catch (IllegalStateException | IllegalArgumentException e) {
                        messages.add(e.getMessage());
                    }
                    schedulers.add(Scheduler.currentOrNull() != null);
                }
            } finally {
                ended.complete(null);
            }
        });
        plain.start();
        if (serve) {
            Coroutine.await(ended);
        }
        plain.join();
        assertThat(schedulers).as("no refusal made the thread a scheduler").hasSize(calls.size()).containsOnly(false);
        return plain;
    }

    @Test
    void nameAndToStringMayBeReadFromAnyThread() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        AtomicReference<String> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn(Thread.ofPlatform(), () -> seen.set(c.name() + " " + c + " " + c.isMain()))).isNull();
        assertThat(seen.get()).isEqualTo("worker Coroutine[worker, NEW] false");
    }

    @Test
    void eachThreadHasItsOwnRunListAndMain() throws InterruptedException {
        Coroutine mine = Coroutine.create("mine", () -> { });
        Coroutine myMain = Coroutine.current();
        AtomicReference<String> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn(Thread.ofPlatform(), () -> {
            Coroutine theirs = Coroutine.create(() -> { });
            seen.set(Coroutine.current().isMain() + " " + (Coroutine.current() != myMain) + " " + theirs.name()
                    + " " + Coroutine.currentId());
        })).isNull();
        assertThat(seen.get()).isEqualTo("true true coroutine-1 0");
        assertThat(mine.name()).isEqualTo("mine");
        assertThat(myMain.isMain()).isTrue();
        assertThat(mine.isMain()).isFalse();
    }

    @Test
    void aThreadBoundToAnotherThreadsSchedulerPassesItsOwnerCheck() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        Scheduler s = Scheduler.current();
        AtomicReference<Coroutine.State> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn(Thread.ofPlatform(), () -> {
            assertThat(Scheduler.currentOrNull()).isNull();
            Scheduler.bind(s);
            assertThat(Scheduler.currentOrNull()).isSameAs(s);
            seen.set(c.state());
        })).isNull();
        assertThat(seen.get()).isEqualTo(Coroutine.State.NEW);
    }

    /**
     * A pool of one worker that erases its thread locals between two tasks, as the common pool's workers
     * do; one that starts no other worker while its worker waits (so that every task runs on that one)
     * and keeps it however long it is idle.
     */
    private static ForkJoinPool erasingPoolOfOneWorker() {
        return new ForkJoinPool(1, pool -> new ForkJoinWorkerThread(null, pool, false) { }, null, false,
                1, 1, 0, pool -> true, 1, TimeUnit.HOURS);
    }

    /** Waits until {@code worker} of {@code pool} has gone idle, which it does only once it has erased its thread locals. */
    private static void awaitIdle(Thread worker, ForkJoinPool pool) {
        for (int i = 0; LockSupport.getBlocker(worker) != pool; i++) {
            assertThat(i).as("the worker goes idle").isLessThan(100_000_000);
            Thread.onSpinWait();
        }
    }

    /**
     * A worker of a {@code ForkJoinPool} may have its thread locals erased between two of its tasks (the
     * common pool's always are): its scheduler is still its own, with the coroutine the first task left
     * suspended in it, so the second task's yield runs that coroutine, which is still current in its own body.
     */
    @Test
    @Timeout(20)
    void aForkJoinWorkerWhoseThreadLocalsWereErasedBetweenTwoTasksKeepsItsRunList() {
        ForkJoinPool erasing = erasingPoolOfOneWorker();
        try {
            List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
            ThreadLocal<String> marker = new ThreadLocal<>();
            Thread worker = CompletableFuture.supplyAsync(() -> {
                marker.set("set by the first task");
                Coroutine.create("left", () -> {
                    log.add("left runs as " + Coroutine.current().name());
                    Coroutine.yield();
                    log.add("left resumed as " + Coroutine.current().name());
                });
                Coroutine.yield(); // left runs and suspends at its yield
                return Thread.currentThread();
            }, erasing).join();
            awaitIdle(worker, erasing);
            CompletableFuture.runAsync(() -> {
                log.add("second task on the same worker " + (Thread.currentThread() == worker)
                        + ", its thread locals erased " + (marker.get() == null));
                Coroutine.yield(); // runs left, the last created coroutine of the thread
                log.add("second task back in " + Coroutine.current().name());
            }, erasing).join();
            assertThat(log).containsExactly("left runs as left", "second task on the same worker true, its thread locals erased true",
                    "left resumed as left", "second task back in main");
        } finally {
            erasing.shutdownNow();
        }
    }

    /**
     * The library keeps a worker's scheduler for as long as the worker lives (its thread locals may be
     * erased), as every thread keeps its own; once the worker has ended (its pool shut down), its
     * scheduler, and the coroutines its tasks left, go as those of any ended thread do. They were kept
     * until another thread of the JVM made its scheduler, for ever in a program that makes none any
     * more; now a read of the JMX view (or a sample of the blocked-loop detector) drops them too.
     */
    @Test
    @Timeout(20)
    void theSchedulerOfAForkJoinWorkerThatEndedIsDroppedByTheNextReadOfTheJmxView() throws Exception {
        List<java.lang.ref.WeakReference<Object>> left = new ArrayList<>();
        Thread worker = anEndedWorkerLeaving(left);
        long id = worker.threadId();
        assertThat(dev.coro.management.CoroutinesManagement.mxBean().getSchedulers())
                .noneMatch(row -> row.threadId() == id);
        assertThat(Collected.all(left)).as("the ended worker's scheduler and its coroutine are collected").isTrue();
    }

    /**
     * {@link #theSchedulerOfAForkJoinWorkerThatEndedIsDroppedByTheNextReadOfTheJmxView}, dropped instead by the
     * next scheduler another thread makes, with no read of the JMX view.
     */
    @Test
    @Timeout(20)
    void theSchedulerOfAForkJoinWorkerThatEndedIsDroppedOnceAnotherThreadMakesItsScheduler() throws Exception {
        List<java.lang.ref.WeakReference<Object>> left = new ArrayList<>();
        anEndedWorkerLeaving(left);
        assertThat(OtherThread.thrownOn(Thread.ofPlatform(), () -> Coroutine.create("elsewhere", () -> { }))).isNull();
        assertThat(Collected.all(left)).as("the ended worker's scheduler and its coroutine are collected").isTrue();
    }

    /**
     * The worker of a pool of one, ended (its pool shut down) after a task of its left a coroutine suspended: its
     * scheduler and that coroutine are added to {@code left}, weakly.
     */
    private static Thread anEndedWorkerLeaving(List<java.lang.ref.WeakReference<Object>> left) throws InterruptedException {
        ForkJoinPool pool = new ForkJoinPool(1);
        Thread worker;
        try {
            worker = CompletableFuture.supplyAsync(() -> {
                Coroutine c = Coroutine.create("left", Coroutine::yield);
                c.switchTo(); // suspended in its yield: the worker ends with it unfinished
                left.add(new java.lang.ref.WeakReference<>(Scheduler.current()));
                left.add(new java.lang.ref.WeakReference<>(c));
                return Thread.currentThread();
            }, pool).join();
        } finally {
            pool.shutdown();
        }
        worker.join();
        return worker;
    }

    /**
     * A generator holds its scheduler weakly (a generator kept after its thread ended must not keep the
     * scheduler): a worker whose thread locals were erased still holds its scheduler for as long as it
     * lives, as every thread does, so a generator one task left suspended gives the next task its values.
     */
    @Test // the suite's bound guards it: its check that the scheduler stays runs fifty collections, slow under load
    void aGeneratorATaskLeftOnAForkJoinWorkerGivesItsNextValueToTheNextTaskAfterItsThreadLocalsWereErased() {
        ForkJoinPool erasing = erasingPoolOfOneWorker();
        try {
            List<java.lang.ref.WeakReference<Scheduler>> scheduler = new ArrayList<>();
            List<Object> left = CompletableFuture.supplyAsync(() -> {
                Generator<Integer> g = Generator.of("g", out -> {
                    out.emit(1);
                    out.emit(2);
                });
                assertThat(g.next()).isEqualTo(1);
                scheduler.add(new java.lang.ref.WeakReference<>(Scheduler.current()));
                return List.<Object>of(g, Thread.currentThread());
            }, erasing).join();
            @SuppressWarnings("unchecked")
            Generator<Integer> g = (Generator<Integer>) left.get(0);
            Thread worker = (Thread) left.get(1);
            awaitIdle(worker, erasing);
            boolean collected = Collected.all(scheduler); // as it would be, if nothing held it but the generator
            String seen = CompletableFuture.supplyAsync(() -> (Thread.currentThread() == worker) + " " + g.next() + " "
                    + g.hasNext() + " " + g, erasing).join();
            assertThat(seen).isEqualTo("true 2 false Generator[g, FINISHED]");
            assertThat(collected).as("the scheduler of the worker, which lives").isFalse();
        } finally {
            erasing.shutdownNow();
        }
    }
}
