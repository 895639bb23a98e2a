package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A context parked in a call of a semaphore or of a pool shows, in {@code stackTrace()} and the dumps,
 * that call first, as it shows a channel's or a coroutine's: never the machinery the call waits through
 * (the receive of the semaphore's channel of permits), and never nothing, though its body is a reference
 * to that very method ({@code pool::close}, {@code future::join}, {@code semaphore::acquire}).
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class FramesOfSemaphoreAndPoolCallsTest {

    @Test
    void aWaitForAPermitShowsTheSemaphoresCallNotTheReceiveOfItsChannelOfPermits() {
        Semaphore db = new Semaphore("db", 1);
        db.acquire();
        Coroutine reference = Coroutine.create("reference", db::acquire);
        Coroutine lambda = Coroutine.create("lambda", () -> acquireOf(db));
        Coroutine timed = Coroutine.create("timed", () -> db.tryAcquire(Duration.ofHours(1)));
        Coroutine.yield(); // each parks in its call
        assertThat(names(reference.stackTrace())).containsExactly("dev.coro.Semaphore.acquire");
        assertThat(names(lambda.stackTrace())).containsExactly("dev.coro.Semaphore.acquire",
                "dev.coro.FramesOfSemaphoreAndPoolCallsTest.acquireOf",
                "dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aWaitForAPermitShowsTheSemaphoresCallNotTheReceiveOfItsChannelOfPermits$0");
        assertThat(names(timed.stackTrace())).containsExactly("dev.coro.Semaphore.tryAcquire",
                "dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aWaitForAPermitShowsTheSemaphoresCallNotTheReceiveOfItsChannelOfPermits$1");
        assertThat(withoutLineNumbers(Coroutine.dump())).endsWith("""
                  [1] coroutine 'reference': PARKED, waits to acquire a permit of Semaphore[db, 0 of 1 permits free]
                        at dev.coro.Semaphore.acquire(Semaphore.java:_)
                  [2] coroutine 'lambda': PARKED, waits to acquire a permit of Semaphore[db, 0 of 1 permits free]
                        at dev.coro.Semaphore.acquire(Semaphore.java:_)
                        at dev.coro.FramesOfSemaphoreAndPoolCallsTest.acquireOf(FramesOfSemaphoreAndPoolCallsTest.java:_)
                        at dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aWaitForAPermitShowsTheSemaphoresCallNotTheReceiveOfItsChannelOfPermits$_(FramesOfSemaphoreAndPoolCallsTest.java:_)
                  [3] coroutine 'timed': PARKED, waits to tryAcquire a permit of Semaphore[db, 0 of 1 permits free]
                        at dev.coro.Semaphore.tryAcquire(Semaphore.java:_)
                        at dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aWaitForAPermitShowsTheSemaphoresCallNotTheReceiveOfItsChannelOfPermits$_(FramesOfSemaphoreAndPoolCallsTest.java:_)
                """);
        reference.close();
        lambda.close();
        timed.close();
    }

    /** A body suspended inside {@code withPermit} shows the user's call of it, none of how it runs the body. */
    @Test
    void aBodySuspendedInsideWithPermitShowsTheCallOfWithPermitBelowIt() {
        Semaphore db = new Semaphore("db", 1);
        Coroutine holder = Coroutine.create("holder", () -> db.withPermit(() -> Coroutine.yield()));
        Coroutine.yield(); // it yields back holding the permit
        assertThat(names(holder.stackTrace())).containsExactly("dev.coro.Coroutine.yield",
                "dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aBodySuspendedInsideWithPermitShowsTheCallOfWithPermitBelowIt$1",
                "dev.coro.Semaphore.withPermit",
                "dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aBodySuspendedInsideWithPermitShowsTheCallOfWithPermitBelowIt$0");
        Coroutine.yield(); // it releases the permit and ends
        assertThat(holder.isFinished()).isTrue();
        assertThat(db.availablePermits()).isEqualTo(1);
    }

    /**
     * A body of {@code withPermit} that is a reference to the library's own call ({@code rows::receive},
     * {@code other::acquire}) shows that call, then the call of {@code withPermit}, then the caller's
     * frames: as a lambda calling it would, less the lambda's frame.
     */
    @Test
    void aBodyOfWithPermitThatIsAReferenceToACallThatParksShowsThatCallAboveTheCallOfWithPermit() {
        Semaphore db = new Semaphore("db", 3);
        Semaphore other = new Semaphore("other", 1);
        other.acquire();
        Channel<String> rows = new Channel<>("rows", 0);
        Coroutine supplier = Coroutine.create("supplier", () -> db.withPermit(rows::receive));
        Coroutine checked = Coroutine.create("checked", () -> db.callWithPermit(rows::receive));
        Coroutine runnable = Coroutine.create("runnable", () -> db.withPermit(other::acquire));
        Coroutine.yield(); // each takes a permit of db and parks in its body
        String test = "dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aBodyOfWithPermitThatIsAReferenceToACallThatParksShowsThatCallAboveTheCallOfWithPermit$";
        assertThat(names(supplier.stackTrace())).containsExactly("dev.coro.Channel.receive", "dev.coro.Semaphore.withPermit",
                test + "0");
        assertThat(names(checked.stackTrace())).containsExactly("dev.coro.Channel.receive", "dev.coro.Semaphore.callWithPermit",
                test + "1");
        assertThat(names(runnable.stackTrace())).containsExactly("dev.coro.Semaphore.acquire", "dev.coro.Semaphore.withPermit",
                test + "2");
        assertThat(withoutLineNumbers(Coroutine.dump())).endsWith("""
                  [1] coroutine 'supplier': PARKED, waits to receive from channel 'rows'
                        at dev.coro.Channel.receive(Channel.java:_)
                        at dev.coro.Semaphore.withPermit(Semaphore.java:_)
                        at dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aBodyOfWithPermitThatIsAReferenceToACallThatParksShowsThatCallAboveTheCallOfWithPermit$_(FramesOfSemaphoreAndPoolCallsTest.java:_)
                  [2] coroutine 'checked': PARKED, waits to receive from channel 'rows'
                        at dev.coro.Channel.receive(Channel.java:_)
                        at dev.coro.Semaphore.callWithPermit(Semaphore.java:_)
                        at dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aBodyOfWithPermitThatIsAReferenceToACallThatParksShowsThatCallAboveTheCallOfWithPermit$_(FramesOfSemaphoreAndPoolCallsTest.java:_)
                  [3] coroutine 'runnable': PARKED, waits to acquire a permit of Semaphore[other, 0 of 1 permits free]
                        at dev.coro.Semaphore.acquire(Semaphore.java:_)
                        at dev.coro.Semaphore.withPermit(Semaphore.java:_)
                        at dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aBodyOfWithPermitThatIsAReferenceToACallThatParksShowsThatCallAboveTheCallOfWithPermit$_(FramesOfSemaphoreAndPoolCallsTest.java:_)
                """);
        supplier.close();
        checked.close();
        runnable.close();
        assertThat(db.availablePermits()).isEqualTo(3);
    }

    @Test
    void aBodyThatIsAReferenceToAPoolsCloseOrToItsFuturesJoinShowsThatCall() {
        CoroutinePool pool = CoroutinePool.start("frames", 1);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            CompletableFuture<String> reply = pool.submit(() -> {
                Coroutine.await(gate);
                return "done";
            });
            Coroutine joiner = Coroutine.create("joiner", reply::join);
            Coroutine closer = Coroutine.create("closer", pool::close);
            Coroutine.yield(); // each parks in its call
            assertThat(names(joiner.stackTrace())).containsExactly("dev.coro.PoolFuture.join");
            assertThat(names(closer.stackTrace())).containsExactly("dev.coro.CoroutinePool.close");
            assertThat(withoutLineNumbers(Coroutine.dump())).endsWith("""
                      [1] coroutine 'joiner': PARKED, waits to join the future of submit #1 to frames[Not completed, 1 dependents]
                            at dev.coro.PoolFuture.join(PoolFuture.java:_)
                      [2] coroutine 'closer': PARKED, waits to await the close of frames (1 submitted body has not ended)
                            at dev.coro.CoroutinePool.close(CoroutinePool.java:_)
                    """);
            gate.complete(null);
            while (!closer.isFinished()) {
                Coroutine.yield();
            }
            assertThat(joiner.isFinished()).isTrue();
            assertThat(reply.join()).isEqualTo("done");
        } finally {
            gate.complete(null);
            PoolsClosed.close(pool);
        }
    }

    /**
     * A pool's body that is a reference to a channel's call ({@code rows::receive}, submitted or as a callable)
     * or to a semaphore's shows that call alone: none of how the pool runs it, nor of its thread's loop.
     */
    @Test
    void aPoolBodyThatIsAReferenceToAChannelsOrASemaphoresCallShowsThatCallAlone() {
        CoroutinePool pool = CoroutinePool.start("frames", 1);
        Channel<String> rows = new Channel<>("rows", 0);
        Semaphore db = new Semaphore("db", 1);
        db.acquire();
        try {
            CompletableFuture<String> supplied = pool.submit("supplied", rows::receive);
            CompletableFuture<String> called = pool.submitCallable("called", rows::receive);
            pool.execute("acquiring", db::acquire);
            String dump = Coroutine.await(pool.submit("dumping", () -> {
                String d;
                while ((d = Coroutine.dump()).contains(": NEW")) { // the thread took them with this one: they run first
                    Coroutine.yield();
                }
                return d;
            }));
            rows.send("a");
            rows.send("b");
            db.release();
            String both = Coroutine.await(supplied.thenCombine(called, (x, y) -> x + y));
            assertThat(both).isIn("ab", "ba");
            assertThat(withoutLineNumbers(dump).replaceAll("\\(#\\d+\\)", "(#_)")).contains("""
                      [1] coroutine 'supplied': PARKED, waits to receive from channel 'rows' of thread 'test-aPoolBodyThatIsAReferenceToAChannelsOrASemaphoresCallShowsThatCallAlone' (#_)
                            at dev.coro.Channel.receive(Channel.java:_)
                      [2] coroutine 'called': PARKED, waits to receive from channel 'rows' of thread 'test-aPoolBodyThatIsAReferenceToAChannelsOrASemaphoresCallShowsThatCallAlone' (#_)
                            at dev.coro.Channel.receive(Channel.java:_)
                    """).contains("""
                      [4] coroutine 'dumping': RUNNING (the caller)
                            at dev.coro.Coroutine.dump(Coroutine.java:_)
                            at dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aPoolBodyThatIsAReferenceToAChannelsOrASemaphoresCallShowsThatCallAlone$_(FramesOfSemaphoreAndPoolCallsTest.java:_)
                    """).contains("""
                      [3] coroutine 'acquiring': PARKED, waits to acquire a permit of Semaphore[db, 0 of 1 permits free] of thread 'test-aPoolBodyThatIsAReferenceToAChannelsOrASemaphoresCallShowsThatCallAlone' (#_)
                            at dev.coro.Semaphore.acquire(Semaphore.java:_)
                    """).doesNotContain("CoroutinePool", "PoolWorker", "PoolFuture");
        } finally {
            PoolsClosed.close(pool);
        }
    }

    /**
     * A handler given the pool as its executor ({@code handleAsync(fn, pool)}) runs as a body of a pool
     * thread: parked there, it shows its function's frames alone, none of the task the pool's future made for
     * it, of the JDK's stage that calls the function, nor of how the pool runs that task.
     */
    @Test
    void aHandlerGivenThePoolShowsItsFunctionsFramesAloneNoneOfHowThePoolRunsIt() {
        CoroutinePool pool = CoroutinePool.start("frames", 1);
        Channel<String> rows = new Channel<>("rows", 0);
        CompletableFuture<Void> receiving = new CompletableFuture<>();
        try {
            CompletableFuture<String> handled = pool.submit(() -> "a").handleAsync((v, e) -> {
                receiving.complete(null); // the pool's one thread runs on into the receive, and parks there first
                return v + rows.receive();
            }, pool);
            Coroutine.await(receiving);
            String dump = Coroutine.await(pool.submit("dumping", () -> Coroutine.dump()));
            rows.send("b");
            assertThat(Coroutine.await(handled)).isEqualTo("ab");
            assertThat(withoutLineNumbers(dump).replaceAll("\\(#\\d+\\)", "(#_)").replaceAll("\\[\\d+\\]", "[_]")
                    .replaceAll("'coroutine-\\d+'", "'coroutine-_'")).contains("""
                      [_] coroutine 'coroutine-_': PARKED, waits to receive from channel 'rows' of thread 'test-aHandlerGivenThePoolShowsItsFunctionsFramesAloneNoneOfHowThePoolRunsIt' (#_)
                            at dev.coro.Channel.receive(Channel.java:_)
                            at dev.coro.FramesOfSemaphoreAndPoolCallsTest.lambda$aHandlerGivenThePoolShowsItsFunctionsFramesAloneNoneOfHowThePoolRunsIt$_(FramesOfSemaphoreAndPoolCallsTest.java:_)
                      [_] coroutine 'dumping': RUNNING (the caller)
                    """).doesNotContain("CoroutinePool", "PoolWorker", "PoolFuture", "CompletableFuture");
        } finally {
            PoolsClosed.close(pool);
        }
    }

    private static void acquireOf(Semaphore s) {
        s.acquire();
    }

    private static String[] names(StackTraceElement[] frames) {
        String[] names = new String[frames.length];
        for (int k = 0; k < frames.length; k++) {
            names[k] = frames[k].getClassName() + "." + frames[k].getMethodName();
        }
        return names;
    }

    private static String withoutLineNumbers(String dump) {
        return dump.replaceAll("\\.java:\\d+\\)", ".java:_)").replaceAll("(lambda\\$\\w+)\\$\\d+\\(", "$1\\$_(");
    }
}
