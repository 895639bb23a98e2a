package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.ChannelClosedException;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import dev.coro.Select;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A chat server written from the README, NET.md and CHANNELS.md alone: a listener per server thread, a
 * coroutine per connection reading lines, one broadcaster fanning each line out to bounded per-client
 * outboxes (a client whose outbox is full is dropped), a writer per client; clients that join and talk,
 * one that never reads, one that leaves mid-line, one that resets its connection; then a shutdown that
 * leaves nothing behind. Run on one server thread and on two.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(60)
class ChatServerTest {

    /** How many lines an outbox holds: more than the talk and the joins, so only a client that stops reading fills it. */
    private static final int OUTBOX = 64;
    /** What a flood line carries: long, so that a client that never reads fills the socket buffers soon. */
    private static final String PAD = "x".repeat(8 << 10);
    /** The lines each talker says. */
    private static final int SAYS = 5;
    /** The flood's bound: far more lines than the slow client's buffers and outbox hold. */
    private static final int FLOOD_MAX = 2_000;
    /** How long a client waits for a line before the test fails: a guard against a hang, never reached. */
    private static final int GUARD_MILLIS = 20_000;

    /** What the broadcaster hears. */
    sealed interface Event permits Join, Say, Leave {
    }

    /** A client enters, with the outbox its writer sends from and the future that drops it. */
    record Join(String name, Channel<String> outbox, CompletableFuture<String> kick) implements Event {
    }

    /** A client says a line, relayed to every member, itself too. */
    record Say(String from, String text) implements Event {
    }

    /** A client has gone, for the reason given. */
    record Leave(String name, String why) implements Event {
    }

    /**
     * What the server saw happen, in order per thread: drops, leaves and failures with their messages; a copy on
     * write, so the test's thread can stream it while the servers' threads add to it.
     */
    private final List<String> log = new CopyOnWriteArrayList<>();

    @Test
    void onOneServerThreadEveryReadingClientGetsEveryLineOnceInOrderAndTheShutdownLeavesNothing() throws Exception {
        chat(1);
    }

    @Test
    void withConnectionsOnTwoServerThreadsEveryReadingClientGetsEveryLineOnceInOrderAndTheShutdownLeavesNothing() throws Exception {
        chat(2);
    }

    @Test
    void aCloseNowOfTheServersPoolUnwindsEveryCoroutineParkedOnASocketAndEveryClientReadsTheEnd() throws Exception {
        closeNow(1);
    }

    @Test
    void aCloseNowOfTheServersPoolOfTwoThreadsUnwindsEveryCoroutineParkedOnASocketAndEveryClientReadsTheEnd() throws Exception {
        closeNow(2);
    }

    /** Alice on the last server thread, the slow client on the first, their writers' outboxes fed by the broadcaster on the first. */
    private void closeNow(int threads) throws Exception {
        CompletableFuture<Channel<Event>> hubMade = new CompletableFuture<>();
        List<CompletableFuture<InetSocketAddress>> bound = new ArrayList<>();
        List<CompletableFuture<String>> served = new ArrayList<>();
        CoroutinePool servers = CoroutinePool.start("chat", threads);
        try (Socket alice = new Socket(); Socket slow = new Socket()) {
            for (int t = 0; t < threads; t++) {
                CompletableFuture<InetSocketAddress> address = new CompletableFuture<>();
                bound.add(address);
                boolean first = t == 0;
                served.add(servers.submitCallable("server-" + t, () -> serve(first, hubMade, address, new CompletableFuture<>())));
            }
            InetSocketAddress aliceTo = bound.get(threads - 1).get(GUARD_MILLIS, TimeUnit.MILLISECONDS);
            InetSocketAddress slowTo = bound.get(0).get(GUARD_MILLIS, TimeUnit.MILLISECONDS);
            alice.connect(aliceTo);
            alice.setSoTimeout(GUARD_MILLIS);
            BufferedReader aliceIn = reader(alice);
            List<String> aliceGot = new ArrayList<>();
            say(alice, "alice");
            readUntil(aliceIn, aliceGot, "* alice joined");
            slow.setReceiveBufferSize(4096);
            slow.connect(slowTo);
            say(slow, "slow");
            readUntil(aliceIn, aliceGot, "* slow joined");
            String parked = "coroutine 'writer slow': PARKED, waits to write to connection " + slowTo + " -> " + slow.getLocalSocketAddress();
            List<String> dumps = new ArrayList<>();
            for (int k = 0; k < FLOOD_MAX && dumps.stream().noneMatch(d -> d.contains(parked)); k++) {
                say(alice, "flood " + k + " " + PAD);
                readUntil(aliceIn, aliceGot, "alice: flood " + k + " " + PAD);
                if (k % 16 != 15) {
                    continue; // looked at every 16 lines, fewer than the outbox holds: the writer stays parked, and slow is not dropped yet
                }
                dumps.clear();
                for (int t = 0; t < 4 * threads; t++) { // the pool hands its bodies to its threads in turn
                    dumps.add(servers.submit(Coroutine::dump).get(GUARD_MILLIS, TimeUnit.MILLISECONDS));
                }
            }
            assertThat(dumps).anyMatch(d -> d.contains(parked) && d.contains("coroutine 'guard slow': PARKED, waits to await"));
            assertThat(dumps).anyMatch(d -> d.contains("coroutine 'reader alice': PARKED, waits to read from connection " + aliceTo));
            servers.closeNow();
            for (CompletableFuture<String> f : served) {
                assertThat(f).isCompletedExceptionally();
            }
            readUntil(aliceIn, aliceGot, null); // the end of the stream
            slow.setSoTimeout(GUARD_MILLIS);
            String slowText = new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(slowText).startsWith("* slow joined\n");
            assertThat(log).isEmpty();
        } finally {
            servers.closeNow();
        }
    }

    @Test
    void aClientThatResetsWhileItsWriterIsParkedOnAFullSocketFailsItsReaderAndItsWriterNamingEach() throws Exception {
        CompletableFuture<Channel<Event>> hubMade = new CompletableFuture<>();
        CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
        CompletableFuture<Void> stop = new CompletableFuture<>();
        try (CoroutinePool servers = CoroutinePool.start("chat", 1); Socket alice = new Socket()) {
            CompletableFuture<String> served = servers.submitCallable("server-0", () -> serve(true, hubMade, bound, stop));
            InetSocketAddress at = bound.get(GUARD_MILLIS, TimeUnit.MILLISECONDS);
            alice.connect(at);
            alice.setSoTimeout(GUARD_MILLIS);
            BufferedReader aliceIn = reader(alice);
            List<String> aliceGot = new ArrayList<>();
            say(alice, "alice");
            readUntil(aliceIn, aliceGot, "* alice joined");
            SocketAddress slowAddress;
            try (Socket slow = new Socket()) {
                slow.setReceiveBufferSize(4096);
                slow.connect(at);
                slowAddress = slow.getLocalSocketAddress();
                say(slow, "slow");
                readUntil(aliceIn, aliceGot, "* slow joined");
                String parked = "coroutine 'writer slow': PARKED, waits to write to connection " + at + " -> " + slowAddress;
                // looked at every 16 lines, fewer than the outbox holds: the writer stays parked, and slow is not dropped yet
                for (int k = 0; k < FLOOD_MAX && (k % 16 != 0 || !servers.submit(Coroutine::dump).get(GUARD_MILLIS, TimeUnit.MILLISECONDS).contains(parked)); k++) {
                    say(alice, "flood " + k + " " + PAD);
                    readUntil(aliceIn, aliceGot, "alice: flood " + k + " " + PAD);
                }
                slow.setSoLinger(true, 0); // the close resets
            }
            readUntil(aliceIn, aliceGot, "* slow vanished");
            stop.complete(null);
            readUntil(aliceIn, aliceGot, null);
            alice.close();
            served.get(GUARD_MILLIS, TimeUnit.MILLISECONDS);
            String connection = at + " -> " + slowAddress;
            // the kernel tells one call of the reset: the writer, woken first; the reader then finds the end
            // of the stream, which the connection reports as that failure, not as the peer's orderly end
            assertThat(log).containsExactly(
                    "writer slow: java.net.SocketException: coroutine 'writer slow' cannot write to connection " + connection
                            + " (open): java.io.IOException: Connection reset by peer",
                    "reader slow: java.net.SocketException: coroutine 'reader slow' cannot read from connection " + connection
                            + " (open, failed): java.io.IOException: Connection reset by peer, reported to an earlier call;"
                            + " the end of the stream that follows it is not the peer's");
        }
    }

    private void chat(int threads) throws Exception {
        CompletableFuture<Void> stop = new CompletableFuture<>();
        CompletableFuture<Channel<Event>> hubMade = new CompletableFuture<>();
        List<CompletableFuture<InetSocketAddress>> bound = new ArrayList<>();
        List<CompletableFuture<String>> dumps = new ArrayList<>();
        try (CoroutinePool servers = CoroutinePool.start("chat", threads);
             CoroutinePool clients = CoroutinePool.start("clients", 1)) {
            try {
                talk(threads, servers, clients, stop, hubMade, bound, dumps);
            } catch (Throwable e) { // a failure must not leave the servers waiting for a stop
                for (CoroutinePool pool : List.of(clients, servers)) {
                    try {
                        pool.closeNow();
                    } catch (RuntimeException also) {
                        e.addSuppressed(also);
                    }
                }
                e.addSuppressed(new AssertionError("the server's log: " + log));
                throw e;
            }
        }
    }

    /** The chat itself: the servers started, the clients' comings and goings, the shutdown, and what each saw. */
    private void talk(int threads, CoroutinePool servers, CoroutinePool clients, CompletableFuture<Void> stop,
                      CompletableFuture<Channel<Event>> hubMade, List<CompletableFuture<InetSocketAddress>> bound,
                      List<CompletableFuture<String>> dumps) throws Exception {
        for (int t = 0; t < threads; t++) {
            CompletableFuture<InetSocketAddress> address = new CompletableFuture<>();
            bound.add(address);
            boolean first = t == 0;
            dumps.add(servers.submitCallable("server-" + t, () -> serve(first, hubMade, address, stop)));
        }
        List<InetSocketAddress> at = new ArrayList<>();
        for (CompletableFuture<InetSocketAddress> b : bound) {
            at.add(b.get(GUARD_MILLIS, TimeUnit.MILLISECONDS));
        }

        // alice: a blocking socket on the test's thread
        Socket alice = new Socket();
        alice.connect(at.get(0));
        alice.setSoTimeout(GUARD_MILLIS);
        BufferedReader aliceIn = reader(alice);
        List<String> aliceGot = new ArrayList<>();
        say(alice, "alice");
        readUntil(aliceIn, aliceGot, "* alice joined");

        // bob: a coroutine client on a pool thread, a reader and a talker sharing its connection
        BlockingQueue<String> bobGot = new LinkedBlockingQueue<>(); // what the flood takes, to pace itself
        List<String> bobAll = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> bobTalks = new CompletableFuture<>();
        InetSocketAddress bobTo = at.get(1 % threads);
        CompletableFuture<Void> bob = clients.submitCallable("bob", () -> {
            try (TcpConnection c = TcpConnection.connect(bobTo)) {
                c.write(utf8("bob\n"));
                Coroutine talker = Coroutine.create("bob talker", () -> {
                    Coroutine.await(bobTalks);
                    try {
                        for (int k = 0; k < SAYS; k++) {
                            c.write(utf8(k + "\n"));
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
                for (String line; (line = Coroutine.callWithTimeout(Duration.ofMillis(GUARD_MILLIS), in::readLine)) != null; ) {
                    bobGot.add(line);
                    bobAll.add(line);
                }
                bobAll.add("<EOF>");
                talker.join();
            }
            return null;
        });
        readUntil(aliceIn, aliceGot, "* bob joined");

        // slow: joins and never reads, with a small receive window
        Socket slow = new Socket();
        slow.setReceiveBufferSize(4096);
        slow.connect(at.get(0));
        SocketAddress slowAddress = slow.getLocalSocketAddress();
        say(slow, "slow");
        readUntil(aliceIn, aliceGot, "* slow joined");

        // midline: joins, sends part of a line and closes
        try (Socket midline = new Socket()) {
            midline.connect(at.get(1 % threads));
            say(midline, "midline");
            readUntil(aliceIn, aliceGot, "* midline joined");
            midline.getOutputStream().write("half a li".getBytes(StandardCharsets.UTF_8));
        }
        readUntil(aliceIn, aliceGot, "* midline left mid-line, 9 bytes unsaid");

        // resetter: joins, reads its welcome, resets
        SocketAddress resetterAddress;
        try (Socket resetter = new Socket()) {
            resetter.connect(at.get(0));
            resetter.setSoTimeout(GUARD_MILLIS);
            resetterAddress = resetter.getLocalSocketAddress();
            say(resetter, "resetter");
            readUntil(reader(resetter), new ArrayList<>(), "* resetter joined");
            resetter.setSoLinger(true, 0); // the close resets
        }
        readUntil(aliceIn, aliceGot, "* resetter vanished");

        // ghost: resets before it says its name: its handshake fails alone, and nobody hears of it
        SocketAddress ghostAddress;
        try (Socket ghost = new Socket()) {
            ghost.connect(at.get(1 % threads));
            ghostAddress = ghost.getLocalSocketAddress();
            ghost.setSoLinger(true, 0);
        }
        for (int i = 0; i < 100_000 && log.stream().noneMatch(l -> l.startsWith("handshake")); i++) {
            servers.submit(() -> null).get(GUARD_MILLIS, TimeUnit.MILLISECONDS); // a turn of the servers' threads
        }

        // talk: alice and bob at once; each line reaches both once, each talker's in its order
        bobTalks.complete(null);
        for (int k = 0; k < SAYS; k++) {
            say(alice, String.valueOf(k));
        }
        for (int i = 0; i < 2 * SAYS && !(aliceGot.contains("alice: " + (SAYS - 1)) && aliceGot.contains("bob: " + (SAYS - 1))); i++) {
            String line = aliceIn.readLine();
            assertThat(line).as("a line of the talk").isNotNull();
            aliceGot.add(line);
        }

        // flood: alice says long lines, each once both readers have it, until the slow client is dropped
        int flood = 0;
        while (!aliceGot.contains("* slow dropped") && flood < FLOOD_MAX) {
            String line = "flood " + flood + " " + PAD;
            say(alice, line);
            readUntil(aliceIn, aliceGot, "alice: " + line);
            String got = null;
            for (int i = 0; i < 100 && !("alice: " + line).equals(got); i++) { // bob has one or two lines more at most
                got = bobGot.poll(GUARD_MILLIS, TimeUnit.MILLISECONDS);
                assertThat(got).as("bob's line").isNotNull();
            }
            assertThat(got).isEqualTo("alice: " + line);
            flood++;
        }
        assertThat(aliceGot).contains("* slow dropped");
        // what the slow client gets: a prefix of what alice got from its join on, then the end of the stream
        CompletableFuture<String> slowGot = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (slow) {
                slow.setSoTimeout(GUARD_MILLIS);
                slowGot.complete(new String(slow.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                slowGot.completeExceptionally(e);
            }
        });

        stop.complete(null);
        readUntil(aliceIn, aliceGot, null); // the end of the stream: the server's shutdown
        alice.close();
        bob.get(GUARD_MILLIS, TimeUnit.MILLISECONDS);
        for (int t = 0; t < threads; t++) {
            assertThat(dumps.get(t).get(GUARD_MILLIS, TimeUnit.MILLISECONDS)).as("what a server thread has left").isEqualTo(
                    "thread 'chat-" + t + "': 2 contexts, current index 1\n"
                            + "  [0] main: PARKED, waits to take work from chat\n"
                            + "  [1] coroutine 'server-" + t + "': RUNNING (the caller)\n"
                            + "sockets registered: 0, I/O waits: 0");
        }

        // every reading client got the same lines, each once, each talker's in order
        aliceGot.replaceAll(ChatServerTest::shorten);
        List<String> bobLines = new ArrayList<>(bobAll);
        bobLines.replaceAll(ChatServerTest::shorten);
        assertThat(bobLines).last().isEqualTo("<EOF>");
        bobLines.removeLast();
        assertThat(aliceGot.getFirst()).isEqualTo("* alice joined");
        assertThat(bobLines).isEqualTo(aliceGot.subList(aliceGot.indexOf("* bob joined"), aliceGot.size()));
        List<String> talk = aliceGot.stream().filter(l -> l.matches("(alice|bob): \\d+")).toList();
        assertThat(talk).hasSize(2 * SAYS);
        for (String who : List.of("alice", "bob")) {
            assertThat(talk.stream().filter(l -> l.startsWith(who + ":")).toList())
                    .isEqualTo(java.util.stream.IntStream.range(0, SAYS).mapToObj(k -> who + ": " + k).toList());
        }
        assertThat(aliceGot.subList(aliceGot.size() - 2, aliceGot.size()))
                .containsExactly("* slow dropped", "alice: flood " + (flood - 1) + " <pad>");
        String slowText = slowGot.get(GUARD_MILLIS, TimeUnit.MILLISECONDS);
        List<String> slowLines = new ArrayList<>(slowText.lines().toList());
        if (!slowText.endsWith("\n")) {
            String partial = slowLines.removeLast(); // the line its writer was in the middle of
            assertThat(aliceGot).anyMatch(l -> l.startsWith(shorten(partial + PAD).substring(0, 8)));
        }
        slowLines.replaceAll(ChatServerTest::shorten);
        List<String> fromSlowsJoin = aliceGot.subList(aliceGot.indexOf("* slow joined"), aliceGot.size());
        assertThat(slowLines).isEqualTo(fromSlowsJoin.subList(0, slowLines.size()));
        assertThat(slowLines.size()).as("lines the slow client got").isLessThan(fromSlowsJoin.size() - 2);

        String slowConnection = at.get(0) + " -> " + slowAddress;
        assertThat(log.subList(0, 3)).containsExactly(
                "reader resetter: java.net.SocketException: coroutine 'reader resetter' cannot read from connection " + at.get(0) + " -> "
                        + resetterAddress + " (open): java.net.SocketException: Connection reset",
                "handshake: java.net.SocketException: coroutine 'handshake' cannot read from connection " + at.get(1 % threads)
                        + " -> " + ghostAddress + " (open): java.net.SocketException: Connection reset",
                "broadcaster: dropped slow, its outbox full");
        assertThat(log.subList(3, log.size())).containsExactlyInAnyOrder( // the guard's close wakes both
                "writer slow: java.io.IOException: coroutine 'writer slow' cannot write to connection " + slowConnection
                        + " (closed): the connection was closed while it waited",
                "reader slow: java.io.IOException: coroutine 'reader slow' cannot read from connection " + slowConnection
                        + " (closed): the connection was closed while it waited");
    }

    /**
     * One server thread: binds a listener, accepts until {@code stop}, serves each connection; the first
     * also makes the hub and runs the broadcaster. Returns its thread's dump once everything it started has ended.
     */
    private String serve(boolean first, CompletableFuture<Channel<Event>> hubMade,
                         CompletableFuture<InetSocketAddress> address, CompletableFuture<Void> stop) throws IOException {
        List<Coroutine> started = new ArrayList<>();
        Coroutine broadcaster = null;
        if (first) {
            Channel<Event> hub = new Channel<>("hub", 16);
            broadcaster = Coroutine.create("broadcaster", () -> broadcast(hub));
            hubMade.complete(hub);
        }
        Channel<Event> hub = Coroutine.await(hubMade);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            address.complete((InetSocketAddress) listener.localAddress());
            Coroutine acceptor = Coroutine.create("acceptor", () -> {
                try {
                    for (int i = 0; i < 100; i++) { // more than the test's clients
                        TcpConnection c = listener.accept();
                        started.add(Coroutine.create("handshake", () -> handshake(c, hub, started)));
                    }
                } catch (IOException e) {
                    log.add("acceptor: " + e.getMessage());
                }
            });
            Coroutine.await(stop);
            acceptor.close(); // unwinds it out of accept()
        }
        if (first) {
            hub.close(); // the broadcaster ends, closing every outbox: each writer ends its stream
            broadcaster.join();
        }
        for (int i = 0; i < started.size(); i++) { // the handshakes add the coroutines they start
            started.get(i).join();
        }
        List<String> left = new ArrayList<>(Coroutine.dump().lines().filter(l -> !l.startsWith("        at ")).toList());
        left.add("sockets registered: " + LoopProbe.registeredChannels() + ", I/O waits: " + LoopProbe.ioWaits());
        return String.join("\n", left);
    }

    /** Reads a client's name, then starts its reader, its writer and its guard, and joins it to the chat. */
    private void handshake(TcpConnection c, Channel<Event> hub, List<Coroutine> started) {
        LineReader in = new LineReader(c.input());
        String name;
        try {
            name = in.readLine();
        } catch (IOException e) {
            log.add("handshake: " + e);
            close(c);
            return;
        }
        if (name == null) {
            close(c);
            return;
        }
        Channel<String> outbox = new Channel<>("outbox " + name, OUTBOX);
        CompletableFuture<String> kick = new CompletableFuture<>();
        Coroutine writer = Coroutine.create("writer " + name, () -> {
            try {
                for (String line : outbox) {
                    c.write(utf8(line + "\n"));
                }
                c.shutdownOutput(); // the chat is over for this client: it reads the end of the stream
            } catch (IOException e) {
                log.add("writer " + name + ": " + e);
            }
        });
        // a connection belongs to its thread: the broadcaster, maybe on another, drops a client through this
        Coroutine guard = Coroutine.create("guard " + name, () -> {
            Coroutine.await(kick);
            close(c);
        });
        Coroutine reader = Coroutine.create("reader " + name, () -> {
            String why = "left";
            try {
                for (String line; (line = in.readLine()) != null; ) {
                    hub.send(new Say(name, line));
                }
                if (in.partial > 0) {
                    why = "left mid-line, " + in.partial + " bytes unsaid";
                }
            } catch (IOException e) {
                log.add("reader " + name + ": " + e);
                why = "vanished";
            } catch (ChannelClosedException e) {
                return; // the server is shutting down: the broadcaster has closed the outbox
            } finally {
                try {
                    hub.send(new Leave(name, why));
                } catch (ChannelClosedException e) {
                    // the server is shutting down
                }
                writer.join();
                guard.close();
                close(c);
            }
        });
        started.add(reader);
        started.add(writer);
        started.add(guard);
        hub.send(new Join(name, outbox, kick));
    }

    /** The broadcaster: relays every event to every member; a member whose outbox is full is dropped. */
    private void broadcast(Channel<Event> hub) {
        Map<String, Join> members = new LinkedHashMap<>();
        for (Event e : hub) {
            switch (e) {
                case Join j -> {
                    members.put(j.name(), j);
                    relay(members, "* " + j.name() + " joined");
                }
                case Say s -> relay(members, s.from() + ": " + s.text());
                case Leave l -> {
                    Join m = members.remove(l.name());
                    if (m != null) {
                        m.outbox().close();
                        relay(members, "* " + l.name() + " " + l.why());
                    }
                }
            }
        }
        for (Join m : members.values()) {
            m.outbox().close();
        }
    }

    private void relay(Map<String, Join> members, String line) {
        List<String> dropped = new ArrayList<>();
        for (Join m : List.copyOf(members.values())) {
            boolean sent = new Select<Boolean>()
                    .onSend(m.outbox(), line, () -> true)
                    .onDefault(() -> false)
                    .select();
            if (!sent) {
                members.remove(m.name());
                m.outbox().close();
                m.kick().complete("dropped");
                log.add("broadcaster: dropped " + m.name() + ", its outbox full");
                dropped.add(m.name());
            }
        }
        for (String name : dropped) {
            relay(members, "* " + name + " dropped");
        }
    }

    private static void close(TcpConnection c) {
        try {
            c.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines of a stream, ended by {@code \n}; the bytes of a last line the stream ended in the middle of are counted, not returned. */
    static final class LineReader {
        private final InputStream in;
        /** How many bytes the stream ended with after its last line. */
        int partial;

        LineReader(InputStream in) {
            this.in = new BufferedInputStream(in);
        }

        /** The next line without its {@code \n}; null at the end of the stream. */
        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b; (b = in.read()) != '\n'; ) {
                if (b < 0) {
                    partial = line.size();
                    return null;
                }
                line.write(b);
            }
            return line.toString(StandardCharsets.UTF_8);
        }
    }

    /** A line with its padding named, so that a failure shows the lines. */
    private static String shorten(String line) {
        return line.replace(PAD, "<pad>");
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    }

    private static void say(Socket s, String line) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Reads lines into {@code got} up to {@code last} (included), or to the end of the stream if it is null. */
    private static void readUntil(BufferedReader in, List<String> got, String last) throws IOException {
        for (int i = 0; i < 100_000; i++) {
            String line = in.readLine();
            if (line == null) {
                assertThat(last).as("the end of the stream came before it").isNull();
                return;
            }
            got.add(line);
            if (line.equals(last)) {
                return;
            }
        }
        throw new AssertionError("no " + last);
    }
}
