package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Compiles and runs the README's code exactly as shown there (between the BEGIN and END marks),
 * and checks what it prints.
 */
@ExtendWith(FreshThread.class)
class ReadmeSnippetsTest {

    @Test
    void generatorSnippetPrintsTheFirstTenFibonacciNumbers() {
        assertThat(printed(() -> {
            // BEGIN README generator
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
            // END README generator
        })).isEqualTo("0 1 1 2 3 5 8 13 21 34 ");
    }

    @Test
    void channelSnippetHandsEveryJobToTheWorkerWithoutSpinning() {
        assertThat(printed(() -> {
            // BEGIN README channel
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
            // END README channel
        })).isEqualTo("done a\ndone b\ndone c\nFINISHED\n".replace("\n", System.lineSeparator()));
    }

    /** What {@code snippet} prints to {@code System.out}; tests run one at a time, so swapping it is safe. */
    private static String printed(Runnable snippet) {
        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            snippet.run();
        } finally {
            System.setOut(saved);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
