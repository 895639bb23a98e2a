package dev.coro;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * The engine on {@code jdk.internal.vm.Continuation}: a symmetric switch built on the asymmetric
 * primitive by a trampoline on the owner thread's own stack.
 *
 * <p>Main's transfer runs the trampoline: it runs the target's continuation until that yields or
 * ends, then runs whichever stack was chosen next, until main's is chosen. A coroutine's transfer
 * records the target and yields its continuation back to the trampoline. No allocation per switch.
 * Every context keeps its own scoped-value bindings across switches ({@link ScopedBindings}).
 * One object per scheduler: it holds the trampoline's next stack.
 */
final class ContinuationEngine implements Engine {

    /** The one continuation scope of the library's coroutines. */
    static final ContinuationScope SCOPE = new ContinuationScope("dev.coro");

    /**
     * What the JDK's {@code Continuation.yield} throws where no continuation of {@link #SCOPE} is on the
     * calling thread's stack: a context the scheduler holds running was suspended by another copy of this
     * library (another class loader's, whose scope is another), with the coroutine of that copy it runs in,
     * and the thread runs other code of that copy now ({@link PinnedException#notOnTheStack}).
     */
    static final String NOT_IN_SCOPE = "Not in scope dev.coro";

    /** Suspends a coroutine's continuation: back to the trampoline. */
    private static final Runnable YIELD = () -> Continuation.yield(SCOPE);

    private final Scheduler scheduler;
    /** Keeps each context's scoped-value bindings its own across switches. */
    private final ScopedBindings bindings = new ScopedBindings();
    /** Main's stack; null until the scheduler asked for it. */
    private MainStack main;
    /** The stack the trampoline runs next; main's when control goes back to main. */
    private Stack next;

    ContinuationEngine(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    @Override
    public Stack newStack(Context c) {
        if (c.isMain()) {
            main = new MainStack();
            return main;
        }
        return new CoroutineStack(this, c);
    }

    @Override
    public GeneratorStack newGeneratorStack(String name, Object code, Runnable body) {
        return new GeneratorContinuation(bindings, body);
    }

    /**
     * Main's trampoline runs {@code to}, or a coroutine's continuation yields to it, in one piece of
     * code for both (so that the switch compiles once, small enough for the JIT to inline it into
     * the caller's code, not as a frame of its own that every freeze and thaw would copy). A context
     * with scoped-value bindings suspends inside a fence ({@link ScopedBindings}); one without, the
     * common case, directly.
     */
    @Override
    public void transfer(Stack from, Stack to) {
        next = to;
        ScopedBindings b = bindings;
        MainStack m = main;
        if (b.bare()) {
            if (from != m) {
                Continuation.yield(SCOPE);
            } else {
                m.trampoline();
            }
            b.back();
        } else {
            b.fenced(from == m ? m.trampoline : YIELD);
        }
    }

    /** Every context runs on the owner thread. */
    @Override
    public Thread runner(Context c) {
        return scheduler.owner;
    }

    /** Main's stack: the owner thread's, on which the trampoline runs every other stack. */
    private final class MainStack implements Stack {
        private final Runnable trampoline = this::trampoline;

        @Override
        public void transferTo(Stack to) {
            transfer(this, to);
        }

        /** Runs the chosen stacks one after another; on return, main's is chosen. */
        private void trampoline() {
            Stack t;
            while ((t = next) != this) {
                t.resume();
            }
        }

        /** Nothing to do: main goes on when the trampoline it runs sees it chosen. */
        @Override
        public void resume() {
        }

        /** The calling thread's frames below main's trampoline: every context runs on top of main's stack. */
        @Override
        public StackTraceElement[] frames() {
            return StackTraces.belowTrampoline();
        }

        /** The calling thread's frames: running, main has no trampoline under it. */
        @Override
        public StackTraceElement[] runningFrames() {
            return StackTraces.aboveTrampoline();
        }
    }

    /**
     * A coroutine's continuation: on its end it names the next stack for the trampoline.
     *
     * <p>Every coroutine stack shares one entry {@link Runnable} that finds its context through the
     * running continuation, so a suspended coroutine holds no capturing lambda of its own.
     */
    static final class CoroutineStack extends PinReportingContinuation implements Stack {
        /** Runs the body of the context whose stack is running; on return it has ended. */
        private static final Runnable ENTRY = () -> {
            CoroutineStack self = (CoroutineStack) Continuation.getCurrentContinuation(SCOPE);
            self.engine.bindings.enter();
            self.engine.next = self.engine.scheduler.runToEnd(self.context).stack;
        };

        private final ContinuationEngine engine;
        /** The context whose body this stack runs. */
        private final Context context;

        CoroutineStack(ContinuationEngine engine, Context context) {
            super(SCOPE, ENTRY);
            this.engine = engine;
            this.context = context;
        }

        @Override
        public void transferTo(Stack to) {
            engine.transfer(this, to);
        }

        @Override
        public void resume() {
            run();
        }

        /**
         * The JDK's walk of this continuation, from the innermost generator's continuation nested in
         * it. That walk may stop at the entry of a generator's body: where a body's frames fill the
         * JDK's batches of frames exactly, it finds none beyond (JDK 25); the rest then comes from the
         * walkers of the continuations it left out, each walked alone.
         */
        @Override
        public StackTraceElement[] frames() {
            StackTraceElement[] frames = getStackTrace();
            if (frames.length == 0 || !isBodyEntry(frames[frames.length - 1])
                    || !(context.innermostGenerator != null && context.innermostGenerator.stack instanceof Continuation k)) {
                return frames;
            }
            for (int i = 0; i < frames.length - 1; i++) { // the walk crossed the continuations of the bodies entered before
                if (isBodyEntry(frames[i])) {
                    k = k.getParent();
                }
            }
            List<StackTraceElement> all = new ArrayList<>(Arrays.asList(frames));
            for (Continuation c = k.getParent(); c instanceof PinReportingContinuation p; c = c.getParent()) {
                StackTraceElement[] own = p.ownFrames();
                if (own == null) {
                    break; // no body started nested in it: no walker to finish with
                }
                all.addAll(Arrays.asList(own));
                if (p == this) {
                    break;
                }
            }
            return all.toArray(new StackTraceElement[0]);
        }

        /** Whether {@code f} is the outermost frame of a generator's continuation, where its body is entered. */
        private static boolean isBodyEntry(StackTraceElement f) {
            return f.getClassName().equals(GeneratorContinuation.class.getName() + "$Entry") && f.getMethodName().equals("run");
        }

        /** The calling thread's frames above main's trampoline, which runs this continuation. */
        @Override
        public StackTraceElement[] runningFrames() {
            return StackTraces.aboveTrampoline();
        }
    }
}
