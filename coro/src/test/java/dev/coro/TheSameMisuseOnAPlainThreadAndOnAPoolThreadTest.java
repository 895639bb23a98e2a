package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The same misuse gets the same refusal from a coroutine of a plain thread and from one of a {@link CoroutinePool}
 * thread, its thread's name aside: a mistake on something of the caller's own thread or of no thread (a bad argument,
 * a negative timeout, a closed channel, a call on itself, a generator's body calling back into it) names the caller
 * without its thread on both, and one whose message names the caller's thread (a {@code VirtualTime.run} inside a
 * coroutine) names it on both; inside a generator's body it names the consumer that runs the body on both, as
 * {@code Coroutine.current()} there is that consumer.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class TheSameMisuseOnAPlainThreadAndOnAPoolThreadTest {

    private static final Duration MINUS = Duration.ofMillis(-1);

    /** One misuse each, by name, in the order made; each throws. */
    private static Map<String, Runnable> misuses() {
        Map<String, Runnable> m = new LinkedHashMap<>();
        m.put("a channel of negative capacity", () -> new Channel<String>("c", -1));
        m.put("a semaphore of no permit", () -> new Semaphore("s", -1));
        m.put("a negative withTimeout", () -> Coroutine.withTimeout(MINUS, () -> { }));
        m.put("a negative tryWithTimeout", () -> Coroutine.tryWithTimeout(MINUS, () -> { }));
        m.put("a negative tryReceive", () -> new Channel<String>("c", 1).tryReceive(MINUS));
        m.put("a negative trySend", () -> new Channel<String>("c", 1).trySend("v", MINUS));
        m.put("a negative tryAcquire", () -> new Semaphore("s", 1).tryAcquire(MINUS));
        m.put("a release too many", () -> new Semaphore("s", 1).release());
        m.put("a send to a closed channel", () -> closed().send("v"));
        m.put("a receive from a closed channel", () -> closed().receive());
        m.put("a loop over a channel closed with a cause", () -> {
            Channel<String> c = new Channel<>("c", 1);
            c.close(new IllegalStateException("producer failed"));
            c.forEach(v -> { });
        });
        m.put("a remove on a channel's iterator", () -> new Channel<String>("c", 1).iterator().remove());
        m.put("a select whose clause's channel is closed", () -> new Select<String>().onReceive(closed(), v -> v).select());
        m.put("a negative onTimeout", () -> new Select<String>().onTimeout(MINUS, () -> "t"));
        m.put("a select with no clause", () -> new Select<String>().select());
        m.put("a second onDefault", () -> new Select<String>().onDefault(() -> "a").onDefault(() -> "b"));
        m.put("a read-ahead generator of no value", () -> Generator.buffered("g", 0, out -> { }));
        m.put("a dump of a negative count", () -> Coroutine.dump(-1));
        m.put("a blocked-loop threshold below 1 ms", () -> BlockedLoops.detect(MINUS));
        m.put("a pool of no thread", () -> CoroutinePool.start(0));
        m.put("an await of a cancelled future", () -> {
            CompletableFuture<String> f = new CompletableFuture<>();
            f.cancel(false);
            Coroutine.await(f);
        });
        m.put("an Io.await of a closed channel", () -> {
            try {
                Pipe pipe = Pipe.open();
                pipe.sink().close();
                pipe.source().configureBlocking(false);
                pipe.source().close();
                dev.coro.net.Io.await(pipe.source(), SelectionKey.OP_READ);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        m.put("a VirtualTime.run inside a coroutine", () -> VirtualTime.run(() -> { }));
        m.put("a join of itself", () -> Coroutine.current().join());
        m.put("a close of itself", () -> Coroutine.current().close());
        m.put("a switchTo an ended coroutine", () -> {
            Coroutine c = Coroutine.create("ended", () -> { });
            c.join();
            c.switchTo();
        });
        m.put("a remove on a generator", () -> Generator.of("g", out -> { }).remove());
        m.put("a next of an ended generator", () -> {
            Generator<String> g = Generator.of("g", out -> { });
            g.hasNext();
            g.next();
        });
        m.put("an emit from outside the body", () -> {
            AtomicReference<Generator.Emitter<String, Void>> out = new AtomicReference<>();
            Generator<String> g = Generator.of("g", out::set);
            g.hasNext();
            out.get().emit("v");
        });
        m.put("an emit from a coroutine the body made", () -> Generator.<String>of("g", out -> {
            Coroutine.create("inner", () -> out.emit("v")).join();
        }).next());
        m.put("an emit of the outer generator from an inner one's body", () -> Generator.<String>of("outer", out -> {
            Generator.<String>of("inner", in -> out.emit("v")).next();
        }).next());
        // each inside a generator's body: the refusal names the consumer that runs the body
        inBody(m, "a next of its own generator", g -> g.next());
        inBody(m, "a hasNext of its own generator", g -> g.hasNext());
        inBody(m, "a close of its own generator", g -> g.close());
        inBody(m, "a remove on its own generator", g -> g.remove());
        inBody(m, "a negative withTimeout", g -> Coroutine.withTimeout(MINUS, () -> { }));
        inBody(m, "a negative tryReceive", g -> new Channel<String>("c", 1).tryReceive(MINUS));
        inBody(m, "a negative onTimeout", g -> new Select<String>().onTimeout(MINUS, () -> "t"));
        inBody(m, "a send to a closed channel", g -> closed().send("v"));
        inBody(m, "a channel of negative capacity", g -> new Channel<String>("c", -1));
        inBody(m, "a release too many", g -> new Semaphore("s", 1).release());
        inBody(m, "a join of its consumer", g -> Coroutine.current().join());
        inBody(m, "a close of its consumer", g -> Coroutine.current().close());
        inBody(m, "a select with no clause", g -> new Select<String>().select());
        inBody(m, "a VirtualTime.run", g -> VirtualTime.run(() -> { }));
        return m;
    }

    /** Adds {@code misuse}, made inside the body of a generator {@code g} the caller consumes, the body given {@code g}. */
    private static void inBody(Map<String, Runnable> m, String name, Consumer<Generator<String>> misuse) {
        m.put(name + ", in a generator's body", () -> {
            AtomicReference<Generator<String>> self = new AtomicReference<>();
            self.set(Generator.of("g", out -> misuse.accept(self.get())));
            self.get().next();
        });
    }

    private static Channel<String> closed() {
        Channel<String> c = new Channel<>("c", 1);
        c.close();
        return c;
    }

    /**
     * Makes every misuse in the calling coroutine: what each threw, by the misuse's name, its message and those of its
     * causes, with the caller's thread written {@code 'T' (#N)} and identity hashes {@code @H}.
     */
    private static Map<String, String> refusals() {
        String thread = Scheduler.describe(Coroutine.current().thread());
        Map<String, String> refusals = new LinkedHashMap<>();
        misuses().forEach((name, misuse) -> {
            String text = "nothing thrown";
            try {
                misuse.run();
            } catch (Throwable e) {
                StringBuilder b = new StringBuilder();
                for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                    b.append(b.isEmpty() ? "" : " <- ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
                }
                text = b.toString().replace(thread, "'T' (#N)").replaceAll("@[0-9a-f]+", "@H");
            }
            refusals.put(name, text);
        });
        return refusals;
    }

    @Test
    void everyMisuseIsRefusedAlikeByACoroutineOfAPlainThreadAndOneOfAPoolThread() throws Exception {
        AtomicReference<Map<String, String>> plain = new AtomicReference<>();
        Coroutine.create("x", () -> plain.set(refusals())).join();
        CoroutinePool pool = CoroutinePool.start("misuser", 1);
        Map<String, String> onPool;
        try {
            onPool = Coroutine.await(pool.submit("x", TheSameMisuseOnAPlainThreadAndOnAPoolThreadTest::refusals));
        } finally {
            PoolsClosed.close(pool);
        }
        List<String> differ = new ArrayList<>();
        plain.get().forEach((name, text) -> {
            if (!text.equals(onPool.get(name))) {
                differ.add(name + ":\n  plain thread: " + text + "\n  pool thread:  " + onPool.get(name));
            }
        });
        assertThat(differ).as("the misuses refused otherwise on a pool thread").isEmpty();
        assertThat(plain.get()).as("each misuse refused").doesNotContainValue("nothing thrown").hasSize(misuses().size());
        // the two forms, as each names its caller: without its thread, or (a clock started inside it) with it
        assertThat(plain.get().get("a negative onTimeout")).isEqualTo("IllegalArgumentException: coroutine 'x' (state RUNNING)"
                + " cannot add onTimeout(PT-0.001S) to a select: a timeout must be zero or positive");
        assertThat(plain.get().get("a send to a closed channel")).isEqualTo("ChannelClosedException: coroutine 'x' cannot send"
                + " to channel 'c' (closed): a closed channel takes no more values, and the value was not delivered");
        assertThat(plain.get().get("a VirtualTime.run inside a coroutine")).startsWith("IllegalStateException: coroutine 'x'"
                + " of thread 'T' (#N) (state RUNNING) cannot start VirtualTime.run");
        // inside a generator's body, the consumer that runs it; the body of the innermost generator for an emit
        assertThat(plain.get().get("a negative withTimeout, in a generator's body")).isEqualTo("CoroutineException: generator"
                + " 'g' failed: java.lang.IllegalArgumentException: coroutine 'x' (state RUNNING) cannot withTimeout with"
                + " timeout PT-0.001S: a timeout must be zero or positive <- IllegalArgumentException: coroutine 'x' (state"
                + " RUNNING) cannot withTimeout with timeout PT-0.001S: a timeout must be zero or positive");
        assertThat(plain.get().get("a next of its own generator, in a generator's body")).endsWith("IllegalStateException:"
                + " coroutine 'x' cannot take the next value of generator 'g' (RUNNING): the call comes from inside its own"
                + " body, which cannot resume itself");
        assertThat(plain.get().get("an emit of the outer generator from an inner one's body")).endsWith("IllegalStateException:"
                + " the body of generator 'inner' (run by coroutine 'x') cannot emit from generator 'outer' (RUNNING): emit"
                + " may only be called by its own body while it runs");
    }
}
