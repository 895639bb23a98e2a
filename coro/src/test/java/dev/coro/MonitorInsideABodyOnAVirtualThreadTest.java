package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A monitor waited on ({@code Object.wait}) or entered while another thread holds it ({@code synchronized}) by a
 * coroutine's or a generator's body on a virtual thread: on the continuation engine the JDK (25) cannot unmount the
 * virtual thread there, since the body's continuation is nested in the virtual thread's own and the JDK frees a
 * carrier of a monitor's wait only for a virtual thread's own continuation; so the virtual thread keeps its carrier
 * while it waits, as a virtual thread did before JDK 24 (and no {@code jdk.VirtualThreadPinned} event is recorded).
 * On the thread engine the body is a virtual thread of its own, and the JDK unmounts it. docs/THREADS.md says what
 * to use instead. The carrier is read from the virtual thread's {@code toString()}, which names it while the
 * virtual thread is mounted ({@code VirtualThread[#25,request]/waiting@ForkJoinPool-1-worker-1}).
 */
class MonitorInsideABodyOnAVirtualThreadTest {

    private final Object monitor = new Object();
    private boolean opened;

    /** Whether the thread engine runs: each body on a virtual thread of its own. */
    private static boolean threadEngine() {
        return Engines.running().equals("threads");
    }

    /** Waits on {@link #monitor} until {@link #open()} runs. */
    private void waitUntilOpened() {
        synchronized (monitor) {
            while (!opened) {
                try {
                    monitor.wait();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private void open() {
        synchronized (monitor) {
            opened = true;
            monitor.notifyAll();
        }
    }

    /**
     * Waits until the virtual thread {@code t} is in {@code state} and, if {@code untilUnmounted}, unmounted as well,
     * then says whether it is mounted on a carrier; bounded by the test's timeout. Its description is read once each
     * time, so that its state and its carrier are seen together: {@code .../blocked} unmounted,
     * {@code .../blocked@ForkJoinPool-1-worker-1} mounted (it names the carrier and the carrier's state). A virtual
     * thread the JDK is unmounting reads so too for a moment: its state ({@code BLOCKED} on its way to a monitor's
     * entry) or its carrier's (blocked or waiting as the JDK begins the entry or the wait) is the one it will have,
     * while it is still mounted; read then, a body on the thread engine was seen keeping its carrier about once in
     * 200 runs, and in up to one in 80 when a carrier's {@code blocked} was taken for a settled one. So where the
     * virtual thread is to be unmounted the wait goes on until it is (were it kept, the test would time out); where it
     * is to keep its carrier, it is mounted in {@code state} from then on, and the first such reading is its own.
     */
    private static boolean mountedOnceIn(Thread t, Thread.State state, boolean untilUnmounted) {
        String in = "/" + state.name().toLowerCase(Locale.ROOT);
        while (true) {
            String description = t.toString();
            if (description.endsWith(in)) {
                return false;
            }
            if (!untilUnmounted && description.contains(in + "@")) {
                return true;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Runs {@code body} (given a future to complete with the thread that runs it) on a virtual thread, and once that
     * thread is in {@code state} (unmounted, unless it is to {@code keepItsCarrier}) says whether it is mounted, then
     * runs {@code release}.
     *
     * @return whether the body's thread kept a carrier while it waited, and what the request returned
     */
    private static List<Object> whileWaiting(Thread.State state, boolean keepItsCarrier,
            java.util.function.Function<CompletableFuture<Thread>, String> request, Runnable release) throws Exception {
        CompletableFuture<Thread> body = new CompletableFuture<>();
        CompletableFuture<String> done = Peer.start(Thread.ofVirtual(), "request", () -> request.apply(body));
        Thread runner = body.get();
        boolean mounted = mountedOnceIn(runner, state, !keepItsCarrier);
        release.run();
        return List.of(mounted, done.get(30, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aCoroutinesBodyWaitingOnAMonitorKeepsItsCarrierOnTheContinuationEngineOnly() throws Exception {
        List<Object> seen = whileWaiting(Thread.State.WAITING, !threadEngine(), body -> {
            Coroutine handler = Coroutine.create("handler", () -> {
                body.complete(Thread.currentThread()); // the request's own, or on the thread engine the body's
                waitUntilOpened();
            });
            handler.join();
            return handler.state().toString();
        }, this::open);
        assertThat(seen).containsExactly(!threadEngine(), "FINISHED");
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aGeneratorsBodyWaitingOnAMonitorKeepsItsCarrierOnTheContinuationEngineOnly() throws Exception {
        List<Object> seen = whileWaiting(Thread.State.WAITING, !threadEngine(), body -> {
            Generator<String> rows = Generator.of("rows", out -> {
                body.complete(Thread.currentThread());
                waitUntilOpened();
                out.emit("row");
            });
            return rows.next();
        }, this::open);
        assertThat(seen).containsExactly(!threadEngine(), "row");
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aCoroutinesBodyEnteringAMonitorAnotherThreadHoldsKeepsItsCarrierOnTheContinuationEngineOnly() throws Exception {
        CompletableFuture<Void> held = new CompletableFuture<>();
        CompletableFuture<Void> leave = new CompletableFuture<>();
        Thread holder = Thread.ofPlatform().name("holder").start(() -> {
            synchronized (monitor) {
                held.complete(null);
                leave.join();
            }
        });
        held.get();
        List<Object> seen = whileWaiting(Thread.State.BLOCKED, !threadEngine(), body -> {
            Coroutine handler = Coroutine.create("handler", () -> {
                body.complete(Thread.currentThread());
                synchronized (monitor) {
                    opened = true;
                }
            });
            handler.join();
            return handler.state().toString();
        }, () -> leave.complete(null));
        holder.join();
        assertThat(seen).containsExactly(!threadEngine(), "FINISHED");
        assertThat(opened).isTrue();
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aVirtualThreadWaitingOnAMonitorOutsideAnyBodyIsUnmountedOnBothEngines() throws Exception {
        List<Object> seen = whileWaiting(Thread.State.WAITING, false, body -> {
            Coroutine.create("other", () -> { }).join(); // the thread uses coro
            body.complete(Thread.currentThread());
            waitUntilOpened();
            return "opened";
        }, this::open);
        assertThat(seen).containsExactly(false, "opened");
    }
}
