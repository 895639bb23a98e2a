package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An operation on another thread's channel that a coroutine makes where the JDK cannot suspend it (on the
 * continuation engine, under an FFM upcall) and that must be posted to the channel's thread is either done or
 * refused, never both: if the channel's thread ran it before its caller's wait could be withdrawn, it returns
 * what it did (a {@code trySend} true, its value delivered once); if not, it is withdrawn and the
 * {@link IllegalStateException} of the refusal is thrown, nothing done. A {@code trySend} used to throw the
 * refusal although its value had gone into the channel, so that a caller that sent again sent it twice. A
 * close and a semaphore's release, which run once posted whatever becomes of their caller, are not waited
 * for: they return, and the channel's thread closes the channel or takes the permit back (they used to throw
 * the refusal, and do it all the same).
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class AnOperationOnAnotherThreadsChannelRefusedToWaitTest {

    static boolean continuationEngineRuns() {
        return Engines.running().equals("continuation");
    }

    private static final String ONLY_THERE = "only the continuation engine refuses to suspend under an upcall";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle QSORT = LINKER.downcallHandle(LINKER.defaultLookup().find("qsort").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final FunctionDescriptor COMPARATOR = FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT), ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT));
    /** What the comparator calls; set on the test's thread. */
    private static final ThreadLocal<Supplier<?>> IN_UPCALL = new ThreadLocal<>();
    /** What the comparator's call returned or threw. */
    private static final ThreadLocal<List<Object>> OUTCOMES = ThreadLocal.withInitial(ArrayList::new);

    static int compare(MemorySegment a, MemorySegment b) {
        try {
            OUTCOMES.get().add(IN_UPCALL.get().get());
        } catch (Throwable e) { // nothing may escape an upcall
            OUTCOMES.get().add(e);
        }
        return Integer.compare(a.get(ValueLayout.JAVA_INT, 0), b.get(ValueLayout.JAVA_INT, 0));
    }

    /** What {@code call} returns or throws inside the comparator of a {@code qsort} of two values, which calls it once. */
    private static Object inAnUpcall(Supplier<?> call) {
        IN_UPCALL.set(call);
        OUTCOMES.get().clear();
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle compare = MethodHandles.lookup().findStatic(AnOperationOnAnotherThreadsChannelRefusedToWaitTest.class,
                    "compare", MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
            QSORT.invokeExact(arena.allocateFrom(ValueLayout.JAVA_INT, 2, 1), 2L, 4L, LINKER.upcallStub(compare, COMPARATOR, arena));
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
        assertThat(OUTCOMES.get()).hasSize(1);
        return OUTCOMES.get().get(0);
    }

    /** What a coroutine, with another ready to run (so that its wait would switch to it), gets from {@code call} in an upcall. */
    private static Object ofACoroutineInAnUpcall(Supplier<?> call) {
        Coroutine.create("other", () -> { });
        Object[] outcome = new Object[1];
        Coroutine.create("sender", () -> outcome[0] = inAnUpcall(call)).switchTo();
        Coroutine.yield(); // the other runs and ends
        return outcome[0];
    }

    @AfterEach
    void noHookLeft() {
        Channel.beforeParkAcross = null;
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aTrySendThatTheChannelsThreadRanBeforeItsWaitWasRefusedReturnsTrueItsValueDeliveredOnce() {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = pool.submit(() -> new Channel<String>("theirs", 4)).join();
            Channel.beforeParkAcross = r -> {
                while (!r.ticket.isDone()) {
                    Thread.onSpinWait(); // the channel's thread runs the post meanwhile
                }
            };
            Object outcome = ofACoroutineInAnUpcall(() -> theirs.trySend("x"));
            Channel.beforeParkAcross = null;
            assertThat(outcome).isEqualTo(true);
            assertThat(pool.submit(() -> List.of(theirs.tryReceive(), theirs.tryReceive())).join())
                    .containsExactly(Optional.of("x"), Optional.empty());
        }
    }

    /** Runs {@code body} with the one thread of {@code pool} held outside coro, so that what is posted to it waits. */
    private static void withItsThreadHeld(CoroutinePool pool, Runnable body) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        pool.execute(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        held.await();
        try {
            body.run();
        } finally {
            release.countDown();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aCloseWhoseCallerCannotWaitForTheAnswerReturnsAndTheChannelsThreadClosesTheChannel() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = pool.submit(() -> new Channel<String>("theirs", 4)).join();
            Object[] outcome = new Object[1];
            withItsThreadHeld(pool, () -> outcome[0] = ofACoroutineInAnUpcall(() -> {
                theirs.close();
                return "returned";
            }));
            assertThat(outcome[0]).isEqualTo("returned");
            assertThat(pool.submit(theirs::isClosed).join()).isTrue();
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aSemaphoreReleaseWhoseCallerCannotWaitForTheAnswerReturnsAndThePermitGoesBack() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Semaphore theirs = pool.submit(() -> {
                Semaphore s = new Semaphore("theirs", 1);
                s.acquire();
                return s;
            }).join();
            Object[] outcome = new Object[1];
            withItsThreadHeld(pool, () -> outcome[0] = ofACoroutineInAnUpcall(() -> {
                theirs.release();
                return "returned";
            }));
            assertThat(outcome[0]).isEqualTo("returned");
            assertThat(pool.submit(theirs::availablePermits).join()).isEqualTo(1);
        }
    }

    @Test
    @EnabledIf(value = "continuationEngineRuns", disabledReason = ONLY_THERE)
    void aTrySendWhoseWaitWasRefusedBeforeTheChannelsThreadRanItThrowsTheRefusalAndSendsNothing() throws Exception {
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            Channel<String> theirs = pool.submit(() -> new Channel<String>("theirs", 4)).join();
            String poolThread = pool.submit(() -> Scheduler.describe(Thread.currentThread())).join();
            Object[] refused = new Object[1];
            withItsThreadHeld(pool, () -> refused[0] = ofACoroutineInAnUpcall(() -> theirs.trySend("x")));
            assertThat(refused[0]).isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e).hasMessage(
                    "cannot suspend coroutine 'sender' at its trySend to channel 'theirs' of thread " + poolThread
                            + " to run coroutine 'other': the JDK cannot suspend it here because a native"
                            + " frame is on its stack (a JNI call, an FFM upcall, or a class initializer); it keeps running"
                            + " (state RUNNING)"));
            assertThat(pool.submit(() -> theirs.tryReceive()).join()).as("nothing was sent").isEmpty();
        }
    }
}
