package dev.coro.programs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import dev.coro.Generator;
import dev.coro.Select;
import dev.coro.VirtualTime;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A bank a user would simulate under {@link VirtualTime}: customers arrive through doors whose schedules generators
 * make, queue on bounded channels to tellers with a timed {@code trySend} (balking when the queue stays full; some at
 * once, by a select's {@code onDefault}; some exactly until the teller of their queue returns from its break), wait to
 * be called within their patience inside an overall deadline (a nested {@code withTimeout}, a select's
 * {@code onTimeout} or a {@code tryWithTimeout}; for some the patience ends with the deadline), and are served, some only once a document a back
 * office makes comes ({@code Coroutine.await} of a future another coroutine completes); tellers serve several queues
 * with a {@code Select} whose {@code onTimeout} is their idle check (one teller picks unbiased, from the run's seed),
 * take breaks, and are closed mid-service by a supervisor who gives their queues to another; at closing time a guard
 * closes the doors (and their generators mid-schedule) and sends home ({@code close()}) every customer still waiting
 * for room or to be called. At the end main finds in the queues the tickets of those who gave up. The trace is checked, event
 * by event and with every reading of the clock, against a reference that simulates the same bank in plain Java with an
 * event list ordered by (time, order scheduled), applying the rules docs/TIME.md states: the timers due at an instant
 * expire before any context woken then runs (a timed send due with its partner's wake-up delivers nothing, and a
 * patience due with it ends the wait before the teller calls: some customers wait exactly until their teller's
 * service or break ends), a wait
 * whose timer expired has left its queue, of a scope and a timer inside it due at once the scope opened first throws,
 * and {@code selectUnbiased} picks from the seed's sequence (splitmix64, as the scheduler draws it) once for each run
 * that finds clauses ready. What runs first among contexts woken at one instant is the run list's order, which the
 * bank is built not to depend on: traces are compared by time, then by who, each one's events in its own order.
 * {@code -Dsimulation.seeds=N} runs N seeds (100 by default).
 */
@ExtendWith(FreshThread.class)
@Timeout(120)
class SimulationProgramTest {

    private static final int QUEUES = 3;
    private static final int TELLERS = 3;
    private static final int DOORS = 2;
    private static final int PER_DOOR = 12;
    private static final int BREAK_EVERY = 3;
    private static final long SKIP = 500_000;
    /** How many seeds, from 1: {@code -Dsimulation.seeds=N} for more. */
    private static final int SEEDS = Integer.getInteger("simulation.seeds", 100);

    /**
     * A customer's plan: the gap before it after its door's previous one, its queue, how long it waits for room there
     * ({@code balk}; 0: not at all, a select's {@code onDefault}), unless it is {@code sly}: then, if the teller of its
     * queue is on a break, exactly until the teller returns; its overall deadline, its patience (-1: until that
     * deadline exactly), waited ({@code how}) in a nested {@code withTimeout}, a select's {@code onTimeout} or a {@code tryWithTimeout};
     * its service time, and how long the back office takes for its document (0: it needs none).
     */
    record Customer(int id, long gap, int queue, long balk, boolean sly, long overall, long patience, Patience how,
                    long service, long doc) {
        String name() {
            return "c" + id;
        }

        /** Whether its patience ends exactly at its overall deadline (the two scopes due at once). */
        boolean exact() {
            return patience < 0;
        }
    }

    /** How a customer waits to be called within its patience. */
    enum Patience { NESTED, SELECT, TRY }

    /** What the bank is made of, besides its customers: everything drawn from the seed. */
    record Plan(long seed, int[] capacity, long[] idle, long[] breakLength, long[] closeAt, int[] closeWho, long closingAt) {
        static Plan of(long seed) {
            Random r = new Random(seed);
            int[] capacity = new int[QUEUES];
            for (int q = 0; q < QUEUES; q++) {
                capacity[q] = 1 + r.nextInt(2);
            }
            long[] idle = new long[TELLERS];
            long[] breakLength = new long[TELLERS];
            for (int t = 0; t < TELLERS; t++) {
                idle[t] = 10_000_000 + r.nextLong(40_000_000);
                breakLength[t] = 5_000_000 + r.nextLong(25_000_000);
            }
            long[] closeAt = {30_000_000 + r.nextLong(120_000_000), 150_000_000 + r.nextLong(150_000_000)};
            int[] closeWho = {r.nextInt(TELLERS), r.nextInt(TELLERS)};
            long closingAt = 120_000_000 + r.nextLong(150_000_000);
            return new Plan(seed, capacity, idle, breakLength, closeAt, closeWho, closingAt);
        }

        /** The arrivals of {@code door}, one at a time, as its generator makes them. */
        Iterator<Customer> arrivals(int door) {
            Random r = new Random(seed * 31 + door + 1);
            return new Iterator<>() {
                int i;

                @Override
                public boolean hasNext() {
                    return i < PER_DOOR;
                }

                @Override
                public Customer next() {
                    int id = door * 100 + i++;
                    long gap = 2_000_000 + r.nextLong(28_000_000);
                    int queue = r.nextInt(QUEUES);
                    long overall = 20_000_000 + r.nextLong(100_000_000);
                    int kind = r.nextInt(8);
                    long balk = kind == 0 ? overall : kind == 1 ? 0 : 4_000_000 + r.nextLong(36_000_000);
                    boolean sly = kind >= 5;
                    long patience = r.nextInt(4) == 0 ? -1 : 5_000_000 + r.nextLong(95_000_000);
                    Patience how = Patience.values()[r.nextInt(3)];
                    long service = 3_000_000 + r.nextLong(22_000_000);
                    // the clock stands still while an await may still complete, a timer meanwhile costing its time in
                    // real time: most documents come in microseconds, a few in milliseconds, in which the supervisor may come
                    int d = r.nextInt(30);
                    long doc = d < 8 ? 1_000 + r.nextLong(15_000) : d < 11 ? 2_000_000 + r.nextLong(4_000_000) : 0;
                    return new Customer(id, gap, queue, balk, sly, overall, patience, how, service, doc);
                }
            };
        }
    }

    /** One line of a trace: when, who, what. */
    record Event(long time, String who, String what) {
        @Override
        public String toString() {
            return time + " " + who + " " + what;
        }
    }

    /**
     * A trace in a canonical order: by time, then by who, each one's own events in the order it made them. The order
     * in which contexts woken at one instant run is the run list's, which the bank does not depend on.
     */
    static List<String> canonical(List<Event> trace) {
        List<Event> sorted = new ArrayList<>(trace);
        sorted.sort(Comparator.comparingLong(Event::time).thenComparing(Event::who)); // stable: each one's order kept
        return sorted.stream().map(Event::toString).toList();
    }

    // ---- the bank on coro ------------------------------------------------------------------------------

    /** The bank run on coro under virtual time. */
    static final class Bank {
        final Plan plan;
        final List<Event> trace = new ArrayList<>();
        final List<Channel<Ticket>> queues = new ArrayList<>();
        final List<Channel<List<Integer>>> control = new ArrayList<>();
        final List<TreeSet<Integer>> assigned = new ArrayList<>();
        final Coroutine[] tellers = new Coroutine[TELLERS];
        final boolean[] alive = new boolean[TELLERS];
        final long[] returnsAt = new long[TELLERS];
        final boolean[] awaiting = new boolean[TELLERS];
        /** When each teller's last service or break ends. */
        final long[] wakesAt = new long[TELLERS];
        /** Whose each queue is: the supervisor gives a closed teller's queues away at once, the heir takes them when it looks. */
        final int[] owner = {0, 1, 2};
        final List<Coroutine> customers = new ArrayList<>();
        /** Each customer's state, by id: 1 while it waits for room or to be called, 2 once called or gone. */
        final int[] waiting = new int[DOORS * 100];
        final List<Coroutine> doors = new ArrayList<>();
        boolean ending;

        /** What a customer puts in a queue: itself, and where a teller calls it and tells it the service is over. */
        record Ticket(Customer c, Channel<String> reply, Channel<String> done) { }

        Bank(Plan plan) {
            this.plan = plan;
        }

        void trace(String who, String what) {
            trace.add(new Event(Coroutine.nanoTime(), who, what));
        }

        List<Event> run() {
            VirtualTime.run(plan.seed, () -> {
                for (int q = 0; q < QUEUES; q++) {
                    queues.add(new Channel<>("q" + q, plan.capacity[q]));
                }
                for (int t = 0; t < TELLERS; t++) {
                    int me = t;
                    control.add(new Channel<>("control" + t, 4));
                    assigned.add(new TreeSet<>(List.of(t)));
                    alive[t] = true;
                    tellers[t] = Coroutine.create("t" + t, () -> teller(me));
                }
                Coroutine supervisor = Coroutine.create("sup", this::supervisor);
                Coroutine guard = Coroutine.create("guard", this::guard);
                for (int d = 0; d < DOORS; d++) {
                    int door = d;
                    doors.add(Coroutine.create("door" + d, () -> door(door)));
                }
                try {
                    Coroutine.withTimeout(Duration.ofSeconds(10), () -> {
                        doors.forEach(Coroutine::join);
                        for (int i = 0; i < customers.size(); i++) {
                            customers.get(i).join();
                        }
                    });
                } catch (CoroutineTimeoutException e) {
                    throw new AssertionError("seed " + plan.seed + ": the bank has not closed after 10 s: " + Coroutine.dump()
                            + "\n" + canonical(trace).stream().collect(java.util.stream.Collectors.joining("\n")), e);
                }
                // the contexts the last customer's end found woken run at its instant, before the bank closes
                Coroutine.sleep(Duration.ofNanos(1));
                for (int q = 0; q < QUEUES; q++) { // what is left: the tickets of customers who gave up, none of one who balked
                    for (Optional<Ticket> tk; (tk = queues.get(q).tryReceive()).isPresent(); ) {
                        trace("main", "finds " + tk.get().c().name() + " left in q" + q);
                    }
                }
                ending = true;
                for (Coroutine t : tellers) {
                    t.close();
                }
                supervisor.close();
                guard.close();
            });
            return trace;
        }

        void door(int door) {
            Generator.Body<Customer, Void> schedule = out -> plan.arrivals(door).forEachRemaining(out::emit);
            Generator<Customer> arrivals = door == 0 ? Generator.of("arrivals0", schedule) : Generator.buffered("arrivals" + door, 2, schedule);
            try {
                for (Customer c : arrivals) {
                    Coroutine.sleep(Duration.ofNanos(c.gap()));
                    customers.add(Coroutine.create(c.name(), () -> customer(c)));
                }
            } finally {
                arrivals.close(); // closed at closing time: the schedule is dropped mid-way
            }
        }

        /** At closing time: the doors close, and every customer still waiting for room or to be called is sent home. */
        void guard() {
            Coroutine.sleep(Duration.ofNanos(plan.closingAt()));
            trace("guard", "closes the doors");
            doors.forEach(Coroutine::close);
            for (int i = 0; i < customers.size(); i++) {
                Coroutine c = customers.get(i);
                if (waiting[Integer.parseInt(c.name().substring(1))] == 1) {
                    c.close();
                }
            }
        }

        void customer(Customer c) {
            waiting[c.id()] = 1;
            boolean over = false;
            try {
                visit(c);
                over = true;
            } finally {
                waiting[c.id()] = 2;
                if (!over && !ending) {
                    trace(c.name(), "sent home");
                }
            }
        }

        void visit(Customer c) {
            String me = c.name();
            long arrived = Coroutine.nanoTime();
            trace(me, "arrives at q" + c.queue());
            Ticket ticket = new Ticket(c, new Channel<>(me + "-reply", 0), new Channel<>(me + "-done", 1));
            String called;
            try {
                called = Coroutine.withTimeout(Duration.ofNanos(c.overall()), () -> {
                    Channel<Ticket> q = queues.get(c.queue());
                    long balk = c.balk();
                    int teller = owner[c.queue()];
                    if (c.sly() && returnsAt[teller] > arrived) {
                        balk = returnsAt[teller] - arrived; // due with the teller's return, which comes too late
                    }
                    boolean in = balk == 0
                            ? new Select<Boolean>().onSend(q, ticket, () -> true).onDefault(() -> false).select()
                            : q.trySend(ticket, Duration.ofNanos(balk));
                    if (!in) {
                        return balk == 0 ? "balks at once" : "balks";
                    }
                    trace(me, "queues");
                    long now = Coroutine.nanoTime();
                    int serves = owner[c.queue()];
                    long patience = c.exact() ? arrived + c.overall() - now
                            : c.sly() && wakesAt[serves] > now ? wakesAt[serves] - now // due with the teller's wake-up
                            : c.patience();
                    if (c.how() == Patience.SELECT) {
                        return new Select<String>().onReceive(ticket.reply(), t -> t)
                                .onTimeout(Duration.ofNanos(patience), () -> "reneges").select();
                    }
                    if (c.how() == Patience.TRY) {
                        return Coroutine.tryWithTimeout(Duration.ofNanos(patience), ticket.reply()::receive).orElse("reneges");
                    }
                    try {
                        return Coroutine.withTimeout(Duration.ofNanos(patience), ticket.reply()::receive);
                    } catch (CoroutineTimeoutException e) {
                        return "reneges";
                    }
                });
            } catch (CoroutineTimeoutException e) {
                called = "times out";
            }
            if (!called.matches("t\\d+")) {
                trace(me, called);
                return;
            }
            waiting[c.id()] = 2;
            trace(me, "called by " + called);
            trace(me, ticket.done().receive());
        }

        void teller(int t) {
            String me = "t" + t;
            Ticket serving = null;
            int served = 0;
            try {
                while (true) {
                    Select<Object> s = new Select<>();
                    s.onReceive(control.get(t), qs -> qs);
                    for (int q : assigned.get(t)) {
                        s.onReceive(queues.get(q), tk -> tk);
                    }
                    s.onTimeout(Duration.ofNanos(plan.idle[t]), () -> "idle");
                    Object got = t == 0 ? s.selectUnbiased() : s.select();
                    if (got instanceof Ticket tk) {
                        if (!tk.reply().trySend(me)) {
                            trace(me, "skips " + tk.c().name());
                            Coroutine.sleep(Duration.ofNanos(SKIP));
                            continue;
                        }
                        trace(me, "calls " + tk.c().name());
                        serving = tk;
                        if (tk.c().doc() > 0) {
                            CompletableFuture<String> doc = new CompletableFuture<>();
                            Coroutine.create("office-" + tk.c().name(), () -> {
                                Coroutine.sleep(Duration.ofNanos(tk.c().doc()));
                                doc.complete("doc of " + tk.c().name());
                            });
                            awaiting[t] = true;
                            String paper = Coroutine.await(doc);
                            awaiting[t] = false;
                            trace(me, "gets " + paper);
                        }
                        wakesAt[t] = Coroutine.nanoTime() + tk.c().service();
                        Coroutine.sleep(Duration.ofNanos(tk.c().service()));
                        trace(me, "serves " + tk.c().name());
                        serving = null;
                        tk.done().trySend("served by " + me);
                        if (++served % BREAK_EVERY == 0) {
                            trace(me, "breaks");
                            returnsAt[t] = Coroutine.nanoTime() + plan.breakLength[t];
                            wakesAt[t] = returnsAt[t];
                            Coroutine.sleep(Duration.ofNanos(plan.breakLength[t]));
                            trace(me, "returns");
                        }
                    } else if (got instanceof List<?> qs) {
                        for (Object q : qs) {
                            assigned.get(t).add((Integer) q);
                        }
                        trace(me, "takes " + qs);
                    } else {
                        trace(me, "idles");
                    }
                }
            } finally {
                if (!ending) {
                    trace(me, serving == null ? "closed" : "closed serving " + serving.c().name());
                    if (serving != null) {
                        serving.done().trySend("aborted by " + me);
                    }
                }
            }
        }

        /** Closes the planned teller, or the first one awaiting the back office, and gives its queues to another. */
        void supervisor() {
            for (int k = 0; k < plan.closeAt.length; k++) {
                Coroutine.sleep(Duration.ofNanos(plan.closeAt[k] - Coroutine.nanoTime()));
                int v = plan.closeWho[k];
                for (int t = TELLERS - 1; t >= 0; t--) {
                    if (alive[t] && awaiting[t]) {
                        v = t; // one awaiting the back office, rather
                    }
                }
                int left = 0;
                for (boolean a : alive) {
                    left += a ? 1 : 0;
                }
                if (!alive[v] || left == 1) {
                    trace("sup", "spares t" + v);
                    continue;
                }
                trace("sup", "closes t" + v);
                alive[v] = false;
                tellers[v].close();
                int u = heir(alive, assigned);
                TreeSet<Integer> given = new TreeSet<>(assigned.get(v)); // and those given to it that it had not taken yet
                for (Optional<List<Integer>> m; (m = control.get(v).tryReceive()).isPresent(); ) {
                    given.addAll(m.get());
                }
                List<Integer> qs = List.copyOf(given);
                assigned.get(v).clear();
                trace("sup", "gives " + qs + " to t" + u);
                qs.forEach(q -> owner[q] = u);
                control.get(u).trySend(qs);
            }
        }
    }

    /** The live teller with the fewest queues, the first of them. */
    static int heir(boolean[] alive, List<? extends java.util.Collection<Integer>> assigned) {
        int u = -1;
        for (int t = 0; t < TELLERS; t++) {
            if (alive[t] && (u < 0 || assigned.get(t).size() < assigned.get(u).size())) {
                u = t;
            }
        }
        return u;
    }

    // ---- the reference: the same bank as an event list --------------------------------------------------

    /** The same bank, simulated in plain Java from the rules of docs/TIME.md, with nothing of coro. */
    static final class Reference {
        final Plan plan;
        final List<Event> trace = new ArrayList<>();
        long now;
        long seq;
        long random;
        final PriorityQueue<Timer> timers = new PriorityQueue<>(Comparator.comparingLong((Timer x) -> x.time).thenComparingLong(x -> x.seq));
        final ArrayDeque<Runnable> runnable = new ArrayDeque<>();
        final Queue[] queues = new Queue[QUEUES];
        final Teller[] tellers = new Teller[TELLERS];
        final Teller[] owner = new Teller[QUEUES];
        int doorsOpen = DOORS;
        int customersIn;
        final List<Cust> arrived = new ArrayList<>();
        final List<Timer> doorTimers = new ArrayList<>();
        /** How often each tie the rules settle came up: the seeds must reach them all. */
        final Map<String, Integer> ties = new HashMap<>();

        /** A pending timer; cancelled ones stay in the list and do nothing. */
        static final class Timer {
            final long time;
            final long seq;
            final Runnable fire;
            boolean cancelled;

            Timer(long time, long seq, Runnable fire) {
                this.time = time;
                this.seq = seq;
                this.fire = fire;
            }
        }

        /** A bounded queue: its buffer, its senders waiting for room, the teller waiting in a select on it. */
        static final class Queue {
            final int capacity;
            final ArrayDeque<Cust> buffer = new ArrayDeque<>();
            final ArrayDeque<Cust> senders = new ArrayDeque<>();
            Teller receiver;

            Queue(int capacity) {
                this.capacity = capacity;
            }
        }

        enum CState { SENDING, QUEUED, CALLING, WAITING_DONE, ENDED }

        /** A customer and where it waits. */
        final class Cust {
            final Customer c;
            final String me;
            CState state;
            long arrived;
            Timer overall;
            Timer balk;
            Timer patience;

            Cust(Customer c) {
                this.c = c;
                this.me = c.name();
            }
        }

        enum TState { SELECTING, SKIPPING, AWAITING, SERVING, BREAK, CLOSED, BUSY }

        /** A teller: its queues, its mailbox, where it waits. */
        final class Teller {
            final int t;
            final String me;
            final TreeSet<Integer> assigned = new TreeSet<>();
            final ArrayDeque<List<Integer>> control = new ArrayDeque<>();
            TState state = TState.BUSY;
            Timer timer;
            Cust serving;
            int served;
            long returnsAt;
            long wakesAt;
            boolean alive = true;

            Teller(int t) {
                this.t = t;
                this.me = "t" + t;
                assigned.add(t);
            }
        }

        Reference(Plan plan) {
            this.plan = plan;
            this.random = plan.seed;
        }

        void trace(String who, String what) {
            trace.add(new Event(now, who, what));
        }

        Timer schedule(long delay, Runnable fire) {
            Timer x = new Timer(now + delay, seq++, fire);
            timers.add(x);
            return x;
        }

        static void cancel(Timer x) {
            if (x != null) {
                x.cancelled = true;
            }
        }

        /** The pick of a select that finds {@code ready} clauses ready: the seed's sequence (splitmix64). */
        int pick(int ready) {
            long z = random += 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            return (int) ((z >>> 33) % ready);
        }

        List<Event> run() {
            for (int q = 0; q < QUEUES; q++) {
                queues[q] = new Queue(plan.capacity[q]);
            }
            for (int t = 0; t < TELLERS; t++) {
                tellers[t] = new Teller(t);
                owner[t] = tellers[t];
            }
            for (int t = 0; t < TELLERS; t++) {
                Teller x = tellers[t];
                runnable.add(() -> select(x));
            }
            runnable.add(() -> supervisor(0));
            runnable.add(() -> schedule(plan.closingAt(), () -> runnable.add(this::closing)));
            for (int d = 0; d < DOORS; d++) {
                Iterator<Customer> arrivals = plan.arrivals(d);
                runnable.add(() -> door(arrivals));
            }
            while (doorsOpen > 0 || customersIn > 0) {
                if (!runnable.isEmpty()) {
                    runnable.poll().run();
                    continue;
                }
                Timer first = timers.peek();
                if (first == null) {
                    throw new AssertionError("the reference deadlocked at " + now);
                }
                now = first.time;
                // every timer due now expires before any context woken now runs, in the order they were scheduled
                while (!timers.isEmpty() && timers.peek().time == now) {
                    Timer x = timers.poll();
                    if (!x.cancelled) {
                        x.cancelled = true;
                        x.fire.run();
                    }
                }
            }
            while (!runnable.isEmpty()) {
                runnable.poll().run();
            }
            now++;
            for (int q = 0; q < QUEUES; q++) {
                assertThat(queues[q].senders).isEmpty();
                for (Cust c : queues[q].buffer) {
                    trace("main", "finds " + c.me + " left in q" + q);
                }
            }
            return trace;
        }

        void door(Iterator<Customer> arrivals) {
            if (!arrivals.hasNext()) {
                doorsOpen--;
                return;
            }
            Customer c = arrivals.next();
            doorTimers.add(schedule(c.gap(), () -> runnable.add(() -> {
                Cust x = new Cust(c);
                arrived.add(x);
                customersIn++;
                x.state = CState.QUEUED; // waiting, as far as the guard can tell
                runnable.add(() -> arrive(x));
                door(arrivals);
            })));
        }

        void closing() {
            trace("guard", "closes the doors");
            for (Timer t : doorTimers) {
                if (!t.cancelled) {
                    cancel(t);
                    doorsOpen--;
                }
            }
            for (Cust x : arrived) {
                if (x.state == CState.SENDING || x.state == CState.CALLING || x.state == CState.QUEUED) {
                    if (x.state == CState.SENDING) {
                        queues[x.c.queue()].senders.remove(x);
                        cancel(x.balk);
                    }
                    cancel(x.patience);
                    cancel(x.overall);
                    end(x, "sent home");
                }
            }
        }

        // a customer

        void arrive(Cust x) {
            Customer c = x.c;
            trace(x.me, "arrives at q" + c.queue());
            long arrived = now;
            x.arrived = now;
            x.overall = schedule(c.overall(), () -> interrupt(x, "times out"));
            Queue q = queues[c.queue()];
            long balk = c.balk();
            Teller mine = owner[c.queue()];
            boolean sly = c.sly() && mine.returnsAt > now;
            if (sly) {
                balk = mine.returnsAt - now;
            }
            if (q.receiver != null) {
                handTo(q.receiver, x);
                queued(x, arrived);
            } else if (q.buffer.size() < q.capacity) {
                q.buffer.add(x);
                queued(x, arrived);
            } else if (balk == 0) {
                cancel(x.overall);
                end(x, "balks at once");
            } else {
                x.state = CState.SENDING;
                q.senders.add(x);
                x.balk = schedule(balk, () -> {
                    q.senders.remove(x);
                    x.state = CState.ENDED;
                    if (sly) {
                        tie("a timed send due with its partner's wake-up ends first");
                    }
                    runnable.add(() -> {
                        cancel(x.overall);
                        end(x, "balks");
                    });
                });
            }
        }

        void tie(String what) {
            ties.merge(what, 1, Integer::sum);
        }

        void queued(Cust x, long arrived) {
            trace(x.me, "queues");
            Teller serves = owner[x.c.queue()];
            long deadline = x.c.exact() ? arrived + x.c.overall()
                    : x.c.sly() && serves.wakesAt > now ? serves.wakesAt
                    : now + x.c.patience();
            x.state = CState.CALLING;
            x.patience = schedule(deadline - now, () -> interrupt(x, "reneges"));
        }

        /** A timer of the customer's scopes expired: its wait is left at once, and it ends when it runs. */
        void interrupt(Cust x, String why) {
            if (x.state == CState.SENDING && x.balk.time == x.overall.time) {
                tie("a timed send due with the scope around it: the scope, opened first, wins");
            }
            if (x.state == CState.CALLING && why.equals("times out") && x.patience.time == x.overall.time) {
                tie(switch (x.c.how()) {
                    case SELECT -> "an onTimeout due with a withTimeout around it: the withTimeout wins";
                    case TRY -> "a tryWithTimeout due with a withTimeout around it: the outer throws";
                    case NESTED -> "nested withTimeouts due at once: the outer throws";
                });
            }
            if (x.state == CState.SENDING) {
                queues[x.c.queue()].senders.remove(x);
                cancel(x.balk);
            } else if (x.state != CState.CALLING) {
                throw new AssertionError(x.me + ": a scope expired while " + x.state);
            }
            cancel(x.patience);
            cancel(x.overall);
            x.state = CState.ENDED;
            runnable.add(() -> end(x, why));
        }

        void end(Cust x, String what) {
            trace(x.me, what);
            x.state = CState.ENDED;
            customersIn--;
        }

        // a teller

        void select(Teller x) {
            List<Object> ready = new ArrayList<>();
            if (!x.control.isEmpty()) {
                ready.add(x.control);
            }
            for (int q : x.assigned) {
                if (!queues[q].buffer.isEmpty()) {
                    ready.add(queues[q]);
                }
            }
            if (ready.isEmpty()) {
                x.state = TState.SELECTING;
                for (int q : x.assigned) {
                    queues[q].receiver = x;
                }
                x.timer = schedule(plan.idle[x.t], () -> {
                    leaveSelect(x);
                    runnable.add(() -> {
                        trace(x.me, "idles");
                        select(x);
                    });
                });
                return;
            }
            if (x.t == 0 && ready.size() > 1) {
                tie("an unbiased pick among " + ready.size());
            }
            Object fired = ready.get(x.t == 0 ? pick(ready.size()) : 0);
            if (fired == x.control) {
                takes(x, x.control.poll());
            } else {
                Queue q = (Queue) fired;
                Cust c = q.buffer.poll();
                Cust moved = q.senders.poll();
                if (moved != null) {
                    q.buffer.add(moved);
                    cancel(moved.balk);
                    moved.state = CState.QUEUED; // its trySend returned true; it has not run yet
                    runnable.add(() -> queued(moved, moved.arrived));
                }
                ticket(x, c);
            }
        }

        void leaveSelect(Teller x) {
            for (Queue q : queues) {
                if (q.receiver == x) {
                    q.receiver = null;
                }
            }
            cancel(x.timer);
            x.state = TState.BUSY;
        }

        /** A customer's trySend finds {@code x} waiting in its select: the value is handed over, x woken. */
        void handTo(Teller x, Cust c) {
            leaveSelect(x);
            runnable.add(() -> ticket(x, c));
        }

        void takes(Teller x, List<Integer> qs) {
            x.assigned.addAll(qs);
            trace(x.me, "takes " + qs);
            select(x);
        }

        void ticket(Teller x, Cust c) {
            if (c.state == CState.ENDED && c.patience != null && c.patience.time == now) {
                tie("a patience due with its teller's wake-up: the customer reneges and the teller skips it");
            }
            if (c.state != CState.CALLING) {
                trace(x.me, "skips " + c.me);
                x.state = TState.SKIPPING;
                x.timer = schedule(SKIP, () -> runnable.add(() -> select(x)));
                return;
            }
            // the customer is called: its scopes return, their timers cancelled
            cancel(c.patience);
            cancel(c.overall);
            c.state = CState.WAITING_DONE;
            runnable.add(() -> trace(c.me, "called by " + x.me));
            trace(x.me, "calls " + c.me);
            x.serving = c;
            if (c.c.doc() > 0) {
                x.state = TState.AWAITING;
                schedule(c.c.doc(), () -> runnable.add(() -> {
                    if (x.state == TState.AWAITING && x.serving == c) { // else: closed meanwhile, nothing waits
                        trace(x.me, "gets doc of " + c.me);
                        serve(x, c);
                    }
                }));
            } else {
                serve(x, c);
            }
        }

        void serve(Teller x, Cust c) {
            x.state = TState.SERVING;
            x.wakesAt = now + c.c.service();
            x.timer = schedule(c.c.service(), () -> runnable.add(() -> {
                trace(x.me, "serves " + c.me);
                x.serving = null;
                done(c, "served by " + x.me);
                if (++x.served % BREAK_EVERY == 0) {
                    trace(x.me, "breaks");
                    x.returnsAt = now + plan.breakLength[x.t];
                    x.wakesAt = x.returnsAt;
                    x.state = TState.BREAK;
                    x.timer = schedule(plan.breakLength[x.t], () -> runnable.add(() -> {
                        trace(x.me, "returns");
                        select(x);
                    }));
                } else {
                    select(x);
                }
            }));
        }

        void done(Cust c, String what) {
            runnable.add(() -> end(c, what));
        }

        /** The supervisor's close of {@code x}: its wait is left, its finally tells the customer it serves. */
        void close(Teller x) {
            if (x.state == TState.AWAITING) {
                tie("a teller closed while it awaits the back office");
            }
            if (x.state == TState.SELECTING) {
                leaveSelect(x);
            }
            cancel(x.timer);
            x.state = TState.CLOSED;
            x.alive = false;
            Cust c = x.serving;
            trace(x.me, c == null ? "closed" : "closed serving " + c.me);
            if (c != null) {
                x.serving = null;
                done(c, "aborted by " + x.me);
            }
        }

        // the supervisor

        void supervisor(int k) {
            if (k == plan.closeAt.length) {
                return;
            }
            schedule(plan.closeAt[k] - now, () -> runnable.add(() -> {
                int v = plan.closeWho[k];
                for (int t = TELLERS - 1; t >= 0; t--) {
                    if (tellers[t].alive && tellers[t].state == TState.AWAITING) {
                        v = t;
                    }
                }
                boolean[] alive = new boolean[TELLERS];
                int left = 0;
                List<TreeSet<Integer>> assigned = new ArrayList<>();
                for (Teller t : tellers) {
                    alive[t.t] = t.alive;
                    left += t.alive ? 1 : 0;
                    assigned.add(t.assigned);
                }
                if (!alive[v] || left == 1) {
                    trace("sup", "spares t" + v);
                } else {
                    trace("sup", "closes t" + v);
                    alive[v] = false;
                    close(tellers[v]);
                    int u = heir(alive, assigned);
                    TreeSet<Integer> given = new TreeSet<>(tellers[v].assigned);
                    tellers[v].control.forEach(given::addAll);
                    tellers[v].control.clear();
                    List<Integer> qs = List.copyOf(given);
                    tellers[v].assigned.clear();
                    trace("sup", "gives " + qs + " to t" + u);
                    Teller heir = tellers[u];
                    qs.forEach(q -> owner[q] = heir);
                    if (heir.state == TState.SELECTING) {
                        leaveSelect(heir);
                        runnable.add(() -> takes(heir, qs));
                    } else {
                        heir.control.add(qs);
                    }
                }
                supervisor(k + 1);
            }));
        }
    }

    // ---- the checks --------------------------------------------------------------------------------------

    @Test
    void theBankTracesAsTheReferenceForEverySeedEventByEventAndClockReadingByClockReading() {
        Map<String, Integer> outcomes = new HashMap<>();
        Map<String, Integer> ties = new HashMap<>();
        for (long seed = 1; seed <= SEEDS; seed++) {
            Plan plan = Plan.of(seed);
            Reference reference = new Reference(plan);
            List<String> expected = canonical(reference.run());
            reference.ties.forEach((k, v) -> ties.merge(k, v, Integer::sum));
            List<String> actual = canonical(new Bank(plan).run());
            assertThat(actual).as("seed %d", seed).containsExactlyElementsOf(expected);
            conserves(actual, seed);
            for (String e : actual) {
                String what = e.split(" ", 3)[2];
                outcomes.merge(what.replaceAll(" [ct]\\d+.*$", "").replaceAll("\\[.*", "").trim(), 1, Integer::sum);
            }
        }
        // the seeds reach every way the bank has to go
        assertThat(outcomes.keySet()).contains("balks", "balks at once", "reneges", "times out", "served by", "aborted by",
                "skips", "idles", "takes", "breaks", "gets doc of", "closed serving", "closed", "finds", "sent home");
        // and every tie the rules settle: the trace agreeing there is the rule holding
        assertThat(ties.keySet()).as("%s", ties).contains("a timed send due with its partner's wake-up ends first",
                "a timed send due with the scope around it: the scope, opened first, wins",
                "an onTimeout due with a withTimeout around it: the withTimeout wins",
                "nested withTimeouts due at once: the outer throws",
                "a tryWithTimeout due with a withTimeout around it: the outer throws", "an unbiased pick among 2",
                "a teller closed while it awaits the back office",
                "a patience due with its teller's wake-up: the customer reneges and the teller skips it");
    }

    @Test
    void aSeedTracesAlikeOnEveryRun() {
        for (long seed : new long[] {3, 17}) {
            List<Event> first = new Bank(Plan.of(seed)).run();
            List<Event> second = new Bank(Plan.of(seed)).run();
            assertThat(second).as("seed %d", seed).containsExactlyElementsOf(first);
        }
    }

    /** Each customer ends once; one served was called once, by one teller, who served it once; none that gave up is served. */
    static void conserves(List<String> trace, long seed) {
        Map<String, List<String>> byWho = new HashMap<>();
        for (String e : trace) {
            String[] p = e.split(" ", 3);
            byWho.computeIfAbsent(p[1], k -> new ArrayList<>()).add(p[2]);
        }
        int customers = 0;
        for (Map.Entry<String, List<String>> w : byWho.entrySet()) {
            if (!w.getKey().startsWith("c")) {
                continue;
            }
            customers++;
            List<String> mine = w.getValue();
            String last = mine.get(mine.size() - 1);
            long ends = mine.stream().filter(x -> x.matches("sent home|balks|balks at once|reneges|times out|served by t\\d|aborted by t\\d")).count();
            assertThat(ends).as("seed %d: %s ends once: %s", seed, w.getKey(), mine).isEqualTo(1);
            long servedBy = trace.stream().filter(x -> x.endsWith(" serves " + w.getKey())).count();
            long calledBy = trace.stream().filter(x -> x.endsWith(" calls " + w.getKey())).count();
            assertThat(servedBy).as("seed %d: %s served at most once", seed, w.getKey()).isLessThanOrEqualTo(1);
            assertThat(calledBy).as("seed %d: %s called at most once", seed, w.getKey()).isLessThanOrEqualTo(1);
            if (last.startsWith("served by")) {
                assertThat(servedBy).isEqualTo(1);
            } else {
                assertThat(servedBy).as("seed %d: %s (%s) is never served", seed, w.getKey(), last).isZero();
            }
            boolean left = trace.stream().anyMatch(x -> x.contains(" main finds " + w.getKey() + " left"));
            assertThat(!left || last.equals("reneges") || last.equals("times out") || last.equals("sent home"))
                    .as("seed %d: the ticket of %s (%s) is left in its queue only if it gave up waiting there", seed, w.getKey(), last)
                    .isTrue();
            if (!mine.contains("queues")) {
                assertThat(trace.stream().filter(x -> x.split(" ", 3)[1].startsWith("t") && x.endsWith(" " + w.getKey())).toList())
                        .as("seed %d: no teller ever took the ticket of %s, who never queued", seed, w.getKey()).isEmpty();
                assertThat(left).as("seed %d: %s never queued", seed, w.getKey()).isFalse();
            }
        }
        assertThat(customers).isBetween(1, DOORS * PER_DOOR);
    }
}
