package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.VirtualTime;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Netty's idioms written the way of coro, one test each, as docs/COMING-FROM.md's Netty rows name them: a
 * length-prefixed frame decoder, a read idle timeout, back-pressure on a full socket, a task handed to another
 * thread's event loop, a scheduled task and a promise awaited instead of listened to.
 */
@ExtendWith(FreshThread.class)
@Timeout(60)
class NettyIdiomsTest {

    private final List<String> log = new ArrayList<>();

    /** A frame as a {@code LengthFieldPrepender} writes it: a four-byte big-endian length, then the bytes. */
    private static byte[] frame(String text) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    /**
     * {@code LengthFieldBasedFrameDecoder}: a {@code DataInputStream} over {@code c.input()} reads the length, then
     * {@code readFully} the frame, parking while a frame is only partly there; frames cut anywhere (the length
     * itself split) come out whole, and the end of the stream between frames is an {@code EOFException}.
     */
    @Test
    @Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
    void aLengthPrefixedFrameDecoderIsADataInputStreamOverTheConnectionsInput() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            ByteBuffer wire = ByteBuffer.allocate(64);
            for (String text : List.of("hello", "", "a frame of some length")) {
                wire.put(frame(text));
            }
            byte[] all = Arrays.copyOf(wire.array(), wire.position());
            Coroutine writer = Coroutine.create("writer", () -> {
                try {
                    for (int at = 0; at < all.length; at += 3) { // three bytes at a time: every field cut somewhere
                        client.write(ByteBuffer.wrap(all, at, Math.min(3, all.length - at)));
                        Coroutine.yield();                     // the decoder runs on a partial frame
                    }
                    client.shutdownOutput();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            DataInputStream in = new DataInputStream(server.input());
            List<String> frames = new ArrayList<>();
            try {
                while (true) {
                    byte[] body = new byte[in.readInt()];           // parks until four bytes are there
                    in.readFully(body);                             // parks until the whole frame is there
                    frames.add(new String(body, StandardCharsets.UTF_8));
                }
            } catch (EOFException end) {
                log.add("end of stream after " + frames.size() + " frames");
            }
            assertThat(frames).containsExactly("hello", "", "a frame of some length");
            assertThat(log).containsExactly("end of stream after 3 frames");
            assertThat(writer.state()).isEqualTo(State.FINISHED);
        }
    }

    /**
     * {@code IdleStateHandler} / {@code ReadTimeoutHandler}: each read waits at most the idle time under
     * {@code tryCallWithTimeout}; a read that timed out took nothing, so the bytes that come after it are all read by
     * the next read; the first idle period pings the peer, the first one after its answer closes the connection, and
     * the peer reads the end of the stream.
     */
    @Test
    @Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
    void aReadIdleTimeoutClosesTheConnectionAndLosesNoByteOfALaterRead() throws Exception {
        Duration idle = Duration.ofMillis(30);
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress())) {
            TcpConnection server = listener.accept();
            StringBuilder received = new StringBuilder();
            Coroutine handler = Coroutine.create("handler", () -> {
                try (server) {
                    ByteBuffer buf = ByteBuffer.allocate(16);
                    boolean pinged = false;
                    while (true) {
                        Optional<Integer> n = Coroutine.tryCallWithTimeout(idle, () -> server.read(buf.clear()));
                        if (n.isEmpty()) {                            // idle: the read took nothing
                            if (!pinged) {
                                server.write(bytes("ping?"));
                                pinged = true;
                            } else if (received.toString().equals("pong")) {
                                log.add("idle after pong: close");
                                return;                               // try-with-resources closes the connection
                            }
                        } else if (n.get() < 0) {
                            log.add("peer closed");
                            return;
                        } else {
                            received.append(StandardCharsets.UTF_8.decode(buf.flip()));
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            byte[] ping = client.input().readNBytes(5);               // nothing sent before: the handler idles first
            assertThat(new String(ping, StandardCharsets.UTF_8)).isEqualTo("ping?");
            for (String part : List.of("p", "o", "ng")) {
                client.write(bytes(part));
                Coroutine.yield();
            }
            assertThat(client.input().read()).as("the handler closed the connection").isEqualTo(-1);
            handler.join();
            assertThat(received.toString()).as("every byte after a timed-out read is read").isEqualTo("pong");
            assertThat(log).containsExactly("idle after pong: close");
            assertThat(server.isOpen()).isFalse();
        }
    }

    /**
     * Writability and water marks: a writer whose peer does not read parks in {@code write} once the kernel's
     * buffers are full, the part of its buffer that went out in its position; the rest stays in the writer's buffer
     * while the peer reads nothing, queued nowhere (where {@code writeAndFlush} would take it all into the outbound
     * buffer), and once the peer reads, every byte arrives in order and the write returns.
     */
    @Test
    @Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
    void aWriterParksOnAFullSocketWhileThePeerDoesNotReadAndNothingQueuesMeanwhile() throws Exception {
        int size = 32 << 20;                                          // far more than loopback's socket buffers
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (i * 31 + (i >>> 8));
        }
        ByteBuffer out = ByteBuffer.wrap(data);
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            Coroutine writer = Coroutine.create("writer", () -> {
                try {
                    server.write(out);
                    log.add("write returned");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Coroutine.yield();                                        // the writer runs until the socket is full
            assertThat(writer.state()).isEqualTo(State.PARKED);
            assertThat(Coroutine.dump()).contains("coroutine 'writer': PARKED, waits to write to connection");
            assertThat(out.position()).as("what the kernel took").isPositive().isLessThan(size);
            for (int i = 0; i < 10; i++) {
                Coroutine.yield();                                    // the peer still reads nothing
            }
            assertThat(writer.state()).as("the write has not returned").isNotEqualTo(State.FINISHED);
            assertThat(log).isEmpty();
            assertThat(out.position()).as("the rest is still the writer's, queued nowhere").isLessThan(size);
            byte[] in = client.input().readNBytes(size);              // the writer is woken as room comes
            assertThat(in.length).isEqualTo(size);
            assertThat(Arrays.equals(in, data)).as("every byte, in order").isTrue();
            writer.join();
            assertThat(log).containsExactly("write returned");
        }
    }

    /**
     * {@code eventLoop().execute(task)} from another thread: the tasks go to a channel the loop's thread made, and a
     * coroutine of that thread runs them in the order sent, on that thread; closing the channel ends the loop.
     */
    @Test
    void aTaskHandedToAnotherThreadsEventLoopThroughAChannelMadeOnThatThreadRunsThereInOrder() {
        try (CoroutinePool loop = CoroutinePool.start("loop", 1)) {
            CompletableFuture<Channel<Runnable>> inbox = new CompletableFuture<>();
            CompletableFuture<Integer> ran = loop.submit(() -> {
                Channel<Runnable> tasks = new Channel<>("tasks", 16);  // the loop thread's channel
                inbox.complete(tasks);
                int n = 0;
                for (Runnable task : tasks) {
                    task.run();
                    n++;
                }
                return n;
            });
            Channel<Runnable> tasks = Coroutine.await(inbox);
            List<String> seen = new ArrayList<>();                   // written by the loop thread alone
            for (int i = 1; i <= 3; i++) {
                int task = i;
                tasks.send(() -> seen.add("task " + task + " on " + Coroutine.current().thread().getName()));
            }
            tasks.close();
            assertThat(Coroutine.await(ran)).isEqualTo(3);
            assertThat(seen).containsExactly("task 1 on loop-0", "task 2 on loop-0", "task 3 on loop-0");
        }
    }

    /**
     * {@code eventLoop().schedule(task, delay)} and its {@code ScheduledFuture.cancel}: a coroutine that sleeps
     * first, and its {@code close()} before it ran; the task runs on its thread at its time, the cancelled one never.
     */
    @Test
    void aScheduledTaskIsACoroutineThatSleepsFirstAndItsCancelIsAClose() {
        VirtualTime.run(() -> {
            Coroutine.create("in 100 ms", () -> {
                Coroutine.sleep(Duration.ofMillis(100));
                log.add("ran at " + Coroutine.nanoTime() / 1_000_000 + " ms");
            });
            Coroutine cancelled = Coroutine.create("in 50 ms", () -> {
                try {
                    Coroutine.sleep(Duration.ofMillis(50));
                    log.add("cancelled task ran");
                } finally {
                    log.add("cancelled task unwound");
                }
            });
            Coroutine.yield();                                       // both sleep now
            cancelled.close();
            log.add("cancelled at " + Coroutine.nanoTime() / 1_000_000 + " ms");
        });
        assertThat(log).containsExactly("cancelled task unwound", "cancelled at 0 ms", "ran at 100 ms");
    }

    /**
     * {@code Promise.addListener}: the code a listener would run comes after {@code Coroutine.await(future)}, in the
     * coroutine, on its own thread, whichever thread completed the future; the thread's other coroutines ran while it
     * waited.
     */
    @Test
    void aPromiseCompletedOnAnotherThreadIsAwaitedAndWhatFollowsRunsOnTheAwaitersThread() throws Exception {
        CompletableFuture<String> promise = new CompletableFuture<>();
        Thread mine = Thread.currentThread();
        Coroutine waiter = Coroutine.create("waiter", () -> {
            String v = Coroutine.await(promise);
            log.add("got " + v + " on its own thread: " + (Coroutine.current().thread() == mine));
        });
        Coroutine.yield();
        assertThat(waiter.state()).isEqualTo(State.PARKED);
        log.add("main ran meanwhile");
        Thread completer = Thread.ofPlatform().name("completer").start(() -> promise.complete("v"));
        completer.join();
        waiter.join();
        assertThat(log).containsExactly("main ran meanwhile", "got v on its own thread: true");
    }
}
