package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@link ChannelClosedException} kept after its thread ended (a log's record, a list of errors) keeps
 * nothing of that thread alive: not the channel and the values left in its buffer, not the thread's
 * scheduler, not the coroutines the thread left suspended and what their frames hold.
 *
 * <p>Each check builds its objects on a thread that ends, in a helper that returns only weak references,
 * then collects garbage a bounded number of times ({@link Collected}).
 */
class KeptChannelClosedExceptionTest {

    /**
     * Runs, on a new thread built by {@code builder} that then ends: a coroutine left suspended whose
     * frame holds an object, and a channel closed with a value in its buffer, whose refusal made by
     * {@code refused} is handed to {@code kept}. Returns weak references to the scheduler, the
     * coroutine, the object its frame holds, the channel and its buffered value.
     */
    private static List<WeakReference<?>> keptAfterTheThreadEnded(Thread.Builder builder,
            java.util.function.Function<Channel<Object>, ChannelClosedException> refused,
            AtomicReference<ChannelClosedException> kept) throws InterruptedException {
        List<WeakReference<?>> refs = new ArrayList<>();
        Thread t = builder.unstarted(() -> {
            refs.add(new WeakReference<>(Scheduler.current()));
            Object held = new byte[1 << 20];
            refs.add(new WeakReference<>(held));
            Coroutine left = Coroutine.create("left", () -> {
                Object frameHolds = held;
                Coroutine.yield();
                if (frameHolds.hashCode() == 0) {
                    throw new AssertionError("unreachable: keeps the object live across the yield");
                }
            });
            left.switchTo();
            refs.add(new WeakReference<>(left));
            Channel<Object> ch = new Channel<>("jobs", 2);
            Object buffered = new byte[1 << 20];
            ch.send(buffered);
            refs.add(new WeakReference<>(buffered));
            refs.add(new WeakReference<>(ch));
            ch.close();
            ChannelClosedException e = refused.apply(ch);
            assertThat(e.channel()).as("while its caller holds the channel").isSameAs(ch);
            kept.set(e);
        });
        t.start();
        t.join();
        assertThat(refs).hasSize(5);
        return refs;
    }

    private static ChannelClosedException refusedSend(Channel<Object> ch) {
        try {
            ch.send("late");
        } catch (ChannelClosedException e) {
            return e;
        }
        throw new AssertionError("a send on a closed channel was not refused");
    }

    private static ChannelClosedException refusedOnSend(Channel<Object> ch) {
        try {
            new Select<String>().onSend(ch, "late", () -> "sent").select();
        } catch (ChannelClosedException e) {
            return e;
        }
        throw new AssertionError("an onSend clause on a closed channel was not refused");
    }

    @Test
    @Timeout(60)
    void aSendsRefusalKeptAfterItsPlatformThreadEndedKeepsNeitherTheChannelNorItsValuesNorTheThreadsCoroutines()
            throws InterruptedException {
        AtomicReference<ChannelClosedException> kept = new AtomicReference<>();
        List<WeakReference<?>> refs = keptAfterTheThreadEnded(Thread.ofPlatform(), KeptChannelClosedExceptionTest::refusedSend, kept);
        assertThat(Collected.all(refs)).as("the scheduler, the coroutine, what its frame held, the channel and its value").isTrue();
        assertThat(kept.get()).hasMessage("main context 'main' cannot send to channel 'jobs' (closed): a closed channel takes no more values"
                        + ", and the value was not delivered")
                .hasNoCause();
        assertThat(kept.get().channel()).as("once nothing else holds it").isNull();
    }

    @Test
    @Timeout(60)
    void aSelectsRefusalKeptAfterItsVirtualThreadEndedKeepsNeitherTheChannelNorItsValuesNorTheThreadsCoroutines()
            throws InterruptedException {
        AtomicReference<ChannelClosedException> kept = new AtomicReference<>();
        List<WeakReference<?>> refs = keptAfterTheThreadEnded(Thread.ofVirtual(), KeptChannelClosedExceptionTest::refusedOnSend, kept);
        assertThat(Collected.all(refs)).as("the scheduler, the coroutine, what its frame held, the channel and its value").isTrue();
        assertThat(kept.get()).hasMessage("main context 'main' cannot select onSend(late) to channel 'jobs' (closed): a closed channel"
                + " takes no more values, and the value was not delivered; leave the clause out to go on").hasNoCause();
        assertThat(kept.get().channel()).as("once nothing else holds it").isNull();
    }
}
