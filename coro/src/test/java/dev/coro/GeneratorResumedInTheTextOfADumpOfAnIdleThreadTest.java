package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.Coroutine.State;
import dev.coro.management.CoroutinesManagement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A generator's {@code next()} or {@code hasNext()} made by the text of a wait (an awaited future's
 * {@code toString()}) in a JMX dump that its thread answers while it waits in its event loop is refused before
 * its body runs, naming the thread, on both engines: the body would run as the consumer's context, which is
 * parked and does not run. The generator stays as it was and gives its values once asked outside the dump. On
 * the continuation engine the body used to run there, on the parked context's behalf: a body that asked for
 * the current coroutine failed, and its generator was {@code FAILED} for good, where the thread engine refused
 * the call and left it {@code NEW}.
 */
@Timeout(30)
class GeneratorResumedInTheTextOfADumpOfAnIdleThreadTest {

    /** A future whose text runs {@code call}, a call of coro. */
    static final class Calling<T> extends CompletableFuture<T> {
        Runnable call = () -> { };

        @Override
        public String toString() {
            call.run();
            return "a calling future";
        }
    }

    @Test
    void aGeneratorsNextInTheTextOfAJmxDumpOfAnIdleThreadIsRefusedBeforeItsBodyRunsOnBothEngines() throws Exception {
        Calling<String> f = new Calling<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        CountDownLatch parked = new CountDownLatch(1);
        List<Object> did = Collections.synchronizedList(new ArrayList<>());
        Thread owner = Thread.ofPlatform().name("idler").start(() -> {
            Generator<Integer> plain = Generator.of("plain", e -> {
                did.add("plain's body ran");
                e.emit(Coroutine.currentId());
            });
            Generator<Integer> ahead = Generator.buffered("ahead", 2, e -> {
                did.add("ahead's body ran");
                e.emit(Coroutine.currentId());
            });
            f.call = () -> {
                did.add(catchThrowable(plain::next));
                did.add(catchThrowable(ahead::hasNext));
            };
            Coroutine awaiter = Coroutine.create("awaiter", () -> Coroutine.await(f));
            awaiter.switchTo();
            parked.countDown();
            Coroutine.await(release);
            f.complete("done");
            awaiter.join();
            did.add(plain.state() + " " + ahead.state());
            did.add(plain.next() + " " + plain.hasNext() + " " + ahead.next() + " " + ahead.hasNext());
        });
        try {
            parked.await();
            Scheduler s = Monitoring.live().stream().filter(x -> x.owner == owner).findFirst().orElseThrow();
            while (s.main.state() != State.PARKED) {
                Thread.onSpinWait();
            }
            CoroutinesManagement.mxBean().dump(5);
        } finally {
            release.complete(null);
            owner.join();
        }
        String refusal = JmxDumpWhoseWaitTextCallsCoroTest.refusal(owner);
        assertThat(did).hasSize(6);
        assertThat(did.get(0)).isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e).hasMessage(refusal));
        assertThat(did.get(1)).isInstanceOfSatisfying(IllegalStateException.class, e -> assertThat(e).hasMessage(refusal));
        assertThat(did.subList(2, 6)).containsExactly("NEW NEW", "plain's body ran", "ahead's body ran", "0 false 0 false");
    }
}
