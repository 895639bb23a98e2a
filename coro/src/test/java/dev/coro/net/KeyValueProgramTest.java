package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import dev.coro.management.CoroutinesManagement;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole program: {@link KeyValueServer}, a key-value server with publish/subscribe on a pool of two
 * threads, driven by blocking sockets on the test's thread and by coroutine clients on a pool of their own:
 * values round-trip, every publish reaches every subscriber once and in one order across both threads, a
 * slow subscriber is disconnected, clients that vanish or reset harm nobody else, requests and idle
 * connections time out, and a shutdown, in order or at once, leaves no thread, socket or coroutine behind.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith({FreshThread.class, PoolsClosed.class})
@Timeout(60)
class KeyValueProgramTest {

    /** How long a client waits for a line before the test fails: a guard against a hang, never reached. */
    private static final int GUARD_MILLIS = 20_000;
    /** An idle or request timeout no test reaches. */
    private static final Duration NEVER = Duration.ofSeconds(30);
    /** What a flood's message carries: long, so that a subscriber that never reads fills its socket's buffers soon. */
    private static final String PAD = "x".repeat(8 << 10);
    /** A flood's bound: far more messages than a slow subscriber's buffers and outbox hold. */
    private static final int FLOOD_MAX = 2_000;

    @Test
    void valuesRoundTripAndEveryPublishReachesEverySubscriberOnceInOneOrderOnBothThreads() throws Exception {
        int publishers = 2;
        int perPublisher = 20;
        KeyValueServer done = serve(NEVER, NEVER, 64, (server, at) -> {
            List<Client> subscribers = new ArrayList<>();
            try (CoroutinePool clients = CoroutinePool.start("clients", 1)) {
                subscribers.addAll(onBothThreads(at, 2));
                for (Client s : subscribers) {
                    assertThat(s.call("SUB news")).isEqualTo("SUBSCRIBED news");
                }
                List<CompletableFuture<List<String>>> published = new ArrayList<>();
                for (int p = 0; p < publishers; p++) {
                    int publisher = p;
                    published.add(clients.submitCallable("publisher " + p, () -> publish(at, publisher, perPublisher, subscribers.size())));
                }
                for (CompletableFuture<List<String>> p : published) {
                    assertThat(Coroutine.await(p)).as("what a publisher was answered").containsOnly("OK", "VALUE v", "NIL", "DELETED");
                }
                List<List<String>> heard = new ArrayList<>();
                for (Client s : subscribers) {
                    List<String> lines = new ArrayList<>();
                    for (int i = 0; i < publishers * perPublisher; i++) {
                        lines.add(s.in.readLine());
                    }
                    heard.add(lines);
                    assertThat(s.call("QUIT")).isEqualTo("BYE");
                    assertThat(s.in.readLine()).as("the end of the stream").isNull();
                }
                for (List<String> lines : heard) {
                    assertThat(lines).as("every subscriber hears the same lines in the store's one order").isEqualTo(heard.get(0));
                    for (int p = 0; p < publishers; p++) {
                        String prefix = "MSG news p" + p + "-";
                        assertThat(lines.stream().filter(l -> l.startsWith(prefix)).toList()).as("publisher %s's, each once, in order", p)
                                .isEqualTo(java.util.stream.IntStream.range(0, perPublisher).mapToObj(k -> prefix + k).toList());
                    }
                }
                try (Client last = new Client(at)) {
                    assertThat(last.call("INFO")).matches("INFO conn [01]\\.\\d+ keys=" + publishers * perPublisher / 2 + " waiting=0 subscribers=0");
                    assertThat(last.call("GET k0-0")).isEqualTo("NIL");
                    assertThat(last.call("GET k1-0")).isEqualTo("VALUE v");
                    assertThat(last.call("QUIT")).isEqualTo("BYE");
                }
                assertThat(server.stop(PoolsClosed.GUARD)).as("each server thread's dump once it ended everything").hasValue(List.of(
                        "thread 'kv-0': 2 contexts, current index 1\n"
                                + "  [0] main: PARKED, waits to take work from kv\n"
                                + "  [1] coroutine 'server-0': RUNNING (the caller)",
                        "thread 'kv-1': 2 contexts, current index 1\n"
                                + "  [0] main: PARKED, waits to take work from kv\n"
                                + "  [1] coroutine 'server-1': RUNNING (the caller)"));
            } finally {
                for (Client s : subscribers) {
                    s.close();
                }
            }
        });
        assertThat(done.log).isEmpty();
    }

    @Test
    void aSlowSubscriberOnTheStoresThreadIsDisconnectedAndTheOthersHearEveryMessage() throws Exception {
        slowSubscriber(0);
    }

    @Test
    void aSlowSubscriberOnTheOtherThreadIsDisconnectedAndTheOthersHearEveryMessage() throws Exception {
        slowSubscriber(1);
    }

    /**
     * A subscriber that never reads, served on pool thread {@code thread} (the store's is 0), and one that
     * reads: long messages are published, each read before the next, until the store disconnects the slow one.
     */
    private static void slowSubscriber(int thread) throws Exception {
        serve(NEVER, NEVER, 16, (server, at) -> {
            List<String> expectedLog = new ArrayList<>();
            try (Client fast = new Client(at); Client slow = onThread(at, thread, 4096); Client publisher = new Client(at)) {
                String slowName = slow.call("INFO").split(" ")[2];
                assertThat(fast.call("SUB news")).isEqualTo("SUBSCRIBED news");
                assertThat(slow.call("SUB news")).isEqualTo("SUBSCRIBED news");
                int k = 0;
                String answer = null;
                for (; k < FLOOD_MAX; k++) {
                    answer = publisher.call("PUB news " + k + " " + PAD);
                    assertThat(fast.in.readLine()).isEqualTo("MSG news " + k + " " + PAD);
                    if (!answer.equals("PUBLISHED 2")) {
                        break;
                    }
                }
                assertThat(answer).as("the answer to publish %s", k).isEqualTo("PUBLISHED 1");
                assertThat(publisher.call("PUB news after")).isEqualTo("PUBLISHED 1");
                assertThat(fast.in.readLine()).isEqualTo("MSG news after");
                // what the slow one gets: the messages up to some point, the last maybe cut, then the end of the stream
                String got = new String(slow.socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                List<String> lines = new ArrayList<>(got.lines().toList());
                if (!got.endsWith("\n")) {
                    lines.removeLast();
                }
                for (int i = 0; i < lines.size(); i++) {
                    assertThat(lines.get(i).equals("MSG news " + i + " " + PAD)).as("message %s is publish %s", i, i).isTrue();
                }
                assertThat(lines.size()).as("messages the slow subscriber got").isLessThan(k);
                // the slow one's session and writer log their ends once woken, maybe after its end of stream came:
                // the log is read once the server stopped, all its coroutines ended
                expectedLog.addAll(List.of(
                        "store: disconnected conn " + slowName + ", its outbox full",
                        "session " + slowName + ": coroutine 'session " + slowName
                                + "' cannot read from connection " + at + " -> " + slow.socket.getLocalSocketAddress()
                                + " (closed): the connection was closed while it waited",
                        "writer " + slowName + ": coroutine 'writer " + slowName
                                + "' cannot write to connection " + at + " -> " + slow.socket.getLocalSocketAddress()
                                + " (closed): the connection was closed while it waited"));
                assertThat(fast.call("QUIT")).isEqualTo("BYE");
                assertThat(publisher.call("QUIT")).isEqualTo("BYE");
            }
            assertThat(server.stop(PoolsClosed.GUARD)).isPresent();
            assertThat(List.copyOf(server.log)).containsExactlyInAnyOrderElementsOf(expectedLog);
        });
    }

    @Test
    void clientsThatVanishMidRequestOrResetHarmNobodyElse() throws Exception {
        serve(NEVER, NEVER, 16, (server, at) -> {
            try (Client admin = new Client(at); Client stays = new Client(at)) {
                assertThat(stays.call("SUB news")).isEqualTo("SUBSCRIBED news");
                // one connects and leaves at once; one leaves half-way through a line
                new Client(at).close();
                try (Client half = new Client(at)) {
                    half.socket.getOutputStream().write("SET half".getBytes(StandardCharsets.UTF_8));
                }
                // one resets while its WAIT waits in the store
                String waiterAt;
                String waiterName;
                try (Client waiter = new Client(at)) {
                    waiterName = waiter.call("INFO").split(" ")[2];
                    waiterAt = waiter.socket.getLocalSocketAddress().toString();
                    waiter.send("WAIT x");
                    awaitInfo(admin, "waiting=1");
                    waiter.socket.setSoLinger(true, 0); // the close resets
                }
                // one resets while subscribed
                String resetterName;
                String resetterAt;
                try (Client resetter = new Client(at)) {
                    resetterName = resetter.call("INFO").split(" ")[2];
                    resetterAt = resetter.socket.getLocalSocketAddress().toString();
                    assertThat(resetter.call("SUB news")).isEqualTo("SUBSCRIBED news");
                    awaitInfo(admin, "subscribers=2");
                    resetter.socket.setSoLinger(true, 0);
                }
                awaitInfo(admin, "subscribers=1");
                assertThat(admin.call("SET x 1")).isEqualTo("OK"); // the vanished WAIT's answer goes nowhere
                assertThat(admin.call("GET x")).isEqualTo("VALUE 1");
                assertThat(admin.call("GET half")).isEqualTo("NIL");
                assertThat(admin.call("PUB news still here")).isEqualTo("PUBLISHED 1");
                assertThat(stays.in.readLine()).isEqualTo("MSG news still here");
                awaitInfo(admin, "waiting=0");
                assertThat(admin.call("QUIT")).isEqualTo("BYE");
                assertThat(stays.call("QUIT")).isEqualTo("BYE");
                assertThat(server.stop(PoolsClosed.GUARD)).isPresent();
                String waiter = waiterName;
                String resetter = resetterName;
                // the resetter's session, parked in its read, is told of the reset; the waiter's writer, run first with
                // the answer, is told, and closes the connection; the waiter's session, whose last read drained the
                // socket, parks in its next read before it looks and is told of that close, unless the store's answer
                // reaches it only after the stop has begun (its thread's wake-up comes late, seen once in about a hundred
                // thread-engine runs): it then ends without reading again, as a session mid-request does at a stop, and
                // logs nothing. Its line is asserted whole where it comes, and every session ended (assertLeftNothing)
                String waiterSession = "session " + waiter + ": coroutine 'session " + waiter + "' cannot read from connection "
                        + at + " -> " + waiterAt + " (closed): the connection was closed while it waited";
                List<String> log = new ArrayList<>(server.log);
                log.remove(waiterSession);
                assertThat(log).containsExactlyInAnyOrder(
                        "writer " + waiter + ": coroutine 'writer " + waiter + "' cannot write to connection " + at + " -> "
                                + waiterAt + " (open): java.io.IOException: Connection reset by peer",
                        "session " + resetter + ": coroutine 'session " + resetter + "' cannot read from connection " + at + " -> "
                                + resetterAt + " (open): java.net.SocketException: Connection reset");
            }
        });
    }

    @Test
    void aRequestTimesOutAndAnIdleConnectionIsClosedButAQuietSubscriberIsNot() throws Exception {
        serve(Duration.ofMillis(300), Duration.ofMillis(200), 16, (server, at) -> {
            try (Client subscriber = new Client(at); Client user = new Client(at)) {
                assertThat(subscriber.call("SUB news")).isEqualTo("SUBSCRIBED news");
                assertThat(user.call("WAIT nothing")).isEqualTo("ERR WAIT timed out after PT0.2S");
                assertThat(user.call("INFO")).endsWith(" keys=0 waiting=0 subscribers=1");
                try (Client idle = new Client(at)) {
                    assertThat(idle.in.readLine()).isEqualTo("BYE idle"); // once it has said nothing for 300 ms
                    assertThat(idle.in.readLine()).isNull();
                }
                assertThat(user.in.readLine()).isEqualTo("BYE idle"); // it said nothing since its INFO
                assertThat(user.in.readLine()).isNull();
                try (Client publisher = new Client(at)) {
                    assertThat(publisher.call("PUB news you are still here")).isEqualTo("PUBLISHED 1");
                    assertThat(subscriber.in.readLine()).isEqualTo("MSG news you are still here");
                    assertThat(publisher.call("QUIT")).isEqualTo("BYE");
                }
                assertThat(subscriber.call("QUIT")).isEqualTo("BYE");
            }
            assertThat(server.stop(PoolsClosed.GUARD)).isPresent();
            assertThat(server.log).isEmpty();
        });
    }

    @Test
    void aStopLetsARequestInFlightFinishTellsEveryoneByeAndRefusesNewClients() throws Exception {
        serve(NEVER, Duration.ofMillis(300), 16, (server, at) -> {
            try (Client waiter = new Client(at); Client idle = new Client(at); Client subscriber = new Client(at)) {
                assertThat(subscriber.call("SUB news")).isEqualTo("SUBSCRIBED news");
                waiter.send("WAIT k");
                awaitInfo(idle, "waiting=1");
                assertThat(server.stop(PoolsClosed.GUARD)).as("every server thread ended everything").isPresent();
                assertThat(waiter.in.readLine()).isEqualTo("ERR WAIT timed out after PT0.3S");
                for (Client c : List.of(waiter, idle, subscriber)) {
                    assertThat(c.in.readLine()).isEqualTo("BYE shutdown");
                    assertThat(c.in.readLine()).isNull();
                }
                assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> new Client(at).close()))
                        .isInstanceOf(java.net.ConnectException.class);
            }
            assertThat(server.log).isEmpty();
        });
    }

    @Test
    void aStopThatAClientWhichNeverReadsHoldsUpPastItsGraceClosesThePoolAtOnceAndLeavesNothing() throws Exception {
        serve(NEVER, NEVER, 16, (server, at) -> {
            try (Client stuck = new Client(at, 4096); Client other = new Client(at)) {
                assertThat(stuck.call("SET k " + PAD)).isEqualTo("OK");
                for (int i = 0; i < 2_000; i++) { // 16 MB of replies: far more than the sockets' buffers and its outbox hold
                    stuck.send("GET k");
                }
                assertThat(other.call("GET k")).isEqualTo("VALUE " + PAD);
                String parked = "waits to send to channel 'outbox "; // "PARKED (current), waits …" if its thread waits in its park
                String dump = "";
                long giveUp = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GUARD_MILLIS); // a guard, not a measure
                while (!dump.contains(parked) && System.nanoTime() - giveUp < 0) { // the writer's thread may be slow to get there
                    dump = CoroutinesManagement.mxBean().dump(20); // every scheduler thread's
                }
                assertThat(dump).as("the dump of every scheduler thread").contains(parked); // its writer waits for the client meanwhile
                assertThat(server.stop(Duration.ofMillis(500))).as("a drained stop").isEmpty();
                // the close unwinds its session, whose finally puts BYE into the outbox, and its writer, in either order
                String rest = new String(other.socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(List.of("", "BYE shutdown\n")).contains(rest);
                assertThat(server.pool.toString()).endsWith("closed]");
            }
        });
    }

    @Test
    void aCloseNowWhilePublishesCrossBetweenTheThreadsLeavesEachSubscriberAPrefixOfThemAndNothingBehind() throws Exception {
        serve(NEVER, NEVER, 64, (server, at) -> {
            List<Client> subscribers = new ArrayList<>();
            try (CoroutinePool clients = CoroutinePool.start("clients", 1)) {
                subscribers.addAll(onBothThreads(at, 1));
                List<CompletableFuture<List<String>>> heard = new ArrayList<>();
                for (Client s : subscribers) {
                    assertThat(s.call("SUB news")).isEqualTo("SUBSCRIBED news");
                    CompletableFuture<List<String>> lines = new CompletableFuture<>();
                    heard.add(lines);
                    Thread.ofVirtual().start(() -> { // reads until the server goes
                        List<String> got = new ArrayList<>();
                        try {
                            for (String line; (line = s.in.readLine()) != null; ) {
                                got.add(line);
                            }
                        } catch (IOException e) {
                            got.add("<" + e.getClass().getSimpleName() + ">"); // a reset, if the close found bytes unread
                        }
                        lines.complete(got);
                    });
                }
                CompletableFuture<Void> hundred = new CompletableFuture<>();
                CompletableFuture<Integer> acknowledged = clients.submitCallable("publisher", () -> {
                    int n = 0;
                    try (TcpConnection c = TcpConnection.connect(at)) {
                        BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
                        for (; n < 100_000; n++) {
                            if (n == 100) {
                                hundred.complete(null);
                            }
                            c.output().write(("PUB news " + n + "\n").getBytes(StandardCharsets.UTF_8));
                            String answer = in.readLine();
                            if (answer == null) {
                                break; // the server has gone
                            }
                            // 2; fewer once the store has dropped a subscriber as slow, its outbox of 64 full (seen, rarely, on a
                            // loaded machine whose writer coroutine fell that far behind)
                            assertThat(answer).matches("PUBLISHED [012]");
                        }
                    } catch (IOException e) {
                        // the server has gone: a reset
                    } finally {
                        hundred.complete(null); // also if it failed before: the test does not wait for ever
                    }
                    return n;
                });
                Coroutine.await(hundred);
                server.pool.closeNow();
                int published = Coroutine.await(acknowledged);
                assertThat(published).isBetween(100, 99_999);
                for (CompletableFuture<List<String>> h : heard) {
                    List<String> lines = new ArrayList<>(Coroutine.await(h));
                    if (!lines.isEmpty() && lines.getLast().startsWith("<")) {
                        lines.removeLast();
                    }
                    assertThat(lines).as("what a subscriber heard: the first publishes, each once, in order")
                            .isEqualTo(java.util.stream.IntStream.range(0, lines.size()).mapToObj(k -> "MSG news " + k).toList());
                    assertThat(lines.size()).isLessThanOrEqualTo(published + 1);
                }
            } finally {
                for (Client s : subscribers) {
                    s.close();
                }
            }
        });
    }

    /**
     * Asks {@code INFO} on {@code admin} until the answer holds {@code part}, for at most {@link #GUARD_MILLIS}: a
     * bound in time, not in questions: the thread that must get there first may wait long for a core on a loaded machine.
     */
    private static void awaitInfo(Client admin, String part) throws IOException {
        String info = null;
        long giveUp = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GUARD_MILLIS);
        while ((info == null || !info.contains(part)) && System.nanoTime() - giveUp < 0) {
            info = admin.call("INFO");
        }
        assertThat(info).contains(part);
    }

    /** A client served on pool thread {@code thread}, with the receive buffer given; at most 64 connections tried. */
    private static Client onThread(InetSocketAddress at, int thread, int receiveBuffer) throws IOException {
        for (int i = 0; i < 64; i++) {
            Client c = new Client(at, receiveBuffer);
            if (c.call("INFO").startsWith("INFO conn " + thread + ".")) {
                return c;
            }
            assertThat(c.call("QUIT")).isEqualTo("BYE");
            c.close();
        }
        throw new AssertionError("no connection on thread " + thread + " in 64");
    }

    /**
     * A coroutine client: publishes {@code count} lines to {@code news}, each taken by every one of
     * {@code subscribers}, with a set, a get, and every other time a delete and a get of its own key between.
     */
    private static List<String> publish(InetSocketAddress at, int publisher, int count, int subscribers) throws IOException {
        List<String> answers = new ArrayList<>();
        try (TcpConnection c = TcpConnection.connect(at)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
            OutputStream out = c.output();
            for (int k = 0; k < count; k++) {
                String key = "k" + publisher + "-" + k;
                List<String> calls = new ArrayList<>(List.of("PUB news p" + publisher + "-" + k, "SET " + key + " v", "GET " + key));
                if (k % 2 == publisher % 2) {
                    calls.addAll(List.of("DEL " + key, "GET " + key));
                }
                for (String call : calls) {
                    out.write((call + "\n").getBytes(StandardCharsets.UTF_8));
                    String answer = in.readLine();
                    if (call.startsWith("PUB")) {
                        assertThat(answer).isEqualTo("PUBLISHED " + subscribers);
                    } else {
                        answers.add(answer);
                    }
                }
            }
            out.write("QUIT\n".getBytes(StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("BYE");
            assertThat(in.readLine()).isNull();
        }
        return answers;
    }

    /**
     * Connects until {@code each} clients are served on each of the server's two threads (the kernel spreads
     * connections over the listeners as it hashes them), quitting the others; at most 64 connections.
     */
    private static List<Client> onBothThreads(InetSocketAddress at, int each) throws IOException {
        List<Client> kept = new ArrayList<>();
        int[] on = new int[2];
        for (int i = 0; i < 64 && (on[0] < each || on[1] < each); i++) {
            Client c = new Client(at);
            int thread = c.call("INFO").startsWith("INFO conn 0.") ? 0 : 1;
            if (on[thread] < each) {
                on[thread]++;
                kept.add(c);
            } else {
                assertThat(c.call("QUIT")).isEqualTo("BYE");
                c.close();
            }
        }
        assertThat(on).as("clients on each thread").containsExactly(each, each);
        return kept;
    }

    /** What a test does with a running server and its address: its clients, calls and checks. */
    @FunctionalInterface
    private interface Scenario {
        void run(KeyValueServer server, InetSocketAddress at) throws Exception;
    }

    /**
     * Starts a server on a pool of two threads with the given idle timeout, request timeout and outbox, runs
     * {@code scenario} against it, closes the pool (at once, and the server's log added to the failure, if the
     * scenario failed: {@link #closeNow}) and checks that nothing was left behind.
     *
     * @return the server, for checks of its log
     */
    private static KeyValueServer serve(Duration idle, Duration request, int outbox, Scenario scenario) throws Exception {
        CoroutinePool pool = CoroutinePool.start("kv", 2);
        KeyValueServer server = null;
        try {
            server = KeyValueServer.start(pool, idle, request, outbox);
            scenario.run(server, server.address());
        } catch (Throwable e) {
            closeNow(pool, server, e);
        } finally {
            PoolsClosed.close(pool);
        }
        assertLeftNothing(server);
        return server;
    }

    /** After a failure: closes {@code pool} at once, so that its servers do not wait for a stop, and rethrows {@code e} with the server's log. */
    private static void closeNow(CoroutinePool pool, KeyValueServer server, Throwable e) throws Exception {
        try {
            pool.closeNow();
        } catch (RuntimeException also) {
            e.addSuppressed(also);
        }
        if (server != null) {
            e.addSuppressed(new AssertionError("the server's log: " + server.log));
        }
        if (e instanceof Exception x) {
            throw x;
        }
        throw (Error) e;
    }

    /** Checks that the server left no listener, connection or pool thread behind. */
    private static void assertLeftNothing(KeyValueServer server) throws InterruptedException {
        assertThat(server.listeners).hasSize(2).noneMatch(TcpListener::isOpen);
        assertThat(server.connections).isNotEmpty().noneMatch(TcpConnection::isOpen);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().matches("kv-\\d+")) {
                t.join(GUARD_MILLIS); // a pool's close ends its threads; one may still be on its way out
            }
        }
        assertThat(Thread.getAllStackTraces().keySet()).as("the server's pool threads").noneMatch(t -> t.getName().matches("kv-\\d+"));
    }

    /** A blocking client on the test's thread: a socket with a reader and a call that sends a line and reads one. */
    static final class Client implements AutoCloseable {
        final Socket socket = new Socket();
        final BufferedReader in;

        Client(InetSocketAddress at) throws IOException {
            this(at, 0);
        }

        /** A client whose receive buffer is {@code receiveBuffer} bytes, if positive. */
        Client(InetSocketAddress at, int receiveBuffer) throws IOException {
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(at);
            socket.setSoTimeout(GUARD_MILLIS);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        void send(String line) throws IOException {
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }

        String call(String line) throws IOException {
            send(line);
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
