package dev.coro;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The blocked-loop detector: reports a coroutine (or main) that holds its thread past a threshold
 * without reaching a scheduling point, since every other coroutine of that thread stalls meanwhile.
 *
 * <p>A scheduling point is a {@code Coroutine.yield()}, a {@code switchTo()}, a park (a channel
 * operation that waits, a sleep, a select, an {@code await}, an I/O wait) and the end of a body.
 * A thread whose scheduler waits in its event loop (every context parked) is idle, not blocked; so
 * is a thread with nothing to stall (no coroutine alive, no timer or I/O pending). What blocks a
 * loop is code that keeps the thread without passing a scheduling point: {@code Thread.sleep}, a
 * blocking JDBC or file call, a lock held elsewhere, a long computation, a tight loop over a
 * generator.
 *
 * <p>Off by default. {@link #detect(Duration)} turns it on for every scheduler of the JVM, as does
 * the system property {@code -Dcoro.blockedThreshold=200ms} (a count of {@code ms} or {@code s};
 * read when the JVM's first scheduler is created). Then one daemon thread,
 * {@code coro-blocked-loop-detector}, looks every quarter of the threshold (no more often than every millisecond) at how many scheduling
 * points each scheduler has passed, and how many idle waits its event loop has begun (each counted
 * with one plain increment, on or off); a scheduler whose counts have not moved for the threshold
 * while it was not idle is reported
 * once, with the name of the context that holds it, how long, and the stack of the thread running
 * that context. (An idle wait counts since a thread woken in its event loop by a post that wakes
 * none of its contexts, or by the loop's own periodic checks, waits again without a scheduling point:
 * it was idle meanwhile, though a look may come while it is awake.) How long counts from the first sample that saw the thread busy (not idle, with
 * something to stall) at those counts: the stall began by then, and may have begun only after the
 * sample before (which saw the thread idle, or with nothing to stall, or at other counts), so the
 * time reported is never more than the stall has lasted, and (unless it was under way already when
 * the detector first looked at the thread) less by under a sampling period. A sample reads the clock
 * as it looks at each thread, since it may take long before it comes to one (a slow log handler of
 * a report it made). It is reported:
 * <ul>
 *   <li>as a {@code WARNING} of the {@link System.Logger} named {@code dev.coro}, e.g.
 *   <pre>
 * coroutine 'handler-7' has blocked thread 'main' (#1) for 212.503 ms without reaching a scheduling
 * point (yield, switchTo, a park, the end of its body): 41 other contexts cannot run meanwhile.
 * Its stack (thread 'main' (#1)):
 *     at java.base/java.lang.Thread.sleep(Thread.java:509)
 *     at app.Handler.lookup(Handler.java:42)
 *     ...</pre></li>
 *   <li>as the JFR event {@code dev.coro.BlockedLoop} (see the README for a recording).</li>
 * </ul>
 * It is reported again only if it stays blocked ten times as long as when it was last reported
 * (2 s, 20 s, ... for a threshold of 200 ms), so a stuck thread does not flood the log. A log handler
 * that throws loses that report's log line only: the event is still recorded, and the detector goes
 * on (the first such failure is printed to {@code System.err}). A log handler may use coro on the detector's
 * thread: the coroutines it leaves there suspended or parked are closed after the sample (nothing would run
 * them again), and the detector never reports its own thread.
 *
 * <p>Turning the detector on also registers the JMX view ({@code dev.coro:type=Coroutines},
 * {@link dev.coro.management.CoroutinesManagement}), whose {@code BlockedThresholdMillis}
 * attribute shows and sets the threshold.
 */
public final class BlockedLoops {

    /** The system property read when the first scheduler is created. */
    static final String PROPERTY = "coro.blockedThreshold";

    private BlockedLoops() {
    }

    /**
     * Turns the detector on for every scheduler of the JVM, present and future, with {@code threshold};
     * if it is on already, its threshold becomes {@code threshold} (with the same threshold nothing
     * changes: the stalls under way stay watched). Also registers the JMX view.
     *
     * @param threshold how long a context may hold its thread without a scheduling point before it
     *                  is reported; at least a millisecond
     * @throws IllegalArgumentException if {@code threshold} is shorter than a millisecond
     * @throws NullPointerException     if {@code threshold} is null
     * @throws OutOfMemoryError         if the JVM cannot start the detector's thread (out of threads, or of
     *                                  memory for their stacks): the detector is then off, one that was on
     *                                  stopped and ended as by {@link #stop()} (a report it was making
     *                                  finished first, none after), and {@link #threshold()} empty; a later
     *                                  call tries again
     */
    public static void detect(Duration threshold) {
        Objects.requireNonNull(threshold, "threshold");
        if (threshold.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException(Scheduler.describeCaller() + " cannot detect blocked loops with threshold " + threshold
                    + ": the threshold must be at least 1 ms");
        }
        Monitoring.registerMXBean(); // first: starting the platform MBean server may itself take longer than the threshold
        Watchdog.start(threshold);
    }

    /**
     * Turns the detector off. When it returns the detector's thread has ended and no report comes any
     * more: a report being made meanwhile (its log handler running) is finished first. Called from a
     * log handler of a report, it returns at once and the detector ends after that report. Nothing
     * happens if it is off.
     */
    public static void stop() {
        Watchdog.stop();
    }

    /**
     * The detector's threshold while it is on.
     *
     * @return the threshold, or empty if the detector is off
     */
    public static Optional<Duration> threshold() {
        return Optional.ofNullable(Watchdog.threshold());
    }

    /**
     * The threshold {@code value} of {@code -Dcoro.blockedThreshold} says: a positive count of
     * milliseconds ({@code 200ms}, or just {@code 200}) or seconds ({@code 2s}).
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    static Duration parse(String value) {
        String v = value.strip();
        long unit;
        String digits;
        if (v.endsWith("ms")) {
            unit = 1;
            digits = v.substring(0, v.length() - 2).strip();
        } else if (v.endsWith("s")) {
            unit = 1000;
            digits = v.substring(0, v.length() - 1).strip();
        } else {
            unit = 1;
            digits = v;
        }
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n <= 0 || n > Long.MAX_VALUE / 1000 / unit) {
            throw new IllegalArgumentException("-D" + PROPERTY + "='" + SafeText.name(value)
                    + "' is not a threshold: write a positive count of milliseconds or seconds, e.g. 200ms or 2s");
        }
        return Duration.ofMillis(n * unit);
    }
}
