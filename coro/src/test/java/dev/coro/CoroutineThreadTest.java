package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Coroutine#thread()}: the thread a coroutine belongs to, the one that created it, the same on
 * both engines (where {@link Thread#currentThread()} inside a coroutine is not), and answered to any thread.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class CoroutineThreadTest {

    @Test
    void mainsHandleAndEveryCoroutineItCreatesAtAnyDepthBelongToTheThreadThatRunsThem() {
        Thread self = Thread.currentThread();
        List<Thread> seen = new ArrayList<>();
        Coroutine outer = Coroutine.create("outer", () -> {
            seen.add(Coroutine.current().thread());
            Coroutine inner = Coroutine.create("inner", () -> seen.add(Coroutine.current().thread()));
            seen.add(inner.thread());
            inner.join();
        });
        outer.join();
        assertThat(Coroutine.current().thread()).isSameAs(self);
        assertThat(outer.thread()).isSameAs(self);
        assertThat(seen).containsExactly(self, self, self);
    }

    @Test
    void aPoolBodyAndTheCoroutinesItCreatesBelongToThePoolThreadThatRunsThem() {
        CoroutinePool pool = CoroutinePool.start("owners", 2);
        try {
            List<Thread> threads = pool.submit(() -> {
                Thread mine = Coroutine.current().thread();
                Coroutine child = Coroutine.create(() -> { });
                Thread childs = child.thread();
                child.join();
                return List.of(mine, childs);
            }).join();
            assertThat(threads.get(0).getName()).startsWith("owners-");
            assertThat(threads.get(1)).isSameAs(threads.get(0));
            assertThat(threads.get(0)).isNotSameAs(Thread.currentThread());
        } finally {
            PoolsClosed.close(pool);
        }
    }

    @Test
    void aCoroutineThatEndedAndAGeneratorsBodyBelongToTheThreadThatRanThemAfterThatThreadEndedToo() {
        Thread self = Thread.currentThread();
        Coroutine finished = Coroutine.create("finished", () -> { });
        Coroutine closed = Coroutine.create("closed", Coroutine::yield);
        Coroutine.yield(); // closed waits in its yield
        closed.close();
        finished.join();
        Thread inGenerator;
        try (Generator<Thread> g = Generator.of(out -> out.emit(Coroutine.current().thread()))) {
            inGenerator = g.next();
        }
        assertThat(List.of(finished.state(), closed.state())).containsExactly(Coroutine.State.FINISHED, Coroutine.State.CLOSED);
        assertThat(List.of(finished.thread(), closed.thread(), inGenerator)).containsExactly(self, self, self);
        CoroutinePool pool = CoroutinePool.start("ended", 1);
        Coroutine ofPool;
        Thread poolThread;
        try {
            List<Object> got = pool.submit(() -> {
                Coroutine c = Coroutine.create("child", () -> { });
                c.join();
                return List.<Object>of(c, Coroutine.current().thread());
            }).join();
            ofPool = (Coroutine) got.get(0);
            poolThread = (Thread) got.get(1);
        } finally {
            PoolsClosed.close(pool);
        }
        assertThat(poolThread.isAlive()).as("its pool thread ended").isFalse();
        assertThat(ofPool.thread()).isSameAs(poolThread);
    }

    @Test
    void anotherThreadReadsIt() throws Exception {
        Thread self = Thread.currentThread();
        Coroutine parked = Coroutine.create("parked", Coroutine::yield);
        Coroutine.yield(); // parked has started and waits in its yield
        AtomicReference<Thread> read = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> read.set(parked.thread()));
        reader.join();
        assertThat(read.get()).isSameAs(self);
        parked.join();
    }

    @Test
    void aCoroutineOfAVirtualThreadBelongsToThatVirtualThread() throws Exception {
        CompletableFuture<List<Thread>> answer = new CompletableFuture<>();
        Thread vt = Thread.ofVirtual().start(() -> {
            Coroutine c = Coroutine.create(() -> { });
            List<Thread> both = List.of(Coroutine.current().thread(), c.thread());
            c.join();
            answer.complete(both);
        });
        vt.join();
        assertThat(answer.join()).containsExactly(vt, vt);
    }
}
