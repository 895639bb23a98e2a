package dev.coro;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDesc;
import java.lang.constant.DirectMethodHandleDesc;
import java.lang.invoke.LambdaMetafactory;
import java.lang.reflect.InvocationTargetException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
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
 * cost, looks once instead, before it starts a body's thread ({@link #mayWaitForInitializer}): a body
 * whose lambda class belongs to a class it is initializing may wait for that initializer, or may not
 * (a method reference to another class's method needs nothing of it), so it is started, and only the
 * waits for it are watched as a platform thread's are.
 *
 * <p>A body's thread that such a refusal abandoned must never run the body: once the initializer
 * returns (it may catch the refusal and complete), the thread would go on into the body beside the
 * context that holds the turn. So a body's thread first waits, in the library's own code, for the
 * initialization that its code's first call needs ({@link #awaitInitializerOf}), and runs the body only
 * if it was not abandoned meanwhile. Which class that is, the body's lambda class does not say (a
 * lambda of a class and a method reference to another class's method, both made in that class, look
 * alike): the class file of the class that made it does, read once per such class.
 */
final class InitializerDeadlock {

    /** How long a platform thread waits for a body before it looks for this deadlock. */
    static final long STALL_NANOS = 200_000_000L;
    private static final StackWalker WALKER = StackWalker.getInstance();
    /** How many times a waiting thread has looked at the thread it waits for; for tests. */
    static volatile int looks;
    /** The thread of the last body a refusal abandoned, found waiting for an initializer; for tests. */
    static volatile Thread abandoned;

    private InitializerDeadlock() {
    }

    /**
     * Sets this class up (its stack walker, the call sites of its walk, the JDK's class-file reader that
     * {@link #awaitInitializerOf} uses) by looking once, from a stack with room: called as the thread
     * engine's class is set up, so that the first body started near the end of a thread's stack meets at
     * worst a {@link StackOverflowError} of its own, never a failed initialization of this class (or of
     * the reader's), which would refuse every later start in the JVM.
     */
    static void prepare() {
        mayWaitForInitializer(new Object());
        NEEDING.get(InitializerDeadlock.class); // the JDK's class-file reader too, set up here, not near a stack's end
    }

    /**
     * Throws if {@code holder}, the thread that runs {@code what}'s body {@code code}, waits for a class
     * that the calling thread is initializing: the body's code is a lambda of that class, or the
     * holder's frames show it entering one; returns otherwise.
     *
     * @throws PinnedException (stuck) naming the class, if the wait could never end
     */
    static void check(Thread holder, Object code, String what) {
        check(holder, code, what, null);
    }

    /**
     * {@link #check(Thread, Object, String)} for a thread that waits for a body while {@code owner}, the
     * thread of its scheduler's main, waits for it: a class that the owner is initializing can no more be
     * initialized until the body runs than one the calling thread is (a generator's body waited for by a
     * coroutine that main waits for, inside that initializer).
     *
     * @param owner the scheduler's own thread, when the calling thread is not it; null for none
     * @throws PinnedException (stuck) naming the class, if the wait could never end
     */
    static void check(Thread holder, Object code, String what, Thread owner) {
        if (holder == null) {
            return;
        }
        looks++;
        check(holder.getStackTrace(), code, what, owner);
    }

    /**
     * {@link #mayWaitForInitializer(Object)}, or, for a calling thread other than {@code owner} (its
     * scheduler's own thread, which waits for it), whether {@code code} needs a class initialized that is
     * not yet seen so and that the owner is initializing (a look at the owner's frames, only then).
     */
    static boolean mayWaitForInitializer(Object code, Thread owner) {
        if (mayWaitForInitializer(code)) {
            return true;
        }
        if (code == null || owner == null || owner == Thread.currentThread()) {
            return false;
        }
        AtomicReference<Class<?>> needed = NEEDED.get(code.getClass());
        Class<?> host = needed == null ? null : needed.get();
        return host != null && initializing(owner.getStackTrace()).contains(host.getName());
    }

    /** The classes whose static initializer is among {@code frames}. */
    private static Set<String> initializing(StackTraceElement[] frames) {
        Set<String> classes = new HashSet<>();
        for (StackTraceElement f : frames) {
            if (f.getMethodName().equals("<clinit>")) {
                classes.add(f.getClassName());
            }
        }
        return classes;
    }

    /** Records {@code holder} as the thread a refusal abandoned ({@link #abandoned}). */
    static void abandon(Thread holder) {
        abandoned = holder;
    }

    /**
     * Whether {@code code}, a body about to start on a thread of its own, is a lambda (or a method
     * reference) of a class that the calling thread is initializing: a body that may wait for that
     * initializer, or may not (a method reference to another class's method needs nothing of it). A
     * virtual thread then watches its wait for the body, as a platform thread always does, instead of
     * refusing a body that may well run (a stack walk per body started).
     */
    static boolean mayWaitForInitializer(Object code) {
        return initializingHost(new StackTraceElement[0], code, null) != null;
    }

    private static void check(StackTraceElement[] holderFrames, Object code, String what, Thread owner) {
        String host = initializingHost(holderFrames, code, owner);
        if (host != null && waitsAtEntry(holderFrames, host)) {
            throw PinnedException.stuck("the body of " + what + " is a lambda of class " + host
                    + ", whose static initializer this thread is running: no other thread can run the body"
                    + " until that initializer returns, and it waits for the body (on the thread engine"
                    + " every body runs on a thread of its own); create it outside the initializer (in a"
                    + " holder class, say), or use the continuation engine");
        }
    }

    /**
     * The class whose static initializer the calling thread (or {@code owner}, if given and another
     * thread) is running and to which {@code code}'s lambda class (or, failing that, a lambda among
     * {@code holderFrames}) belongs; null if none.
     */
    private static String initializingHost(StackTraceElement[] holderFrames, Object code, Thread owner) {
        Set<String> initializing;
        try {
            initializing = WALKER.walk(frames -> frames
                    .filter(f -> f.getMethodName().equals("<clinit>"))
                    .map(StackWalker.StackFrame::getClassName)
                    .collect(Collectors.toSet()));
        } catch (InternalError e) {
            throw overflowIn(e);
        }
        if (owner != null && owner != Thread.currentThread()) {
            initializing = new HashSet<>(initializing);
            initializing.addAll(initializing(owner.getStackTrace()));
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
    /**
     * The classes whose frames lie between the engine's entry and the body's code: the library's calls of
     * the body, and its wait for the initializer the body needs ({@link #awaitInitializerOf}).
     */
    private static final Set<String> CALLS_OF_THE_BODY = Set.of(Scheduler.class.getName(), Context.class.getName(),
            Coroutine.WithArgument.class.getName(), Generator.class.getName(), InitializerDeadlock.class.getName(),
            Class.class.getName());

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

    /**
     * On a body's thread, before the body: waits until the class whose initialization the first call of
     * {@code code} (the body the user gave) needs is initialized, if it is not yet; returns at once if
     * it is, or if that call needs none. The wait is in the library's code, seen by {@link #check} as a
     * body's thread at its entry, so that a body refused meanwhile can return without running. A class
     * whose initialization failed is left to the body, which meets the error itself; so is a class file
     * that no memory was left to read (the body then runs, as it would without this wait): nothing
     * escapes here, before the body's thread could hand the turn on.
     */
    static void awaitInitializerOf(Object code) {
        if (code == null) {
            return;
        }
        AtomicReference<Class<?>> needed;
        try {
            needed = NEEDED.get(code.getClass());
        } catch (OutOfMemoryError e) {
            return;
        }
        Class<?> host = needed == null ? null : needed.get();
        if (host == null) {
            return;
        }
        try {
            Class.forName(host.getName(), true, host.getClassLoader());
            needed.set(null); // a body's thread never initializes a class recursively: a return means done
        } catch (LinkageError | ClassNotFoundException e) {
            // an initializer that failed, or a class gone: the body's own call meets it
        }
    }

    /**
     * For a lambda class: the class whose initialization its call needs ({@link #needed}) until a body's
     * thread saw it initialized (then empty), or null if none. The value is of the JDK's classes only: it
     * is kept in the lambda class, which may belong to a loader that outlives this copy of the library.
     */
    private static final ClassValue<AtomicReference<Class<?>>> NEEDED = new ClassValue<>() {
        @Override
        protected AtomicReference<Class<?>> computeValue(Class<?> lambda) {
            Class<?> host = needed(lambda);
            return host == null ? null : new AtomicReference<>(host);
        }
    };

    /**
     * For a class that made lambdas: the interfaces of those whose call needs it initialized (of the JDK's
     * classes, as {@link #NEEDED}); null if its class file cannot be read.
     */
    private static final ClassValue<Set<ClassDesc>> NEEDING = new ClassValue<>() {
        @Override
        protected Set<ClassDesc> computeValue(Class<?> host) {
            return needingInterfaces(host);
        }
    };

    private static final ClassDesc METAFACTORY = LambdaMetafactory.class.describeConstable().orElseThrow();

    /**
     * The class that made the lambda class {@code lambda} if a lambda of that class with one of its
     * interfaces calls a static method or a constructor of that class, which needs it initialized (any
     * lambda of a class that calls that class's code does, through the static method the compiler made
     * of it), or if that class's class file cannot be read (it may: a method reference to another class's
     * method, run in that class's initializer, is then refused as a lambda of it would be, instead of a
     * body's thread left to run on its own); null if none does (a method reference to another class's
     * method), or if {@code lambda} is no lambda class.
     */
    private static Class<?> needed(Class<?> lambda) {
        String name = lambdaHost(lambda.getName());
        if (name == null) {
            return null;
        }
        try {
            Class<?> host = Class.forName(name, false, lambda.getClassLoader());
            Set<ClassDesc> needing = NEEDING.get(host);
            if (needing == null) {
                return host; // unread: it may need it, so a body's thread waits, refused rather than left to run on its own
            }
            for (Class<?> i : lambda.getInterfaces()) {
                if (needing.contains(i.describeConstable().orElse(null))) {
                    return host;
                }
            }
            return null;
        } catch (ClassNotFoundException | LinkageError | SecurityException e) {
            return null;
        }
    }

    /**
     * The interfaces of the lambdas {@code host}'s code makes that call a static method or a constructor of
     * {@code host}; null if its class file cannot be read.
     */
    private static Set<ClassDesc> needingInterfaces(Class<?> host) {
        Set<ClassDesc> needing = new HashSet<>();
        try (InputStream in = host.getResourceAsStream("/" + host.getName().replace('.', '/') + ".class")) {
            if (in == null) {
                return null;
            }
            ClassModel model = ClassFile.of().parse(in.readAllBytes());
            ClassDesc self = model.thisClass().asSymbol();
            for (MethodModel m : model.methods()) {
                CodeModel code = m.code().orElse(null);
                if (code == null) {
                    continue;
                }
                for (CodeElement e : code) {
                    if (e instanceof InvokeDynamicInstruction indy && indy.bootstrapMethod().owner().equals(METAFACTORY)
                            && indy.bootstrapArgs().size() > 1 && callsIntoItself(indy.bootstrapArgs().get(1), self)) {
                        needing.add(indy.typeSymbol().returnType());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return needing;
    }

    /** Whether {@code impl}, a lambda's implementation, is a static method or a constructor of {@code self}. */
    private static boolean callsIntoItself(ConstantDesc impl, ClassDesc self) {
        return impl instanceof DirectMethodHandleDesc d && d.owner().equals(self) && switch (d.kind()) {
            case STATIC, INTERFACE_STATIC, CONSTRUCTOR -> true;
            default -> false;
        };
    }

    /** The class that defines the lambda class {@code name} ({@code C$$Lambda/0x...}); null if it is none. */
    private static String lambdaHost(String name) {
        int k = name.indexOf("$$Lambda");
        return k > 0 ? name.substring(0, k) : null;
    }
}
