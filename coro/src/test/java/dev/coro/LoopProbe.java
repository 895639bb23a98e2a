package dev.coro;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Field;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A read-only look into the calling thread's event loop, for the network tests in other packages:
 * how many channels it has registered, how many contexts wait on I/O, and its selector's live keys.
 */
public final class LoopProbe {

    private static final VarHandle IDLE_WAITS;

    static {
        try {
            IDLE_WAITS = MethodHandles.lookup().findVarHandle(EventLoop.class, "idleWaits", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private LoopProbe() {
    }

    /**
     * How many channels are registered with the calling thread's selector: its keys, cancelled ones
     * not yet dropped included; 0 without a selector.
     *
     * @return the selector's key count
     */
    public static int registeredChannels() {
        Selector s = (Selector) read("selector");
        return s == null || !s.isOpen() ? 0 : s.keys().size();
    }

    /**
     * How many contexts of the calling thread wait on I/O.
     *
     * @return the loop's count of I/O waits
     */
    public static int ioWaits() {
        return (int) read("ioWaits");
    }

    /**
     * Whether the calling thread's loop has a selector open now (it opens one on the first I/O wait
     * and closes it once no channel is registered).
     *
     * @return true while a selector is open
     */
    public static boolean selectorOpen() {
        Selector s = (Selector) read("selector");
        return s != null && s.isOpen();
    }

    /**
     * The calling thread's selector as it is now, for a test to look at once the thread has ended.
     *
     * @return the selector, or null if the loop has none now
     */
    public static Selector selector() {
        return (Selector) read("selector");
    }

    /**
     * The valid keys of the calling thread's selector: registrations not cancelled; 0 without a selector.
     *
     * @return how many of the selector's keys are valid
     */
    public static int validKeys() {
        Selector s = (Selector) read("selector");
        if (s == null || !s.isOpen()) {
            return 0;
        }
        int n = 0;
        for (SelectionKey k : s.keys()) {
            if (k.isValid()) {
                n++;
            }
        }
        return n;
    }

    /**
     * How many listeners and connections the calling thread's loop holds as open ({@link OpenResource}): those not
     * closed, detached or dropped, and those dropped unclosed whose cleaning's post the thread has not run yet.
     *
     * @return the count of the loop's entries
     */
    public static int openResources() {
        Set<?> owned = (Set<?>) read("owned");
        return owned == null ? 0 : owned.size();
    }

    /**
     * Whether a timer or an I/O wait is pending on the calling thread's loop.
     *
     * @return the loop's {@code hasPending()}
     */
    public static boolean hasPending() {
        return Scheduler.current().loop.hasPending();
    }

    /**
     * The engine this JVM runs on, as {@code -Dcoro.engine} spells it.
     *
     * @return {@code continuation} or {@code threads}
     */
    public static String engine() {
        return Engines.running();
    }

    /**
     * The operations the calling thread's selector watches on {@code channel}: its key's interest set;
     * -1 if the channel has no valid key with that selector.
     *
     * @param channel the channel
     * @return the key's {@code interestOps()}, or -1
     */
    public static int interestOps(SelectableChannel channel) {
        Selector s = (Selector) read("selector");
        SelectionKey k = s == null || !s.isOpen() ? null : channel.keyFor(s);
        return k == null || !k.isValid() ? -1 : k.interestOps();
    }

    /**
     * How many idle waits the calling thread's loop has begun so far (a spin for a post, a park or a
     * select): a thread whose selects return at once with nothing to report counts one per select.
     *
     * @return the count since the thread's scheduler was made
     */
    public static long idleWaits() {
        return Scheduler.current().loop.idleWaits;
    }

    /**
     * A reader of {@link #idleWaits()} of the calling thread's loop that any thread may call: for a
     * test that counts, from outside, the idle waits a thread begins while it looks at it.
     *
     * @return what reads the count, as it is when read
     */
    public static LongSupplier idleWaitsReader() {
        EventLoop loop = Scheduler.current().loop;
        return () -> (long) IDLE_WAITS.getOpaque(loop);
    }

    /**
     * How many readiness reports (a ready key handed to the loop by a select) the calling thread's loop
     * has served so far.
     *
     * @return the count since the thread's scheduler was made
     */
    public static long readyReports() {
        return Scheduler.current().loop.readyReports;
    }

    /**
     * Sets what every thread's event loop runs once a channel is registered for a wait, just before its
     * key is told to watch the wait's operations: where a test closes the channel from another thread,
     * as one may at any moment. Null (the default) runs nothing; a test sets it back when done.
     *
     * @param hook what to run with the channel, or null
     */
    public static void beforeWatching(Consumer<SelectableChannel> hook) {
        EventLoop.beforeWatching = hook;
    }

    /**
     * Sets what every thread's event loop runs just before the select that drops the registration of a
     * channel being closed or released: where a test fakes a failure of the selector by throwing (as
     * the selector's {@code selectNow} would, with an {@code IOException}, or as the JDK's selector may
     * fail unchecked). Null (the default) runs nothing; a test sets it back when done.
     *
     * @param hook what to run with the selector, or null
     */
    public static void beforeDropping(SelectorFault hook) {
        EventLoop.beforeDropping = hook == null ? null : hook::accept;
    }

    /**
     * Sets what every thread's event loop runs just before each select of a scheduling point or of an
     * idle wait: where a test fakes a failure of the selector by throwing, as in
     * {@link #beforeDropping}. Null (the default) runs nothing; a test sets it back when done.
     *
     * @param hook what to run with the selector, or null
     */
    public static void beforeSelecting(SelectorFault hook) {
        EventLoop.beforeSelecting = hook == null ? null : hook::accept;
    }

    /**
     * Sets what an operation of another thread on a channel runs just after it found the channel's thread alive,
     * before it posts itself there or runs in place: also a close of a connection or a listener of another thread,
     * which passes there once it found them open, so that a test can let their thread close them first. Null (the
     * default) runs nothing; a test sets it back when done.
     *
     * @param hook what to run, or null
     */
    public static void afterLivenessCheck(Runnable hook) {
        Channel.afterLivenessCheck = hook;
    }

    /**
     * Sets what an operation of another thread on a channel runs once it is posted to the channel's thread (or
     * queued there), just before its caller parks to wait for it: also a close of a connection or a listener of
     * another thread, so that a test can let their thread run it. Null (the default) runs nothing; a test sets it
     * back when done.
     *
     * @param hook what to run, or null
     */
    public static void beforeParkAcross(Runnable hook) {
        Channel.beforeParkAcross = hook == null ? null : r -> hook.run();
    }

    /** What a test runs with a thread's selector at a seam of its loop, failing as the selector would. */
    @FunctionalInterface
    public interface SelectorFault {
        /**
         * Runs with the selector.
         *
         * @param selector the thread's selector
         * @throws IOException to fake the selector's failure
         */
        void accept(Selector selector) throws IOException;
    }

    /**
     * Makes the calling thread's inbox say that the thread sleeps in {@code selector}, as its idle wait
     * does, so that a post from another thread wakes that selector; null says it is awake again. For a
     * test whose selector fails to wake: the thread must reach no scheduling point meanwhile.
     *
     * @param selector the selector to wake, or null
     */
    public static void sleepingIn(Selector selector) {
        Inbox inbox = Scheduler.current().loop.inbox;
        if (selector == null) {
            inbox.awake();
        } else {
            inbox.sleeping(selector);
        }
    }

    private static Object read(String field) {
        EventLoop loop = Scheduler.current().loop;
        try {
            Field f = EventLoop.class.getDeclaredField(field);
            f.setAccessible(true);
            return f.get(loop);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("EventLoop has no field " + field, e);
        }
    }
}
