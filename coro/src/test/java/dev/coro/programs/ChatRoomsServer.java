package dev.coro.programs;

import dev.coro.Channel;
import dev.coro.ChannelClosedException;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.Select;
import dev.coro.net.TcpConnection;
import dev.coro.net.TcpListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A chat server a user would write on coro's public API alone: members connect over TCP to a listener on loopback,
 * one thread accepting and handing each connection to a thread of a {@link CoroutinePool} of two; each says
 * {@code JOIN room}, {@code SAY text}, {@code LEAVE} and {@code QUIT}, one a line; a room is a coroutine fed through a
 * bounded channel that members of either thread share, and it hands every line to each member through the member's
 * bounded outbound channel, dropping one that takes nothing for {@link Settings#dropAfter}; a connection silent for
 * {@link Settings#idle} is closed; {@link #close()} stops accepting, tells every member, closes every connection
 * and closes the pool, which reports any failure.
 *
 * <p>What a member receives, one a line: {@code * welcome NAME} first, then {@code ROOM NAME: text} for every line
 * said in its room while it is a member, {@code * joined ROOM} and {@code * left ROOM} as the room takes it in and
 * lets it go, and the server's own notices, starting with {@code *}.
 */
final class ChatRoomsServer implements AutoCloseable {

    /**
     * How the server treats its members.
     *
     * @param idle             how long a member may send nothing before its connection is closed
     * @param dropAfter        how long a room waits for a member's full outbound channel before it drops the member
     * @param writeBound       how long a write to a member's socket may take before the connection is given up
     * @param linger           how long a member's connection, its output shut at the end, waits for the member to close
     * @param outboundCapacity how many lines a member's outbound channel holds
     * @param sendBuffer       the socket send buffer of each connection, so that a member that reads nothing fills its
     *                         outbound channel after a few lines rather than after the kernel's megabytes
     */
    record Settings(Duration idle, Duration dropAfter, Duration writeBound, Duration linger, int outboundCapacity,
                    int sendBuffer) {
    }

    /** What a room is told, in the order its members' sessions send it. */
    private sealed interface Event permits Join, Leave, Say {
    }

    private record Join(Member member) implements Event {
    }

    private record Leave(Member member) implements Event {
    }

    private record Say(Member member, String text) implements Event {
    }

    /** Why a room closed a member's outbound channel: the member took nothing for {@link Settings#dropAfter}. */
    private static final class Dropped extends Exception {
        Dropped(String room) {
            super(room, null, false, false);
        }
    }

    /** Why a session's inbound channel was closed: its member sent nothing for {@link Settings#idle}. */
    private static final class Idle extends Exception {
        Idle() {
            super(null, null, false, false);
        }
    }

    /** An event on its way to a room. */
    private record Handoff(Room to, Event event) {
    }

    /** A member as rooms see it: its name and the channel its lines go out through. */
    private record Member(String name, Channel<String> outbound) {
    }

    private final Settings settings;
    private final CoroutinePool pool;
    private final CompletableFuture<Void> stopping = new CompletableFuture<>();
    private final Map<String, Room> rooms = new ConcurrentHashMap<>();
    private final AtomicInteger guests = new AtomicInteger();
    private volatile TcpListener listener;
    private SocketAddress address;

    /** Why each member's session ended ({@code quit}, {@code idle}, {@code dropped}, {@code shutdown} …), by name. */
    private final Map<String, CompletableFuture<String>> ends = new ConcurrentHashMap<>();
    /** Each member dropped as too slow, completed with its room's name as the room drops it, by name. */
    private final Map<String, CompletableFuture<String>> drops = new ConcurrentHashMap<>();
    /** The thread each member's session ran on, by name. */
    final Map<String, Thread> threads = new ConcurrentHashMap<>();
    /** Every connection the server served, to check that each was closed. */
    final List<TcpConnection> connections = new CopyOnWriteArrayList<>();

    private ChatRoomsServer(Settings settings) {
        this.settings = settings;
        this.pool = CoroutinePool.start("chat", 2);
    }

    /** Starts a server on a free port of the loopback; {@link #address()} tells which. */
    static ChatRoomsServer start(Settings settings) {
        ChatRoomsServer server = new ChatRoomsServer(settings);
        CompletableFuture<SocketAddress> bound = new CompletableFuture<>();
        server.pool.execute("acceptor", () -> server.accept(bound));
        server.address = Coroutine.await(bound);
        return server;
    }

    SocketAddress address() {
        return address;
    }

    /** The listener, to check that it was closed. */
    TcpListener listener() {
        return listener;
    }

    /** Completes with why member {@code name}'s session ended. */
    CompletableFuture<String> ended(String name) {
        return ends.computeIfAbsent(name, k -> new CompletableFuture<>());
    }

    /** Completes with the room that dropped member {@code name} as too slow, once it does. */
    CompletableFuture<String> dropped(String name) {
        return drops.computeIfAbsent(name, k -> new CompletableFuture<>());
    }

    /** The accept loop: each connection is detached here and adopted by a body of the pool, on the thread it picks. */
    private void accept(CompletableFuture<SocketAddress> bound) {
        try (TcpListener l = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            listener = l;
            bound.complete(l.localAddress());
            while (true) {
                SocketChannel accepted = l.accept().detach();
                String name = "guest-" + guests.incrementAndGet();
                pool.execute("member " + name, () -> serve(name, accepted));
            }
        } catch (IOException e) {
            if (!stopping.isDone()) {
                bound.completeExceptionally(e);
                throw new UncheckedIOException(e);
            }
            // stop() closed the listener under the accept
        }
    }

    /** Stops accepting and tells every session and room to end; {@link #close()} then waits for them. */
    void stop() throws IOException {
        stopping.complete(null);
        listener.close(); // from the caller's thread: run on the acceptor's, which leaves its accept()
    }

    /** Stops, then closes the pool: returns once every member, room and connection has ended. */
    @Override
    public void close() throws IOException {
        try {
            stop();
        } finally {
            pool.close(); // throws the first failure of a session, a room or the acceptor that nobody observed
        }
    }

    /** Serves one member on this thread, from its welcome to its connection's close. */
    private void serve(String name, SocketChannel accepted) {
        threads.put(name, Coroutine.current().thread());
        String why;
        try (TcpConnection c = TcpConnection.adopt(accepted)) {
            connections.add(c);
            c.setOption(StandardSocketOptions.SO_SNDBUF, settings.sendBuffer());
            why = new Session(name, c).run();
        } catch (IOException e) {
            why = "failed: " + e.getMessage();
        }
        ended(name).complete(why);
    }

    /** Gives the room named {@code name}, starting it as a coroutine of the caller's thread if it is new. */
    private Room room(String name) {
        Room fresh = new Room(name);
        Room room = rooms.putIfAbsent(name, fresh);
        if (room != null) {
            return room;
        }
        Coroutine.create("room " + name, fresh::run);
        return fresh;
    }

    /** A room: its members, and the channel its members' sessions feed it through, from either thread. */
    private final class Room {
        final String name;
        final Channel<Event> feed;
        /** Touched by the room's coroutine alone. */
        private final Set<Member> members = new LinkedHashSet<>();

        Room(String name) {
            this.name = name;
            this.feed = new Channel<>("room " + name, 16);
        }

        /** Takes events in order until the server stops; then closes its feed, so that a session sending to it is told. */
        void run() {
            Select<Event> next = new Select<Event>()
                    .onComplete(stopping, v -> null)
                    .onReceive(feed, e -> e);
            try {
                for (Event e = next.select(); e != null; e = next.select()) {
                    switch (e) {
                        case Join j -> {
                            members.add(j.member());
                            deliver(j.member(), "* joined " + name);
                        }
                        case Leave l -> {
                            if (members.remove(l.member())) {
                                deliver(l.member(), "* left " + name);
                            }
                        }
                        case Say s -> {
                            if (members.contains(s.member())) {
                                String line = name + " " + s.member().name() + ": " + s.text();
                                for (Member m : List.copyOf(members)) {
                                    deliver(m, line);
                                }
                            }
                        }
                    }
                }
            } finally {
                feed.close();
            }
        }

        /** Hands {@code line} to {@code m}, or lets {@code m} go: it has gone, or it took nothing for {@code dropAfter}. */
        private void deliver(Member m, String line) {
            if (m.outbound().trySend(line, settings.dropAfter())) {
                return;
            }
            members.remove(m);
            if (!m.outbound().isClosed()) { // full all that time: too slow; a closed one's session has ended
                m.outbound().close(new Dropped(name));
                dropped(m.name()).complete(name);
            }
        }
    }

    /** One member's session: a coroutine reading its lines, and a select over them, its outbound lines and the stop. */
    private final class Session {
        final String name;
        final TcpConnection connection;
        final Member member;
        final Channel<String> inbound;
        /** The room the member is in, as far as the session knows; null for none. */
        Room room;
        /** The events the session is handing to rooms, in order, while it serves its outbound lines meanwhile. */
        final ArrayDeque<Handoff> handing = new ArrayDeque<>();
        /** Once the member has quit while in a room: the line that tells it the room let it go; null before. */
        String quitting;

        Session(String name, TcpConnection connection) {
            this.name = name;
            this.connection = connection;
            this.member = new Member(name, new Channel<>(name + " outbound", settings.outboundCapacity()));
            this.inbound = new Channel<>(name + " inbound", 16);
        }

        /** Serves the member until it quits, falls idle or silent, is dropped, fails, or the server stops; says why. */
        String run() {
            Coroutine reader = Coroutine.create(name + " reader", this::read);
            try {
                if (!write("* welcome " + name)) {
                    return "stuck";
                }
                while (true) {
                    String why = turn();
                    if (why != null) {
                        return why;
                    }
                }
            } catch (UncheckedIOException e) { // a write failed: the member's connection is gone (a reset peer)
                return "reset: " + e.getCause().getMessage();
            } finally {
                member.outbound().close(); // a room that still hands it lines lets it go
                reader.close();
            }
        }

        /**
         * One turn of the session: the stop, an outbound line to write, and either the member's next line or the
         * event being handed to a room; gives why the session ends, or null to go on.
         */
        private String turn() {
            Select<String> select = new Select<String>()
                    .onComplete(stopping, v -> "shutdown")
                    .onReceive(member.outbound(), line -> !write(line) ? "stuck" : line.equals(quitting) ? "quit" : null);
            Handoff next = handing.peek();
            if (next != null) { // the member's next line waits until the rooms have taken this
                select.onSend(next.to().feed, next.event(), () -> {
                    handing.remove();
                    return null;
                });
            } else {
                select.onReceive(inbound, this::command);
            }
            try {
                String why = select.select();
                if (why != null) {
                    return end(why);
                }
                return null;
            } catch (ChannelClosedException e) {
                if (e.channel() == member.outbound()) { // a room dropped the member
                    write("* dropped from " + e.getCause().getMessage() + ": too slow");
                    return end("dropped");
                }
                if (e.channel() == inbound) { // the reader is done: the member's end of stream, silence, or a failure
                    return switch (e.getCause()) {
                        case null -> end("hung up");
                        case Idle idle -> {
                            write("* idle for " + settings.idle() + ": closing");
                            yield end("idle");
                        }
                        case IOException failure -> "reset: " + failure.getMessage();
                        default -> throw e;
                    };
                }
                handing.clear(); // a room's feed, closed as the server stops: the next turn says so
                return null;
            }
        }

        /** Handles one line of the member's; gives why the session ends, or null to go on. */
        private String command(String line) {
            String verb = line.split(" ", 2)[0];
            String rest = line.length() > verb.length() ? line.substring(verb.length() + 1) : "";
            switch (verb) {
                case "JOIN" -> {
                    if (rest.isBlank()) {
                        return write("* JOIN needs a room") ? null : "stuck";
                    }
                    if (room != null) {
                        hand(room, new Leave(member)); // one room at a time
                    }
                    room = room(rest);
                    hand(room, new Join(member));
                    return null;
                }
                case "SAY" -> {
                    if (room == null) {
                        return write("* join a room first") ? null : "stuck";
                    }
                    hand(room, new Say(member, rest));
                    return null;
                }
                case "LEAVE" -> {
                    if (room == null) {
                        return write("* not in a room") ? null : "stuck";
                    }
                    hand(room, new Leave(member));
                    room = null;
                    return null;
                }
                case "QUIT" -> {
                    if (room == null) {
                        return "quit";
                    }
                    // the room lets the member go once it has handed over every line said before: its "* left"
                    // comes after them, and the session ends as it writes it
                    hand(room, new Leave(member));
                    quitting = "* left " + room.name;
                    room = null;
                    return null;
                }
                default -> {
                    return write("* unknown command " + verb) ? null : "stuck";
                }
            }
        }

        private void hand(Room to, Event e) {
            handing.add(new Handoff(to, e));
        }

        /**
         * Ends a session whose connection still works: the last word, the output shut, and whatever the member
         * still sends read and dropped until it closes (at most {@code linger}), so that the close resets nothing.
         */
        private String end(String why) {
            member.outbound().close(); // at once: a room waiting to hand the member a line lets it go now
            switch (why) {
                case "quit" -> write("* bye");
                case "shutdown" -> write("* server shutting down");
                default -> {
                }
            }
            if (why.equals("stuck")) {
                return why;
            }
            try {
                connection.shutdownOutput();
            } catch (IOException e) {
                return "reset: " + e.getMessage();
            }
            Coroutine.tryWithTimeout(settings.linger(), () -> {
                try {
                    for (String ignored : inbound) {
                        // dropped: the member is leaving
                    }
                } catch (ChannelClosedException e) {
                    // its end, or its failure: either way it is gone
                }
            });
            return why;
        }

        /** Writes one line to the member within {@code writeBound}; false if it took too long (the caller gives up). */
        private boolean write(String line) {
            ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            try {
                return Coroutine.tryCallWithTimeout(settings.writeBound(), () -> connection.write(bytes));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The reader: the member's lines into {@code inbound}, until its end, its silence for {@code idle}, or a failure. */
        private void read() {
            BufferedReader in = new BufferedReader(new InputStreamReader(connection.input(), StandardCharsets.UTF_8));
            try {
                while (true) {
                    // readLine gives null at the end of the stream, which tryCallWithTimeout would give as empty,
                    // as it gives a timeout: wrap the line, so that the two stay apart
                    Optional<Optional<String>> line = Coroutine.tryCallWithTimeout(settings.idle(),
                            () -> Optional.ofNullable(in.readLine()));
                    if (line.isEmpty()) {
                        inbound.close(new Idle());
                        return;
                    }
                    if (line.get().isEmpty()) {
                        inbound.close();
                        return;
                    }
                    inbound.send(line.get().get());
                }
            } catch (IOException e) {
                inbound.close(e);
            }
        }
    }
}
