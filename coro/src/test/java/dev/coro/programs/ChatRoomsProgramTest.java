package dev.coro.programs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.FreshThread;
import dev.coro.PoolsClosed;
import dev.coro.management.CoroutinesManagement;
import dev.coro.net.OpenSockets;
import dev.coro.net.TcpConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A chat server a user would write (ChatRoomsServer), with clients on a pool of their own and on plain threads: talkers,
 * a member that leaves for another room, a slow member the room drops, a peer that resets its connection, an idle
 * one, and the shutdown that tells those still there.
 */
@Tag("net")
@ExtendWith({FreshThread.class, PoolsClosed.class})
class ChatRoomsProgramTest {

    private static final int TALKERS = 4;
    private static final int LINES = 100;
    /** How many lobby lines the leaver hears before it leaves. */
    private static final int LEAVE_AFTER = 50;
    /** Each line said is this long, so that a member that reads nothing fills its socket and its outbound channel. */
    private static final String PAD = "x".repeat(1000);
    private static final Pattern LOBBY_LINE = Pattern.compile("lobby (guest-\\d+): t(\\d+) (\\d+) x+");

    private static final ChatRoomsServer.Settings SETTINGS = new ChatRoomsServer.Settings(
            PoolsClosed.GUARD, Duration.ofSeconds(1), PoolsClosed.GUARD, PoolsClosed.GUARD, 64, 8 << 10);

    /** A member's end on a coroutine's thread: its connection, and a coroutine of that thread reading every line into a channel. */
    private static final class Client implements AutoCloseable {
        final TcpConnection connection;
        final Channel<String> lines = new Channel<>("heard", 1 << 20);
        final String name;

        Client(SocketAddress server) throws IOException {
            connection = TcpConnection.connect(server);
            BufferedReader in = new BufferedReader(new InputStreamReader(connection.input(), StandardCharsets.UTF_8));
            Coroutine.create("reader", () -> {
                try {
                    for (String l = in.readLine(); l != null; l = in.readLine()) {
                        lines.send(l);
                    }
                    lines.close();
                } catch (IOException e) {
                    lines.close(e);
                }
            });
            name = welcomed(next());
        }

        String next() {
            return lines.receive();
        }

        /** Every line up to the server's end of the stream. */
        List<String> rest() {
            List<String> rest = new ArrayList<>();
            for (String l : lines) {
                rest.add(l);
            }
            return rest;
        }

        void say(String line) throws IOException {
            connection.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
        }

        void join(String room) throws IOException {
            say("JOIN " + room);
            assertThat(next()).isEqualTo("* joined " + room);
        }

        @Override
        public void close() throws IOException {
            connection.close();
        }
    }

    private static String welcomed(String line) {
        assertThat(line).startsWith("* welcome guest-");
        return line.substring("* welcome ".length());
    }

    /** What one client heard: its name, the lines it was after, and the lines that came after those. */
    private record Heard(String name, List<String> during, List<String> after) {
    }

    /** For each sender, the numbers of its lines among {@code lines}, in the order heard; fails on a line of another kind. */
    private static Map<String, List<Integer>> bySender(List<String> lines) {
        Map<String, List<Integer>> by = new LinkedHashMap<>();
        for (String l : lines) {
            Matcher m = LOBBY_LINE.matcher(l);
            assertThat(m.matches()).as("a lobby line: %s", l.length() > 80 ? l.substring(0, 80) : l).isTrue();
            by.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(Integer.parseInt(m.group(3)));
        }
        return by;
    }

    private static List<Integer> upTo(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @RepeatedTest(3)
    void everyLineReachesEveryMemberPresentOnceInOrderASlowMemberIsDroppedAResetPeerEndsAloneAndShutdownLeavesNothing(
            RepetitionInfo repetition) {
        // the peer resets after hearing this many lines: at once, mid-stream, or at the very end, run by run
        int resetAfter = (repetition.getCurrentRepetition() - 1) * (TALKERS * LINES / 2) % (TALKERS * LINES + 1);
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> scenario(resetAfter)); // a guard against a hang only
    }

    private void scenario(int resetAfter) throws Exception {
        // the JDK keeps a socket of its own open from its first bind on (in a sandbox's kernel at least): make it first
        new ServerSocket(0, 1, InetAddress.getLoopbackAddress()).close();
        long socketsBefore = OpenSockets.count();
        ChatRoomsServer server = ChatRoomsServer.start(SETTINGS);
        SocketAddress at = server.address();
        CoroutinePool clients = CoroutinePool.start("clients", 2);
        Thread slowThread = null;
        try {
            int everyone = TALKERS + 3; // the talkers, the leaver, the slow member, the resetter
            List<CompletableFuture<Void>> joined = Stream.generate(CompletableFuture<Void>::new).limit(everyone).toList();
            CompletableFuture<Void> allJoined = CompletableFuture.allOf(joined.toArray(CompletableFuture[]::new));
            List<CompletableFuture<Void>> heardAll = Stream.generate(CompletableFuture<Void>::new).limit(TALKERS).toList();

            List<CompletableFuture<Heard>> talkers = new ArrayList<>();
            for (int i = 0; i < TALKERS; i++) {
                int t = i;
                talkers.add(clients.submitCallable("talker " + t, () -> {
                    try (Client c = new Client(at)) {
                        c.join("lobby");
                        joined.get(t).complete(null);
                        Coroutine.await(allJoined);
                        for (int j = 0; j < LINES; j++) {
                            c.say("SAY t" + t + " " + j + " " + PAD);
                        }
                        List<String> heard = new ArrayList<>();
                        while (heard.size() < TALKERS * LINES) {
                            heard.add(c.next());
                        }
                        heardAll.get(t).complete(null);
                        return new Heard(c.name, heard, c.rest()); // the rest: up to the server's close
                    }
                }));
            }
            CompletableFuture<Heard> leaver = clients.submitCallable("leaver", () -> {
                try (Client c = new Client(at)) {
                    c.join("lobby");
                    joined.get(TALKERS).complete(null);
                    Coroutine.await(allJoined);
                    List<String> before = new ArrayList<>();
                    while (before.size() < LEAVE_AFTER) {
                        before.add(c.next());
                    }
                    c.say("LEAVE");
                    for (String l = c.next(); !l.equals("* left lobby"); l = c.next()) {
                        before.add(l); // said before the room took the leave
                    }
                    c.join("side");
                    c.say("SAY alone here");
                    c.say("QUIT");
                    return new Heard(c.name, before, c.rest());
                }
            });
            CompletableFuture<Heard> slow = new CompletableFuture<>();
            slowThread = Thread.ofPlatform().name("slow member").start(() -> {
                try (Socket s = new Socket()) {
                    s.setReceiveBufferSize(4096); // before the connect, so that the window stays small
                    s.connect(at);
                    s.setSoTimeout((int) PoolsClosed.GUARD.toMillis()); // a guard only
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                    OutputStream out = s.getOutputStream();
                    String name = welcomed(in.readLine());
                    out.write("JOIN lobby\n".getBytes(StandardCharsets.UTF_8));
                    assertThat(in.readLine()).isEqualTo("* joined lobby");
                    joined.get(TALKERS + 1).complete(null);
                    allJoined.join();
                    // it reads nothing more until the room has dropped it
                    assertThat(server.dropped(name).get(PoolsClosed.GUARD.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("lobby");
                    List<String> rest = new ArrayList<>();
                    for (String l = in.readLine(); l != null; l = in.readLine()) {
                        rest.add(l);
                    }
                    slow.complete(new Heard(name, rest, List.of()));
                } catch (Throwable e) {
                    slow.completeExceptionally(e);
                }
            });
            CompletableFuture<String> resetter = clients.submitCallable("resetter", () -> {
                Client c = new Client(at);
                c.join("lobby");
                joined.get(TALKERS + 2).complete(null);
                Coroutine.await(allJoined);
                for (int k = 0; k < resetAfter; k++) {
                    assertThat(c.next()).matches(LOBBY_LINE);
                }
                c.connection.setOption(StandardSocketOptions.SO_LINGER, 0); // the close resets the connection
                c.close();
                return c.name;
            });

            Coroutine.await(CompletableFuture.allOf(heardAll.toArray(CompletableFuture[]::new)));
            Heard left = Coroutine.await(leaver);
            Heard dropped = Coroutine.await(slow);
            String reset = Coroutine.await(resetter);
            Set<Long> serverThreads = new HashSet<>();
            server.threads.values().forEach(t -> serverThreads.add(t.threadId()));
            assertThat(CoroutinesManagement.mxBean().getSchedulers()).as("schedulers of the server's threads while it runs")
                    .filteredOn(s -> serverThreads.contains(s.threadId())).hasSize(2);
            server.close(); // stops; throws the first failure of the server's coroutines that nobody observed
            PoolsClosed.close(clients);

            Set<String> talkerNames = new HashSet<>();
            for (CompletableFuture<Heard> f : talkers) {
                Heard h = Coroutine.await(f);
                talkerNames.add(h.name());
                Map<String, List<Integer>> by = bySender(h.during());
                assertThat(by.values()).as("%s heard every line of each talker once, in order", h.name())
                        .hasSize(TALKERS).allSatisfy(js -> assertThat(js).isEqualTo(upTo(LINES)));
                assertThat(h.after()).as("what %s heard once it had every line", h.name()).containsExactly("* server shutting down");
                assertThat(server.ended(h.name()).join()).isEqualTo("shutdown");
            }
            assertThat(bySender(dropped.during().subList(0, dropped.during().size() - 1)).keySet()).isSubsetOf(talkerNames);

            Map<String, List<Integer>> before = bySender(left.during());
            assertThat(before.values()).as("what the leaver heard before it left: a first part of each talker's lines")
                    .allSatisfy(js -> assertThat(js).isEqualTo(upTo(js.size())));
            assertThat(left.after()).as("after it left and joined the side room: nothing of the lobby")
                    .containsExactly("side " + left.name() + ": alone here", "* left side", "* bye");
            assertThat(server.ended(left.name()).join()).isEqualTo("quit");

            List<String> heardBySlow = dropped.during();
            assertThat(heardBySlow).last().isEqualTo("* dropped from lobby: too slow");
            Map<String, List<Integer>> bySlow = bySender(heardBySlow.subList(0, heardBySlow.size() - 1));
            assertThat(bySlow.values()).as("what the slow member heard: a first part of each talker's lines")
                    .allSatisfy(js -> assertThat(js).isEqualTo(upTo(js.size())));
            assertThat(bySlow.values().stream().mapToInt(List::size).sum()).isLessThan(TALKERS * LINES);
            assertThat(server.ended(dropped.name()).join()).isEqualTo("dropped");

            assertThat(server.ended(reset).join()).startsWith("reset: ");

            assertThat(Set.copyOf(server.threads.values())).as("the members' threads").hasSize(2);
            assertThat(server.connections).hasSize(everyone).noneMatch(TcpConnection::isOpen);
            assertThat(server.listener().isOpen()).isFalse();
            for (Thread t : server.threads.values()) {
                t.join(PoolsClosed.GUARD.toMillis());
                assertThat(t.isAlive()).as("%s ended", t).isFalse();
            }
            assertThat(CoroutinesManagement.mxBean().getSchedulers()).as("schedulers of the server's threads once it closed")
                    .noneMatch(s -> serverThreads.contains(s.threadId()));
            slowThread.join();
            assertThat(OpenSockets.count()).as("sockets left open").isEqualTo(socketsBefore);
        } finally {
            if (slowThread != null) {
                slowThread.join(PoolsClosed.GUARD.toMillis());
            }
            PoolsClosed.close(clients);
            server.close();
        }
    }

    @RepeatedTest(3)
    void aShutdownMidConversationTellsEveryTalkerAfterAnUnbrokenFirstPartOfEachOnesLinesAndReportsNoFailure() {
        assertTimeoutPreemptively(Duration.ofMinutes(2), this::shutdownMidConversation); // a guard against a hang only
    }

    private void shutdownMidConversation() throws Exception {
        ChatRoomsServer server = ChatRoomsServer.start(SETTINGS);
        CoroutinePool clients = CoroutinePool.start("clients", 2);
        try {
            List<CompletableFuture<Void>> joined = Stream.generate(CompletableFuture<Void>::new).limit(TALKERS).toList();
            CompletableFuture<Void> allJoined = CompletableFuture.allOf(joined.toArray(CompletableFuture[]::new));
            List<CompletableFuture<Void>> heardSome = Stream.generate(CompletableFuture<Void>::new).limit(TALKERS).toList();
            List<CompletableFuture<Heard>> talkers = new ArrayList<>();
            for (int i = 0; i < TALKERS; i++) {
                int t = i;
                talkers.add(clients.submitCallable("talker " + t, () -> {
                    try (Client c = new Client(server.address())) {
                        c.join("lobby");
                        joined.get(t).complete(null);
                        Coroutine.await(allJoined);
                        Coroutine.create("talking", () -> { // says lines until its connection is closed
                            try {
                                for (int j = 0; ; j++) {
                                    c.say("SAY t" + t + " " + j + " " + PAD);
                                    // a write the socket takes at once is no scheduling point: without this, a
                                    // server that drains as fast as it is written to keeps the reader from running
                                    Coroutine.yield();
                                }
                            } catch (IOException e) {
                                // closed: the server has shut down, and the client closed its end
                            }
                        });
                        List<String> heard = new ArrayList<>();
                        String l;
                        for (l = c.next(); !l.startsWith("*"); l = c.next()) {
                            heard.add(l);
                            if (heard.size() == LINES) {
                                heardSome.get(t).complete(null);
                            }
                        }
                        List<String> after = new ArrayList<>(List.of(l));
                        after.addAll(c.rest());
                        return new Heard(c.name, heard, after);
                    }
                }));
            }
            Coroutine.await(CompletableFuture.allOf(heardSome.toArray(CompletableFuture[]::new)));
            server.close(); // reports any failure of the server's coroutines
            PoolsClosed.close(clients);
            for (CompletableFuture<Heard> f : talkers) {
                Heard h = Coroutine.await(f);
                // a talker whose first line the room had not taken yet is heard by nobody
                assertThat(bySender(h.during()).values()).as("what %s heard: a first part of each talker's lines", h.name())
                        .hasSizeLessThanOrEqualTo(TALKERS).allSatisfy(js -> assertThat(js).isEqualTo(upTo(js.size())));
                assertThat(h.after()).as("what %s heard after the lines", h.name()).containsExactly("* server shutting down");
                assertThat(server.ended(h.name()).join()).isEqualTo("shutdown");
            }
            assertThat(server.connections).hasSize(TALKERS).noneMatch(TcpConnection::isOpen);
        } finally {
            PoolsClosed.close(clients);
            server.close();
        }
    }

    @Test
    void anIdleMemberIsToldSoAndItsConnectionClosed() throws Exception {
        ChatRoomsServer server = ChatRoomsServer.start(new ChatRoomsServer.Settings(
                Duration.ofMillis(200), Duration.ofSeconds(1), PoolsClosed.GUARD, PoolsClosed.GUARD, 64, 8 << 10));
        CoroutinePool clients = CoroutinePool.start("clients", 2);
        try {
            CompletableFuture<Heard> idle = clients.submitCallable("idle", () -> {
                try (Client c = new Client(server.address())) {
                    c.join("lobby");
                    return new Heard(c.name, c.rest(), List.of()); // it says nothing more
                }
            });
            Heard h = Coroutine.await(idle);
            assertThat(h.during()).containsExactly("* idle for PT0.2S: closing");
            assertThat(server.ended(h.name()).join()).isEqualTo("idle");
        } finally {
            PoolsClosed.close(clients);
            server.close();
        }
    }
}
