package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The scheduler's one-entry cache of a thread marked as having exchanged something with another thread
 * holds no thread that has ended: an ended thread keeps the task it ran, and through it whatever the
 * task kept (a coroutine it left parked, and with it the thread's scheduler and stacks).
 */
@ExtendWith(FreshThread.class)
class ConnectedCacheKeepsNoEndedThreadTest {

    /**
     * A thread's task that keeps what it made, as a request handler keeps its state: a coroutine it left
     * parked, never closed (its thread ends with it parked).
     */
    private static final class Handler implements Runnable {
        private final CompletableFuture<String> answer;
        private Coroutine left;
        private boolean marked;
        private final List<WeakReference<Object>> refs = new ArrayList<>();

        Handler(CompletableFuture<String> answer) {
            this.answer = answer;
        }

        @Override
        public void run() {
            Channel<String> never = new Channel<>("never", 0);
            left = Coroutine.create("left", () -> never.receive());
            left.switchTo(); // parked: the thread ends with it
            Coroutine.await(answer); // completed by another thread: an exchange, the thread marked connected
            marked = Scheduler.isMarkedConnected();
            refs.add(new WeakReference<>(left));
            refs.add(new WeakReference<>(Scheduler.current()));
        }
    }

    /** Empties the cache, which a live thread of an earlier test may hold, so that the thread below takes it. */
    private static void emptyTheCache() throws ReflectiveOperationException {
        Field f = Scheduler.class.getDeclaredField("connectedOwner");
        f.setAccessible(true);
        f.set(null, null);
    }

    /** Runs a handler on a thread of its own to its end; returns only weak references, and whether it took the cache. */
    private static List<WeakReference<Object>> runToItsEnd(boolean[] marked) throws InterruptedException {
        CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> "answered", CompletableFuture.delayedExecutor(
                0, java.util.concurrent.TimeUnit.MILLISECONDS));
        answer.join();
        Handler h = new Handler(answer);
        Thread t = Thread.ofPlatform().name("handler").start(h);
        t.join();
        marked[0] = h.marked;
        List<WeakReference<Object>> refs = new ArrayList<>(h.refs);
        refs.add(new WeakReference<>(t));
        return refs;
    }

    @Test
    @Timeout(30)
    void aThreadThatEndedAfterItsAwaitMarkedItConnectedIsNotKeptWithWhatItsTaskLeft() throws Exception {
        emptyTheCache();
        boolean[] marked = new boolean[1];
        List<WeakReference<Object>> refs = runToItsEnd(marked);
        assertThat(marked[0]).as("the handler's thread took the cache").isTrue();
        assertThat(Collected.all(refs)).as("the ended thread, its task's coroutine and its scheduler are collected").isTrue();
    }
}
