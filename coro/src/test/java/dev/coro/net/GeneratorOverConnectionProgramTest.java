package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.CoroutineTimeoutException;
import dev.coro.Generator;
import dev.coro.VirtualTime;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Whole programs that read a connection through a generator, with timeouts and closes. */
@Tag("net")
class GeneratorOverConnectionProgramTest {

    private static void write(TcpConnection c, String s) {
        try {
            c.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Generator<String> lines(TcpConnection c, List<String> trace) {
        return Generator.of("lines", out -> {
            try {
                BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
                String l;
                while ((l = in.readLine()) != null) {
                    out.emit(l);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                trace.add("lines unwound at " + Coroutine.nanoTime() / 1_000_000);
            }
        });
    }

    @Test
    void aTimeoutInsideAGeneratorParkedOnAReadClosesItAndTheConnectionStillWorksUnderVirtualTime() throws Exception {
        List<String> trace = new ArrayList<>();
        Thread t = Thread.ofPlatform().start(() -> VirtualTime.run(() -> {
            try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                Coroutine.create("server", () -> {
                    try (TcpConnection c = l.accept()) {
                        write(c, "a\nb\n");
                        Coroutine.sleep(Duration.ofSeconds(1));
                        write(c, "c\n");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                try (TcpConnection c = TcpConnection.connect(l.localAddress())) {
                    Generator<String> g = lines(c, trace);
                    for (int i = 0; i < 3; i++) {
                        try {
                            String s = Coroutine.withTimeout(Duration.ofMillis(100), () -> g.next());
                            trace.add(s + " at " + Coroutine.nanoTime() / 1_000_000);
                        } catch (CoroutineTimeoutException e) {
                            trace.add("timeout at " + Coroutine.nanoTime() / 1_000_000 + ", generator " + g.state());
                            break;
                        }
                    }
                    byte[] rest = c.input().readAllBytes();
                    trace.add(new String(rest, StandardCharsets.UTF_8).trim() + " at " + Coroutine.nanoTime() / 1_000_000);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
        t.join();
        assertThat(trace).containsExactly("a at 0", "b at 0", "lines unwound at 100", "timeout at 100, generator CLOSED",
                "c at 1000");
    }

    @Test
    void aConsumerClosedWhileItsGeneratorIsParkedOnAReadUnwindsTheGeneratorAndLeavesTheConnectionUsable() throws Exception {
        List<String> trace = new ArrayList<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
                 TcpConnection client = TcpConnection.connect(l.localAddress());
                 TcpConnection server = l.accept()) {
                Generator<String> g = lines(server, trace);
                Coroutine consumer = Coroutine.create("consumer", () -> {
                    for (String s : g) {
                        trace.add("got " + s);
                    }
                });
                write(client, "one\n");
                for (int i = 0; i < 1000 && !trace.contains("got one"); i++) {
                    Coroutine.yield();
                }
                Coroutine.yield();
                trace.add(Coroutine.dump().lines().filter(x -> x.contains("consumer")).findFirst().orElse("?"));
                consumer.close();
                trace.add("consumer " + consumer.state() + ", generator " + g.state());
                write(client, "two\n");
                BufferedReader in = new BufferedReader(new InputStreamReader(server.input(), StandardCharsets.UTF_8));
                trace.add("then read " + in.readLine());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        t.join();
        assertThat(trace).hasSize(5);
        assertThat(trace.get(0)).isEqualTo("got one");
        assertThat(trace.get(1)).contains("PARKED").contains("waits to read from connection").contains("inside generator 'lines'");
        assertThat(trace.subList(2, 5)).containsExactly("lines unwound at " + trace.get(2).substring(17),
                "consumer CLOSED, generator CLOSED", "then read two");
    }
}
