package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coro.net.Io;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every exception type of the library, as the library makes it (with its cause and suppressed exceptions),
 * serializes (RMI, a JMX notification, a distributed cache, a test report) and reads back with the same
 * class, message, stack trace, cause and suppressed ones; what it refers to only in this JVM (a channel, a
 * closed coroutine) is not serialized, and a deserialized one answers for it as its Javadoc says.
 */
@ExtendWith(FreshThread.class)
class ExceptionSerializationTest {

    private static <T extends Throwable> T roundTrip(T t) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(t);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                @SuppressWarnings("unchecked")
                T read = (T) in.readObject();
                return read;
            }
        } catch (IOException | ClassNotFoundException e) {
            throw new AssertionError("cannot serialize " + t, e);
        }
    }

    /** Round-trips {@code t}, checks that what it read back says the same as {@code t} all along its chain, and returns it. */
    private static <T extends Throwable> T readBackTheSame(T t) {
        T read = roundTrip(t);
        assertTheSame(read, t);
        return read;
    }

    private static void assertTheSame(Throwable read, Throwable t) {
        assertThat(read).isNotSameAs(t).hasSameClassAs(t).hasMessage(t.getMessage());
        assertThat(read.getStackTrace()).isEqualTo(t.getStackTrace());
        assertThat(read.getSuppressed()).hasSameSizeAs(t.getSuppressed());
        for (int i = 0; i < t.getSuppressed().length; i++) {
            assertTheSame(read.getSuppressed()[i], t.getSuppressed()[i]);
        }
        if (t.getCause() == null) {
            assertThat(read.getCause()).isNull();
        } else {
            assertTheSame(read.getCause(), t.getCause());
        }
    }

    @Test
    @Timeout(10)
    void aCoroutinesFailureWithTheFailureItsBodyKeptSuppressedReadsBackWhole() {
        Channel<String> ch = new Channel<>("ch", 0);
        Coroutine parent = Coroutine.create("parent", () -> {
            Coroutine.create("child", () -> {
                ch.send("v"); // to the parent, parked in its receive
                ch.close();
                throw new IllegalStateException("child failed");
            });
            ch.receive(); // keeps the value, and the child's report for its next scheduling point
            throw new IllegalArgumentException("parent failed");
        });
        CoroutineException e = (CoroutineException) catchThrowable(parent::join);
        assertThat(e).hasMessage("coroutine 'parent' failed: java.lang.IllegalArgumentException: parent failed");
        assertThat(e.getCause().getSuppressed()).hasSize(1);
        assertThat(e.getCause().getSuppressed()[0]).hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: child failed");
        readBackTheSame(e);
    }

    @Test
    @Timeout(10)
    void aTimeoutWithTheSignalThatUnwoundItsBodyReadsBackWithItsTimeout() {
        CoroutineTimeoutException e = (CoroutineTimeoutException) catchThrowable(() -> VirtualTime.run(() ->
                Coroutine.withTimeout(Duration.ofSeconds(1), () -> Coroutine.sleep(Duration.ofHours(1)))));
        assertThat(e).hasMessage("main context 'main' timed out: withTimeout(PT1S) expired before its body returned")
                .cause().isInstanceOf(CoroutineExit.class);
        CoroutineTimeoutException read = readBackTheSame(e);
        assertThat(read.timeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(((CoroutineExit) read.getCause()).isTimeout()).as("its scope is not serialized").isFalse();
    }

    @Test
    @Timeout(10)
    void aDeadlockReadsBackWithEveryWait() {
        Channel<String> never = new Channel<>("never", 0);
        Coroutine.create("waiter", never::receive);
        Coroutine.yield(); // it parks
        DeadlockException e = (DeadlockException) catchThrowable(never::receive);
        DeadlockException read = readBackTheSame(e);
        assertThat(read.waits()).isEqualTo(e.waits()).containsExactly("main context 'main' would wait to receive from channel 'never'",
                "coroutine 'waiter' waits to receive from channel 'never'");
    }

    @Test
    @Timeout(10)
    void aRefusalOfAChannelClosedWithACauseReadsBackWithItsCauseAndWithoutItsChannel() {
        Channel<String> ch = new Channel<>("jobs", 1);
        ch.close(new IOException("producer failed"));
        ChannelClosedException e = (ChannelClosedException) catchThrowable(() -> ch.send("x"));
        assertThat(e).hasMessage("main context 'main' cannot send to channel 'jobs' (closed): a closed channel takes no more values"
                + ", and the value was not delivered");
        ChannelClosedException read = readBackTheSame(e);
        assertThat(read.channel()).isNull();
        assertThat(e.channel()).isSameAs(ch);
    }

    @Test
    @Timeout(10)
    void aClosedCoroutinesSignalReadsBackAsASignalOfNothing() {
        AtomicReference<CoroutineExit> caught = new AtomicReference<>();
        Coroutine c = Coroutine.create("closed", () -> {
            try {
                Coroutine.yield();
            } catch (CoroutineExit e) {
                caught.set(e);
                throw e;
            }
        });
        c.switchTo();
        c.close();
        CoroutineExit read = readBackTheSame(caught.get());
        assertThat(read.isTimeout()).isFalse();
        assertThat(read.timeoutScope()).isNull();
    }

    @Test
    @Timeout(10)
    void aPoolsReportWithItsLaterFailuresReadsBackWhole() {
        CoroutinePool pool = CoroutinePool.start(1);
        pool.execute(() -> {
            throw new IllegalStateException("first");
        });
        pool.execute(() -> {
            throw new IllegalArgumentException("second");
        });
        CoroutineException e = (CoroutineException) catchThrowable(() -> Coroutine.withTimeout(Duration.ofSeconds(30), pool::close));
        assertThat(e.getCause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("second");
        readBackTheSame(e);
    }

    @Test
    @Timeout(10)
    void theRefusalOfAnIoWaitOnAClosedChannelReadsBackWithItsMessage() throws IOException {
        Coroutine.current(); // the thread has a scheduler: the refusal names its main (one without is named as a thread, ThreadConfinementTest)
        Pipe pipe = Pipe.open();
        pipe.sink().close();
        Pipe.SourceChannel source = pipe.source();
        source.configureBlocking(false);
        source.close();
        ClosedChannelException e = (ClosedChannelException) catchThrowable(() -> Io.await(source, SelectionKey.OP_READ));
        assertThat(e).hasMessage("main context 'main' cannot await OP_READ on " + source + " (closed): a closed channel is never ready");
        readBackTheSame(e);
    }
    @Test
    @Timeout(10)
    void aZeroTimeoutThatRanNoBodyReadsBackWithItsTimeoutAndNoCause() {
        CoroutineTimeoutException e = (CoroutineTimeoutException) catchThrowable(() -> Coroutine.withTimeout(Duration.ZERO, () -> { }));
        assertThat(e).hasMessage("main context 'main' timed out: withTimeout(PT0S) expired before its body returned"
                + " (a zero timeout expires at once: the body did not run)").hasNoCause();
        CoroutineTimeoutException read = readBackTheSame(e);
        assertThat(read.timeout()).isEqualTo(Duration.ZERO);
    }

    @Test
    @Timeout(10)
    void aDeadlockOfMoreContextsThanItsMessageShowsReadsBackWithEveryWait() {
        Channel<String> never = new Channel<>("never", 0);
        int n = DeadlockException.SHOWN + 2;
        for (int k = 0; k < n; k++) {
            Coroutine.create("waiter-" + k, never::receive);
        }
        Coroutine.yield(); // every waiter parks
        DeadlockException e = (DeadlockException) catchThrowable(never::receive);
        DeadlockException read = readBackTheSame(e);
        assertThat(read.waits()).hasSize(n + 1).isEqualTo(e.waits())
                .contains("coroutine 'waiter-" + (n - 1) + "' waits to receive from channel 'never'");
        assertThat(read.getMessage()).endsWith("\n  ... and 3 more parked (DeadlockException.waits() lists them all)");
    }

    @Test
    @Timeout(10)
    void aGeneratorsFailureReadsBackWhole() {
        Generator<String> lines = Generator.of("lines", out -> {
            out.emit("first");
            throw new IOException("disk gone");
        });
        assertThat(lines.next()).isEqualTo("first");
        CoroutineException e = (CoroutineException) catchThrowable(lines::next);
        assertThat(e).hasMessage("generator 'lines' failed: java.io.IOException: disk gone");
        readBackTheSame(e);
    }

    /**
     * A refusal of a transfer the JDK or the thread engine could not make carries, as its cause, what
     * stopped it: that reads back with its reason and what it says of the caller and the target.
     */
    @Test
    @Timeout(10)
    void aRefusalsCauseReadsBackWithWhatStoppedTheTransfer() {
        List<PinnedException> causes = List.of(PinnedException.pinned("a native frame is on its stack"),
                PinnedException.notOnTheStack(new IllegalStateException("Not in scope")),
                PinnedException.noThread("coroutine 'a'", new RejectedExecutionException("no room")),
                PinnedException.stuck("the body of coroutine 'a' waits for the class being initialized"));
        causes.get(2).refusedAPark = true;
        for (PinnedException cause : causes) {
            IllegalStateException e = Fiber.refused("cannot suspend coroutine 'c' at its yield to run coroutine 'a'", cause,
                    "it keeps running (state RUNNING)");
            IllegalStateException read = readBackTheSame(e);
            PinnedException p = (PinnedException) read.getCause();
            assertThat(List.of(p.reason, p.why, p.stuck, p.callerPinned, p.refusedAPark))
                    .isEqualTo(List.of(cause.reason, cause.why, cause.stuck, cause.callerPinned, cause.refusedAPark));
            assertThat(PinnedException.refusedTheCallersPark(read)).isEqualTo(PinnedException.refusedTheCallersPark(e));
        }
    }

    /**
     * Every throwable class of the library that can reach the program (a refusal main's call throws may
     * carry another suppressed) declares its serial version: one the JVM computes changes with the
     * compiler's synthetic members, so that a report written by one build would not read back in another.
     * The markers a context's pending throwable holds are never handed to the program.
     */
    @Test
    void everyThrowableOfTheLibraryDeclaresItsSerialVersion() throws Exception {
        Path classes = Path.of(CoroutineException.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<Class<?>> markers = Set.of(Context.CLEANUP_LEFT.getClass(), Context.OBSERVED.getClass(), Context.REGISTERING.getClass());
        List<String> undeclared = new ArrayList<>();
        List<String> throwables = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(f).toString().replace(File.separatorChar, '.').replaceAll("\\.class$", "");
                if (name.endsWith("module-info") || name.endsWith("package-info")) {
                    continue;
                }
                Class<?> c = Class.forName(name, false, CoroutineException.class.getClassLoader());
                if (!Throwable.class.isAssignableFrom(c) || markers.contains(c)) {
                    continue;
                }
                throwables.add(c.getSimpleName());
                try {
                    c.getDeclaredField("serialVersionUID");
                } catch (NoSuchFieldException e) {
                    undeclared.add(c.getName());
                }
            }
        }
        assertThat(throwables).contains("CoroutineException", "CoroutineExit", "PinnedException", "ClosedChannelWait");
        assertThat(undeclared).isEmpty();
    }
}
