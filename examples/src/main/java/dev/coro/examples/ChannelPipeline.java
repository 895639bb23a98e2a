package dev.coro.examples;

import dev.coro.Channel;
import dev.coro.Coroutine;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A producer/consumer pipeline on {@link Channel}s: nobody busy-waits, a side that cannot go on parks.
 *
 * <p>A producer sends 1..8 into {@code numbers} (capacity 2), a squarer turns each into its square
 * and sends it into {@code squares} (a rendezvous), and main consumes the squares. Compare with
 * {@link ProducerConsumer}, which spins through {@code yield()} while its buffer is full or empty.
 * The interleaving follows the parking rules: waking never switches, parked contexts are skipped.
 */
public final class ChannelPipeline {
    private static final int ITEMS = 8;

    private final PrintStream out;

    private ChannelPipeline(PrintStream out) {
        this.out = out;
    }

    /**
     * Runs the example on the calling thread, printing to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        new ChannelPipeline(out).main();
    }

    /**
     * Runs the example, printing to standard output.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        run(System.out);
    }

    private void produce(Channel<Integer> numbers) {
        for (int i = 1; i <= ITEMS; i++) {
            numbers.send(i);
            out.printf(Locale.ROOT, "[producer | ctx %d] sent %d%n", Coroutine.currentId(), i);
        }
        numbers.close();
        out.printf(Locale.ROOT, "[producer | ctx %d] closed numbers%n", Coroutine.currentId());
    }

    private void square(Channel<Integer> numbers, Channel<Integer> squares) {
        for (int n : numbers) {
            out.printf(Locale.ROOT, "[squarer  | ctx %d] %d -> %d%n", Coroutine.currentId(), n, n * n);
            squares.send(n * n);
        }
        squares.close();
        out.printf(Locale.ROOT, "[squarer  | ctx %d] closed squares%n", Coroutine.currentId());
    }

    private void main() {
        Channel<Integer> numbers = new Channel<>("numbers", 2);
        Channel<Integer> squares = new Channel<>("squares", 0);
        Coroutine producer = Coroutine.create("producer", () -> produce(numbers));
        Coroutine squarer = Coroutine.create("squarer", () -> square(numbers, squares));
        int sum = 0;
        for (int sq : squares) {
            sum += sq;
            out.printf(Locale.ROOT, "[main     | ctx %d] got %d (sum %d)%n", Coroutine.currentId(), sq, sum);
        }
        out.printf(Locale.ROOT, "[main     | ctx %d] squares closed; producer %s, squarer %s%n", Coroutine.currentId(),
                producer.state(), squarer.state());
    }
}
