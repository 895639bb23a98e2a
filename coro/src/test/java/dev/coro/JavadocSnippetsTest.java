package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The code blocks of the exported packages' Javadoc ({@code <pre>{@code …}</pre>}) are exactly the code between
 * the {@code JAVADOC:begin} and {@code JAVADOC:end} markers of this class and of {@code net.NetJavadocSnippetsTest},
 * so that the compiler checks them against today's API, and each snippet of package {@code dev.coro} runs here and
 * does what its comment says.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class JavadocSnippetsTest {

    /** The exported packages' sources, from the module's directory (where the build runs the tests). */
    private static final List<Path> PACKAGES = List.of(Path.of("src", "main", "java", "dev", "coro"),
            Path.of("src", "main", "java", "dev", "coro", "net"), Path.of("src", "main", "java", "dev", "coro", "management"));
    /** The test classes whose markers hold the snippets. */
    private static final List<Path> SNIPPET_HOLDERS = List.of(
            Path.of("src", "test", "java", "dev", "coro", "JavadocSnippetsTest.java"),
            Path.of("src", "test", "java", "dev", "coro", "net", "NetJavadocSnippetsTest.java"));

    @Test
    void everyCodeBlockOfTheExportedPackagesJavadocIsASnippetCompiledHereOrInTheNetOne() throws IOException {
        List<String> blocks = new ArrayList<>();
        for (Path p : PACKAGES) {
            try (Stream<Path> files = Files.list(p)) {
                for (Path f : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    blocks.addAll(javadocBlocks(Files.readString(f)));
                }
            }
        }
        List<String> snippets = new ArrayList<>();
        for (Path holder : SNIPPET_HOLDERS) {
            snippets.addAll(blocks(Files.readString(holder), "// JAVADOC:begin\\n(.*?)\\s*// JAVADOC:end"));
        }
        assertThat(blocks).hasSizeGreaterThan(10);
        // the one block that is not code: Coroutine's table of the C runtime's calls and their Java names
        assertThat(blocks).filteredOn(b -> !snippets.contains(b))
                .singleElement().asString().startsWith("create_ctx(fn, arg)  ->  Coroutine.create(body, arg)");
    }

    // ---- Semaphore ---------------------------------------------------------------------------

    private static final String sql = "select 1";

    private static String query(String sql) {
        return "row of " + sql;
    }

    /** What the class-level snippet of {@link Semaphore} left: its row, and its semaphore. */
    private record SemaphoreRun(String row, Semaphore db) {
    }

    private static SemaphoreRun semaphoreSnippet() {
        // JAVADOC:begin
        Semaphore db = new Semaphore("db", 10);             // at most ten queries at once
        String row = db.withPermit(() -> query(sql));      // parks while ten are running
        // JAVADOC:end
        return new SemaphoreRun(row, db);
    }

    @Test
    void theSemaphoreSnippetReturnsItsQuerysRowAndLeavesEveryPermitOfItsSemaphoreFree() {
        SemaphoreRun run = semaphoreSnippet();
        assertThat(run.row()).isEqualTo("row of select 1");
        assertThat(run.db()).hasToString("Semaphore[db, 10 of 10 permits free]");
    }

    /** A checked exception standing in for {@code java.sql.SQLException}, whose module the tests do not read. */
    private static final class SQLException extends Exception {
        private static final long serialVersionUID = 1L;

        SQLException(String message) {
            super(message);
        }
    }

    /** The {@code callWithPermit} snippet, with a query that throws a checked exception. */
    private static final class Checked {
        static boolean down;
        static Semaphore db;

        static String query(String sql) throws SQLException {
            if (down) {
                throw new SQLException("the database is down");
            }
            return "row of " + sql + ", " + db.availablePermits() + " permits free";
        }

        static String run() throws SQLException {
            // JAVADOC:begin
            String row = db.callWithPermit(() -> query(sql));  // throws SQLException
            // JAVADOC:end
            return row;
        }
    }

    @Test
    void theCallWithPermitSnippetThrowsTheQuerysCheckedExceptionAsItIsAndGivesThePermitBack() throws SQLException {
        Checked.db = new Semaphore("db", 10);
        Checked.down = false;
        assertThat(Checked.run()).isEqualTo("row of select 1, 9 permits free");
        Checked.down = true;
        assertThatThrownBy(Checked::run).isExactlyInstanceOf(SQLException.class).hasMessage("the database is down");
        assertThat(Checked.db.availablePermits()).isEqualTo(10);
    }

    // ---- Coroutine.tryWithTimeout ------------------------------------------------------------

    /** The {@code tryWithTimeout} snippet with a value: the reply, or what stands for none. */
    private static String tryWithTimeoutSnippet(Channel<String> replies) {
        // JAVADOC:begin
        Optional<String> reply = Coroutine.tryWithTimeout(Duration.ofMillis(100), () -> replies.receive());
        String r = reply.orElse("no reply yet"); // the receive took nothing if it timed out
        // JAVADOC:end
        return r;
    }

    /** The {@code tryWithTimeout} snippet without a value: {@code job} sent to {@code jobs}, or added to {@code dropped}. */
    private static void tryWithTimeoutWithoutAValueSnippet(Channel<String> jobs, String job, List<String> dropped) {
        // JAVADOC:begin
        if (!Coroutine.tryWithTimeout(Duration.ofSeconds(1), () -> jobs.send(job))) {
            dropped.add(job);                 // the queue stayed full for a second: the send delivered nothing
        }
        // JAVADOC:end
    }

    @Test
    void theTryWithTimeoutSnippetsGiveTheReplyOrNoneAndDropAJobTheFullQueueDidNotTake() {
        List<String> seen = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<String> replies = new Channel<>("replies", 1);
            seen.add(tryWithTimeoutSnippet(replies) + " at " + Coroutine.nanoTime() / 1_000_000);
            replies.send("pong");
            seen.add(tryWithTimeoutSnippet(replies) + " at " + Coroutine.nanoTime() / 1_000_000);
            Channel<String> jobs = new Channel<>("jobs", 1);
            List<String> dropped = new ArrayList<>();
            tryWithTimeoutWithoutAValueSnippet(jobs, "a", dropped);
            tryWithTimeoutWithoutAValueSnippet(jobs, "b", dropped);
            seen.add("dropped " + dropped + " at " + Coroutine.nanoTime() / 1_000_000 + ", queued " + jobs.tryReceive());
        });
        assertThat(seen).containsExactly("no reply yet at 100", "pong at 100", "dropped [b] at 1100, queued Optional[a]");
    }

    // ---- VirtualTime -------------------------------------------------------------------------

    @Test
    void theVirtualTimeSnippetPrintsAMinuteInNanosecondsThenTheSleeperOfAnHourBeforeTheRunReturns() {
        String printed = printed(() -> {
            // JAVADOC:begin
            VirtualTime.run(() -> {
                Coroutine.create(() -> { Coroutine.sleep(Duration.ofHours(1)); System.out.println("an hour later"); });
                Coroutine.sleep(Duration.ofMinutes(1));
                System.out.println("t = " + Coroutine.nanoTime());   // 60000000000
            });
            // JAVADOC:end
        });
        assertThat(printed).isEqualTo("t = 60000000000\nan hour later\n");
    }

    @Test
    void theVirtualTimeCallSnippetReturnsAMinuteInNanosecondsOnceTheSleeperOfAnHourHasEnded() {
        // JAVADOC:begin
        long t = VirtualTime.call(() -> {
            Coroutine.create(() -> Coroutine.sleep(Duration.ofHours(1)));
            Coroutine.sleep(Duration.ofMinutes(1));
            return Coroutine.nanoTime();
        });                                 // 60000000000, returned once the sleeper of an hour has ended
        // JAVADOC:end
        assertThat(t).isEqualTo(60_000_000_000L);
        assertThat(Coroutine.dump()).as("the sleeper of an hour has ended").contains(": 1 context, current index 0\n");
    }

    // ---- Generator ---------------------------------------------------------------------------

    /** The snippet's value is dropped, and its generator is local to it: it is compiled, and runs without failing. */
    @Test
    void theGeneratorSnippetTakesAValueAndLeavesItsTryWithoutFailing() {
        // JAVADOC:begin
        try (Generator<Integer> squares = Generator.of(out -> {
            for (int i = 1; ; i++) out.emit(i * i);
        })) {
            squares.next(); // 1, and the body stops right after emit(1)
        }
        // JAVADOC:end
    }

    @Test
    void theTwoWaySnippetRunningTotalIsSevenAfterItsTwoReplies() {
        // JAVADOC:begin
        Generator.TwoWay<Integer, Integer> g = Generator.twoWay(out -> {
            int total = 0;
            while (true) total += out.emit(total);
        });
        g.next();     // 0
        g.send(5);    // 5
        g.send(2);    // 7
        // JAVADOC:end
        assertThat(g.send(0)).as("the total, a reply of 0 adding nothing").isEqualTo(7);
        assertThat(g.send(3)).isEqualTo(10);
        g.close();
        assertThat(g.state()).isEqualTo(Generator.State.CLOSED);
    }

    // ---- Select ------------------------------------------------------------------------------

    /** The class-level snippet of {@link Select} over {@code replies} and {@code requests}. */
    private static String selectSnippet(Channel<Integer> replies, Channel<String> requests) {
        // JAVADOC:begin
        String r = new Select<String>()
                .onReceive(replies, v -> "reply " + v)
                .onSend(requests, "ping", () -> "sent")
                .onTimeout(Duration.ofMillis(50), () -> "timed out")
                .select();
        // JAVADOC:end
        return r;
    }

    @Test
    void theSelectSnippetReceivesAReplyElseSendsIntoRoomElseTimesOutAfterFiftyMillisecondsLeavingNoTrace() {
        List<String> trace = new ArrayList<>();
        VirtualTime.run(() -> {
            Channel<Integer> replies = new Channel<>("replies", 1);
            Channel<String> requests = new Channel<>("requests", 1);
            replies.send(7);
            trace.add(selectSnippet(replies, requests) + ", " + requests.size() + " request waiting");
            trace.add(selectSnippet(replies, requests) + ", " + requests.tryReceive().orElseThrow() + " waiting");
            Channel<String> rendezvous = new Channel<>("requests", 0);
            trace.add(selectSnippet(replies, rendezvous) + " at " + Coroutine.nanoTime() / 1_000_000 + " ms, "
                    + replies.size() + " replies and " + rendezvous.size() + " requests left");
        });
        assertThat(trace).containsExactly("reply 7, 0 request waiting", "sent, ping waiting",
                "timed out at 50 ms, 0 replies and 0 requests left");
    }

    /** The snippet of {@link Select#onReceive(Channel, java.util.function.Function, java.util.function.Function)}: the values of {@code producers}, received until all are closed. */
    private static List<String> fanInSnippet(List<Channel<String>> producers) {
        List<String> got = new ArrayList<>();
        // JAVADOC:begin
        List<Channel<String>> open = new ArrayList<>(producers);
        while (!open.isEmpty()) {
            Select<Boolean> s = new Select<>();
            for (Channel<String> ch : open) {
                s.onReceive(ch, v -> got.add(v), closed -> open.remove(ch));
            }
            s.select();
        }
        // JAVADOC:end
        return got;
    }

    @Test
    void theFanInSnippetReceivesEveryValueOfEveryProducerAndEndsOnceAllAreClosed() {
        List<String> got = new ArrayList<>();
        VirtualTime.run(() -> {
            List<Channel<String>> producers = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                int id = p;
                Channel<String> ch = new Channel<>("p" + p, p);
                producers.add(ch);
                Coroutine.create("producer " + p, () -> {
                    for (int i = 0; i < 3; i++) {
                        Coroutine.sleep(Duration.ofMillis(id + 1));
                        ch.send(id + "." + i);
                    }
                    ch.close();
                });
            }
            got.addAll(fanInSnippet(producers));
        });
        assertThat(got).containsExactlyInAnyOrder("0.0", "0.1", "0.2", "1.0", "1.1", "1.2", "2.0", "2.1", "2.2");
    }

    // ---- CoroutinePool -----------------------------------------------------------------------

    @Test
    void thePoolSnippetPrintsTheSumOfOneToAHundredThatAPoolThreadReceivedFromThisOnesChannel() {
        String printed = printed(() -> {
            // JAVADOC:begin
            try (CoroutinePool pool = CoroutinePool.start(2)) {
                Channel<Integer> ch = new Channel<>("numbers", 16);          // owned by this thread
                CompletableFuture<Integer> sum = pool.submit(() -> {         // runs on a pool thread
                    int s = 0;
                    for (int v : ch) s += v;
                    return s;
                });
                for (int i = 1; i <= 100; i++) ch.send(i);                   // parks this thread's main while full
                ch.close();
                System.out.println(Coroutine.await(sum));                    // 5050
            }
            // JAVADOC:end
        });
        assertThat(printed).isEqualTo("5050\n");
    }

    /** The {@code submitCallable} snippet: the lines of {@code path}, read on a thread of {@code pool}. */
    private static CompletableFuture<List<String>> submitCallableSnippet(CoroutinePool pool, Path path) {
        // JAVADOC:begin
        CompletableFuture<List<String>> lines = pool.submitCallable(() -> Files.readAllLines(path)); // IOException
        // JAVADOC:end
        return lines;
    }

    @Test
    void theSubmitCallableSnippetReadsTheFileOnAPoolThreadAndItsIoExceptionFailsTheFutureAsItIs(@TempDir Path dir)
            throws IOException {
        Path path = Files.writeString(dir.resolve("lines.txt"), "first\nsecond\n");
        Path missing = dir.resolve("missing.txt");
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            assertThat(Coroutine.await(submitCallableSnippet(pool, path))).containsExactly("first", "second");
            CompletableFuture<List<String>> failed = submitCallableSnippet(pool, missing);
            assertThatThrownBy(() -> Coroutine.await(failed)).isExactlyInstanceOf(CompletionException.class)
                    .cause().isExactlyInstanceOf(NoSuchFileException.class).hasMessage(missing.toString());
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /**
     * The code blocks of a source's Javadoc, {@code <pre>{@code …}</pre>}, each without its lines' leading
     * {@code *} and dedented as {@link #blocks} dedents.
     */
    static List<String> javadocBlocks(String source) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile("<pre>\\{@code\\n(.*?)}</pre>", Pattern.DOTALL).matcher(source);
        while (m.find()) {
            found.add(dedent(m.group(1).replaceAll("(?m)^[ \\t]*\\* ?", "")));
        }
        return found;
    }

    /** The regex's first group in each match of {@code text}, dedented to its least indented line. */
    static List<String> blocks(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(text);
        while (m.find()) {
            found.add(dedent(m.group(1)));
        }
        return found;
    }

    private static String dedent(String block) {
        List<String> lines = block.stripTrailing().lines().toList();
        int indent = lines.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder b = new StringBuilder();
        for (String l : lines) {
            b.append(l.length() >= indent ? l.substring(indent) : l.strip()).append('\n');
        }
        return b.toString();
    }

    /** What {@code snippet} prints to {@code System.out}, run on this thread, with line ends as {@code \n}. */
    private static String printed(Runnable snippet) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            snippet.run();
        } finally {
            System.setOut(saved);
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }
}
