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

    @Label("Creator")
    @Description("The name of the context that created it: a coroutine's, or main")
    String creator;

    @Label("Scheduler Thread")
    @Description("The thread whose scheduler the coroutine belongs to")
    Thread schedulerThread;

    /** Records the creation of {@code c} by {@code creator}, if the event is enabled. */
    static void record(Context c, Context creator) {
        if (PROBE.isEnabled()) {
            CoroutineStart e = new CoroutineStart();
            if (e.shouldCommit()) {
                e.coroutine = c.name();
                e.creator = creator.name();
                e.schedulerThread = c.scheduler.owner;
                e.commit();
            }
        }
    }
}
