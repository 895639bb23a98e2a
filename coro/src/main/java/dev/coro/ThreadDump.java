package dev.coro;

import dev.coro.Coroutine.State;

/** A readable listing of the contexts of one thread's run list: name, state, wait and top frames. */
final class ThreadDump {

    /** How many frames each suspended context shows. */
    static final int TOP_FRAMES = 3;
    /** How many contexts {@link Coroutine#dump()} lists before it gives the count of the rest. */
    static final int SHOWN = 50;

    private ThreadDump() {
    }

    /**
     * The dump of {@code s}, which belongs to the calling thread ({@link Coroutine#dump()}, or the JMX
     * view's dump called on a scheduler thread, whose caller's frames begin with the view's {@code dump}): one header
     * line, then, for the first {@code max} contexts, {@code [index] name: STATE}, what a parked one
     * waits for, the innermost generator whose body it is suspended in, and its top frames (the
     * caller's own too: its call of {@code Coroutine.dump}, then its frames); then how many more there
     * are, e.g.
     * <pre>
     * thread 'worker': 2 contexts, current index 0
     *   [0] main: RUNNING (the caller)
     *         at dev.coro.Coroutine.dump(Coroutine.java:487)
     *         at app.Pipeline.main(Pipeline.java:30)
     *   [1] coroutine 'producer': PARKED, waits to send to channel 'numbers'
     *         at dev.coro.Channel.send(Channel.java:120)
     *         at app.Pipeline.produce(Pipeline.java:12)
     * </pre>
     */
    static String of(Scheduler s, int max) {
        return of(s, max, "(the caller)");
    }

    /**
     * {@link #of(Scheduler, int)} with the current context marked {@code currentMark}. Its frames are
     * read from this thread's stack as it runs the dump and cut as the others' are
     * ({@link StackTraces#ofCurrent}): the dump's own frames left out, its innermost public call
     * first. A dump made for another thread (the JMX view) at a scheduling point of this one says
     * {@code (current)} and lists them (the await or yield it is at).
     */
    static String of(Scheduler s, int max, String currentMark) {
        Context[] all = s.contexts();
        Context current = s.idleAfterEnd ? null : s.currentContext(); // after a body's end, none runs
        StringBuilder b = new StringBuilder();
        b.append(header(s.owner)).append(": ").append(all.length)
                .append(all.length == 1 ? " context" : " contexts");
        if (current != null) {
            b.append(", current index ").append(s.currentIndex()).append('\n');
        } else { // the index still held is the ended body's: past the list's end, or another context's
            b.append(", none current (the thread waits in its event loop after a body ended)\n");
        }
        int shown = Math.min(max, all.length);
        for (int k = 0; k < shown; k++) {
            Context c = all[k];
            State st = c.state();
            b.append("  [").append(k).append("] ").append(c.isMain() ? "main" : "coroutine '" + SafeText.name(c.name()) + "'")
                    .append(": ").append(st);
            if (c == current) {
                b.append(' ').append(currentMark);
            }
            if (st == State.PARKED) {
                b.append(", waits to ").append(Wait.describe(c.waitingFor));
                // the wait's text runs the user's code (an awaited future's toString()), which may suspend the
                // dumping context and let c run meanwhile, even to its end: its frames are read as it is now
                st = c.state();
            }
            if (c != current || st != State.RUNNING) {
                // the wait named is a body's, not the context's own code's: the current context's too,
                // parked where the dump is made (its idle wait); a running caller's frames show the body
                b.append(inside(c));
            }
            b.append('\n');
            if (c == current) {
                appendFrames(b, StackTraces.ofCurrent(c));
            } else if (st == State.SUSPENDED || st == State.PARKED) {
                appendFrames(b, StackTraces.of(c));
            }
        }
        if (all.length > shown) {
            int more = all.length - shown;
            b.append("  ... and ").append(more).append(more == 1 ? " more context" : " more contexts").append(" (Coroutine.dump(")
                    .append(all.length).append(") lists them all)\n");
        }
        return b.toString();
    }

    /**
     * The generator whose body {@code c} is suspended or parked in, as a dump and a deadlock report add
     * it to the context's line ({@code , inside generator 'lines'}): the wait named before it is that
     * body's, not the context's own code's; empty if it is in none.
     */
    static String inside(Context c) {
        Generator<?> g = c.innermostGenerator;
        return g == null ? "" : ", inside " + g.describe();
    }

    /**
     * How a dump names thread {@code t}: {@code thread 'worker'}; a thread without a name (a virtual
     * thread of a thread-per-task executor) also by its id, {@code thread '' (#35, virtual)}, so that
     * the sections of several such threads can be told apart and matched with a thread dump.
     */
    static String header(Thread t) {
        String name = t.getName();
        return name.isEmpty() ? "thread " + Scheduler.describe(t) : "thread '" + SafeText.name(name) + "'";
    }

    private static void appendFrames(StringBuilder b, StackTraceElement[] frames) {
        int shown = Math.min(TOP_FRAMES, frames.length);
        for (int k = 0; k < shown; k++) {
            b.append("        at ").append(frames[k]).append('\n');
        }
        if (frames.length > shown) {
            b.append("        ... ").append(frames.length - shown).append(" more\n");
        }
    }
}
