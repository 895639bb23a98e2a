package dev.coro;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JFR event of a coroutine's end: its body returned ({@code FINISHED}), threw ({@code FAILED}),
 * or unwound while being closed, or it was closed before it ran ({@code CLOSED}); disabled by
 * default. Every coroutine whose {@link CoroutineStart} was recorded has one when it ends. One that
 * its thread leaves unfinished (the thread ends with it {@code NEW}, suspended or parked, never
 * closed) never ends, and has none: its body and its {@code finally} blocks never run again, and
 * the thread's own end ({@code jdk.ThreadEnd}) is the last that is recorded of it.
 */
@Name("dev.coro.CoroutineEnd")
@Label("Coroutine End")
@Category("coro")
@Description("A coroutine ended: FINISHED (its body returned), FAILED (threw) or CLOSED (unwound by close, or closed before it ran)")
@Enabled(false)
@StackTrace(false)
final class CoroutineEnd extends Event {

    /** Only asked whether the event is enabled. */
    private static final CoroutineEnd PROBE = new CoroutineEnd();

    @Label("Coroutine")
    @Description("The coroutine's name")
    String coroutine;

    @Label("Coroutine Number")
    @Description("Which of its scheduler thread's creations it is, counting from 1 (0 for main): no two live coroutines of a thread share it, so with the scheduler thread it tells apart coroutines of one name, and pairs a coroutine's events")
    long coroutineNumber;

    @Label("Ending")
    @Description("FINISHED, FAILED or CLOSED")
    String ending;

    @Label("Failure")
    @Description("What a FAILED body threw (its class and message); empty otherwise")
    String failure;

    @Label("Scheduler Thread")
    @Description("The thread whose scheduler the coroutine belonged to")
    Thread schedulerThread;

    /**
     * Records that {@code c}'s body ended as {@code ending}, if the event is enabled; {@code failure} is
     * the text of what it threw ({@link SafeText#of}), null if it returned.
     */
    static void record(Context c, Fiber.Ending ending, String failure) {
        if (PROBE.isEnabled()) {
            CoroutineEnd e = new CoroutineEnd();
            if (e.shouldCommit()) {
                e.coroutine = c.name();
                e.coroutineNumber = c.number();
                e.ending = ending.name();
                e.failure = ending == Fiber.Ending.FAILED ? failure : "";
                e.schedulerThread = c.scheduler.owner;
                e.commit();
            }
        }
    }
}
