package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every public call of {@code dev.coro} made from the wrong place, one row each: from a thread other than the one
 * its object belongs to, on an object in a state that cannot take it, or with a bad argument. Each row is refused
 * with the exception its Javadoc promises, whose message names the caller, the call and the state (a null argument:
 * the parameter), and the refused call leaves nothing behind (no state changed, no value lost or taken, no waiter,
 * no timer). Messages are compared whole, a thread's number written {@code #N} and the test's own thread {@code T}.
 */
@ExtendWith(FreshThread.class)
@Timeout(30)
class WrongPlaceMatrixTest {

    /** A call made for a row; what it throws is the row's outcome. */
    @FunctionalInterface
    interface Call {
        void run() throws Throwable;
    }

    /** A row: sets up, makes the wrong call (with {@link #thrownBy}), checks what it left, and hands back what it threw. */
    @FunctionalInterface
    interface Row {
        Throwable run() throws Throwable;
    }

    private static Arguments row(String what, Class<? extends Throwable> type, String message, Row row) {
        return Arguments.of(what, type, message, row);
    }

    /** What {@code call} threw; a row whose call returns fails. */
    static Throwable thrownBy(Call call) {
        try {
            call.run();
        } catch (Throwable e) {
            return e;
        }
        return fail("the call was not refused");
    }

    /** What {@code call}, run on a new platform thread 'B', threw; null if it returned. */
    static Throwable onB(Call call) throws InterruptedException {
        return OtherThread.thrownOn("B", () -> {
            try {
                call.run();
            } catch (Throwable e) {
                throw new Wrapped(e);
            }
        }) instanceof Wrapped w ? w.getCause() : null;
    }

    /** Carries a call's throwable out of a {@code Runnable}. */
    private static final class Wrapped extends RuntimeException {
        Wrapped(Throwable cause) {
            super(cause);
        }
    }

    /** What {@code call} threw on thread 'B'; a call that returned there fails the row. */
    static Throwable thrownOnB(Call call) throws InterruptedException {
        Throwable t = onB(call);
        return t != null ? t : fail("the call from thread 'B' was not refused");
    }

    /** What {@code call} threw on thread 'B', which has no scheduler; a call that made it one there fails the row. */
    static Throwable thrownOnBMakingNoScheduler(Call call) throws InterruptedException {
        boolean[] made = new boolean[1];
        Throwable t = thrownOnB(() -> {
            try {
                call.run();
            } finally {
                made[0] = Scheduler.currentOrNull() != null;
            }
        });
        assertThat(made[0]).as("the refusal made thread 'B' no scheduler").isFalse();
        return t;
    }

    /** The message with every thread's number written {@code #N} and the calling thread's name {@code T}. */
    private static String normalized(String message) {
        return message.replaceAll("\\(#\\d+\\)", "(#N)").replace("'" + Thread.currentThread().getName() + "'", "'T'");
    }

    private static void check(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        Throwable thrown = row.run();
        assertThat(thrown).as(what).isInstanceOf(type);
        assertThat(normalized(String.valueOf(thrown.getMessage()))).as(what).isEqualTo(message);
        Coroutine.yield(); // takes in what other threads posted meanwhile (a pool body's future completed), all ended by now
        assertThat(LoopProbe.hasPending()).as(what + ": no timer or wait left on the caller's thread").isFalse();
    }

    // ---- from a thread other than the owner's ------------------------------------------------------------------

    static Stream<Arguments> fromAnotherThread() {
        return Stream.of(
                coroutineRow("switchTo", "switchTo", Coroutine::switchTo),
                coroutineRow("close", "close", Coroutine::close),
                coroutineRow("join", "join", Coroutine::join),
                coroutineRow("state", "read the state of", Coroutine::state),
                coroutineRow("isFinished", "ask isFinished() of", Coroutine::isFinished),
                coroutineRow("stackTrace", "take the stack trace of", Coroutine::stackTrace),
                row("main's close", IllegalStateException.class,
                        "thread 'B' (#N) cannot close main context 'main' (RUNNING): it belongs to thread 'T' (#N)", () -> {
                            Coroutine main = Coroutine.current();
                            Throwable t = thrownOnB(main::close);
                            assertThat(main.state()).isEqualTo(Coroutine.State.RUNNING);
                            return t;
                        }),
                row("main's join", IllegalStateException.class,
                        "thread 'B' (#N) cannot join main context 'main' (RUNNING): it belongs to thread 'T' (#N)",
                        () -> thrownOnB(Coroutine.current()::join)),
                generatorRow("next", "take the next value of", "NEW", Generator::next),
                generatorRow("hasNext", "hasNext on", "NEW", Generator::hasNext),
                generatorRow("iterator", "iterate over", "NEW", Generator::iterator),
                generatorRow("stream", "stream", "NEW", Generator::stream),
                generatorRow("spliterator", "take a spliterator of", "NEW", Generator::spliterator),
                generatorRow("forEachRemaining", "forEachRemaining on", "NEW", g -> g.forEachRemaining(v -> { })),
                generatorRow("state", "read the state of", "NEW", Generator::state),
                generatorRow("close", "close", "NEW", Generator::close),
                row("generator's send", IllegalStateException.class,
                        "thread 'B' (#N) cannot send to generator 'g' (SUSPENDED): it belongs to thread 'T' (#N)", () -> {
                            Generator.TwoWay<Integer, Integer> g = Generator.twoWay("g", out -> out.emit(out.emit(1) + 1));
                            assertThat(g.next()).isEqualTo(1);
                            Throwable t = thrownOnB(() -> g.send(5));
                            assertThat(g.send(5)).as("the pending emit still takes its reply").isEqualTo(6);
                            return t;
                        }),
                row("emit", IllegalStateException.class,
                        "thread 'B' (#N) cannot emit from generator 'g' (SUSPENDED): it belongs to thread 'T' (#N)", () -> {
                            List<Generator.Emitter<Integer, Void>> emitter = new ArrayList<>();
                            Generator<Integer> g = Generator.of("g", out -> {
                                emitter.add(out);
                                out.emit(1);
                                out.emit(2);
                            });
                            assertThat(g.next()).isEqualTo(1);
                            Throwable t = thrownOnB(() -> emitter.get(0).emit(9));
                            assertThat(g.next()).as("nothing was emitted from B").isEqualTo(2);
                            return t;
                        }),
                row("a select with a channel clause run first here", IllegalStateException.class,
                        "thread 'B' (#N) cannot select over receive from channel 'x': this select belongs to thread 'T' (#N)"
                                + " (which ran it first); a select with a channel clause runs on one thread, so give each thread its own", () -> {
                            Channel<Integer> x = new Channel<>("x", 2);
                            x.send(1);
                            x.send(2);
                            Select<String> s = new Select<String>().onReceive(x, v -> "got " + v);
                            assertThat(s.select()).isEqualTo("got 1");
                            Throwable t = thrownOnB(s::select);
                            assertThat(x.size()).as("B took nothing").isEqualTo(1);
                            assertThat(s.select()).as("the select is still this thread's").isEqualTo("got 2");
                            return t;
                        }),
                row("a coroutine of an ended thread", IllegalStateException.class,
                        "thread 'T' (#N) cannot close coroutine 'c' (NEW): it belongs to thread 'X' (#N), which has ended", () -> {
                            List<Coroutine> made = new ArrayList<>();
                            Thread x = Thread.ofPlatform().name("X").start(() -> made.add(Coroutine.create("c", () -> { })));
                            x.join();
                            return thrownBy(made.get(0)::close);
                        }),
                row("a generator of an ended thread", IllegalStateException.class,
                        "thread 'T' (#N) cannot take the next value of generator 'g' (NEW): it belongs to thread 'X' (#N), which has ended", () -> {
                            List<Generator<Integer>> made = new ArrayList<>();
                            Thread x = Thread.ofPlatform().name("X").start(() -> made.add(Generator.of("g", out -> out.emit(1))));
                            x.join();
                            return thrownBy(made.get(0)::next);
                        }),
                row("a select on a thread without a scheduler, an open clause before its closed one", ChannelClosedException.class,
                        "thread 'B' (#N) cannot select onSend(1) to channel 'x' (closed): a closed channel takes no more values,"
                                + " and the value was not delivered; leave the clause out to go on", () -> {
                            Channel<Integer> open = new Channel<>("open", 0);
                            Channel<Integer> x = closedHolding();
                            Throwable t = thrownOnBMakingNoScheduler(() -> new Select<String>().onReceive(open, v -> "r")
                                    .onSend(x, 1, () -> "s").onTimeout(Duration.ofSeconds(1), () -> "t").selectUnbiased());
                            assertThat(open.trySend(2)).as("no receiver of the select left on the open channel").isFalse();
                            return t;
                        }),
                row("a loop on a thread without a scheduler over a channel closed with a cause", ChannelClosedException.class,
                        "thread 'B' (#N) cannot iterate over channel 'x' (closed): no value is left in it, and none can come", () -> {
                            Channel<Integer> x = new Channel<>("x", 1);
                            x.close(new IllegalStateException("the producer failed"));
                            return thrownOnBMakingNoScheduler(() -> x.forEach(v -> { }));
                        }),
                row("a select on a thread without a scheduler over a channel whose thread ended", IllegalStateException.class,
                        "thread 'B' (#N) cannot select a receive from channel 'e' (open): it belongs to thread 'X' (#N), which has"
                                + " ended", () -> {
                            List<Channel<Integer>> made = new ArrayList<>();
                            Thread x = Thread.ofPlatform().name("X").start(() -> made.add(new Channel<>("e", 1)));
                            x.join();
                            return thrownOnBMakingNoScheduler(() -> new Select<String>().onReceive(made.get(0), v -> "r").select());
                        }),
                row("a semaphore of an ended thread", IllegalStateException.class,
                        "main context 'main' of thread 'T' (#N) cannot acquire a permit of Semaphore[s, 1 of 1 permits free]:"
                                + " it belongs to thread 'X' (#N), which has ended", () -> {
                            List<Semaphore> made = new ArrayList<>();
                            Thread x = Thread.ofPlatform().name("X").start(() -> made.add(new Semaphore("s", 1)));
                            x.join();
                            Coroutine.current(); // the caller has a scheduler: it is named as main
                            Throwable t = thrownBy(made.get(0)::acquire);
                            assertThat(made.get(0).availablePermits()).isEqualTo(1);
                            return t;
                        }));
    }

    /** A call on a coroutine 'c' of this thread, still NEW, made from thread 'B': refused, 'c' left NEW. */
    private static Arguments coroutineRow(String what, String op, Consumer<Coroutine> call) {
        return row("coroutine's " + what, IllegalStateException.class,
                "thread 'B' (#N) cannot " + op + " coroutine 'c' (NEW): it belongs to thread 'T' (#N)", () -> {
                    List<String> ran = new ArrayList<>();
                    Coroutine c = Coroutine.create("c", () -> ran.add("c"));
                    Throwable t = thrownOnB(() -> call.accept(c));
                    assertThat(c.state()).as("left as it was").isEqualTo(Coroutine.State.NEW);
                    c.switchTo();
                    assertThat(ran).as("it still runs, once").containsExactly("c");
                    return t;
                });
    }

    /** A call on a generator 'g' of this thread made from thread 'B': refused, its one iteration and every value left. */
    private static Arguments generatorRow(String what, String op, String state, Consumer<Generator<Integer>> call) {
        return row("generator's " + what, IllegalStateException.class,
                "thread 'B' (#N) cannot " + op + " generator 'g' (" + state + "): it belongs to thread 'T' (#N)", () -> {
                    Generator<Integer> g = Generator.of("g", out -> {
                        out.emit(1);
                        out.emit(2);
                    });
                    Throwable t = thrownOnB(() -> call.accept(g));
                    assertThat(g.stream().toList()).as("every value, the one iteration left").containsExactly(1, 2);
                    return t;
                });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void fromAnotherThread(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        check(what, type, message, row);
    }

    // ---- in a state that cannot take the call ------------------------------------------------------------------

    static Stream<Arguments> inAWrongState() {
        return Stream.of(
                row("switchTo a finished coroutine", IllegalStateException.class,
                        "main context 'main' cannot switchTo coroutine 'c' (FINISHED): it has ended, its body having returned", () -> {
                            Coroutine c = Coroutine.create("c", () -> { });
                            c.switchTo();
                            return thrownBy(c::switchTo);
                        }),
                row("switchTo a failed coroutine", IllegalStateException.class,
                        "main context 'main' cannot switchTo coroutine 'c' (FAILED): it has ended, its body having thrown;"
                                + " its failure was delivered to its creator, main context 'main'", () -> {
                            Coroutine c = Coroutine.create("c", () -> {
                                throw new IllegalStateException("boom");
                            });
                            assertThat(thrownBy(c::switchTo)).isInstanceOf(CoroutineException.class);
                            return thrownBy(c::switchTo);
                        }),
                row("switchTo a closed coroutine", IllegalStateException.class,
                        "main context 'main' cannot switchTo coroutine 'c' (CLOSED): it has ended, closed", () -> {
                            Coroutine c = Coroutine.create("c", () -> { });
                            c.close();
                            return thrownBy(c::switchTo);
                        }),
                row("switchTo a parked coroutine", IllegalStateException.class,
                        "main context 'main' cannot switchTo coroutine 'c' (PARKED): it waits to receive from channel 'x';"
                                + " only what it waits for can wake it", () -> {
                            Channel<Integer> x = new Channel<>("x", 0);
                            List<Integer> got = new ArrayList<>();
                            Coroutine c = Coroutine.create("c", () -> got.add(x.receive()));
                            c.switchTo();
                            Throwable t = thrownBy(c::switchTo);
                            assertThat(c.state()).isEqualTo(Coroutine.State.PARKED);
                            x.send(7);
                            Coroutine.yield();
                            assertThat(got).as("still waiting, it takes the next value").containsExactly(7);
                            return t;
                        }),
                row("join itself", IllegalStateException.class,
                        "coroutine 'c' cannot join coroutine 'c' (RUNNING): a coroutine cannot wait for its own end",
                        () -> inCoroutineC(c -> c.join())),
                row("close itself", IllegalStateException.class,
                        "coroutine 'c' cannot close coroutine 'c' (RUNNING): a coroutine cannot close itself (return from its body instead)",
                        () -> inCoroutineC(c -> c.close())),
                row("close main", IllegalStateException.class,
                        "main context 'main' cannot close main context 'main' (RUNNING) of thread 'T' (#N): it is the thread itself;"
                                + " only coroutines can be closed", () -> thrownBy(Coroutine.current()::close)),
                row("send to a closed channel", ChannelClosedException.class,
                        "main context 'main' cannot send to channel 'x' (closed): a closed channel takes no more values, and the value"
                                + " was not delivered", () -> {
                            Channel<Integer> x = closedHolding(4);
                            Throwable t = thrownBy(() -> x.send(1));
                            assertThat(x.tryReceive()).as("the value left before the close, and only it").contains(4);
                            return t;
                        }),
                row("receive from a closed channel, emptied", ChannelClosedException.class,
                        "main context 'main' cannot receive from channel 'x' (closed): no value is left in it, and none can come",
                        () -> thrownBy(closedHolding()::receive)),
                row("next of a closed channel's iterator", NoSuchElementException.class,
                        "main context 'main' cannot take the next value of channel 'x' (closed): no value is left in it, and none can come",
                        () -> thrownBy(closedHolding().iterator()::next)),
                row("remove through a channel's iterator", UnsupportedOperationException.class,
                        "main context 'main' cannot remove a value of channel 'x' (closed): its iterator receives each value,"
                                + " which leaves the channel as it is taken", () -> {
                            var it = closedHolding(1, 2).iterator();
                            assertThat(it.next()).isEqualTo(1);
                            Throwable t = thrownBy(it::remove);
                            assertThat(it.next()).as("nothing removed").isEqualTo(2);
                            return t;
                        }),
                row("a select's onSend to a closed channel, with a default and a timeout", ChannelClosedException.class,
                        "main context 'main' cannot select onSend(1) to channel 'x' (closed): a closed channel takes no more values,"
                                + " and the value was not delivered; leave the clause out to go on", () -> {
                            Channel<Integer> open = new Channel<>("open", 0);
                            Channel<Integer> x = closedHolding();
                            Throwable t = thrownBy(() -> new Select<String>().onReceive(open, v -> "r").onSend(x, 1, () -> "s")
                                    .onTimeout(Duration.ofSeconds(1), () -> "t").onDefault(() -> "d").select());
                            assertThat(open.trySend(2)).as("no receiver of the select left on the open channel").isFalse();
                            return t;
                        }),
                row("a select's onReceive from a closed channel, in an unbiased select", ChannelClosedException.class,
                        "main context 'main' cannot select onReceive from channel 'x' (closed): no value is left in it, and none can come;"
                                + " leave the clause out to go on", () -> {
                            Channel<Integer> open = new Channel<>("open", 0);
                            Throwable t = thrownBy(() -> new Select<String>().onReceive(open, v -> "r").onReceive(closedHolding(), v -> "x")
                                    .onTimeout(Duration.ofSeconds(1), () -> "t").selectUnbiased());
                            assertThat(open.trySend(2)).as("no receiver of the select left on the open channel").isFalse();
                            return t;
                        }),
                row("a select run in a second context while it waits in another", IllegalStateException.class,
                        "coroutine 'second' cannot select over receive from channel 'x': this select is waiting already, in coroutine"
                                + " 'first' (state PARKED); a select waits in one context at a time, so give each context its own", () -> {
                            Channel<Integer> x = new Channel<>("x", 0);
                            Select<String> s = new Select<String>().onReceive(x, v -> "got " + v);
                            List<String> log = new ArrayList<>();
                            List<Throwable> second = new ArrayList<>();
                            Coroutine.create("second", () -> second.add(thrownBy(s::select)));
                            Coroutine.create("first", () -> log.add(s.select()));
                            Coroutine.yield(); // main runs the last created first: 'first' parks in the select, then 'second' is refused
                            x.send(3);
                            Coroutine.yield();
                            assertThat(log).as("the waiting run still takes its value").containsExactly("got 3");
                            return second.get(0);
                        }),
                row("a clause added while its select waits", IllegalStateException.class,
                        "main context 'main' cannot add an onDefault clause to a select: it is waiting in coroutine 'c' (state PARKED);"
                                + " add clauses before or between its runs", () -> {
                            Channel<Integer> x = new Channel<>("x", 0);
                            Select<String> s = new Select<String>().onReceive(x, v -> "got " + v);
                            List<String> log = new ArrayList<>();
                            Coroutine.create("c", () -> log.add(s.select()));
                            Coroutine.yield();
                            Throwable t = thrownBy(() -> s.onDefault(() -> "d"));
                            x.send(3);
                            Coroutine.yield();
                            assertThat(log).containsExactly("got 3");
                            return t;
                        }),
                row("a select without a clause", IllegalStateException.class,
                        "main context 'main' cannot select: the select has no clause, so it would wait forever", () -> {
                            Coroutine.current(); // named as main
                            return thrownBy(new Select<String>()::select);
                        }),
                row("a second onDefault", IllegalStateException.class,
                        "main context 'main' cannot add a second onDefault to a select: it has one", () -> {
                            Select<String> s = new Select<String>().onDefault(() -> "d");
                            assertThat(s.select()).as("a select runs again after it fired").isEqualTo("d");
                            Throwable t = thrownBy(() -> s.onDefault(() -> "e"));
                            assertThat(s.select()).isEqualTo("d");
                            return t;
                        }),
                row("next of a finished generator", NoSuchElementException.class,
                        "main context 'main' cannot take the next value of generator 'g' (FINISHED): it has ended, and no value can come",
                        () -> thrownBy(Generator.of("g", out -> { })::next)),
                row("next of a closed generator", NoSuchElementException.class,
                        "main context 'main' cannot take the next value of generator 'g' (CLOSED): it has ended, and no value can come", () -> {
                            Generator<Integer> g = Generator.of("g", out -> out.emit(1));
                            g.close();
                            return thrownBy(g::next);
                        }),
                row("send to a two-way generator not started", IllegalStateException.class,
                        "main context 'main' cannot send to generator 'g' (NEW): it has no pending emit to reply to; take its first value with next()", () -> {
                            Generator.TwoWay<Integer, Integer> g = Generator.twoWay("g", out -> out.emit(1));
                            Throwable t = thrownBy(() -> g.send(1));
                            assertThat(g.next()).as("the body not started by the refusal").isEqualTo(1);
                            return t;
                        }),
                row("emit outside the body", IllegalStateException.class,
                        "main context 'main' cannot emit from generator 'g' (SUSPENDED): emit may only be called by its own body while it runs", () -> {
                            List<Generator.Emitter<Integer, Void>> emitter = new ArrayList<>();
                            Generator<Integer> g = Generator.of("g", out -> {
                                emitter.add(out);
                                out.emit(1);
                                out.emit(2);
                            });
                            g.next();
                            Throwable t = thrownBy(() -> emitter.get(0).emit(9));
                            assertThat(g.next()).isEqualTo(2);
                            return t;
                        }),
                row("a generator iterated twice", IllegalStateException.class,
                        "main context 'main' cannot iterate over generator 'g' (NEW): it was already iterated, and a generator can be iterated only once", () -> {
                            Generator<Integer> g = Generator.of("g", out -> out.emit(1));
                            var it = g.iterator();
                            Throwable t = thrownBy(g::iterator);
                            assertThat(it.next()).isEqualTo(1);
                            return t;
                        }),
                row("a release with every permit free", IllegalStateException.class,
                        "main context 'main' cannot release Semaphore[s, 2 of 2 permits free]: all its permits are free already"
                                + " (more releases than acquires)", () -> {
                            Semaphore s = new Semaphore("s", 2);
                            Throwable t = thrownBy(s::release);
                            assertThat(s.availablePermits()).isEqualTo(2);
                            return t;
                        }),
                row("a VirtualTime.run inside another", IllegalStateException.class,
                        "main context 'main' of thread 'T' (#N) (state RUNNING) cannot start VirtualTime.run: it already runs on a virtual clock", () -> {
                            List<Throwable> inner = new ArrayList<>();
                            VirtualTime.run(() -> inner.add(thrownBy(() -> VirtualTime.run(() -> { }))));
                            return inner.get(0);
                        }),
                row("a VirtualTime.run with a live coroutine", IllegalStateException.class,
                        "main context 'main' of thread 'T' (#N) (state RUNNING) cannot start VirtualTime.run: its thread has 1 live coroutine"
                                + " (coroutine 'live' NEW); virtual time needs a thread with none: close them first, or run on a thread of"
                                + " its own (an earlier task of a pool's thread, or a test that failed, leaves on its thread the coroutines"
                                + " it did not close)", () -> {
                            Coroutine live = Coroutine.create("live", () -> { });
                            Throwable t = thrownBy(() -> VirtualTime.run(() -> { }));
                            assertThat(live.state()).isEqualTo(Coroutine.State.NEW);
                            live.close();
                            return t;
                        }),
                row("a VirtualTime.run in a coroutine", IllegalStateException.class,
                        "coroutine 'c' of thread 'T' (#N) (state RUNNING) cannot start VirtualTime.run: it is a coroutine;"
                                + " only main may start it, on a thread with no live coroutine",
                        () -> inCoroutineC(c -> VirtualTime.run(() -> { }))),
                row("a submit to a closed pool", RejectedExecutionException.class,
                        "main context 'main' cannot submit to wrong-place (closed): a closed pool takes no more bodies", () -> {
                            CoroutinePool pool = CoroutinePool.start("wrong-place", 1);
                            pool.close();
                            Coroutine.current(); // named as main
                            return thrownBy(() -> pool.submit(() -> 1));
                        }),
                row("an execute on a closed pool", RejectedExecutionException.class,
                        "main context 'main' cannot execute on wrong-place (closed): a closed pool takes no more bodies", () -> {
                            CoroutinePool pool = CoroutinePool.start("wrong-place", 1);
                            pool.close();
                            Coroutine.current();
                            return thrownBy(() -> pool.execute(() -> { }));
                        }),
                row("a pool's close from its own body", IllegalStateException.class,
                        "coroutine 'closer' cannot close wrong-place (running) from its own thread 'wrong-place-0' (#N): it would wait for itself",
                        () -> fromItsOwnBody(CoroutinePool::close)),
                row("a pool's closeNow from its own body", IllegalStateException.class,
                        "coroutine 'closer' cannot closeNow wrong-place (running) from its own thread 'wrong-place-0' (#N): it would wait for itself",
                        () -> fromItsOwnBody(CoroutinePool::closeNow)));
    }

    /** What {@code call}, made by a running coroutine 'c' of this thread on its own handle, threw. */
    private static Throwable inCoroutineC(Consumer<Coroutine> call) {
        List<Throwable> thrown = new ArrayList<>();
        Coroutine[] c = new Coroutine[1];
        c[0] = Coroutine.create("c", () -> thrown.add(thrownBy(() -> call.accept(c[0]))));
        c[0].switchTo();
        assertThat(c[0].state()).as("the body went on after the refusal and returned").isEqualTo(Coroutine.State.FINISHED);
        return thrown.get(0);
    }

    /** A channel 'x' holding {@code values}, closed. */
    private static Channel<Integer> closedHolding(Integer... values) {
        Channel<Integer> x = new Channel<>("x", values.length);
        for (Integer v : values) {
            x.send(v);
        }
        x.close();
        return x;
    }

    /** What {@code call} on its pool threw in a body 'closer' of that pool; the pool, left open by it, is closed after. */
    private static Throwable fromItsOwnBody(Consumer<CoroutinePool> call) {
        CoroutinePool pool = CoroutinePool.start("wrong-place", 1);
        try {
            CompletableFuture<Throwable> f = pool.submit("closer", () -> thrownBy(() -> call.accept(pool)));
            Throwable t = f.join();
            assertThat(pool.submit(() -> "still open").join()).isEqualTo("still open");
            return t;
        } finally {
            pool.close();
            Coroutine.yield(); // takes in the wake-ups the bodies' futures posted as they completed
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void inAWrongState(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        check(what, type, message, row);
    }

    // ---- with a bad argument -----------------------------------------------------------------------------------

    static Stream<Arguments> withABadArgument() {
        Duration minus = Duration.ofNanos(-1);
        Supplier<Integer> one = () -> 1;
        return Stream.of(
                row("a negative capacity", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot create channel 'x' with capacity -1: the capacity must be 0 (rendezvous) or more",
                        () -> thrownBy(() -> new Channel<Integer>("x", -1))),
                row("no permit", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot create semaphore 's' with 0 permits: it needs 1 or more",
                        () -> thrownBy(() -> new Semaphore("s", 0))),
                row("a read-ahead of no value", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot make generator 'g' buffered with n = 0: it must be able to run ahead by at least 1 value (n >= 1)",
                        () -> thrownBy(() -> Generator.buffered("g", 0, out -> out.emit(1)))),
                row("a pool of no thread", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot start wrong-place of 0 threads: it needs at least 1",
                        () -> thrownBy(() -> CoroutinePool.start("wrong-place", 0))),
                row("a pool of Integer.MAX_VALUE threads", IllegalStateException.class,
                        "thread 'T' (#N) cannot start wrong-place of 2147483647 threads: the JVM has no memory left to make them:"
                                + " java.lang.OutOfMemoryError: Requested array size exceeds VM limit",
                        () -> thrownBy(() -> CoroutinePool.start("wrong-place", Integer.MAX_VALUE))),
                row("a dump of a negative count", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot dump -1 contexts: the count must be 0 or more", () -> thrownBy(() -> Coroutine.dump(-1))),
                row("a negative timeout of trySend", IllegalArgumentException.class,
                        "main context 'main' (state RUNNING) cannot trySend to channel 'x' (open) with timeout PT-0.000000001S:"
                                + " a timeout must be zero or positive", () -> {
                            Channel<Integer> x = new Channel<>("x", 1);
                            Throwable t = thrownBy(() -> x.trySend(1, minus));
                            assertThat(x.size()).as("nothing sent").isZero();
                            return t;
                        }),
                row("a negative timeout of tryReceive", IllegalArgumentException.class,
                        "main context 'main' (state RUNNING) cannot tryReceive from channel 'x' (open) with timeout PT-0.000000001S:"
                                + " a timeout must be zero or positive", () -> {
                            Channel<Integer> x = new Channel<>("x", 1);
                            x.send(5);
                            Throwable t = thrownBy(() -> x.tryReceive(minus));
                            assertThat(x.size()).as("nothing taken").isEqualTo(1);
                            return t;
                        }),
                row("a negative timeout of tryAcquire", IllegalArgumentException.class,
                        "main context 'main' (state RUNNING) cannot tryAcquire a permit of Semaphore[s, 1 of 1 permits free] with timeout"
                                + " PT-0.000000001S: a timeout must be zero or positive", () -> {
                            Semaphore s = new Semaphore("s", 1);
                            Throwable t = thrownBy(() -> s.tryAcquire(minus));
                            assertThat(s.availablePermits()).as("no permit taken").isEqualTo(1);
                            return t;
                        }),
                row("a negative withTimeout", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot withTimeout with timeout PT-0.000000001S: a timeout must be zero or positive",
                        () -> bodyNotRun(ran -> Coroutine.withTimeout(minus, () -> ran.add("ran")))),
                row("a negative tryWithTimeout", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot tryWithTimeout with timeout PT-0.000000001S: a timeout must be zero or positive",
                        () -> bodyNotRun(ran -> Coroutine.tryWithTimeout(minus, () -> ran.add("ran")))),
                row("a negative callWithTimeout", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot withTimeout with timeout PT-0.000000001S: a timeout must be zero or positive",
                        () -> bodyNotRun(ran -> Coroutine.callWithTimeout(minus, () -> ran.add("ran")))),
                row("a negative tryCallWithTimeout", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot tryWithTimeout with timeout PT-0.000000001S: a timeout must be zero or positive",
                        () -> bodyNotRun(ran -> Coroutine.tryCallWithTimeout(minus, () -> ran.add("ran")))),
                row("a negative onTimeout", IllegalArgumentException.class,
                        "main context 'main' (state RUNNING) cannot add onTimeout(PT-0.000000001S) to a select: a timeout must be zero or positive", () -> {
                            Coroutine.current();
                            return thrownBy(() -> new Select<String>().onTimeout(minus, () -> "t"));
                        }),
                row("a blocked-loop threshold below 1 ms", IllegalArgumentException.class,
                        "thread 'T' (#N) cannot detect blocked loops with threshold PT0S: the threshold must be at least 1 ms", () -> {
                            Optional<Duration> before = BlockedLoops.threshold();
                            Throwable t = thrownBy(() -> BlockedLoops.detect(Duration.ZERO));
                            assertThat(BlockedLoops.threshold()).as("the detector left as it was").isEqualTo(before);
                            return t;
                        }),
                row("a sleep past the clock's range with nothing else to run", DeadlockException.class,
                        "main context 'main' cannot sleep for ever (a duration past the clock's range): every other context of thread 'T' (#N)"
                                + " is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                                + "  main context 'main' would wait to sleep for ever (a duration past the clock's range)", () -> {
                            Throwable t = thrownBy(() -> Coroutine.sleep(Duration.ofSeconds(Long.MAX_VALUE)));
                            assertThat(Coroutine.current().state()).as("not parked").isEqualTo(Coroutine.State.RUNNING);
                            return t;
                        }),
                row("a trySend past the clock's range with nothing else to run", DeadlockException.class,
                        "main context 'main' cannot trySend to channel 'x' for ever (a timeout past the clock's range): every other context"
                                + " of thread 'T' (#N) is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                                + "  main context 'main' would wait to trySend to channel 'x' for ever (a timeout past the clock's range)", () -> {
                            Channel<Integer> x = new Channel<>("x", 0);
                            Throwable t = thrownBy(() -> x.trySend(1, Duration.ofSeconds(Long.MAX_VALUE)));
                            assertThat(x.tryReceive()).as("no sender left waiting").isEmpty();
                            return t;
                        }),
                row("a select's timeout past the clock's range with nothing else to run", DeadlockException.class,
                        "main context 'main' cannot select over timeout PT2562047788015215H30M7S for ever (a duration past the clock's range):"
                                + " every other context of thread 'T' (#N) is parked and no timer is pending, so nothing could ever wake it (deadlock):\n"
                                + "  main context 'main' would wait to select over timeout PT2562047788015215H30M7S for ever (a duration past the clock's range)",
                        () -> thrownBy(() -> new Select<String>().onTimeout(Duration.ofSeconds(Long.MAX_VALUE), () -> "t").select())),
                // a null argument is refused naming its parameter
                nullRow("create's body", "body", () -> Coroutine.create("c", (Runnable) null)),
                nullRow("create's name", "name", () -> Coroutine.create((String) null, () -> { })),
                nullRow("sleep's duration", "d", () -> Coroutine.sleep(null)),
                nullRow("withTimeout's duration", "d", () -> Coroutine.withTimeout(null, one)),
                nullRow("withTimeout's body", "body", () -> Coroutine.withTimeout(Duration.ZERO, (Supplier<Object>) null)),
                nullRow("await's stage", "stage", () -> Coroutine.await(null)),
                nullRow("send's value", "value", () -> new Channel<Integer>(1).send(null)),
                nullRow("trySend's timeout", "timeout", () -> new Channel<Integer>(1).trySend(1, null)),
                nullRow("tryReceive's timeout", "timeout", () -> new Channel<Integer>(1).tryReceive(null)),
                nullRow("close's cause", "cause", () -> new Channel<Integer>(1).close(null)),
                nullRow("onReceive's channel", "channel", () -> new Select<String>().onReceive(null, v -> "r")),
                nullRow("onSend's value", "value", () -> new Select<String>().onSend(new Channel<Integer>(1), null, () -> "s")),
                nullRow("onTimeout's function", "f", () -> new Select<String>().onTimeout(Duration.ZERO, null)),
                nullRow("onComplete's stage", "stage", () -> new Select<String>().onComplete(null, v -> "c")),
                nullRow("tryAcquire's timeout", "timeout", () -> new Semaphore(1).tryAcquire(null)),
                nullRow("withPermit's body", "body", () -> new Semaphore(1).withPermit((Runnable) null)),
                nullRow("a generator's body", "body", () -> Generator.of("g", null)),
                nullRow("VirtualTime.run's body", "body", () -> VirtualTime.run(null)),
                nullRow("a pool's name", "name", () -> CoroutinePool.start(null, 1)),
                nullRow("detect's threshold", "threshold", () -> BlockedLoops.detect(null)));
    }

    /** A refusal, on a fresh thread, of a null argument with a {@code NullPointerException} naming the parameter. */
    private static Arguments nullRow(String what, String parameter, Call call) {
        return row("null " + what, NullPointerException.class, parameter, () -> thrownBy(call));
    }

    /** What {@code call} threw, checked not to have run the body it was given (which adds to its list). */
    private static Throwable bodyNotRun(ThrowingBody call) {
        List<String> ran = new ArrayList<>();
        Throwable t = thrownBy(() -> call.run(ran));
        assertThat(ran).as("the body did not run").isEmpty();
        return t;
    }

    /** A call given a list its body adds to when it runs. */
    @FunctionalInterface
    interface ThrowingBody {
        Object run(List<String> ran) throws Exception;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void withABadArgument(String what, Class<? extends Throwable> type, String message, Row row) throws Throwable {
        check(what, type, message, row);
    }

    /** The values a refused operation on a closed channel gives instead of throwing, and what they leave. */
    @Test
    void theTryCallsOnAClosedChannelAnswerWithoutThrowingAndTakeOnlyWhatWasLeft() {
        Channel<Integer> x = closedHolding(1);
        assertThat(x.trySend(2)).isFalse();
        assertThat(x.trySend(2, Duration.ofSeconds(1))).isFalse();
        assertThat(x.tryReceive(Duration.ofSeconds(1))).contains(1);
        assertThat(x.tryReceive()).isEqualTo(Optional.empty());
        assertThat(x.tryReceive(Duration.ofSeconds(1))).isEmpty();
        assertThat(LoopProbe.hasPending()).isFalse();
    }
}
