package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A context parked inside a function it handed to the library (the body of a {@code withTimeout}, the function
 * of a select's clause, the action of a {@code forEach}, a generator's body it consumes inside another call)
 * shows, in {@code stackTrace()} and the dumps, the call it parks in, then the call it handed the function to,
 * then its own frames: whether the function is a lambda calling the library or a reference to the library's
 * own method ({@code rows::receive}, {@code select::select}, {@code out::send}), which has no frame of its own.
 */
@ExtendWith(FreshThread.class)
class FramesInsideFunctionsHandedToTheLibraryTest {

    private static final String TEST = "dev.coro.FramesInsideFunctionsHandedToTheLibraryTest.";

    @Test
    void aBodyOfWithTimeoutShowsTheCallItParksInAboveTheCallOfWithTimeout() {
        Channel<String> rows = new Channel<>("rows", 0);
        Select<String> select = new Select<String>().onReceive(rows, v -> v);
        Duration hour = Duration.ofHours(1);
        Coroutine reference = Coroutine.create("reference", () -> Coroutine.withTimeout(hour, rows::receive));
        Coroutine tried = Coroutine.create("tried", () -> Coroutine.tryWithTimeout(hour, rows::receive));
        Coroutine checked = Coroutine.create("checked", () -> Coroutine.callWithTimeout(hour, rows::receive));
        Coroutine selecting = Coroutine.create("selecting", () -> Coroutine.withTimeout(hour, select::select));
        Coroutine lambda = Coroutine.create("lambda", () -> Coroutine.withTimeout(hour,
                () -> new Select<String>().onReceive(rows, v -> v).select()));
        Coroutine.yield(); // each parks in its body
        String body = TEST + "lambda$aBodyOfWithTimeoutShowsTheCallItParksInAboveTheCallOfWithTimeout$";
        assertThat(withoutLambdaNumbers(reference.stackTrace())).containsExactly("dev.coro.Channel.receive",
                "dev.coro.Coroutine.withTimeout", body);
        assertThat(withoutLambdaNumbers(tried.stackTrace())).containsExactly("dev.coro.Channel.receive",
                "dev.coro.Coroutine.tryWithTimeout", body);
        assertThat(withoutLambdaNumbers(checked.stackTrace())).containsExactly("dev.coro.Channel.receive",
                "dev.coro.Coroutine.callWithTimeout", body);
        assertThat(withoutLambdaNumbers(selecting.stackTrace())).containsExactly("dev.coro.Select.select",
                "dev.coro.Coroutine.withTimeout", body);
        assertThat(withoutLambdaNumbers(lambda.stackTrace())).containsExactly("dev.coro.Select.select", body,
                "dev.coro.Coroutine.withTimeout", body);
        assertThat(withoutLineNumbers(Coroutine.dump())).contains("""
                  [4] coroutine 'selecting': PARKED, waits to select over receive from channel 'rows'
                        at dev.coro.Select.select(Select.java:_)
                        at dev.coro.Coroutine.withTimeout(Coroutine.java:_)
                        at dev.coro.FramesInsideFunctionsHandedToTheLibraryTest.lambda$aBodyOfWithTimeoutShowsTheCallItParksInAboveTheCallOfWithTimeout$_(FramesInsideFunctionsHandedToTheLibraryTest.java:_)
                """);
        for (Coroutine c : List.of(reference, tried, checked, selecting, lambda)) {
            c.close();
        }
    }

    @Test
    void aClauseFunctionOfASelectShowsTheCallItParksInAboveTheSelect() {
        Channel<String> rows = new Channel<>("rows", 0);
        Channel<CompletableFuture<String>> replies = new Channel<>("replies", 1);
        CompletableFuture<String> reply = new CompletableFuture<>();
        replies.send(reply);
        Coroutine byDefault = Coroutine.create("by-default", () -> new Select<String>().onDefault(rows::receive).select());
        Coroutine awaiting = Coroutine.create("awaiting", () -> new Select<String>().onReceive(replies, Coroutine::await).select());
        Coroutine.yield(); // each fires its clause and parks in the clause's function
        String body = TEST + "lambda$aClauseFunctionOfASelectShowsTheCallItParksInAboveTheSelect$";
        assertThat(withoutLambdaNumbers(byDefault.stackTrace())).containsExactly("dev.coro.Channel.receive",
                "dev.coro.Select.select", body);
        assertThat(withoutLambdaNumbers(awaiting.stackTrace())).containsExactly("dev.coro.Coroutine.await",
                "dev.coro.Select.select", body);
        byDefault.close();
        reply.complete("done");
        Coroutine.yield(); // the awaiting one's select returns
        assertThat(awaiting.isFinished()).isTrue();
    }

    @Test
    void anActionOfForEachShowsTheCallItParksInAboveTheForEach() {
        Channel<String> in = new Channel<>("in", 3);
        Channel<String> out = new Channel<>("out", 0);
        in.send("a");
        in.send("b");
        in.send("c");
        in.close();
        Generator<String> lines = Generator.of("lines", e -> e.emit("line"));
        Generator<String> more = Generator.of("more", e -> e.emit("more"));
        Generator<String> ahead = Generator.buffered("ahead", 2, e -> e.emit("ahead"));
        Coroutine channel = Coroutine.create("channel", () -> in.forEach(out::send));
        Coroutine generator = Coroutine.create("generator", () -> lines.forEach(out::send));
        Coroutine remaining = Coroutine.create("remaining", () -> more.forEachRemaining(out::send));
        Coroutine buffered = Coroutine.create("buffered", () -> ahead.forEachRemaining(out::send));
        Coroutine lambda = Coroutine.create("lambda", () -> in.forEach(v -> out.send(v)));
        Coroutine.yield(); // each hands its first value to the send, which parks
        String body = TEST + "lambda$anActionOfForEachShowsTheCallItParksInAboveTheForEach$";
        assertThat(withoutLambdaNumbers(channel.stackTrace())).containsExactly("dev.coro.Channel.send",
                "dev.coro.Channel.forEach", body);
        assertThat(withoutLambdaNumbers(generator.stackTrace())).containsExactly("dev.coro.Channel.send",
                "dev.coro.Generator.forEach", body);
        assertThat(withoutLambdaNumbers(remaining.stackTrace())).containsExactly("dev.coro.Channel.send",
                "dev.coro.Generator.forEachRemaining", body);
        assertThat(withoutLambdaNumbers(buffered.stackTrace())).containsExactly("dev.coro.Channel.send",
                "dev.coro.BufferedGenerator.forEachRemaining", body);
        assertThat(withoutLambdaNumbers(lambda.stackTrace())).containsExactly("dev.coro.Channel.send", body,
                "dev.coro.Channel.forEach", body);
        for (Coroutine c : List.of(channel, generator, remaining, buffered, lambda)) {
            c.close();
        }
    }

    /**
     * A generator's body parked in a receive shows the receive, the body, then the consumer's call of the generator,
     * then the consumer's frames; also when that call is a reference handed to {@code withPermit}.
     */
    @Test
    void aGeneratorsBodyParkedInAReceiveShowsTheReceiveTheBodyAndTheConsumersCallOfTheGenerator() {
        Channel<String> rows = new Channel<>("rows", 0);
        Semaphore db = new Semaphore("db", 2);
        Generator<String> lines = Generator.of("lines", e -> e.emit(rows.receive()));
        Generator<String> permitted = Generator.of("permitted", e -> e.emit(rows.receive()));
        Coroutine consumer = Coroutine.create("consumer", () -> lines.next());
        Coroutine reference = Coroutine.create("reference", () -> db.withPermit(permitted::next));
        Coroutine.yield(); // each parks in the body's receive
        String test = TEST + "lambda$aGeneratorsBodyParkedInAReceiveShowsTheReceiveTheBodyAndTheConsumersCallOfTheGenerator$";
        assertThat(withoutLambdaNumbers(consumer.stackTrace())).containsExactly("dev.coro.Channel.receive", test,
                "dev.coro.Generator.next", test);
        assertThat(withoutLambdaNumbers(reference.stackTrace())).containsExactly("dev.coro.Channel.receive", test,
                "dev.coro.Generator.next", "dev.coro.Semaphore.withPermit", test);
        assertThat(withoutLineNumbers(Coroutine.dump())).endsWith("""
                  [2] coroutine 'reference': PARKED, waits to receive from channel 'rows', inside generator 'permitted'
                        at dev.coro.Channel.receive(Channel.java:_)
                        at dev.coro.FramesInsideFunctionsHandedToTheLibraryTest.lambda$aGeneratorsBodyParkedInAReceiveShowsTheReceiveTheBodyAndTheConsumersCallOfTheGenerator$_(FramesInsideFunctionsHandedToTheLibraryTest.java:_)
                        at dev.coro.Generator.next(Generator.java:_)
                        ... 2 more
                """);
        consumer.close();
        reference.close();
        lines.close();
        permitted.close();
        assertThat(db.availablePermits()).isEqualTo(2);
    }

    /**
     * The caller of a dump listed from its call of {@code Coroutine.dump} when that call is a reference handed to a
     * call of the library ({@code db.withPermit(Coroutine::dump)}), then the call it was handed to, then its frames.
     */
    @Test
    void aDumpMadeByAReferenceHandedToACallListsItsCallOfDumpAboveThatCall() {
        Semaphore db = new Semaphore("db", 1);
        Supplier<String> dumper = Coroutine::dump;
        String dump = Coroutine.withTimeout(Duration.ofHours(1), () -> db.withPermit(dumper));
        assertThat(withoutLineNumbers(dump)).contains("""
                  [0] main: RUNNING (the caller)
                        at dev.coro.Coroutine.dump(Coroutine.java:_)
                        at dev.coro.Semaphore.withPermit(Semaphore.java:_)
                        at dev.coro.FramesInsideFunctionsHandedToTheLibraryTest.lambda$aDumpMadeByAReferenceHandedToACallListsItsCallOfDumpAboveThatCall$_(FramesInsideFunctionsHandedToTheLibraryTest.java:_)
                """);
    }

    /** {@code frames} as {@code Class.method} strings, a lambda's number left out ({@code lambda$test$3} as {@code lambda$test$}). */
    private static List<String> withoutLambdaNumbers(StackTraceElement[] frames) {
        return Arrays.stream(frames).map(f -> f.getClassName() + "." + f.getMethodName().replaceFirst("(lambda\\$\\w+\\$)\\d+$", "$1"))
                .toList();
    }

    private static String withoutLineNumbers(String dump) {
        return dump.replaceAll("\\.java:\\d+\\)", ".java:_)").replaceAll("(lambda\\$\\w+)\\$\\d+\\(", "$1\\$_(");
    }
}
