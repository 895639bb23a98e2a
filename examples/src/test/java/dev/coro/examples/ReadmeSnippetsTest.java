package dev.coro.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.BlockedLoops;
import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutineException;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.Generator;
import dev.coro.Select;
import dev.coro.VirtualTime;
import dev.coro.management.CoroutinesMXBean;
import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.management.JMX;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The Java code shown in the top-level README is exactly the code between the {@code README:begin}
 * and {@code README:end} markers below, and each of those snippets runs and prints what it should.
 */
class ReadmeSnippetsTest {

    private static final Path README = Path.of("..", "README.md");
    private static final Path SELF = Path.of("src", "test", "java", "dev", "coro", "examples",
            "ReadmeSnippetsTest.java");

    @Test
    void everyJavaBlockOfTheReadmeIsASnippetRunHere() throws IOException {
        List<String> readmeBlocks = blocks(Files.readString(README), "```java\\n(.*?)```");
        List<String> snippets = blocks(Files.readString(SELF), "// README:begin\\n(.*?)\\s*// README:end");
        assertThat(readmeBlocks).isNotEmpty();
        assertThat(snippets).containsAll(readmeBlocks);
    }

    @Test
    void theMinimalExampleInterleavesWorkerAndMain() throws Exception {
        String printed = printed(() -> {
            // README:begin
            Coroutine worker = Coroutine.create("worker", () -> {
                for (int i = 0; i < 3; i++) {
                    System.out.println(Coroutine.current().name() + " -> " + i);
                    Coroutine.yield();                    // back to main
                }
            });
            while (!worker.isFinished()) {
                Coroutine.yield();                        // main runs the last created coroutine
            }
            // README:end
        });
        assertThat(printed).isEqualTo("worker -> 0\nworker -> 1\nworker -> 2\n");
    }

    @Test
    void theGeneratorExamplePrintsTheFirstTenFibonacciNumbers() throws Exception {
        String printed = printed(() -> {
            // README:begin
            Generator<Integer> fib = Generator.of(out -> {
                int a = 0, b = 1;
                while (true) {
                    out.emit(a);          // hands a to the consumer, waits for the next request
                    int next = a + b;
                    a = b;
                    b = next;
                }
            });
            try (fib) {                   // close() unwinds the suspended body
                fib.stream().limit(10).forEach(n -> System.out.print(n + " "));
            }
            // prints 0 1 1 2 3 5 8 13 21 34
            // README:end
        });
        assertThat(printed).isEqualTo("0 1 1 2 3 5 8 13 21 34 ");
    }

    @Test
    void theReadAheadGeneratorExampleRunsTheBodyOneBatchAheadAndFailsAfterItsValues() throws Exception {
        String printed = printed(() -> {
            // README:begin
            Generator<Integer> ahead = Generator.buffered(3, out -> {
                for (int i = 1; i <= 4; i++) {
                    System.out.println("emit " + i);
                    out.emit(i);
                }
                throw new IllegalStateException("no 5");
            });
            System.out.println("took " + ahead.next());   // runs the body up to emit 3 first
            try {
                while (ahead.hasNext()) {
                    System.out.println("took " + ahead.next());
                }
            } catch (CoroutineException e) {              // after 4, where the body failed
                System.out.println("failed: " + e.getCause().getMessage());
            }
            // prints emit 1, emit 2, emit 3, took 1, took 2, took 3, emit 4, took 4, failed: no 5 (one a line)
            // README:end
        });
        assertThat(printed).isEqualTo("emit 1\nemit 2\nemit 3\ntook 1\ntook 2\ntook 3\nemit 4\ntook 4\nfailed: no 5\n");
    }

    @Test
    void theChannelExampleHandsEveryJobToTheWorkerWithoutSpinning() throws Exception {
        String printed = printed(() -> {
            // README:begin
            Channel<String> jobs = new Channel<>("jobs", 2);
            Coroutine worker = Coroutine.create("worker", () -> {
                for (String job : jobs) {             // parks while the channel is empty
                    System.out.println("done " + job);
                }
            });
            for (String job : List.of("a", "b", "c")) {
                jobs.send(job);                       // parks while the buffer is full
            }
            jobs.close();                             // the worker's loop ends once it is drained
            Coroutine.yield();                        // let the worker finish
            System.out.println(worker.state());       // FINISHED
            // README:end
        });
        assertThat(printed).isEqualTo("done a\ndone b\ndone c\nFINISHED\n");
    }

    @Test
    void theTimeExampleTimesOutTwiceThenGetsTheLateReplyAtItsVirtualTime() throws Exception {
        String printed = printed(() -> {
            // README:begin
            VirtualTime.run(() -> {
                Channel<String> replies = new Channel<>("replies", 1);
                Coroutine.create("server", () -> {
                    Coroutine.sleep(Duration.ofMillis(300));          // a slow server
                    replies.send("pong");
                });
                String r = new Select<String>()
                        .onReceive(replies, v -> v)
                        .onTimeout(Duration.ofMillis(100), () -> "no reply yet")
                        .select();
                System.out.println(r + " at " + Coroutine.nanoTime() / 1_000_000 + " ms");  // no reply yet at 100 ms
                try {
                    Coroutine.withTimeout(Duration.ofMillis(100), () -> replies.receive());
                } catch (CoroutineTimeoutException e) {               // at 200 ms; the receive took nothing
                    System.out.println(e.getMessage());               // main context 'main' timed out: withTimeout(PT0.1S) ...
                }
                System.out.println(replies.receive() + " at " + Coroutine.nanoTime() / 1_000_000 + " ms");  // pong at 300 ms
            });
            // README:end
        });
        assertThat(printed).isEqualTo("no reply yet at 100 ms\n"
                + "main context 'main' timed out: withTimeout(PT0.1S) expired before its body returned\n"
                + "pong at 300 ms\n");
    }

    /** The README's {@code tryWithTimeout} snippet: the reply, or what stands for none. */
    private static String tryWithTimeoutSnippet(Channel<String> replies) {
        // README:begin
        Optional<String> reply = Coroutine.tryWithTimeout(Duration.ofMillis(100), () -> replies.receive());
        String r = reply.orElse("no reply yet");                  // the receive took nothing if it timed out
        // README:end
        return r;
    }

    @Test
    void theTryWithTimeoutExampleGivesNoReplyAtItsDeadlineThenTheReplyThatCameAndTheChannelKeepsNothing() {
        List<String> seen = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<String> replies = new Channel<>("replies", 1);
            seen.add(tryWithTimeoutSnippet(replies) + " at " + Coroutine.nanoTime() / 1_000_000 + " ms");
            replies.send("pong");
            seen.add(tryWithTimeoutSnippet(replies) + " at " + Coroutine.nanoTime() / 1_000_000 + " ms, "
                    + replies.size() + " left");
        });
        assertThat(seen).containsExactly("no reply yet at 100 ms", "pong at 100 ms, 0 left");
    }

    // README:begin
    static void echo(TcpConnection c) {                   // runs in a coroutine of its own
        try (c) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (c.read(buf.clear()) >= 0) {            // parks until bytes arrive; -1 once the client is done
                c.write(buf.flip());                      // parks while the socket's send buffer is full
            }
        } catch (IOException e) {
            System.err.println(e.getMessage());           // e.g. the client reset the connection
        }
    }
    // README:end

    @Test
    void theEchoServerExampleEchoesBothClientsAndEndsCleanly() throws Exception {
        List<String> left = new ArrayList<>();
        String printed = printed(() -> {
            try {
                // README:begin
                try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                    Coroutine server = Coroutine.create("server", () -> {
                        try {
                            while (true) {
                                TcpConnection c = listener.accept();          // parks until a client connects
                                Coroutine.create("echo", () -> echo(c));      // one coroutine per connection
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    Channel<String> replies = new Channel<>("replies", 2);
                    for (String word : List.of("hello", "world")) {
                        Coroutine.create("client " + word, () -> {
                            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                                c.write(ByteBuffer.wrap(word.getBytes()));
                                c.shutdownOutput();                           // the echo coroutine reads -1
                                replies.send(new String(c.input().readAllBytes()));  // up to the server's close
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
                    }
                    System.out.println(Stream.of(replies.receive(), replies.receive()).sorted().toList());  // [hello, world]
                    server.close();                                           // unwinds it out of accept()
                }
                // README:end
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            left.add(Coroutine.dump());
        });
        assertThat(printed).isEqualTo("[hello, world]\n");
        assertThat(left).singleElement().asString().doesNotContain("coroutine '");
    }

    @Test
    void theObservingExampleReadsItsThreadsRowThroughTheMXBean() throws Exception {
        String printed = printed(() -> {
            // README:begin
            BlockedLoops.detect(Duration.ofMillis(200));              // as -Dcoro.blockedThreshold=200ms
            ObjectName name = CoroutinesManagement.register();        // as -Dcoro.jmx=true: dev.coro:type=Coroutines
            CoroutinesMXBean view = JMX.newMXBeanProxy(ManagementFactory.getPlatformMBeanServer(), name, CoroutinesMXBean.class);
            Channel<String> jobs = new Channel<>("jobs", 0);
            Coroutine.create("worker", () -> jobs.receive()).switchTo();  // it parks on the channel
            for (SchedulerInfo s : view.getSchedulers()) {
                if (s.threadId() == Thread.currentThread().threadId()) {
                    System.out.println(s.contexts() + " contexts, " + s.parked() + " parked, the oldest "
                            + s.oldestParked() + ": waits to " + s.oldestParkedWaits());
                }
            }                                  // 2 contexts, 1 parked, the oldest coroutine 'worker': waits to receive from channel 'jobs'
            jobs.send("done");
            BlockedLoops.stop();
            // README:end
        });
        assertThat(printed).isEqualTo("2 contexts, 1 parked, the oldest coroutine 'worker': waits to receive from channel 'jobs'\n");
        assertThat(BlockedLoops.threshold()).isEmpty();
    }

    @Test
    void theThreadsExampleSumsOnAPoolThreadWhatThisThreadSendsThroughItsChannel() throws Exception {
        String printed = printed(() -> {
            // README:begin
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                Channel<Integer> numbers = new Channel<>("numbers", 16);      // belongs to this thread
                CompletableFuture<Integer> sum = pool.submit(() -> {          // a coroutine on a pool thread
                    int s = 0;
                    for (int n : numbers) {                                   // receives from the other thread
                        s += n;
                    }
                    return s;
                });
                for (int i = 1; i <= 100; i++) {
                    numbers.send(i);                                          // parks while 16 wait
                }
                numbers.close();
                System.out.println("sum " + Coroutine.await(sum));            // sum 5050
            }
            // README:end
        });
        assertThat(printed).isEqualTo("sum 5050\n");
    }

    /**
     * The regex's first group in each match, dedented to the least indented line: a doc's code blocks
     * ({@code NetDocTest} checks docs/NET.md's so too), or the snippets between a test's markers.
     */
    static List<String> blocks(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(text);
        while (m.find()) {
            List<String> lines = m.group(1).stripTrailing().lines().toList();
            int indent = lines.stream().filter(l -> !l.isBlank())
                    .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
            StringBuilder b = new StringBuilder();
            for (String l : lines) {
                b.append(l.length() >= indent ? l.substring(indent) : l.strip()).append('\n');
            }
            found.add(b.toString());
        }
        return found;
    }

    /** Runs {@code snippet} on a fresh thread (a fresh scheduler) with System.out captured. */
    static String printed(Runnable snippet) throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            Thread t = new Thread(snippet);
            List<Throwable> failure = new ArrayList<>();
            t.setUncaughtExceptionHandler((th, e) -> failure.add(e));
            t.start();
            t.join();
            assertThat(failure).isEmpty();
        } finally {
            System.setOut(saved);
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }
}
