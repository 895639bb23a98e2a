package dev.coro;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The frames of suspended and parked contexts as their user sees them: the machinery of the switch
 * cut off, the same on every engine.
 *
 * <p>An engine gives the raw frames ({@link Stack#frames}): a continuation's, or the threads'
 * that run the context, innermost first. These cuts make them engine-neutral:
 * <ul>
 *   <li>in each run of library and JDK frames, everything up to the run's outermost frame of this
 *       library goes, except the outermost call of the public API there (not a lambda of it): on
 *       top, the switch (continuation yield, or virtual-thread park and the handoff) gives way to
 *       the call the user made ({@code Coroutine.yield}, {@code Channel.receive}, ...); in the
 *       middle, where a generator's body is entered (a nested continuation, or the body's own thread
 *       and its consumer's park), to the consumer's call ({@code Generator.next}, ...). The run's
 *       JDK frames outwards of the library's stay: the user called them;</li>
 *   <li>the trailing run (how a body or thread is entered, a pool thread's loop included) goes,
 *       except, as in the other runs, its outermost call of the public API: a body that is a
 *       reference to the library's own method ({@code Coroutine::yield}, {@code channel::receive},
 *       {@code generator::next}) has no frame of the user's, and still shows the call it is
 *       suspended or parked in, or the consumer's call of the generator whose body it is in.</li>
 * </ul>
 * A run ends, too, where the library calls a function the user handed it ({@link Callback}: the body of a
 * {@code withTimeout} or a {@code withPermit}, a select clause's function, a {@code forEach}'s action): a
 * function that is a reference to the library's own method ({@code rows::receive}) has no frame of the user's
 * between that method's frames and those of the call that ran it, and each keeps its public call
 * ({@code Channel.receive}, then {@code Semaphore.withPermit}) as if a lambda of the user's stood between them.
 */
final class StackTraces {

    /**
     * The library's classes whose frames form the machinery of a switch or of a body's entry; among them the
     * look for a class-initializer deadlock that a platform thread makes now and then as it waits for the turn on
     * the thread engine ({@code InitializerDeadlock}), whose frames, the JDK's reading of the other thread's
     * frames on top, a dump made meanwhile would show as main's otherwise; and the late binding of a thread-engine
     * body's thread ({@code LateBinding}), whose refusal names the public call below it ({@link #apiCallOnTop}).
     */
    private static final Set<String> LIBRARY = Set.of("dev.coro.Coroutine", "dev.coro.Scheduler",
            "dev.coro.Context", "dev.coro.Fiber", "dev.coro.Engine", "dev.coro.ContinuationEngine", "dev.coro.ThreadEngine",
            "dev.coro.ThreadGeneratorStack", "dev.coro.Turn", "dev.coro.InitializerDeadlock", "dev.coro.LateBinding", "dev.coro.Channel", "dev.coro.Generator",
            "dev.coro.BufferedGenerator", "dev.coro.GeneratorContinuation", "dev.coro.PinReportingContinuation", "dev.coro.ScopedBindings",
            "dev.coro.StackProbe", "dev.coro.FutureWait", "dev.coro.Select", "dev.coro.SelectClause", "dev.coro.SelectClauses",
            "dev.coro.SelectClaim", "dev.coro.SelectOp", "dev.coro.Callback", "dev.coro.Semaphore", "dev.coro.IoSupport",
            "dev.coro.RemoteClose",
            "dev.coro.net.TcpListener", "dev.coro.net.TcpConnection", "dev.coro.net.ConnectionInput",
            "dev.coro.net.ConnectionOutput", "dev.coro.net.Io", "dev.coro.net.NameLookup");
    /**
     * The public types whose methods the user called: the frame kept of a run of machinery. A
     * read-ahead generator's {@code hasNext()}/{@code next()} are {@code BufferedGenerator}'s overrides
     * of {@code Generator}'s: the call the user made, under the class that runs it; so are those of a
     * channel's iterator ({@code Channel$Receiving}), which a for-each over the channel calls, and
     * those of a connection's {@code java.io} views ({@code ConnectionInput}, {@code ConnectionOutput}),
     * which the user, or a wrapper of the JDK's, calls. A semaphore's calls wait through the receive of its
     * channel of permits, machinery the user never called: the semaphore's call is kept, as a channel's is.
     * A pool's {@code close} and its futures' {@code join} are kept where a body that is a reference to them
     * ({@code pool::close}) enters them, below which the pool's own frames ({@link #ENTRY}) go: the pool's
     * loop and how it runs a submitted body are of a class of its own ({@code PoolWorker}), not here.
     */
    private static final Set<String> API = Set.of("dev.coro.Coroutine", "dev.coro.Channel", "dev.coro.Channel$Receiving",
            "dev.coro.Generator", "dev.coro.Generator$TwoWay", "dev.coro.BufferedGenerator", "dev.coro.Select",
            "dev.coro.Semaphore", "dev.coro.CoroutinePool", "dev.coro.PoolFuture",
            "dev.coro.net.TcpListener", "dev.coro.net.TcpConnection", "dev.coro.net.ConnectionInput",
            "dev.coro.net.ConnectionOutput", "dev.coro.net.Io");
    /**
     * The classes whose frames a dump made on the context's own thread has on top of its stack: the
     * dump itself, the reading of the frames and the event loop that ran its request ({@link #ofCurrent} cuts them, with the
     * JDK's frames among them, as {@code Thread.getStackTrace}). {@code Coroutine} is not among them:
     * a caller's {@code Coroutine.dump} stays, as its public call.
     */
    private static final Set<String> DUMP = Set.of("dev.coro.StackTraces", "dev.coro.ThreadDump",
            "dev.coro.MonitorSupport", "dev.coro.Inbox", "dev.coro.EventLoop", "dev.coro.Stack");
    /**
     * The classes whose frames may lie below a context's body, outermost, besides the library's and the
     * JDK's: a pool thread's loop, which runs main and starts each submitted body ({@code PoolWorker}), and
     * the pool's futures, whose handlers given the pool run as bodies of their own (matched by the outermost
     * class, so that the classes nested in these are too). Cut there only, so that a user's call of a pool's
     * method ({@code close}) stays where it is.
     */
    private static final Set<String> ENTRY = Set.of("dev.coro.CoroutinePool", "dev.coro.PoolWorker", "dev.coro.PoolFuture");
    private static final StackTraceElement[] NONE = new StackTraceElement[0];

    private StackTraces() {
    }

    /**
     * The frames of {@code c}, which is {@code SUSPENDED} or {@code PARKED}, innermost first: its
     * innermost call of the public API, then the caller's frames, down to its body (for main: down
     * to the thread's entry).
     */
    static StackTraceElement[] of(Context c) {
        return userFrames(c.stack.frames());
    }

    /**
     * The frames of {@code c}, the context running the calling code (a dump made at its scheduling
     * point or idle wait, or its own call of {@code Coroutine.dump}), cut as {@link #of} cuts a
     * suspended one's: first the dump, the event loop that ran it (see {@link #DUMP}) and the
     * engine's reading of the frames, then the switch's cuts, so that its innermost call of the
     * public API comes first (the {@code Coroutine.await} it parks in, the {@code Coroutine.yield}
     * it is at, the {@code Coroutine.dump} it called), then the caller's frames. Read from the thread
     * only when asked: no cost otherwise.
     */
    static StackTraceElement[] ofCurrent(Context c) {
        StackTraceElement[] frames = c.stack.runningFrames();
        int from = 0; // past the outermost frame of the dump in the leading run of library and JDK frames
        for (int k = 0; k < frames.length && (DUMP.contains(outerClass(frames[k])) || isSwitchOrJdk(frames[k])); k++) {
            if (DUMP.contains(outerClass(frames[k]))) {
                from = k + 1;
            }
        }
        return userFrames(Arrays.copyOfRange(frames, from, frames.length));
    }

    /**
     * The calling thread's own frames above main's trampoline: those of the coroutine it runs now;
     * all of them if the trampoline is not running (main runs).
     */
    static StackTraceElement[] aboveTrampoline() {
        StackTraceElement[] all = Thread.currentThread().getStackTrace();
        int k = trampoline(all);
        return k < 0 ? all : Arrays.copyOf(all, k);
    }

    /**
     * The calling thread's own frames below main's trampoline (on the continuation engine,
     * everything running now runs on top of main's stack); none if it is not there.
     */
    static StackTraceElement[] belowTrampoline() {
        StackTraceElement[] all = Thread.currentThread().getStackTrace();
        int k = trampoline(all);
        return k < 0 ? NONE : Arrays.copyOfRange(all, k + 1, all.length);
    }

    /** The index of the innermost frame of main's trampoline in {@code all}; -1 if none. */
    private static int trampoline(StackTraceElement[] all) {
        String engine = ContinuationEngine.class.getName() + "$MainStack";
        for (int k = 0; k < all.length; k++) {
            if (all[k].getClassName().equals(engine) && all[k].getMethodName().equals("trampoline")) {
                return k;
            }
        }
        return -1;
    }

    /** Applies the cuts of the class comment to {@code frames}. */
    private static StackTraceElement[] userFrames(StackTraceElement[] frames) {
        int to = frames.length;
        while (to > 0 && (isSwitchOrJdk(frames[to - 1]) || ENTRY.contains(outerClass(frames[to - 1])))) {
            to--;
        }
        List<StackTraceElement> kept = new ArrayList<>(to);
        int k = 0;
        while (k < to) {
            if (!isSwitchOrJdk(frames[k])) {
                kept.add(frames[k++]);
                continue;
            }
            int end = k;
            int lastLibrary = -1;
            // stops before to: frames[to - 1], outermost of what is left, is the user's; and before a call of a
            // function the user handed the library: the frames inwards of it are that function's
            while (isSwitchOrJdk(frames[end]) && (end == k || !isCallback(frames[end]))) {
                if (LIBRARY.contains(outerClass(frames[end]))) {
                    lastLibrary = end;
                }
                end++;
            }
            int api = outermostApiCall(frames, k, lastLibrary + 1);
            if (api >= 0) {
                kept.add(frames[api]);
            }
            kept.addAll(Arrays.asList(frames).subList(Math.max(k, lastLibrary + 1), end)); // a run of JDK frames alone is kept whole
            k = end;
        }
        for (int from = to; from < frames.length; ) { // each part of the entry that a call of the user's function ends
            int end = from + 1;
            while (end < frames.length && !isCallback(frames[end])) {
                end++;
            }
            int entryApi = outermostApiCall(frames, from, end);
            if (entryApi >= 0) {
                kept.add(frames[entryApi]); // the body is the library's own method (Coroutine::yield): where it is
            }
            from = end;
        }
        return kept.toArray(NONE);
    }

    /**
     * The public call the user made that the library runs now, as {@code Channel.send}: the outermost call
     * of the public API among the frames of the library (and the JDK's) on top of {@code frames}, innermost
     * first, as a stack trace taken inside that call has them; null if none.
     */
    static String apiCallOnTop(StackTraceElement[] frames) {
        int end = 0;
        while (end < frames.length && isSwitchOrJdk(frames[end])) {
            end++;
        }
        int api = outermostApiCall(frames, 0, end);
        if (api < 0) {
            return null;
        }
        String c = frames[api].getClassName();
        return c.substring(c.lastIndexOf('.') + 1).replace('$', '.') + "." + frames[api].getMethodName();
    }

    /**
     * The index of the outermost call of the public API (not a lambda of it, nor a class of the
     * library's nested in a public one, such as a body's wrapper or a stream's spliterator) among
     * {@code frames[from, to)}; -1 if none.
     */
    private static int outermostApiCall(StackTraceElement[] frames, int from, int to) {
        int api = -1;
        for (int j = from; j < to; j++) {
            if (API.contains(frames[j].getClassName()) && !frames[j].getMethodName().startsWith("lambda$")) {
                api = j;
            }
        }
        return api;
    }

    /** Whether {@code f} is the library's call of a function the user handed it ({@link Callback}). */
    private static boolean isCallback(StackTraceElement f) {
        return f.getClassName().equals("dev.coro.Callback");
    }

    /** Whether {@code f} is the library's machinery or any JDK frame (see {@link #isJdk}). */
    private static boolean isSwitchOrJdk(StackTraceElement f) {
        return LIBRARY.contains(outerClass(f)) || isJdk(f);
    }

    /**
     * Whether {@code f} is any JDK frame. Next to the library's frames they belong to the switch (a
     * context that has just handed the turn on may still be inside the unpark of the next one);
     * those between the library's frames and the user's, outwards, are the user's and are kept.
     */
    private static boolean isJdk(StackTraceElement f) {
        String n = f.getClassName();
        return n.startsWith("java.") || n.startsWith("jdk.") || n.startsWith("sun.");
    }

    private static String outerClass(StackTraceElement f) {
        String n = f.getClassName();
        int dollar = n.indexOf('$');
        return dollar < 0 ? n : n.substring(0, dollar);
    }
}
