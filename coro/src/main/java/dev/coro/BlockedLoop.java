package dev.coro;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The JFR event of a blocked loop: a context ran past the detector's threshold without reaching a
 * scheduling point, so every other context of its thread stalled (see {@link BlockedLoops}).
 *
 * <p>The detector's own thread commits it, so the event's own stack trace would be the detector's:
 * it is off, and the blocked thread's frames are in the {@code stack} field instead. A thread field
 * names a thread the detector's thread did not commit for, which JFR can read back as null when that is
 * a virtual thread with no event of its own (a body's thread on the thread engine): so the running
 * thread's id is a field of its own too.
 */
@Name("dev.coro.BlockedLoop")
@Label("Blocked Coroutine Loop")
@Category("coro")
@Description("A coroutine (or main) ran past the threshold without reaching a scheduling point, stalling its thread's other coroutines")
@StackTrace(false)
final class BlockedLoop extends Event {

    @Label("Coroutine")
    @Description("The name of the context that holds the thread: a coroutine's, or main")
    String coroutine;

    @Label("Coroutine Number")
    @Description("Which of its scheduler thread's creations it is, counting from 1 (0 for main): no two live coroutines of a thread share it, so with the scheduler thread it tells apart coroutines of one name, and pairs a coroutine's events")
    long coroutineNumber;

    @Label("Scheduler Thread")
    @Description("The thread whose scheduler is blocked")
    Thread schedulerThread;

    @Label("Running Thread")
    @Description("The thread running the context's code: the scheduler thread, or on the thread engine the coroutine's own virtual thread, or that of the generator body it is inside")
    Thread runningThread;

    @Label("Running Thread Id")
    @Description("The Java thread id of the running thread: a virtual thread that committed no event of its own may read as null in the runningThread field of this event, which another thread commits, while its id is always here")
    long runningThreadId;

    @Label("Blocked For")
    @Description("How long the thread had gone without a scheduling point, with something to stall, when it was reported: counted from the detector's first sample that saw it so, it is never more than the stall has lasted")
    @Timespan(Timespan.NANOSECONDS)
    long blockedFor;

    @Label("Other Contexts")
    @Description("How many other contexts of the thread could not run meanwhile")
    int otherContexts;

    @Label("Stack")
    @Description("The frames of the running thread when it was reported, innermost first")
    String stack;

    @Label("Moved On")
    @Description("Whether the thread reached a scheduling point (or an idle wait) while its stack was taken: the stall was over, and the stack may be of what it ran next")
    boolean movedOn;

    /** Whether a recording running now takes this event: if none does, a report need not take the stack for it. */
    static boolean enabled() {
        return new BlockedLoop().isEnabled();
    }

    /**
     * Records the report of {@code c}, blocking {@code owner} for {@code nanos}, if the event is enabled;
     * {@code movedOn} if the stall was over by the time {@code stack} was taken.
     */
    static void record(Context c, Thread owner, Thread runner, long nanos, int others, String stack, boolean movedOn) {
        BlockedLoop e = new BlockedLoop();
        if (e.shouldCommit()) {
            e.coroutine = c.name();
            e.coroutineNumber = c.number();
            e.schedulerThread = owner;
            e.runningThread = runner;
            e.runningThreadId = runner.threadId();
            e.blockedFor = nanos;
            e.otherContexts = others;
            e.stack = stack;
            e.movedOn = movedOn;
            e.commit();
        }
    }
}
