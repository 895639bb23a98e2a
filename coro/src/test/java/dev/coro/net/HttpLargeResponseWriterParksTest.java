package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A server coroutine writing an HTTP response far larger than the socket buffers to a client that
 * does not read parks, and its thread does not spin meanwhile: over fifty wake-ups of the thread by
 * another thread (each completing a future a coroutine of it awaits) its selector does not report the
 * full connection ready at each; once the client reads, every byte of the
 * response arrives once, in order.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class HttpLargeResponseWriterParksTest {

    private static final int LARGE = 16 << 20;
    private static final int WAKE_UPS = 50;

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @Test
    void theWriterOfAResponseToAClientThatDoesNotReadStaysParkedAndItsThreadsWakeUpsDoNotFindItReadyEachTime() throws Exception {
        CompletableFuture<InetSocketAddress> address = new CompletableFuture<>();
        List<CompletableFuture<Void>> wakeUps = new ArrayList<>();
        for (int i = 0; i < WAKE_UPS; i++) {
            wakeUps.add(new CompletableFuture<>());
        }
        Channel<String> woken = new Channel<>("woken", WAKE_UPS);
        try (CoroutinePool pool = CoroutinePool.start(1); Socket client = new Socket()) {
            CompletableFuture<String> server = pool.submit(() -> {
                try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
                    address.complete((InetSocketAddress) listener.localAddress());
                    Crew crew = new Crew();
                    Channel<String> answering = new Channel<>("answering", 1);
                    TcpConnection c = listener.accept();
                    Coroutine writer = crew.spawn("writer", () -> {
                        try (c) {
                            log.add("served " + MiniHttp.serve(c, r -> {
                                answering.send(r.target());
                                return MiniHttp.answer(r);
                            }));
                        }
                    });
                    answering.receive();
                    for (int i = 0; i < 100 && writer.state() != Coroutine.State.PARKED; i++) {
                        Coroutine.yield(); // until the writer has filled the buffers and parked
                    }
                    String parked = writer.state() + ", " + LoopProbe.ioWaits() + " I/O wait";
                    long reports = LoopProbe.readyReports();
                    for (CompletableFuture<Void> wakeUp : wakeUps) {
                        Coroutine.await(wakeUp); // the thread waits in its event loop, and another wakes it
                        woken.send("woken");
                    }
                    // a selector that reported the full connection writable would do so at every select, at least once
                    // a wake-up; the kernel may still free some room as the bytes in flight reach the client, a few times
                    long reported = LoopProbe.readyReports() - reports;
                    String after = "fewer ready reports than wake-ups: " + (reported < WAKE_UPS) + " (" + reported + ")";
                    crew.join();
                    return parked + "; " + after;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            client.connect(Coroutine.await(address));
            client.getOutputStream().write(MiniHttp.request("GET", "/bytes/" + LARGE, new byte[0], true));
            for (CompletableFuture<Void> wakeUp : wakeUps) {
                wakeUp.complete(null);
                woken.receive(); // one wake-up at a time
            }
            InputStream in = client.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.transferTo(got);
            byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: " + LARGE + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
            byte[] all = got.toByteArray();
            assertThat(all.length).isEqualTo(head.length + LARGE);
            assertThat(Arrays.equals(all, 0, head.length, head, 0, head.length)).isTrue();
            assertThat(Arrays.equals(all, head.length, all.length, MiniHttp.pattern(LARGE), 0, LARGE))
                    .as("every byte of the response once, in order").isTrue();
            assertThat(Coroutine.await(server))
                    .startsWith("PARKED, 1 I/O wait; fewer ready reports than wake-ups: true (");
        }
        assertThat(log).containsExactly("served 1");
    }
}
