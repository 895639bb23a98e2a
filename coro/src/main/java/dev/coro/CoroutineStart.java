package dev.coro;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JFR event of a coroutine's creation, the start of its life (its body runs at its first
 * switch); disabled by default, its stack is where {@code Coroutine.create} was called.
 */
@Name("dev.coro.CoroutineStart")
@Label("Coroutine Start")
@Category("coro")
@Description("A coroutine was created (its body runs at its first switch); the stack is the creation site")
@Enabled(false)
@StackTrace(true)
final class CoroutineStart extends Event {

    /** Only asked whether the event is enabled. */
    private static final CoroutineStart PROBE = new CoroutineStart();

    @Label("Coroutine")
    @Description("The new coroutine's name")
    String coroutine;

    @Label("Coroutine Number")
    @Description("Which of its scheduler thread's creations it is, counting from 1 (0 for main): no two live coroutines of a thread share it, so with the scheduler thread it tells apart coroutines of one name, and pairs a coroutine's events")
    long coroutineNumber;

    @Label("Creator")
    @Description("The name of the context that created it: a coroutine's, or main")
    String creator;

    @Label("Creator Number")
    @Description("The creator's coroutine number (0 for main)")
    long creatorNumber;

    @Label("Scheduler Thread")
    @Description("The thread whose scheduler the coroutine belongs to")
    Thread schedulerThread;

    /** Records the creation of {@code c} by {@code creator}, if the event is enabled. */
    static void record(Context c, Context creator) {
        if (PROBE.isEnabled()) {
            CoroutineStart e = new CoroutineStart();
            if (e.shouldCommit()) {
                e.coroutine = c.name();
                e.coroutineNumber = c.number();
                e.creator = creator.name();
                e.creatorNumber = creator.number();
                e.schedulerThread = c.scheduler.owner;
                e.commit();
            }
        }
    }
}
