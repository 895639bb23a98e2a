package dev.coro;

import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * The engine on {@code jdk.internal.vm.Continuation}: a symmetric switch built on the asymmetric
 * primitive by a trampoline on the owner thread's own stack.
 *
 * <p>Main's transfer runs the trampoline: it runs the target's continuation until that yields or
 * ends, then runs whichever context was chosen next, until main is chosen. A coroutine's transfer
 * records the target and yields its continuation back to the trampoline. No allocation per switch.
 */
final class ContinuationEngine extends Engine {

    /** The one continuation scope of the library's coroutines. */
    static final ContinuationScope SCOPE = new ContinuationScope("dev.coro");

    @Override
    String name() {
        return "continuation";
    }

    @Override
    Strand newStrand(Scheduler s, Coroutine co) {
        return new ContinuationStrand(co);
    }

    @Override
    void transfer(Scheduler s, Coroutine from, Coroutine to) {
        s.next = to;
        if (from == s.main) {
            trampoline(s);
        } else {
            Continuation.yield(SCOPE);
        }
    }

    /** Runs the chosen contexts one after another; on return, main is chosen. */
    private static void trampoline(Scheduler s) {
        Coroutine main = s.main;
        Coroutine t;
        while ((t = s.next) != main) {
            ((ContinuationStrand) t.strand).run();
        }
    }

    /**
     * A coroutine's continuation: on its end it names the next context for the trampoline.
     *
     * <p>Every strand shares one entry {@link Runnable} that finds its coroutine through the running
     * continuation, so a suspended coroutine holds no capturing lambda of its own.
     */
    static final class ContinuationStrand extends PinReportingContinuation implements Strand {
        /** Runs the body of the coroutine whose strand is running; on return it has ended. */
        private static final Runnable ENTRY = () -> {
            Coroutine co = ((ContinuationStrand) Continuation.getCurrentContinuation(SCOPE)).co;
            Scheduler s = co.scheduler;
            s.next = s.runToEnd(co);
        };

        /** The coroutine whose body this strand runs. */
        private final Coroutine co;

        ContinuationStrand(Coroutine co) {
            super(SCOPE, ENTRY);
            this.co = co;
        }

        @Override
        public StackTraceElement[] stackTrace() {
            return getStackTrace();
        }
    }
}
