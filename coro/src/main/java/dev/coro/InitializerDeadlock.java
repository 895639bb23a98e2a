package dev.coro;

import java.lang.reflect.InvocationTargetException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * The one deadlock a thread-engine body can meet that the JDK does not report: a body whose code
 * belongs to a class that the waiting thread is still initializing, which no other thread may run
 * until that initializer returns, while the initializer waits for the body.
 *
 * <p>It is refused before it can happen ({@link #refuseIfWrittenInAClassBeingInitialized}): before a
 * body's thread starts, the starting thread looks whether the body's code is a lambda or a method
 * reference written in a class whose static initializer it is running, or the scheduler's own thread is
 * (main's, which waits below any other context that runs), and if so refuses the start, no thread
 * started. It must decide there: a body's thread that waits in the JVM for the class to be
 * initialized cannot be stopped, and enters the body the moment the initializer returns (if it
 * returns normally, having caught the refusal), with no frame of the library in between; refused after
 * it started, such a body would run anyway, outside any turn. From outside, the code of a lambda
 * class cannot tell whether it calls into the class it was written in (a lambda, or a reference to a
 * static method or a constructor of that class) or not (a reference to another class's method): both
 * are refused. The look costs a stack walk (and, on another thread than the scheduler's own, the stack
 * trace of that thread), made only for a body whose code is a lambda class none of whose bodies has
 * been inside its code yet (ended, or handed control back from inside it: a server's coroutines per
 * connection, which end late, pay it once): one that has got past its class's initialization (or
 * needs none), so that later starts of that code cannot wait for it.
 *
 * <p>A deadlock that begins further away (the thread of a coroutine, not main's, runs the initializer,
 * and the thread of another starts the body) is not seen: it shows only as a wait that does not end,
 * the body's thread reporting {@code RUNNABLE} while it waits for the class's initialization. A platform
 * thread (main's) that has waited a while for a body ({@link #STALL_NANOS}) still looks: if the body's
 * thread is about to enter a lambda of a class whose static initializer is on the waiting thread's own
 * stack (no frame of the body on its stack yet), the wait ends with a {@link PinnedException} saying so
 * instead of hanging; the look before the start leaves it nothing to find there but what it missed. A
 * body that has begun is running, whatever class its code belongs to, and is waited for. That refusal
 * is not sound: the abandoned thread still enters the body once the initializer returns, and the
 * transfer it refuses may have run bodies already; only the look before the start keeps a body from
 * running outside its turn.
 */
final class InitializerDeadlock {

    /** How long a platform thread waits for a body before it looks for this deadlock. */
    static final long STALL_NANOS = 200_000_000L;
    private static final StackWalker WALKER = StackWalker.getInstance();
    /** How many times a waiting thread has looked at the thread it waits for; for tests. */
    static volatile int looks;
    /** How many times a start has looked whether its body's code was written in a class being initialized; for tests. */
    static volatile int looksBeforeStart;

    private InitializerDeadlock() {
    }

    /**
     * Sets this class up (its stack walker, the call sites of its walk) by looking once, from a stack
     * with room: called as the thread engine's class is set up, so that the first body started near the
     * end of a thread's stack meets at worst a {@link StackOverflowError} of its own, never a failed
     * initialization of this class, which would refuse every later start in the JVM.
     */
    static void prepare() {
        Runnable lambda = () -> { };
        String writtenIn = ORIGINS.get(lambda.getClass()).get();
        initializing(writtenIn == null ? InitializerDeadlock.class.getName() : writtenIn, lambda.getClass());
    }

    /**
     * Where the code of each class of a body's code was written, while a start of that code must look: for a
     * lambda class ({@code C$$Lambda/0x...}, which a lambda or a method reference written in class {@code C}
     * makes), the binary name of {@code C} until a body of it has been inside its code (ended, or handed control
     * back from inside it), null then; null for a class that is no lambda class. The value is of the JDK's
     * classes only: a class value lives in the class it is computed for, perhaps one of a loader that outlives
     * the library's (an application's lambda, with a copy of the library in a loader of its own), and a value of
     * a class of the library would keep the library's loader from being collected.
     */
    private static final ClassValue<AtomicReference<String>> ORIGINS = new ClassValue<>() {
        @Override
        protected AtomicReference<String> computeValue(Class<?> type) {
            return new AtomicReference<>(type.isHidden() ? lambdaHost(type.getName()) : null);
        }
    };

    /**
     * Before a thread starts to run a body whose code is {@code code} ({@code what}, for the message):
     * throws if that code is a lambda or a method reference written in a class whose static initializer
     * the calling thread is running, or the scheduler's own thread {@code owner}, which waits below the
     * calling thread while it runs (the body's thread might wait for that class, and could not be stopped
     * from entering the body once the initializer returns); returns, if it may start, what to tell
     * {@link #ended} once the body has been inside its code (null if nothing).
     *
     * @throws PinnedException naming the class; nothing was started
     */
    static AtomicReference<String> refuseIfWrittenInAClassBeingInitialized(Object code, String what, Thread owner) {
        if (code == null) {
            return null;
        }
        Class<?> type = code.getClass();
        AtomicReference<String> origin = ORIGINS.get(type);
        String writtenIn = origin.get();
        if (writtenIn == null) {
            return null;
        }
        String who;
        looksBeforeStart++;
        if (initializing(writtenIn, type)) {
            who = "this thread is running";
        } else if (owner != null && owner != Thread.currentThread() && initializing(writtenIn, type, owner.getStackTrace())) {
            who = "main's thread is running, waiting below this one";
        } else {
            return origin;
        }
        throw PinnedException.initializing("the body of " + what + " is a lambda or a method reference written in class "
                + writtenIn + ", whose static initializer " + who + ": no other thread can use that class until its"
                + " initializer returns, and on the thread engine every body runs on a thread of its own; create it outside"
                + " that class (in a holder class, say), or use the continuation engine");
    }

    /**
     * Whether {@code frames}, another thread's, show it running the static initializer of class {@code writtenIn},
     * the class {@code type} was written in (known by its name and its loader's name).
     */
    private static boolean initializing(String writtenIn, Class<?> type, StackTraceElement[] frames) {
        ClassLoader loader = type.getClassLoader();
        String loaderName = loader == null ? null : loader.getName();
        for (StackTraceElement f : frames) {
            if (f.getMethodName().equals("<clinit>") && f.getClassName().equals(writtenIn)
                    && Objects.equals(f.getClassLoaderName(), loaderName)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Tells that a body whose start {@link #refuseIfWrittenInAClassBeingInitialized} returned
     * {@code origin} for has ended, or hands control back from inside its code, on its own thread: it got
     * past the initialization of the class its code was written in (or needed none, or met that class
     * failed), so no later start of that code can wait for an initializer.
     */
    static void ended(AtomicReference<String> origin) {
        if (origin != null) {
            origin.set(null);
        }
    }

    /** Whether the calling thread runs the static initializer of class {@code writtenIn}, the class {@code type} was written in. */
    private static boolean initializing(String writtenIn, Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        try {
            return CLASS_WALKER.walk(frames -> frames.anyMatch(f -> f.getMethodName().equals("<clinit>")
                    && f.getDeclaringClass().getName().equals(writtenIn)
                    && f.getDeclaringClass().getClassLoader() == loader));
        } catch (InternalError e) {
            throw overflowIn(e);
        }
    }

    /** A walker that keeps each frame's class: a class is known by its name and its loader. */
    private static final StackWalker CLASS_WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    /**
     * Throws if {@code holder}, the thread that runs {@code what}'s body {@code code}, waits for a class
     * that the calling thread is initializing: the body's code is a lambda of that class, or the
     * holder's frames show it entering one; returns otherwise.
     *
     * @throws PinnedException (stuck) naming the class, if the wait could never end
     */
    static void check(Thread holder, Object code, String what) {
        if (holder == null) {
            return;
        }
        looks++;
        check(holder.getStackTrace(), code, what);
    }

    private static void check(StackTraceElement[] holderFrames, Object code, String what) {
        String host = initializingHost(holderFrames, code);
        if (host != null && waitsAtEntry(holderFrames, host)) {
            throw PinnedException.stuck("the body of " + what + " is a lambda of class " + host
                    + ", whose static initializer this thread is running: no other thread can run the body"
                    + " until that initializer returns, and it waits for the body (on the thread engine"
                    + " every body runs on a thread of its own); create it outside the initializer (in a"
                    + " holder class, say), or use the continuation engine");
        }
    }

    /**
     * The class whose static initializer the calling thread is running and to which {@code code}'s
     * lambda class (or, failing that, a lambda among {@code holderFrames}) belongs; null if none.
     */
    private static String initializingHost(StackTraceElement[] holderFrames, Object code) {
        Set<String> initializing;
        try {
            initializing = WALKER.walk(frames -> frames
                    .filter(f -> f.getMethodName().equals("<clinit>"))
                    .map(StackWalker.StackFrame::getClassName)
                    .collect(Collectors.toSet()));
        } catch (InternalError e) {
            throw overflowIn(e);
        }
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
