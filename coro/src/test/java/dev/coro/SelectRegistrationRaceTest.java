package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A select on a shared channel checks its clauses' readiness, then queues them. An operation of
 * another thread must not run in place on the channel between the two: a send that found no receiver
 * would queue itself as a waiting sender beside the select's receive clause, and neither would
 * complete the other (a lost wake-up: here both would time out). So a select that may wait makes its
 * channels post other threads' operations before it looks at them. The forced variants fail on every
 * iteration without that; the natural ones a few times in thousands.
 */
@ExtendWith(FreshThread.class)
class SelectRegistrationRaceTest {

    private static final int ITERATIONS = Integer.getInteger("race.iterations", 500);
    private static final int MAX_FAILURES = Integer.getInteger("race.maxFailures", 3);
    /**
     * How long each side waits at most: a guard only, since with the fix every pair meets at once (a
     * lost wake-up shows as both sides waiting it out).
     */
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int DUMMIES = Integer.getInteger("race.dummies", 48);
    private static final int JITTER = Integer.getInteger("race.jitter", 600);

    /** What the peer thread does on the shared channel once told to go. */
    enum Kind { SEND, CLOSE, RECEIVE }

    static final class Job {
        final Channel<Integer> ch;
        final Kind kind;
        final int value;
        boolean widen;
        final CompletableFuture<Void> shared = new CompletableFuture<>();
        final CompletableFuture<Boolean> result = new CompletableFuture<>();
        volatile boolean go;

        Job(Channel<Integer> ch, Kind kind, int value) {
            this.ch = ch;
            this.kind = kind;
            this.value = value;
        }
    }

    private static final Job STOP = new Job(null, null, 0);

    private static void jitter(int bound) {
        int n = ThreadLocalRandom.current().nextInt(bound);
        for (int i = 0; i < n; i++) {
            Thread.onSpinWait();
        }
    }

    /** Natural timing: the peer starts when the select begins its readiness checks, after a random spin. */
    @Test
    void aSendRunInPlaceBetweenTheReadinessCheckAndTheQueueingOfAReceiveClauseMeetsIt() {
        run(Kind.SEND, false, ITERATIONS);
    }

    @Test
    void aCloseRunInPlaceBetweenTheReadinessCheckAndTheQueueingOfAReceiveClauseWakesIt() {
        run(Kind.CLOSE, false, ITERATIONS);
    }

    @Test
    void aReceiveRunInPlaceBetweenTheReadinessCheckAndTheQueueingOfASendClauseMeetsIt() {
        run(Kind.RECEIVE, false, ITERATIONS);
    }

    /**
     * The same interleaving forced: the registration of the onComplete clause, queued just before the
     * channel's clause, waits until the peer's operation has run in place on the channel.
     */
    @Test
    void aSendForcedIntoTheWindowMeetsTheReceiveClause() {
        run(Kind.SEND, true, 5);
    }

    @Test
    void aCloseForcedIntoTheWindowWakesTheReceiveClause() {
        run(Kind.CLOSE, true, 5);
    }

    @Test
    void aReceiveForcedIntoTheWindowMeetsTheSendClause() {
        run(Kind.RECEIVE, true, 5);
    }

    private static boolean blocked(Thread t) {
        Thread.State st = t.getState();
        return st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING;
    }

    /** Whether the peer's operation on {@code ch} has run: it waits there, or closed it. */
    private static boolean peerDone(Job job) {
        return switch (job.kind) {
            case SEND -> job.ch.canReceiveNow();
            case RECEIVE -> job.ch.canSendNow();
            case CLOSE -> job.ch.isClosed();
        };
    }

    private void run(Kind kind, boolean widen, int iterationsWanted) {
        LinkedBlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
        List<Throwable> peerFailures = new ArrayList<>();
        Thread peer = Thread.ofPlatform().name("peer").start(() -> {
            try {
                while (true) {
                    Job job = jobs.poll(60, TimeUnit.SECONDS);
                    if (job == null || job == STOP) {
                        return;
                    }
                    job.ch.tryReceive(); // posted: the channel's thread serves it, and the channel is shared
                    job.shared.complete(null);
                    while (!job.go) {
                        Thread.onSpinWait();
                    }
                    if (!job.widen) {
                        jitter(JITTER);
                    }
                    boolean ok;
                    switch (job.kind) {
                        case SEND -> ok = job.ch.trySend(job.value, WAIT);
                        case RECEIVE -> ok = job.ch.tryReceive(WAIT).isPresent();
                        default -> {
                            job.ch.close();
                            ok = true;
                        }
                    }
                    job.result.complete(ok);
                }
            } catch (Throwable t) {
                synchronized (peerFailures) {
                    peerFailures.add(t);
                }
            }
        });
        List<Channel<Integer>> dummies = new ArrayList<>();
        for (int d = 0; d < DUMMIES; d++) {
            dummies.add(new Channel<>("dummy" + d, 0));
        }
        List<String> failures = new ArrayList<>();
        int iterations = 0;
        try {
            for (int i = 0; i < iterationsWanted && failures.size() < MAX_FAILURES; i++) {
                iterations++;
                Channel<Integer> ch = new Channel<>("ch" + i, 0);
                Job job = new Job(ch, kind, i + 1);
                job.widen = widen;
                jobs.add(job);
                Coroutine.await(job.shared);
                assertThat(ch.isSharedInPlace()).isTrue();
                Select<String> select = new Select<>();
                // its readiness check, the select's first, tells the peer to go: the peer's operation
                // then lands while the select checks and queues its other clauses
                select.onComplete(new CompletableFuture<String>() {
                    @Override
                    public boolean isDone() {
                        if (!widen) {
                            job.go = true;
                        }
                        return false;
                    }

                    @Override
                    public CompletableFuture<String> whenComplete(java.util.function.BiConsumer<? super String, ? super Throwable> action) {
                        if (widen) { // the select has found no clause ready, and queues them now
                            job.go = true;
                            long until = System.nanoTime() + 5_000_000_000L;
                            // until the peer's operation ran in place, or the peer blocks (its operation was posted)
                            while (!peerDone(job) && !blocked(peer) && System.nanoTime() < until) {
                                Thread.onSpinWait();
                            }
                        }
                        return super.whenComplete(action);
                    }
                }, v -> v);
                if (!widen) {
                    for (Channel<Integer> d : dummies) {
                        select.onReceive(d, v -> "dummy " + v);
                    }
                }
                if (kind == Kind.RECEIVE) {
                    select.onSend(ch, -(i + 1), () -> "sent");
                } else {
                    select.onReceive(ch, v -> "got " + v);
                }
                select.onTimeout(WAIT, () -> "timeout");
                String got;
                try {
                    got = select.select();
                } catch (ChannelClosedException e) {
                    got = "closed";
                }
                boolean peerOk = Coroutine.await(job.result);
                String outcome = switch (kind) {
                    case SEND -> got.equals("got " + (i + 1)) && peerOk ? null
                            : "select " + got + ", peer's trySend " + peerOk;
                    case RECEIVE -> got.equals("sent") && peerOk ? null
                            : "select " + got + ", peer's tryReceive " + peerOk;
                    case CLOSE -> got.equals("closed") ? null : "select " + got + " although the peer closed the channel";
                };
                if (outcome != null) {
                    failures.add("iteration " + i + ": " + outcome);
                }
            }
        } finally {
            jobs.add(STOP);
            Peer.join(peer);
        }
        assertThat(peerFailures).isEmpty();
        assertThat(failures).as("select outcomes in %d iterations", iterations).isEmpty();
    }
}
