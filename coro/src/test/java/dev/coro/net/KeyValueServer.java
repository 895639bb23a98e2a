package dev.coro.net;

import dev.coro.Channel;
import dev.coro.ChannelClosedException;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A line-protocol key-value server with publish/subscribe, written against the public API alone, as a user
 * would after the README, NET.md and CHANNELS.md.
 *
 * <p>The protocol, one command a line, one reply a line: {@code SET k v} ({@code OK}), {@code GET k}
 * ({@code VALUE v} or {@code NIL}), {@code DEL k} ({@code DELETED} or {@code NIL}), {@code WAIT k} (the
 * value once some client sets it, or {@code ERR WAIT timed out after PT…} once the request timeout passed),
 * {@code SUB ch} ({@code SUBSCRIBED ch}, then a {@code MSG ch text} line for every publish to {@code ch}),
 * {@code PUB ch text} ({@code PUBLISHED n}: how many subscribers took it), {@code INFO} (the connection's
 * name, {@code conn T.N} for the N-th connection the server of pool thread T accepted, and the store's counts:
 * keys, waiting {@code WAIT}s, subscribers whose connection is open) and {@code QUIT} ({@code BYE}, then the
 * end of the stream).
 *
 * <p>How it runs, on a {@link CoroutinePool}: one body per pool thread binds a listener to the one port
 * with {@code SO_REUSEPORT} (a connection belongs to the thread that accepted it, so a single acceptor
 * could not hand connections to the other threads: NET.md) and starts two coroutines per connection: its
 * session, which reads the commands, and its writer, which writes what the connection's outbox, a buffered
 * channel, holds, then closes the connection. The keys, the waiting {@code WAIT}s and the subscriptions
 * belong to one coroutine, the store, on the first pool thread: a session sends it a request carrying a
 * future and awaits the future, at most for the request timeout.
 *
 * <p>A publish is put into each subscriber's outbox with {@code trySend}, across threads. A subscriber whose
 * outbox is full (its client reads too slowly) is disconnected: the store closes its outbox and its
 * connection, from the store's thread; what its outbox held may still reach it. Every connection's send
 * buffer is bounded ({@link #SEND_BUFFER}), so that what a slow reader has not taken piles up in its outbox,
 * where this policy sees it. A subscriber that quits tells the store; one whose connection failed or that a
 * shutdown closed cannot wait for the store's thread, and the store drops it once it finds its outbox closed.
 *
 * <p>A session that has subscribed to nothing and reads no command for the idle timeout is told
 * {@code BYE idle} and closed. {@link #stop} shuts down in order: the listeners close, the sessions waiting
 * for a command are closed (told {@code BYE shutdown}), those in a request finish it first (then told so
 * too), then the store ends; if that takes longer than the grace given, the pool is closed at once
 * ({@link CoroutinePool#closeNow()}).
 */
final class KeyValueServer {

    /** A command for the store, from {@code from}, answered through {@code reply}. */
    record Request(String op, String key, String value, Session from, CompletableFuture<String> reply) {
    }

    /** A connection as the store knows it: its name, the outbox its writer drains, and the connection. */
    record Session(String name, Channel<String> outbox, TcpConnection connection) {
    }

    /** A session's coroutines, and whether it waits for a command (which a shutdown may cut short). */
    private static final class Handler {
        Coroutine reader;
        Coroutine writer;
        boolean reading;
    }

    /** The send buffer of every connection accepted, in bytes. */
    static final int SEND_BUFFER = 64 << 10;

    /** The pool it serves on; its tests read its state after a stop. */
    final CoroutinePool pool;
    private final Duration idle;
    private final Duration requestTimeout;
    private final int outboxSize;
    private final CompletableFuture<Void> stop = new CompletableFuture<>();
    private final CompletableFuture<Channel<Request>> store = new CompletableFuture<>();
    /** Each server body's outcome: its thread's dump once everything it started has ended. */
    private final List<CompletableFuture<String>> served = new ArrayList<>();
    /** Completed by each thread but the first once its sessions have ended, for the first to end the store. */
    private final List<CompletableFuture<Void>> drained = new ArrayList<>();
    private final InetSocketAddress address;
    /** What the server saw go wrong or dropped, one line each, with the library's messages. Any thread adds. */
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    /** Every connection accepted, to check that none is left open. Any thread adds. */
    final List<TcpConnection> connections = Collections.synchronizedList(new ArrayList<>());
    /** Every listener bound. Any thread adds. */
    final List<TcpListener> listeners = Collections.synchronizedList(new ArrayList<>());

    private KeyValueServer(CoroutinePool pool, Duration idle, Duration requestTimeout, int outboxSize) {
        this.pool = pool;
        this.idle = idle;
        this.requestTimeout = requestTimeout;
        this.outboxSize = outboxSize;
        for (int t = 0; t < pool.threads(); t++) {
            drained.add(new CompletableFuture<>());
        }
        CompletableFuture<InetSocketAddress> first = new CompletableFuture<>();
        served.add(pool.submitCallable("server-0", () -> serve(0, TcpConnectionTest.LOOPBACK, first)));
        address = Coroutine.await(first);
        for (int t = 1; t < pool.threads(); t++) { // a body each: placement puts them on the other threads
            int thread = t;
            CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
            served.add(pool.submitCallable("server-" + t, () -> serve(thread, address, bound)));
            Coroutine.await(bound);
        }
    }

    /**
     * Starts a server on every thread of {@code pool}, on a loopback port; returns once every listener is bound.
     *
     * @param idle           how long a session that subscribed to nothing may send no command
     * @param requestTimeout how long a session waits for the store's answer
     * @param outboxSize     how many lines a connection's outbox holds
     */
    static KeyValueServer start(CoroutinePool pool, Duration idle, Duration requestTimeout, int outboxSize) {
        return new KeyValueServer(pool, idle, requestTimeout, outboxSize);
    }

    /** The address every listener is bound to. */
    InetSocketAddress address() {
        return address;
    }

    /**
     * Shuts the server down in order and waits for it, at most {@code grace}, then closes the pool at once.
     *
     * @return each server thread's dump once it had ended everything, or empty if the grace ran out
     */
    Optional<List<String>> stop(Duration grace) {
        stop.complete(null);
        Optional<List<String>> dumps = Coroutine.tryWithTimeout(grace, () -> {
            List<String> all = new ArrayList<>();
            for (CompletableFuture<String> f : served) {
                all.add(Coroutine.await(f));
            }
            return all;
        });
        if (dumps.isEmpty()) {
            pool.closeNow();
        }
        return dumps;
    }

    /** One pool thread's server: its listener, its sessions, and on the first thread the store. */
    private String serve(int t, SocketAddress at, CompletableFuture<InetSocketAddress> bound) throws IOException {
        Coroutine storeCoroutine = null;
        if (t == 0) {
            Channel<Request> requests = new Channel<>("requests", 64);
            storeCoroutine = Coroutine.create("store", () -> store(requests));
            store.complete(requests);
        }
        Channel<Request> requests = Coroutine.await(store);
        List<Handler> handlers = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(at, true)) {
            listeners.add(listener);
            bound.complete((InetSocketAddress) listener.localAddress());
            Coroutine acceptor = Coroutine.create("acceptor", () -> {
                try {
                    for (int n = 0; n < 10_000; n++) {
                        TcpConnection c = listener.accept();
                        connections.add(c);
                        // what a connection may hold in the kernel, bounded: a slow reader's backlog stays in its
                        // outbox, where the slow-subscriber policy sees it, not in megabytes of a send buffer grown for it
                        c.setOption(StandardSocketOptions.SO_SNDBUF, SEND_BUFFER);
                        Handler h = new Handler();
                        Session me = new Session("conn " + t + "." + n, new Channel<>("outbox " + t + "." + n, outboxSize), c);
                        h.writer = Coroutine.create("writer " + t + "." + n, () -> write(me));
                        h.reader = Coroutine.create("session " + t + "." + n, () -> session(me, h, requests));
                        handlers.add(h);
                    }
                } catch (IOException e) {
                    log.add("acceptor " + t + ": " + e.getMessage());
                }
            });
            Coroutine.await(stop);
            acceptor.close(); // unwinds it out of accept()
        }
        for (Handler h : handlers) {
            if (h.reading) {
                h.reader.close(); // waits for a command: tell it BYE; one in a request finishes it first
            }
        }
        for (Handler h : handlers) {
            h.reader.join();
            h.writer.join();
        }
        if (t == 0) {
            for (CompletableFuture<Void> d : drained.subList(1, drained.size())) {
                Coroutine.await(d);
            }
            requests.close(); // no session is left to ask: the store ends
            storeCoroutine.join();
        } else {
            drained.get(t).complete(null);
        }
        return Coroutine.dump().lines().filter(l -> !l.startsWith("        at ")).reduce((a, b) -> a + "\n" + b).orElseThrow();
    }

    /** Reads commands and answers them through the outbox until the client quits, goes idle or leaves. */
    private void session(Session me, Handler h, Channel<Request> requests) {
        String bye = null;
        boolean subscribed = false;
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(me.connection().input(), StandardCharsets.UTF_8));
            while (bye == null) {
                h.reading = true;
                String[] line = {null};
                // readLine gives null at the end of the stream, which tryCallWithTimeout's Optional cannot tell
                // from a timeout: the Runnable form says whether it returned
                boolean read = true;
                if (subscribed) {
                    line[0] = in.readLine(); // a subscriber may stay quiet for ever
                } else {
                    read = Coroutine.tryCallWithTimeout(idle, () -> {
                        line[0] = in.readLine();
                    });
                }
                h.reading = false;
                if (!read) {
                    bye = "BYE idle";
                    break;
                }
                if (line[0] == null) {
                    break; // the client is done
                }
                String[] f = line[0].split(" ", 3);
                String reply = switch (f[0]) {
                    case "SET", "PUB" -> f.length == 3 ? ask(requests, f[0], f[1], f[2], me) : "ERR " + f[0] + " takes a key and a value";
                    case "GET", "DEL", "WAIT", "SUB" -> f.length == 2 ? ask(requests, f[0], f[1], null, me) : "ERR " + f[0] + " takes a key";
                    case "INFO" -> "INFO " + me.name() + " " + ask(requests, "INFO", null, null, me);
                    case "QUIT" -> null;
                    default -> "ERR unknown command '" + f[0] + "'";
                };
                if (f[0].equals("QUIT")) {
                    bye = "BYE";
                } else if (f[0].equals("SUB") && reply == null) {
                    subscribed = true; // the store put SUBSCRIBED into the outbox, before any message
                } else {
                    me.outbox().send(reply);
                }
                if (bye == null && stop.isDone()) {
                    bye = "BYE shutdown";
                }
            }
            if (subscribed) {
                ask(requests, "LEAVE", null, null, me);
            }
        } catch (IOException e) {
            log.add(Coroutine.current().name() + ": " + e.getMessage());
        } catch (ChannelClosedException e) {
            // the store closed the outbox: disconnected as a slow subscriber
        } finally {
            if (bye == null && stop.isDone()) {
                bye = "BYE shutdown"; // closed by the shutdown while it waited for a command
            }
            if (bye != null) {
                me.outbox().trySend(bye);
            }
            me.outbox().close(); // the writer ends once it has written what it holds
        }
    }

    /** Asks the store, waiting for its answer at most the request timeout. */
    private String ask(Channel<Request> requests, String op, String key, String value, Session me) {
        CompletableFuture<String> reply = new CompletableFuture<>();
        Optional<String> answer = Coroutine.tryWithTimeout(requestTimeout, () -> {
            requests.send(new Request(op, key, value, me, reply));
            return Coroutine.await(reply);
        });
        if (answer.isEmpty() && !reply.isDone()) {
            reply.cancel(false); // the store drops a WAIT so cancelled
            return "ERR " + op + " timed out after " + requestTimeout;
        }
        return answer.orElse(null);
    }

    /** Writes every line of the connection's outbox, then closes the connection. */
    private void write(Session me) {
        try (TcpConnection c = me.connection()) {
            for (String line : me.outbox()) {
                c.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            log.add(Coroutine.current().name() + ": " + e.getMessage());
        }
    }

    /** The store: the keys, the waiting {@code WAIT}s and the subscriptions, served one request at a time. */
    private void store(Channel<Request> requests) {
        Map<String, String> data = new HashMap<>();
        Map<String, List<Request>> waiting = new HashMap<>();
        Map<String, Set<Session>> topics = new HashMap<>();
        for (Request r : requests) {
            String answer = switch (r.op()) {
                case "SET" -> {
                    data.put(r.key(), r.value());
                    for (Request w : waiting.getOrDefault(r.key(), List.of())) {
                        w.reply().complete("VALUE " + r.value()); // a WAIT that timed out is cancelled already
                    }
                    waiting.remove(r.key());
                    yield "OK";
                }
                case "GET" -> data.containsKey(r.key()) ? "VALUE " + data.get(r.key()) : "NIL";
                case "DEL" -> data.remove(r.key()) != null ? "DELETED" : "NIL";
                case "WAIT" -> {
                    if (data.containsKey(r.key())) {
                        yield "VALUE " + data.get(r.key());
                    }
                    waiting.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
                    yield null;
                }
                case "SUB" -> {
                    topics.computeIfAbsent(r.key(), k -> new LinkedHashSet<>()).add(r.from());
                    deliver(r.from(), "SUBSCRIBED " + r.key(), topics);
                    yield "";
                }
                case "PUB" -> "PUBLISHED " + publish(r.key(), r.value(), topics);
                case "LEAVE" -> {
                    topics.values().forEach(s -> s.remove(r.from()));
                    yield "LEFT";
                }
                case "INFO" -> "keys=" + data.size()
                        + " waiting=" + waiting.values().stream().flatMap(List::stream).filter(w -> !w.reply().isDone()).count()
                        + " subscribers=" + topics.values().stream().flatMap(Set::stream).filter(x -> !x.outbox().isClosed()).count();
                default -> throw new IllegalArgumentException(r.op());
            };
            if (answer != null) {
                r.reply().complete(answer.isEmpty() ? null : answer);
            }
        }
    }

    /** Puts the message into each subscriber's outbox; returns how many took it. */
    private int publish(String topic, String text, Map<String, Set<Session>> topics) {
        int n = 0;
        for (Session s : List.copyOf(topics.getOrDefault(topic, Set.of()))) {
            if (deliver(s, "MSG " + topic + " " + text, topics)) {
                n++;
            }
        }
        return n;
    }

    /** Puts {@code line} into {@code s}'s outbox; a full one disconnects it, a closed one (it left) drops it. */
    private boolean deliver(Session s, String line, Map<String, Set<Session>> topics) {
        if (s.outbox().trySend(line)) {
            return true;
        }
        topics.values().forEach(subscribers -> subscribers.remove(s));
        if (!s.outbox().isClosed()) {
            log.add("store: disconnected " + s.name() + ", its outbox full");
            s.outbox().close();
            try {
                s.connection().close(); // from the store's thread, which may not be the connection's
            } catch (IOException e) {
                log.add("store: " + e.getMessage());
            }
        }
        return false;
    }
}
