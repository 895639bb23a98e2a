package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole program: a line-protocol key-value server on a pool thread whose connections talk to the
 * owner of the keys, a coroutine on the other pool thread, over channels; clients retry with back-off.
 */
@ExtendWith(FreshThread.class)
class KeyValueServerProgramTest {

    /** A request for the owner of the keys: {@code PUT} or {@code GET}, answered on the connection's channel. */
    record Request(int id, String op, String key, String value, Channel<String> reply) {
    }

    @Test
    void everyRequestIsAnsweredOnceThroughDroppedConnectionsAndRetriesAndEveryResourceIsClosed() throws Exception {
        program(false);
    }

    @Test
    void theSameWithTheClientsOnAVirtualClock() throws Exception {
        program(true);
    }

    private static void program(boolean virtual) throws Exception {
        int clients = 4;
        int perClient = 12;
        CompletableFuture<Channel<Request>> ownerInbox = new CompletableFuture<>();
        CompletableFuture<InetSocketAddress> address = new CompletableFuture<>();
        CompletableFuture<Void> stop = new CompletableFuture<>();
        Set<Integer> applied = ConcurrentHashMap.newKeySet();
        List<Integer> appliedTwice = new CopyOnWriteArrayList<>();
        List<TcpConnection> serverSide = new CopyOnWriteArrayList<>();
        List<Thread> poolThreads = new CopyOnWriteArrayList<>();
        TcpListener[] listener = new TcpListener[1];
        Map<String, String> finalStore = new HashMap<>();
        CoroutinePool pool = CoroutinePool.start(2);
        try {
            CompletableFuture<Integer> owner = pool.submit("owner", () -> {
                poolThreads.add(Thread.currentThread());
                Channel<Request> inbox = new Channel<>("owner inbox", 8);
                ownerInbox.complete(inbox);
                Map<String, String> store = new HashMap<>();
                int served = 0;
                for (Request r : inbox) {
                    if (!applied.add(r.id())) {
                        appliedTwice.add(r.id());
                    }
                    String answer = switch (r.op()) {
                        case "PUT" -> {
                            store.put(r.key(), r.value());
                            yield "OK";
                        }
                        case "GET" -> store.getOrDefault(r.key(), "NONE");
                        default -> "ERR " + r.op();
                    };
                    r.reply().send(r.id() + " " + answer);
                    served++;
                }
                finalStore.putAll(store);
                return served;
            });
            CompletableFuture<Integer> server = pool.submit("server", () -> {
                poolThreads.add(Thread.currentThread());
                Channel<Request> inbox = Coroutine.await(ownerInbox);
                Set<Integer> droppedOnce = new HashSet<>();
                List<Coroutine> handlers = new ArrayList<>();
                try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                    listener[0] = l;
                    address.complete((InetSocketAddress) l.localAddress());
                    Coroutine acceptor = Coroutine.create("acceptor", () -> {
                        try {
                            while (true) {
                                TcpConnection c = l.accept();
                                serverSide.add(c);
                                handlers.add(Coroutine.create("conn " + handlers.size(),
                                        () -> serve(c, inbox, droppedOnce)));
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    Coroutine.await(stop);
                    acceptor.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                for (Coroutine h : handlers) {
                    h.join();
                }
                inbox.close();
                return handlers.size();
            });
            InetSocketAddress at = Coroutine.await(address);
            List<String> answers = new CopyOnWriteArrayList<>();
            List<Integer> attempts = new CopyOnWriteArrayList<>();
            long[] ended = new long[1];
            Runnable clientsRun = () -> {
                Semaphore connections = new Semaphore("connections", 2);
                List<Coroutine> cs = new ArrayList<>();
                for (int k = 0; k < clients; k++) {
                    int client = k;
                    cs.add(Coroutine.create("client " + k, () -> {
                        for (int i = 0; i < perClient; i++) {
                            int id = client * 100 + i;
                            String line = i % 2 == 0 ? id + " PUT k" + client + " v" + i : id + " GET k" + client;
                            answers.add(callWithRetries(at, connections, line, id, attempts));
                        }
                    }));
                }
                for (Coroutine c : cs) {
                    c.join();
                }
                ended[0] = Coroutine.nanoTime();
            };
            if (virtual) {
                VirtualTime.run(clientsRun);
                assertThat(ended[0]).isPositive();
            } else {
                clientsRun.run();
            }
            stop.complete(null);
            assertThat(Coroutine.await(server)).isEqualTo(clients * perClient + attempts.size());
            assertThat(Coroutine.await(owner)).isEqualTo(clients * perClient);
            assertThat(answers).hasSize(clients * perClient);
            for (int k = 0; k < clients; k++) {
                for (int i = 1; i < perClient; i += 2) {
                    assertThat(answers).contains((k * 100 + i) + " v" + (i - 1));
                }
                assertThat(finalStore).containsEntry("k" + k, "v" + (perClient - 2));
            }
            assertThat(appliedTwice).isEmpty();
            assertThat(attempts).containsExactlyInAnyOrder(0, 7, 105, 203, 210, 301, 308);
        } finally {
            pool.close();
        }
        assertThat(listener[0].isOpen()).isFalse();
        assertThat(serverSide).isNotEmpty().noneMatch(TcpConnection::isOpen);
        assertThat(poolThreads).hasSize(2).doesNotHaveDuplicates();
        for (Thread t : poolThreads) {
            t.join();
        }
        assertThat(pool.toString()).endsWith("closed]");
    }

    /** One connection's loop: each line goes to the owner; the first sight of an id divisible by 7 drops it. */
    private static void serve(TcpConnection c, Channel<Request> inbox, Set<Integer> droppedOnce) {
        Channel<String> reply = new Channel<>("reply", 1);
        try (c) {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
            Writer out = new OutputStreamWriter(c.output(), StandardCharsets.UTF_8);
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split(" ");
                int id = Integer.parseInt(f[0]);
                if (id % 7 == 0 && droppedOnce.add(id)) {
                    return;
                }
                inbox.send(new Request(id, f[1], f[2], f.length > 3 ? f[3] : null, reply));
                out.write(reply.receive() + "\n");
                out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends one request on a fresh connection, at most 2 open at once, at most 4 attempts, each bounded, with a
     * back-off between.
     */
    private static String callWithRetries(InetSocketAddress at, Semaphore connections, String line, int id,
                                          List<Integer> retried) {
        IOException last = null;
        for (int attempt = 0; attempt < 4; attempt++) {
            if (attempt > 0) {
                retried.add(id);
                Coroutine.sleep(Duration.ofMillis(1L << attempt));
            }
            try {
                return connections.callWithPermit(() -> Coroutine.callWithTimeout(Duration.ofSeconds(20), () -> {
                    try (TcpConnection c = TcpConnection.connect(at)) {
                        c.output().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                        c.shutdownOutput();
                        BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
                        String answer = in.readLine();
                        if (answer == null) {
                            throw new IOException("connection closed before the answer to " + id);
                        }
                        assertThat(in.readLine()).isNull();
                        return answer;
                    }
                }));
            } catch (IOException e) {
                last = e;
            }
        }
        throw new UncheckedIOException(last);
    }
}
