package dev.coro.examples;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Runs one example by name: {@code channel_pipeline}, {@code cpt}, {@code echo_server},
 * {@code hello_http}, {@code parallel_pipeline}, {@code ping_pong}, {@code producer_consumer} or {@code timeouts}.
 * Each prints the same bytes in every default locale: it formats its numbers with {@link java.util.Locale#ROOT},
 * in ASCII digits as the C runtime writes them.
 */
public final class Examples {

    /** The examples by name: the C examples they port, then those beyond them. */
    static final Map<String, Consumer<PrintStream>> ALL = new TreeMap<>(Map.of(
            "channel_pipeline", ChannelPipeline::run,
            "cpt", Cpt::run,
            "echo_server", EchoServer::run,
            "hello_http", HelloHttp::run,
            "parallel_pipeline", ParallelPipeline::run,
            "ping_pong", PingPong::run,
            "producer_consumer", ProducerConsumer::run,
            "timeouts", Timeouts::run));

    private Examples() {
    }

    /**
     * Runs the example named by the first argument.
     *
     * @param args the example's name
     */
    public static void main(String[] args) {
        Consumer<PrintStream> example = args.length == 1 ? ALL.get(args[0]) : null;
        if (example == null) {
            System.err.println("usage: Examples <name>, where name is one of " + ALL.keySet());
            System.exit(2);
        }
        example.accept(System.out);
    }
}
