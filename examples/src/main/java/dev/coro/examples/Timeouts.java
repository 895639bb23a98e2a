package dev.coro.examples;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutineTimeoutException;
import dev.coro.Select;
import dev.coro.VirtualTime;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Request/reply over channels with timeouts: a client waits for each reply with a {@link Select}
 * that also has a timeout, retries with exponential back-off, and works under an overall deadline
 * ({@link Coroutine#withTimeout}), against a server that is sometimes slow.
 *
 * <p>Everything runs under {@link VirtualTime#run}: the delays are virtual, so the trace (with its
 * timestamps) is the same on every run and takes no real time. Every request and reply carries a
 * request id and an attempt number. A reply to any attempt of the request the client waits for
 * answers it; any other reply is stale (its request was answered, given up, or abandoned at the
 * deadline) and is discarded and printed as such, so nothing is lost silently: the client drains
 * the replies still on their way before it stops. The server serves requests one at a time, in
 * order, so the retries of a slow request queue up behind it: the stale replies are their cost.
 */
public final class Timeouts {
    private static final int REQUESTS = 6;
    private static final int MAX_ATTEMPTS = 3;
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofMillis(100);
    private static final Duration FIRST_BACK_OFF = Duration.ofMillis(20);
    private static final Duration DEADLINE = Duration.ofMillis(750);
    /** The seed of the server's delays. */
    private static final long SEED = 9;

    private final PrintStream out;
    /** The server's pseudo-random state: a linear congruential generator, so the delays are the same on every run. */
    private long random = SEED;
    /** What became of each request: its id, then "answered", "given up" or "abandoned". */
    private final TreeMap<Integer, String> outcome = new TreeMap<>();
    private final List<String> discarded = new ArrayList<>();

    private Timeouts(PrintStream out) {
        this.out = out;
    }

    /** A request: square {@code x}; {@code id} and {@code attempt} identify it. */
    private record Request(int id, int attempt, int x) {
    }

    /** The server's reply to attempt {@code attempt} of request {@code id}. */
    private record Reply(int id, int attempt, int value) {
    }

    /**
     * Runs the example on the calling thread (which must have no live coroutine), printing to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        VirtualTime.run(new Timeouts(out)::main);
    }

    /**
     * Runs the example, printing to standard output.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        run(System.out);
    }

    private void main() {
        Channel<Request> requests = new Channel<>("requests", 4);
        Channel<Reply> replies = new Channel<>("replies", 4);
        Coroutine.create("server", () -> serve(requests, replies));
        Coroutine.create("client", () -> client(requests, replies));
        // VirtualTime.run returns once both have ended
    }

    private void log(String format, Object... args) {
        out.printf(Locale.ROOT, "[%4d ms] %-6s | %s%n", Coroutine.nanoTime() / 1_000_000, Coroutine.current().name(),
                String.format(Locale.ROOT, format, args));
    }

    /** The next delay of the server: one time in three slow (150 to 400 ms), otherwise 10 to 50 ms. */
    private int nextDelay() {
        random = random * 6364136223846793005L + 1442695040888963407L;
        int r = (int) (random >>> 33);
        return r % 3 == 0 ? 150 + r / 3 % 6 * 50 : 10 + r / 3 % 5 * 10;
    }

    private void serve(Channel<Request> requests, Channel<Reply> replies) {
        for (Request r : requests) {
            int delay = nextDelay();
            log("request %d.%d: squaring %d takes %d ms", r.id(), r.attempt(), r.x(), delay);
            Coroutine.sleep(Duration.ofMillis(delay));
            int square = r.x() * r.x();
            replies.send(new Reply(r.id(), r.attempt(), square));
            log("request %d.%d: replied %d", r.id(), r.attempt(), square);
        }
        replies.close();
        log("requests closed and served: replies closed");
    }

    private void client(Channel<Request> requests, Channel<Reply> replies) {
        int[] current = {0};
        try {
            Coroutine.withTimeout(DEADLINE, () -> {
                for (int id = 1; id <= REQUESTS; id++) {
                    current[0] = id;
                    call(id, requests, replies);
                }
            });
        } catch (CoroutineTimeoutException e) {
            log("%s", e.getMessage());
            outcome.putIfAbsent(current[0], "abandoned");
        }
        requests.close();
        log("requests closed; draining the replies still on their way");
        for (Reply r : replies) {
            discard(r);
        }
        log("outcome %s; not sent: %d; stale replies discarded: %s", outcome,
                REQUESTS - outcome.size(), discarded);
    }

    /** Sends request {@code id} up to {@link #MAX_ATTEMPTS} times until a reply to it comes in time. */
    private void call(int id, Channel<Request> requests, Channel<Reply> replies) {
        Duration backOff = FIRST_BACK_OFF;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            requests.send(new Request(id, attempt, id + 10));
            log("request %d.%d sent, waiting %d ms", id, attempt, ATTEMPT_TIMEOUT.toMillis());
            long deadline = Coroutine.nanoTime() + ATTEMPT_TIMEOUT.toNanos();
            while (true) {
                // after a stale reply, wait only for what is left of this attempt's time
                long left = Math.max(0, deadline - Coroutine.nanoTime());
                Reply r = new Select<Reply>()
                        .onReceive(replies, reply -> reply)
                        .onTimeout(Duration.ofNanos(left), () -> null)
                        .select();
                if (r == null) {
                    break;
                }
                if (r.id() == id) {
                    // a reply to an earlier attempt of this request answers it just as well
                    log("request %d answered: %d (reply to attempt %d)", id, r.value(), r.attempt());
                    outcome.put(id, "answered");
                    return;
                }
                discard(r);
            }
            if (attempt == MAX_ATTEMPTS) {
                break;
            }
            log("request %d.%d timed out; backing off %d ms", id, attempt, backOff.toMillis());
            Coroutine.sleep(backOff);
            backOff = backOff.multipliedBy(2);
        }
        log("request %d.%d timed out; giving up on request %d", id, MAX_ATTEMPTS, id);
        outcome.put(id, "given up");
    }

    /** A reply to an attempt the client no longer waits for: printed and counted, never dropped silently. */
    private void discard(Reply r) {
        log("stale reply %d.%d (%d) discarded: request %d was %s", r.id(), r.attempt(), r.value(), r.id(),
                outcome.get(r.id()));
        discarded.add(r.id() + "." + r.attempt());
    }
}
