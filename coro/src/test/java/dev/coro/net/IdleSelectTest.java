package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A thread whose contexts all wait, on I/O and on a timer, blocks in its selector: looks at it from
 * outside find it blocked in a {@code select} with a timeout (not spinning on {@code selectNow}), and
 * it begins no more idle waits meanwhile than the one a second its loop makes by design.
 *
 * <p>The server's coroutines: one parked in {@code read} on an accepted connection, one in
 * {@code accept} on a listener nobody connects to, one in a sleep of an hour; main waits on a channel.
 * On the continuation engine the thread that blocks is the server's own platform thread, in the
 * kernel's {@code epoll_wait} (state {@code RUNNABLE}, as a thread in native code is). On the thread
 * engine it is the virtual thread of whichever coroutine parked last, which the JDK parks inside its
 * selector ({@code TIMED_WAITING} in {@code EPollSelectorImpl.timedPoll}); every thread that runs a
 * context's code is recorded from inside, so the test finds it either way.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
class IdleSelectTest {

    private static final int SAMPLES = 100;
    private static final long BETWEEN_SAMPLES = TimeUnit.MILLISECONDS.toNanos(5);

    private final Set<Thread> runners = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<SocketAddress> address = new CompletableFuture<>();
    private final CompletableFuture<SocketAddress> quietAddress = new CompletableFuture<>();
    private final CompletableFuture<LongSupplier> loopIdleWaits = new CompletableFuture<>();
    private final CountDownLatch accepted = new CountDownLatch(1);
    private final AtomicReference<String> heard = new AtomicReference<>();
    private final AtomicReference<IOException> acceptFailure = new AtomicReference<>();
    private final AtomicReference<Throwable> serverFailure = new AtomicReference<>();

    @Test
    void aThreadWhoseContextsAllWaitOnIoAndATimerBlocksInSelectWithoutSpinning() throws Exception {
        Thread server = Thread.ofPlatform().name("idle-server").daemon(true).start(() -> {
            try {
                serve();
            } catch (Throwable e) {
                serverFailure.set(e);
            }
        });
        List<String> notInSelect = new ArrayList<>();
        Set<Thread> idlers = new HashSet<>();
        long waits;
        long wall;
        try (Socket client = new Socket()) {
            client.connect(address.get(1, TimeUnit.MINUTES));
            assertThat(accepted.await(1, TimeUnit.MINUTES)).isTrue();
            // the reader has its connection; wait (bounded) until the thread idles in select
            Thread idler = null;
            long giveUp = System.nanoTime() + TimeUnit.MINUTES.toNanos(1); // as the waits above: a guard, not a measure
            while (idler == null && System.nanoTime() - giveUp < 0) {
                LockSupport.parkNanos(1_000_000);
                idler = blockedInSelect();
            }
            assertThat(idler).as("a thread of the server blocked in select, among %s", describeAll()).isNotNull();

            LongSupplier idleWaits = loopIdleWaits.get(1, TimeUnit.MINUTES);
            long waits0 = idleWaits.getAsLong();
            long t0 = System.nanoTime();
            for (int i = 0; i < SAMPLES; i++) {
                LockSupport.parkNanos(BETWEEN_SAMPLES);
                Thread t = blockedInSelect();
                if (t == null) {
                    notInSelect.add(describeAll());
                } else {
                    idlers.add(t);
                }
            }
            wall = System.nanoTime() - t0;
            waits = idleWaits.getAsLong() - waits0;

            client.getOutputStream().write("bye".getBytes(StandardCharsets.UTF_8));
            client.getOutputStream().flush();
            server.join();
        }
        assertThat(serverFailure.get()).isNull();
        assertThat(heard.get()).isEqualTo("bye");
        assertThat(acceptFailure.get()).hasMessage("coroutine 'acceptor' cannot accept on listener " + quietAddress.get()
                + " (closed): the listener was closed while it waited");

        assertThat(idlers).as("the same thread blocked in select at every look").hasSize(1);
        // the loop wakes up once a second by design (it looks for channels closed behind its back): a
        // look may land in the few microseconds between two selects, at most once per such wake-up
        long wakeUps = 1 + TimeUnit.NANOSECONDS.toSeconds(wall);
        assertThat((long) notInSelect.size()).as("looks that found no thread in select: %s", notInSelect)
                .isLessThanOrEqualTo(wakeUps);
        // a loop that spun (selects that return at once, a timeout of zero) would begin an idle wait
        // per round; this one begins one per wake-up, the first perhaps under way as the looks began
        assertThat(waits).as("idle waits the server's loop began over %d ms of idling", wall / 1_000_000)
                .isLessThanOrEqualTo(wakeUps);
    }

    /** The server thread's scenario. */
    private void serve() throws Exception {
        runners.add(Thread.currentThread());
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpListener quiet = TcpListener.bind(LOOPBACK)) {
            Crew crew = new Crew();
            Channel<String> said = new Channel<>("said", 1);
            crew.spawn("reader", () -> {
                runners.add(Thread.currentThread());
                try (TcpConnection c = listener.accept()) {
                    accepted.countDown();
                    ByteBuffer buf = ByteBuffer.allocate(3);
                    while (buf.hasRemaining() && c.read(buf) >= 0) {
                        // until three bytes are in
                    }
                    said.send(text(buf));
                }
            });
            crew.spawn("acceptor", () -> {
                runners.add(Thread.currentThread());
                try {
                    quiet.accept().close(); // nobody connects to it
                } catch (IOException e) {
                    acceptFailure.set(e);
                }
            });
            Coroutine sleeper = crew.spawn("sleeper", () -> {
                runners.add(Thread.currentThread());
                Coroutine.sleep(Duration.ofHours(1));
            });
            loopIdleWaits.complete(LoopProbe.idleWaitsReader());
            quietAddress.complete(quiet.localAddress());
            address.complete(listener.localAddress());
            heard.set(said.receive());
            quiet.close();
            sleeper.close();
            crew.join();
        }
    }

    /** The one recorded thread blocked in the event loop's idle select now; null if none is. */
    private Thread blockedInSelect() {
        Thread found = null;
        for (Thread t : runners) {
            if (blockedInSelect(t)) {
                assertThat(found).as("two threads of one scheduler in select").isNull();
                found = t;
            }
        }
        return found;
    }

    /**
     * Whether {@code t} is blocked in a select with a timeout called by {@code EventLoop.idle} (not in
     * a {@code selectNow}, not between two selects): a platform thread in the kernel's
     * {@code epoll_wait}, a native frame on top and state {@code RUNNABLE}; a virtual thread parked by
     * the JDK inside the selector, state {@code TIMED_WAITING}.
     */
    private static boolean blockedInSelect(Thread t) {
        Thread.State state = t.getState();
        StackTraceElement[] frames = t.getStackTrace();
        List<String> at = Arrays.stream(frames).map(f -> f.getClassName() + "." + f.getMethodName()).toList();
        int idle = at.indexOf("dev.coro.EventLoop.idle");
        if (idle < 0 || !at.subList(0, idle).contains("sun.nio.ch.SelectorImpl.select")) {
            return false;
        }
        if (t.isVirtual()) {
            return state == Thread.State.TIMED_WAITING && at.subList(0, idle).contains("sun.nio.ch.EPollSelectorImpl.timedPoll");
        }
        return state == Thread.State.RUNNABLE && frames[0].isNativeMethod() && at.get(0).equals("sun.nio.ch.EPoll.wait");
    }

    private String describeAll() {
        StringBuilder b = new StringBuilder();
        for (Thread t : runners) {
            b.append("\n").append(t).append(" ").append(t.getState());
            StackTraceElement[] frames = t.getStackTrace();
            for (int i = 0; i < Math.min(12, frames.length); i++) {
                b.append("\n    at ").append(frames[i]);
            }
        }
        return b.toString();
    }
}
