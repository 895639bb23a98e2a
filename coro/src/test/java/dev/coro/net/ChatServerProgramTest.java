package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.ChannelClosedException;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A chat server a user would write: a coroutine per client on a pool, one room fed from both pool threads. */
@Tag("net")
class ChatServerProgramTest {

    /** What each line carries after its speaker and number: long, so that a client that never reads fills every buffer. */
    private static final String PAD = "x".repeat(32 << 10);
    /** The clients that talk (and read), besides the slow one. */
    private static final int TALKERS = 6;
    /** The lines each talker says (the leaver fewer). */
    private static final int SAYS = 30;

    /** A member of the room: its name and the channel its writer coroutine sends from. */
    record Member(String name, Channel<String> outbox) {
    }

    /** What the room hears. */
    sealed interface Event permits Join, Say, Leave, Shutdown {
    }

    /** A member enters the room. */
    record Join(Member m) implements Event {
    }

    /** A member says a line, relayed to every member (itself too). */
    record Say(String from, String text) implements Event {
    }

    /** A member leaves: the room closes its outbox, which its writer drains. */
    record Leave(String name) implements Event {
    }

    /** The room closes every outbox and itself. */
    record Shutdown() implements Event {
    }

    /** How each member's stay ended, as the room or its writer saw it. */
    private final Map<String, String> ends = new ConcurrentHashMap<>();

    @Test
    void everyLineTheRoomHandedAClientIsReceivedOnceInOrderThroughASlowClientALeaverAndAShutdown() throws Exception {
        Map<String, List<String>> handed = new ConcurrentHashMap<>();
        CompletableFuture<Channel<Event>> roomMade = new CompletableFuture<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        List<CompletableFuture<Void>> servers = new ArrayList<>();
        Map<String, List<String>> received = new ConcurrentHashMap<>();
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            CompletableFuture<Void> hub = pool.submit(() -> {
                Channel<Event> room = new Channel<>("room", 16);
                roomMade.complete(room);
                Map<String, Member> members = new LinkedHashMap<>();
                for (Event e : room) {
                    switch (e) {
                        case Join j -> {
                            members.put(j.m().name(), j.m());
                            handed.put(j.m().name(), new ArrayList<>());
                        }
                        case Leave l -> {
                            Member m = members.remove(l.name());
                            if (m != null) {
                                m.outbox().close();
                                ends.putIfAbsent(l.name(), "left the room");
                            }
                        }
                        case Say s -> {
                            String line = s.from() + " " + s.text();
                            for (Member m : List.copyOf(members.values())) {
                                try {
                                    m.outbox().send(line);
                                    handed.get(m.name()).add(line);
                                } catch (ChannelClosedException closed) { // its writer gave up on it
                                    members.remove(m.name());
                                    ends.putIfAbsent(m.name(), "kicked by the room");
                                }
                            }
                        }
                        case Shutdown x -> {
                            for (Member m : members.values()) {
                                m.outbox().close();
                            }
                            members.clear();
                            room.close();
                        }
                    }
                }
                return null;
            });
            Channel<Event> room = Coroutine.await(roomMade);
            for (int s = 0; s < 2; s++) {
                CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
                int clients = s == 0 ? TALKERS / 2 + 1 : TALKERS / 2; // the slow client on server 0
                servers.add(pool.submit(() -> {
                    try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
                        bound.complete((InetSocketAddress) l.localAddress());
                        for (int i = 0; i < clients; i++) {
                            TcpConnection c = l.accept();
                            Coroutine.create("handler", () -> handle(c, room));
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return null;
                }));
                addresses.add(Coroutine.await(bound));
            }
            // the slow client: joins, never reads, a small receive window
            Socket slow = new Socket();
            slow.setReceiveBufferSize(4096);
            slow.connect(addresses.get(0));
            slow.getOutputStream().write("slow\n".getBytes(StandardCharsets.UTF_8));
            List<Thread> threads = new ArrayList<>();
            List<Throwable> clientFailures = new ArrayList<>();
            CompletableFuture<Void> everyoneJoined = new CompletableFuture<>();
            AtomicInteger joined = new AtomicInteger();
            // every talker but the leaver has said everything once talker-0 has read each one's last line
            CompletableFuture<Void> lastLinesRelayed = new CompletableFuture<>();
            AtomicInteger lastLines = new AtomicInteger();
            for (int t = 0; t < TALKERS; t++) {
                String name = "talker-" + t;
                InetSocketAddress to = addresses.get(t % 2);
                boolean leaver = t == 3;
                Thread th = new Thread(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(to);
                        OutputStream out = s.getOutputStream();
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                        out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        List<String> mine = new ArrayList<>();
                        received.put(name, mine);
                        // its own join is seen once its first line, its own hello, comes back
                        out.write((name + " hello\n").getBytes(StandardCharsets.UTF_8));
                        Thread reader = Thread.ofPlatform().start(() -> {
                            try {
                                for (String line; (line = in.readLine()) != null; ) {
                                    synchronized (mine) {
                                        mine.add(line);
                                    }
                                    if (name.equals("talker-0") && line.contains(" " + (SAYS - 1) + " ")
                                            && lastLines.incrementAndGet() == TALKERS - 1) {
                                        lastLinesRelayed.complete(null);
                                    }
                                    if (line.startsWith(name + " hello")) {
                                        if (joined.incrementAndGet() == TALKERS) {
                                            everyoneJoined.complete(null);
                                        }
                                    }
                                }
                            } catch (IOException e) {
                                synchronized (clientFailures) {
                                    clientFailures.add(e);
                                }
                            }
                        });
                        everyoneJoined.join();
                        for (int k = 0; k < SAYS; k++) {
                            out.write((name + " " + k + " " + PAD + "\n").getBytes(StandardCharsets.UTF_8));
                            if (leaver && k == SAYS / 3) {
                                out.write("/bye\n".getBytes(StandardCharsets.UTF_8));
                                break;
                            }
                        }
                        out.flush();
                        reader.join();
                    } catch (IOException | InterruptedException e) {
                        synchronized (clientFailures) {
                            clientFailures.add(e);
                        }
                    }
                }, name);
                th.start();
                threads.add(th);
            }
            Coroutine.await(lastLinesRelayed.orTimeout(2, TimeUnit.MINUTES)); // a guard against a hang, not a timing
            room.send(new Shutdown());
            for (Thread th : threads) {
                th.join();
            }
            slow.close();
            assertThat(clientFailures).isEmpty();
            for (CompletableFuture<Void> f : servers) {
                Coroutine.await(f);
            }
            Coroutine.await(hub);
        }
        assertThat(ends.get("slow")).startsWith("writer timed out: coroutine 'writer slow' timed out: withTimeout(PT3S)");
        assertThat(ends).containsEntry("talker-3", "left the room").hasSize(2);
        for (int t = 0; t < TALKERS; t++) {
            String name = "talker-" + t;
            assertThat(received.get(name)).as(name).isEqualTo(handed.get(name));
        }
        assertThat(handed.get("talker-0")).filteredOn(l -> !l.endsWith(" hello")).hasSize((TALKERS - 1) * SAYS + SAYS / 3 + 1);
    }

    /** One client: its first line is its name; each further line is said in the room; {@code /bye} leaves. */
    private void handle(TcpConnection c, Channel<Event> room) {
        try (c; BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8))) {
            String name = in.readLine();
            Channel<String> outbox = new Channel<>("outbox " + name, 8);
            Coroutine writer = Coroutine.create("writer " + name, () -> {
                try {
                    for (String line : outbox) {
                        ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
                        // only the slow client, which never reads, is meant to run into it: the others get
                        // a timeout no pause of a loaded machine reaches
                        Coroutine.withTimeout(Duration.ofSeconds(name.equals("slow") ? 3 : 120), () -> {
                            try {
                                c.write(bytes);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
                    }
                    c.shutdownOutput();
                } catch (CoroutineTimeoutException | IOException | UncheckedIOException e) {
                    ends.put(name, "writer timed out: " + e.getMessage());
                    outbox.close(); // the room's next send to it fails: it is kicked
                    try {
                        c.close();
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                }
            });
            room.send(new Join(new Member(name, outbox)));
            try {
                for (String line; (line = in.readLine()) != null && !line.equals("/bye"); ) {
                    room.send(new Say(name, line.substring(name.length() + 1)));
                }
            } catch (IOException e) {
                // the writer closed the connection
            } catch (ChannelClosedException e) {
                // the room has shut down
            }
            try {
                room.send(new Leave(name));
            } catch (ChannelClosedException e) {
                // the room has shut down
            }
            while (!writer.isFinished()) {
                Coroutine.sleep(Duration.ofMillis(1));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
