package dev.coro.examples;

import dev.coro.Coroutine;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The C runtime's {@code producer_consumer} example: a bounded ring buffer (capacity 4) with
 * cooperative backpressure. Both sides busy-yield while they cannot proceed, exactly as in C;
 * {@link ChannelPipeline} does the same on {@code dev.coro.Channel}s, parking instead of spinning.
 */
public final class ProducerConsumer {
    private static final int CAPACITY = 4;

    private final PrintStream out;
    private final int[] buffer = new int[CAPACITY];
    private int head;
    private int tail;
    private int count;
    private boolean done;

    private ProducerConsumer(PrintStream out) {
        this.out = out;
    }

    /**
     * Runs the example on the calling thread, printing to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        new ProducerConsumer(out).main();
    }

    /**
     * Runs the example, printing to standard output.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        run(System.out);
    }

    private void produce(int items) {
        for (int i = 1; i <= items; i++) {
            while (count == CAPACITY) {
                Coroutine.yield();
            }
            buffer[tail] = i;
            tail = (tail + 1) % CAPACITY;
            count++;
            out.printf(Locale.ROOT, "[producer | ctx %d] produced %d (count=%d)%n", Coroutine.currentId(), i, count);
            Coroutine.yield();
        }
        done = true;
        Coroutine.yield();
    }

    private void consume() {
        while (!done || count > 0) {
            if (count == 0) {
                Coroutine.yield();
                continue;
            }
            int value = buffer[head];
            head = (head + 1) % CAPACITY;
            count--;
            out.printf(Locale.ROOT, "[consumer | ctx %d] consumed %d (count=%d)%n", Coroutine.currentId(), value, count);
            Coroutine.yield();
        }
    }

    private void main() {
        Coroutine producer = Coroutine.create("producer", this::produce, 12);
        Coroutine consumer = Coroutine.create("consumer", this::consume);
        while (!producer.isFinished() || !consumer.isFinished()) {
            Coroutine.yield();
        }
        producer.close();
        consumer.close();
    }
}
