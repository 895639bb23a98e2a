package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A future of a class of its own whose {@code isDone()} uses coro, awaited while the thread waits in its
 * event loop: the idle thread, where no context runs to use coro, never asks it (its spin and its look at
 * complete futures watch only the JDK's and the library's futures), so that code never moves the parked
 * context as if it ran; the completion's post wakes the await, which gets the value.
 */
@ExtendWith(FreshThread.class)
class IdleThreadAsksNoUsersIsDoneTest {

    /** A future whose {@code isDone()} switches to a new coroutine, noting where it was asked and what came of it. */
    static final class Switching<T> extends CompletableFuture<T> {
        final List<String> asked = new CopyOnWriteArrayList<>();

        @Override
        public boolean isDone() {
            try {
                Coroutine c = Coroutine.create(() -> { });
                c.switchTo();
                asked.add("switched from " + Coroutine.current());
            } catch (Throwable t) {
                asked.add("threw " + t);
            }
            return super.isDone();
        }
    }

    @Test
    @Timeout(10)
    void anAwaitOfAFutureWhoseIsDoneUsesCoroIsWokenByItsPostWithoutTheIdleThreadAskingIt() throws Exception {
        Switching<String> f = new Switching<>();
        Thread awaiting = Thread.currentThread();
        Thread completer = Thread.ofPlatform().name("completer").start(() -> {
            // until the awaiting thread blocks in its event loop, its spin done: it asked whatever it watches
            for (int i = 0; i < 10_000_000 && awaiting.getState() == Thread.State.RUNNABLE; i++) {
                Thread.onSpinWait();
            }
            f.complete("done");
        });
        assertThat(Coroutine.await(f)).isEqualTo("done");
        completer.join();
        assertThat(f.asked).as("what its isDone() met, asked by the idle thread").isEmpty();
        assertThat(LoopProbe.hasPending()).as("no wait left behind").isFalse();
    }

    /**
     * Under {@code VirtualTime.run}, the look at complete futures the waiting thread makes before the clock
     * jumps asks no such future either: main awaits it while a coroutine sleeps, the clock jumps to the
     * sleep's end without the idle thread asking it, and the coroutine's completion of it wakes the await.
     */
    @Test
    @Timeout(10)
    void underVirtualTimeTheLookAtCompleteFuturesBeforeTheClockJumpsAsksNoFutureWhoseIsDoneUsesCoro() {
        Switching<String> f = new Switching<>();
        List<String> got = new CopyOnWriteArrayList<>();
        VirtualTime.run(() -> {
            Coroutine.create("completer", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                f.complete("done at " + Coroutine.nanoTime());
            });
            got.add(Coroutine.await(f));
        });
        assertThat(got).containsExactly("done at 1000000000");
        assertThat(f.asked).as("what its isDone() met, asked by the idle thread").isEmpty();
    }
}
