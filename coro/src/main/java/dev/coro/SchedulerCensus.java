package dev.coro;

import dev.coro.Coroutine.State;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A count of one scheduler's contexts by state, its scheduling points, timers and I/O waits, and its
 * oldest parked context, taken from another thread without stopping the owner: what the JFR
 * statistics event and the JMX view show.
 *
 * <p>The owner goes on while the count is taken and nothing is synchronized, so the figures are
 * those of a moment near the call, not of one instant: a context that moves during the count may
 * be missed or counted twice. One context is counted as running at most, though: see
 * {@link #countRunning}. Nothing the owner does can make the count fail.
 *
 * <p>The same reading lists the contexts for a dump that lists a thread from outside ({@link #listing}):
 * each context read with the state it is counted in, so that the listing, too, shows one running at most.
 */
final class SchedulerCensus {

    final Scheduler scheduler;
    /** Live contexts, main included. */
    int contexts;
    /** Created and not started yet. */
    int fresh;
    int running;
    int suspended;
    int parked;
    long schedulingPoints;
    int timers;
    int ioWaits;
    /**
     * The parked context parked longest ago, among those whose park time was recorded; null if none.
     * A pool thread's main waiting for work counts only if no other context is parked: that is the
     * thread's idle wait, which it parks in again just before each body's coroutine runs, so it would
     * always be older than the coroutines stuck since.
     */
    Context oldestParked;
    /** When {@link #oldestParked} parked, in {@link System#nanoTime()} terms. */
    long oldestParkedSince;
    /**
     * What {@link #oldestParked} waits for, as the count read it: a context read as parked whose wait
     * was gone by the time it was read had run again meanwhile, and is no candidate, so that the
     * oldest parked context is never named without its wait.
     */
    Wait oldestParkedWait;
    /** The context counted as running; null if none. */
    private Context runner;
    /** A pool thread's main parked waiting for work (whose park time was recorded); null if none. */
    private Context poolMain;
    /** When {@link #poolMain} parked. */
    private long poolMainSince;
    /** What {@link #poolMain} waits for. */
    private Wait poolMainWait;
    /**
     * For a listing, each context read, once, by the context (contexts are equal by identity alone), in
     * the order first met (a map that keeps the order its entries were put in); null for a count.
     */
    private final Map<Context, Reading> readings;

    /**
     * A context as a listing read it: the state it is counted in (read again if it was read as running
     * and another was read so after it), and, read as parked, its wait as read then (null if it had run
     * again by then).
     */
    static final class Reading {
        final Context context;
        State state;
        Wait wait;

        private Reading(Context context) {
            this.context = context;
        }
    }

    private SchedulerCensus(Scheduler scheduler, boolean listing) {
        this.scheduler = scheduler;
        this.readings = listing ? new LinkedHashMap<>() : null;
    }

    /** Counts {@code s}'s contexts now, from any thread. */
    static SchedulerCensus of(Scheduler s) {
        SchedulerCensus c = census(s, false);
        c.schedulingPoints = s.schedulingPoints;
        c.timers = s.loop.timerCount();
        c.ioWaits = s.loop.ioWaitCount();
        return c;
    }

    /**
     * Reads {@code s}'s contexts now, from any thread, for a listing: each live context met once, though
     * the owner moves them meanwhile (one met again is not read again), none that had ended when it was
     * read, and one at most as running; in the order met, with the state each is counted in.
     */
    static List<Reading> listing(Scheduler s) {
        return new ArrayList<>(census(s, true).readings.values());
    }

    /** The contexts of {@code s} counted (and, for a listing, read one by one). */
    private static SchedulerCensus census(Scheduler s, boolean listing) {
        SchedulerCensus c = new SchedulerCensus(s, listing);
        if (s.runList.size() == 0) {
            c.count(s.main);
        } else {
            s.runList.forEachRacy(c::count);
        }
        if (c.oldestParked == null && c.poolMain != null) {
            c.oldestParked = c.poolMain;
            c.oldestParkedSince = c.poolMainSince;
            c.oldestParkedWait = c.poolMainWait;
        }
        return c;
    }

    private void count(Context c) {
        if (readings != null && readings.containsKey(c)) {
            return; // met again, moved in the run list meanwhile: a listing shows each context once
        }
        if (tally(c, c.state())) {
            contexts++;
        }
    }

    /**
     * Adds {@code c}, read as {@code st}, to that state's figure (and, for a listing, to the readings, or
     * in place of its earlier reading); false if it is counted in none (ended, or missed).
     */
    private boolean tally(Context c, State st) {
        Wait w = null;
        switch (st) {
            case NEW -> fresh++;
            case RUNNING -> {
                return countRunning(c);
            }
            case SUSPENDED -> suspended++;
            case PARKED -> {
                parked++;
                long since = c.parkedSince;
                w = c.waitingFor;
                if (since == 0 || w == null) {
                    // no park time recorded; or no wait: it ran again since its state was read
                } else if ("pool".equals(w.reason())) {
                    poolMain = c; // its reason: a pool thread's main waiting for work (or for the pool's end)
                    poolMainSince = since;
                    poolMainWait = w;
                } else if (oldestParked == null || since - oldestParkedSince < 0) {
                    oldestParked = c;
                    oldestParkedSince = since;
                    oldestParkedWait = w;
                }
            }
            default -> {
                return false; // ended while being counted
            }
        }
        note(c, st, w);
        return true;
    }

    /** For a listing: records {@code c} as read, {@code st} with wait {@code w}, where its earlier reading was if it had one. */
    private void note(Context c, State st, Wait w) {
        if (readings != null) {
            Reading r = readings.computeIfAbsent(c, Reading::new);
            r.state = st;
            r.wait = w;
        }
    }

    /**
     * Counts {@code c}, read as running. One context runs on a thread at a time, but a switch writes the
     * state of the one leaving and of the one arriving while the count goes on: the count may read the
     * first before it left and the second after it arrived, two running. The later reading is the
     * fresher, so the context counted as running before is read again and counted as what it reads now
     * (most likely suspended or parked), {@code c} as the one running; if it still reads as running,
     * {@code c} is missed. The same context read twice (moved in the run list meanwhile) is counted once.
     *
     * @return false if {@code c} is counted in no figure
     */
    private boolean countRunning(Context c) {
        Context before = runner;
        if (before == null) {
            runner = c;
            running++;
            note(c, State.RUNNING, null);
            return true;
        }
        State now;
        if (before == c || (now = before.state()) == State.RUNNING) {
            return false;
        }
        runner = c; // running stays 1: c in place of before, which is counted again as it reads now
        note(c, State.RUNNING, null);
        if (!tally(before, now)) {
            contexts--; // it ended since
            if (readings != null) {
                readings.remove(before);
            }
        }
        return true;
    }
}
