package dev.coro;

import java.lang.reflect.InvocationTargetException;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The one deadlock a thread-engine body can meet that the JDK does not report: a body whose code
 * belongs to a class that the waiting thread is still initializing, which no other thread may run
 * until that initializer returns, while the initializer waits for the body.
 *
 * <p>It shows only as a wait that does not end: the body's thread reports {@code RUNNABLE} while it
 * waits for the class's initialization. So a platform thread that has waited a while for a body
 * ({@link #STALL_NANOS}) looks: if the body's thread is about to enter a lambda of a class whose static
 * initializer is on the waiting thread's own stack (no frame of the body on its stack yet), the deadlock
 * is certain, and the wait ends with a {@link PinnedException} saying so instead of hanging. A body
 * that has begun is running, whatever class its code belongs to, and is waited for. The check costs a
 * stack walk, and only after such a stall. A virtual thread, which cannot wait with a timeout at no
 * cost, looks once instead, before it starts a body's thread ({@link #runsAnInitializer}): a body it
 * starts inside a static initializer may wait for that initializer (its code a lambda of that class),
 * or wait for another body that does (a coroutine of another class that consumes a generator of that
 * class), or neither (a method reference to another class's method needs nothing of it), so it is
 * started, and only the waits for it are watched as a platform thread's are.
 *
 * <p>The refused body's thread is given up then, still in the JVM's wait, where nothing can stop it: if
 * the initializer catches the refusal and returns, that thread runs the body after all, outside its
 * scheduler, whose every call of coro it refuses ({@link LateBinding}).
 */
final class InitializerDeadlock {

    /** How long a platform thread waits for a body before it looks for this deadlock. */
    static final long STALL_NANOS = 200_000_000L;
    private static final StackWalker WALKER = StackWalker.getInstance();
    /** How many times a waiting thread has looked at the thread it waits for; for tests. */
    static volatile int looks;

    private InitializerDeadlock() {
    }

    /**
     * Sets this class up (its stack walker, the call sites of its walk) by looking once, from a stack
     * with room: called as the thread engine's class is set up, so that the first body started near the
     * end of a thread's stack meets at worst a {@link StackOverflowError} of its own, never a failed
     * initialization of this class, which would refuse every later start in the JVM.
     */
    static void prepare() {
        runsAnInitializer();
    }

    /**
     * The class that the calling thread is initializing and for which {@code holder}, the thread that runs
     * the body {@code code}, waits before the body's first frame: the body's code is a lambda of that class, or
     * the holder's frames show it entering one; null if it waits for none (or {@code holder} is null).
     */
    static String waitedFor(Thread holder, Object code) {
        if (holder == null) {
            return null;
        }
        looks++;
        StackTraceElement[] holderFrames = holder.getStackTrace();
        String host = initializingHost(holderFrames, code);
        return host != null && waitsAtEntry(holderFrames, host) ? host : null;
    }

    /**
     * The refusal of a start whose body, that of {@code what}, waits for the initializer of {@code host}
     * ({@link #waitedFor}), which the calling thread runs: the wait could never end.
     */
    static PinnedException stuck(String host, String what) {
        return PinnedException.stuck("the body of " + what + " is a lambda of class " + host
                + ", whose static initializer this thread is running: no other thread can run the body"
                + " until that initializer returns, and it waits for the body (on the thread engine"
                + " every body runs on a thread of its own); create it outside the initializer (in a"
                + " holder class, say), or use the continuation engine");
    }

    /**
     * Whether the calling thread, about to start a body on a thread of its own, is running a static
     * initializer: the body may wait for it (its code a lambda of that class), or for a body that does
     * (a coroutine of another class consuming a generator whose body is a lambda of that class), or
     * neither (a method reference to another class's method needs nothing of it). A virtual thread then
     * watches its waits for the body, as a platform thread always does, instead of refusing a body that
     * may well run (a stack walk per body started).
     */
    static boolean runsAnInitializer() {
        return !initializing().isEmpty();
    }

    /** The classes whose static initializers the calling thread is running. */
    private static Set<String> initializing() {
        try {
            return WALKER.walk(frames -> frames
                    .filter(f -> f.getMethodName().equals("<clinit>"))
                    .map(StackWalker.StackFrame::getClassName)
                    .collect(Collectors.toSet()));
        } catch (InternalError e) {
            throw overflowIn(e);
        }
    }

    /**
     * The class whose static initializer the calling thread is running and to which {@code code}'s
     * lambda class (or, failing that, a lambda among {@code holderFrames}) belongs; null if none.
     */
    private static String initializingHost(StackTraceElement[] holderFrames, Object code) {
        Set<String> initializing = initializing();
        if (initializing.isEmpty()) {
            return null;
        }
        String host = code == null ? null : lambdaHost(code.getClass().getName());
        if (host == null || !initializing.contains(host)) {
            host = null;
            for (StackTraceElement f : holderFrames) {
                String h = lambdaHost(f.getClassName());
                if (h != null && initializing.contains(h)) {
                    host = h;
                    break;
                }
            }
        }
        return host;
    }

    /**
     * Whether the holder, whose frames are {@code holderFrames} (innermost first), waits at the entry of
     * a lambda of {@code host}: the innermost frame is that lambda (shown only with hidden frames), or
     * nothing is on its stack above the engine's entry into the body but the library's calls of it (the
     * lambda's own frame hidden), so the body has not begun. A body that has begun (a method reference
     * to another class's method, running a while before it hands control back) is running, not waiting
     * for the class: a refusal would leave its thread running on beside the one that holds the turn.
     */
    private static boolean waitsAtEntry(StackTraceElement[] holderFrames, String host) {
        if (holderFrames.length != 0 && host.equals(lambdaHost(holderFrames[0].getClassName()))) {
            return true;
        }
        for (StackTraceElement f : holderFrames) {
            String c = f.getClassName();
            if (ENTRIES.contains(c) && f.getMethodName().equals("run")) {
                return true; // down to the engine's entry: no frame of the body on the way
            }
            if (!CALLS_OF_THE_BODY.contains(c)) {
                return false;
            }
        }
        return false;
    }

    /** The classes whose {@code run} is where a body's thread starts, on the thread engine. */
    private static final Set<String> ENTRIES = Set.of(ThreadEngine.ThreadStack.class.getName(),
            ThreadGeneratorStack.class.getName());
    /** The classes whose frames lie between the engine's entry and the body's code: the library's calls of the body. */
    private static final Set<String> CALLS_OF_THE_BODY = Set.of(Scheduler.class.getName(), Context.class.getName(),
            Coroutine.WithArgument.class.getName(), Generator.class.getName());

    /**
     * What a stack walk that failed threw, as the caller should see it: the JDK's walker reports a
     * {@link StackOverflowError} met while it fills its buffer of frames (near the end of the thread's
     * stack) as an {@link InternalError} around an {@code InvocationTargetException} around the
     * overflow; that overflow is given back as it is, so that the start it stopped fails as any call
     * that overflows there does. Anything else is returned unchanged.
     */
    static Error overflowIn(InternalError e) {
        return e.getCause() instanceof InvocationTargetException t && t.getCause() instanceof StackOverflowError overflow
                ? overflow : e;
    }

    /** The class that defines the lambda class {@code name} ({@code C$$Lambda/0x...}); null if it is none. */
    private static String lambdaHost(String name) {
        int k = name.indexOf("$$Lambda");
        return k > 0 ? name.substring(0, k) : null;
    }
}
