package dev.coro;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * The JFR event of one park: a context (a coroutine, or a thread's main) waited on a channel, a
 * semaphore, a select, a sleep, I/O or another thread, from its park until it ran again.
 *
 * <p>Recorded like the JDK's {@code jdk.ThreadPark}: enabled, with a threshold (20 ms unless the
 * recording's settings say otherwise) and the stack of the park. Before Flight Recorder
 * initializes a park does not even load this class ({@link Monitoring#jfr}); after, a park with
 * the event disabled asks one question ({@link #start()}) and allocates nothing.
 */
@Name("dev.coro.Park")
@Label("Coroutine Park")
@Category("coro")
@Description("A coroutine or a thread's main context parked: the event lasts from the park until it ran again")
@StackTrace(true)
@Threshold("20 ms")
final class Park extends Event {

    /** Only asked whether the event is enabled: a park allocates an event only while it is. */
    private static final Park PROBE = new Park();

    @Label("Coroutine")
    @Description("The name of the context that parked: a coroutine's, or main")
    String coroutine;

    @Label("Coroutine Number")
    @Description("Which of its scheduler thread's creations it is, counting from 1 (0 for main): no two live coroutines of a thread share it, so with the scheduler thread it tells apart coroutines of one name, and pairs a coroutine's events")
    long coroutineNumber;

    @Label("Reason")
    @Description("What kind of wait: channel, semaphore (an acquire of a semaphore of the thread), select, sleep, io, thread (a future, another thread's channel or semaphore), join (a join of a coroutine) or pool")
    String reason;

    @Label("Waits For")
    @Description("What it waited for, as Coroutine.dump() shows it, e.g. receive from channel 'jobs', then the generator whose body it waited in, if any, e.g. , inside generator 'lines'")
    String waitsFor;

    @Label("Scheduler Thread")
    @Description("The thread whose scheduler the context belongs to")
    Thread schedulerThread;

    /** A started park event if the event is enabled, else null. */
    static Park start() {
        if (!PROBE.isEnabled()) {
            return null;
        }
        Park e = new Park();
        e.begin();
        return e;
    }

    /**
     * Ends the event as {@code c} runs again after waiting for {@code w}; commits it if it lasted
     * at least its threshold (only then is the wait described).
     */
    void finish(Context c, Wait w) {
        end();
        if (shouldCommit()) {
            coroutine = c.name();
            coroutineNumber = c.number();
            reason = w.reason();
            waitsFor = Wait.describe(w) + ThreadDump.inside(c); // a body's wait, not its context's own code's, as a dump says
            schedulerThread = c.scheduler.owner;
            commit();
        }
    }
}
