package dev.coro;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/**
 * The periodic JFR event of one scheduler: its contexts by state, its scheduling points so far, its
 * pending timers and I/O waits; one event per live scheduler thread each period (at the start and
 * end of every recording chunk by default; every second with the settings file {@code coro.jfc}).
 *
 * <p>Its hook is added when Flight Recorder initializes (at once if it already has when the JVM's
 * first scheduler is created), so a program that never records pays nothing for it. A recording already
 * running then gets its first events of a period of time only when JFR's periodic thread next wakes (at
 * least once a second) and finds the hook: the JDK does not wake it for a hook added during a recording.
 * At the default period it gets the one of its chunk's end, not the one of its start, which came before.
 */
@Name("dev.coro.SchedulerStatistics")
@Label("Coroutine Scheduler Statistics")
@Category("coro")
@Description("One scheduler thread's coroutines by state, its scheduling points so far, its pending timers and I/O waits")
@Period("everyChunk")
@StackTrace(false)
final class SchedulerStatistics extends Event {

    @Label("Scheduler Thread")
    @Description("The thread whose scheduler this is")
    Thread schedulerThread;

    @Label("Engine")
    @Description("continuation or threads")
    String engine;

    @Label("Contexts")
    @Description("Live contexts: main and every coroutine that has not ended")
    int contexts;

    @Label("New")
    @Description("Coroutines created that have not run yet")
    int created;

    @Label("Running")
    @Description("The context running now: 1, or 0 while the thread waits in its event loop")
    int running;

    @Label("Suspended")
    @Description("Contexts ready to run: in yield, switchTo, or woken from a wait")
    int suspended;

    @Label("Parked")
    @Description("Contexts waiting: on a channel, a select, a sleep, I/O or another thread")
    int parked;

    @Label("Scheduling Points")
    @Description("Scheduling points passed since the scheduler was created: yields, switchTos, parks, ends of bodies")
    long schedulingPoints;

    @Label("Timers")
    @Description("Pending timers: sleeps, timeouts, select timeouts")
    int timers;

    @Label("I/O Waits")
    @Description("Contexts waiting for a channel to be ready")
    int ioWaits;

    /** The hook: one event per live scheduler. */
    static void emit() {
        String engine = Engines.running();
        for (Scheduler s : Monitoring.live()) {
            SchedulerCensus c = SchedulerCensus.of(s);
            SchedulerStatistics e = new SchedulerStatistics();
            e.schedulerThread = s.owner;
            e.engine = engine;
            e.contexts = c.contexts;
            e.created = c.fresh;
            e.running = c.running;
            e.suspended = c.suspended;
            e.parked = c.parked;
            e.schedulingPoints = c.schedulingPoints;
            e.timers = c.timers;
            e.ioWaits = c.ioWaits;
            e.commit();
        }
    }
}
