package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.Generator;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Io#await} from each kind of caller: the main context of a thread that has made no coroutine, a
 * generator's body (its consumer waits meanwhile), and the threads of a pool in turn; each wait ends when
 * its channel is ready and leaves its thread no registration and no selector.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class AwaitFromEveryKindOfCallerTest {

    @Test
    @Timeout(30)
    void theMainContextOfAThreadWithoutCoroutinesParksUntilAnotherThreadWritesThePipe() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    sink.write(bytes("x"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            ByteBuffer buf = ByteBuffer.allocate(1);
            while (source.read(buf) == 0) {
                Io.await(source, SelectionKey.OP_READ);
            }
            writer.join();
            assertThat(text(buf)).isEqualTo("x");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
    }

    @Test
    @Timeout(30)
    void aGeneratorBodyAwaitsThePipeItReadsWhileItsConsumerWaitsForTheValue() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            List<String> log = new ArrayList<>();
            Generator<String> bytesRead = Generator.of(out -> {
                ByteBuffer buf = ByteBuffer.allocate(1);
                while (true) {
                    buf.clear();
                    while (source.read(buf) == 0) {
                        log.add("body awaits");
                        Io.await(source, SelectionKey.OP_READ);
                    }
                    out.emit(text(buf));
                }
            });
            Coroutine writer = Coroutine.create("writer", () -> {
                for (String s : List.of("a", "b")) {
                    log.add("writer writes " + s);
                    try {
                        sink.write(bytes(s));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    Coroutine.yield();
                }
            });
            try (bytesRead) {
                log.add("took " + bytesRead.next());
                log.add("took " + bytesRead.next());
            }
            writer.join();
            // the writer runs while the body waits, and its yield runs it again (the selector is asked once nothing can
            // run): both bytes are in by the time the body runs again, and it reads the second without a wait
            assertThat(log).containsExactly("body awaits", "writer writes a", "writer writes b", "took a", "took b");
            assertThat(LoopProbe.ioWaits()).isZero();
            assertThat(LoopProbe.selectorOpen()).isFalse();
        }
    }

    @Test
    @Timeout(30)
    void theThreadsOfAPoolAwaitOneChannelInTurnEachLeavingNoSelectorOpen() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink();
             CoroutinePool pool = CoroutinePool.start(2)) {
            source.configureBlocking(false);
            List<String> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                CompletableFuture<String> read = pool.submitCallable(() -> {
                    ByteBuffer buf = ByteBuffer.allocate(1);
                    while (source.read(buf) == 0) {
                        Io.await(source, SelectionKey.OP_READ);
                    }
                    return text(buf) + " read, " + LoopProbe.ioWaits() + " I/O waits left, selector open: " + LoopProbe.selectorOpen();
                });
                sink.write(bytes(String.valueOf(i)));
                results.add(read.get(20, TimeUnit.SECONDS));
            }
            assertThat(results).containsExactly("0 read, 0 I/O waits left, selector open: false",
                    "1 read, 0 I/O waits left, selector open: false", "2 read, 0 I/O waits left, selector open: false",
                    "3 read, 0 I/O waits left, selector open: false");
            source.configureBlocking(true); // refused while a selector of either thread still held it
        }
    }
}
