package dev.coro;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A generator's stack on the thread engine: the body runs on a virtual thread of its own, started at
 * the first resume, and a strict handoff lets either the body or its consumer run, never both.
 *
 * <p>{@link #resume()} gives the body the turn, wakes its thread and parks the calling thread until
 * the body suspends or ends; {@link #suspend()} hands the turn back to that thread and parks the
 * body's. While the body runs, its thread runs the consuming context's code, so a
 * {@code Coroutine.yield()} in the body parks the body's thread in the scheduler's handoff, and a
 * later switch to the consumer wakes this thread, not the consumer's own. Each handoff carries the
 * context class loader and the interrupt flag with the turn, as body and consumer share one thread on
 * the continuation engine, and an interrupt of the consumer's thread while the body runs goes to the
 * body's thread (a cancelled task that consumes a generator ends a blocking call in its body). The thread ends right
 * after the body ends (returned, failed, or unwound by {@code close()}); a generator closed before
 * it ran never starts one; a suspended one dropped unclosed leaves its thread parked, garbage once
 * nothing refers to it, as for coroutines. The body's thread runs as the consumer's scheduler only
 * while it holds the turn, so a suspended generator kept after its thread ended does not keep that
 * thread's scheduler.
 */
final class ThreadGeneratorStack implements GeneratorStack, Runnable, LateBinding.Body {
    private final String name;
    /** The code the user gave for the body, for diagnostics. */
    private final Object code;
    private final Runnable body;
    /**
     * What {@link #turn} holds while it is the consumer's: not the consumer's thread, which a
     * generator that lives on would keep reachable (with its frames) after that consumer was
     * dropped; one consumer at most waits in {@link #resume()} at a time.
     */
    private static final Object CONSUMERS_TURN = new Object();
    /** The body's turn when it holds this stack, the consumer's when it holds {@link #CONSUMERS_TURN}. */
    private final Turn turn = new Turn();
    /** The body's thread, once started. */
    private Thread thread;
    /** While resumed: the thread parked in {@link #resume()}, which runs the consumer's code. */
    private Thread resumer;
    /** Looks for a wait that can never end, after a stall. */
    private final Runnable stalled = this::checkStall;
    /** Hands an interrupt of the waiting consumer's thread to the body's ({@link #relayInterrupt}). */
    private final BooleanSupplier relay = this::relayInterrupt;
    /**
     * From a resume until the body's thread takes it: the scheduler that thread runs as while it holds
     * the turn. Neither this stack nor that thread keeps it while the body is suspended (nor before its
     * first resume), so that a generator kept after its thread ended does not keep that thread's scheduler.
     */
    private Scheduler resumedAs;
    /**
     * The context that last resumed the body, read by its own thread's look after a stall ({@link
     * #checkStall}) for a generator nested in the body.
     */
    private Context resumedIn;
    /**
     * Whether a virtual thread started the body inside a static initializer, so that its waits for the
     * body are watched for that initializer's deadlock ({@link InitializerDeadlock#runsAnInitializer}).
     */
    private boolean watched;
    /**
     * The class in whose static initializer the body's start was refused, its thread abandoned
     * ({@link #checkStall}); read by that thread, if the initializer returns, for its refusals ({@link LateBinding}).
     */
    private String abandonedIn;
    /**
     * The refusal {@link #abandonIfStuck} hands the consumer with the turn, which its {@link #resume()} throws;
     * null otherwise. Written before the turn is given, read after it is taken.
     */
    private PinnedException refusedFromAfar;

    ThreadGeneratorStack(String name, Object code, Runnable body) {
        this.name = name;
        this.code = code;
        this.body = body;
    }

    @Override
    public Thread thread() {
        return thread;
    }

    /**
     * {@inheritDoc}
     *
     * @throws PinnedException if no virtual thread could be started for the body (it did not run), or
     *                         if the body can never run (a class-initializer deadlock: stuck)
     */
    @Override
    public void resume() {
        Scheduler s = Scheduler.current();
        if (thread == null) {
            watched = Thread.currentThread().isVirtual() && InitializerDeadlock.runsAnInitializer();
            thread = ((ThreadEngine) s.engine).start("coro generator " + name, this, "generator '" + SafeText.name(name) + "'");
        }
        StackProbe.probe();
        s.generatorHandoffs++; // for the blocked-loop watchdog: the context's code goes on, on the body's thread
        Thread self = Thread.currentThread();
        resumer = self;
        resumedAs = s;
        resumedIn = s.currentContext();
        ThreadEngine.handLoaderAndInterrupt(thread);
        turn.give(this);
        LockSupport.unpark(thread);
        turn.awaitRelaying(CONSUMERS_TURN, stalled, watched, relay);
        PinnedException refused = refusedFromAfar;
        if (refused != null) { // the body can never run, found by the thread that waits for this consumer
            refusedFromAfar = null;
            if (thread.isInterrupted()) {
                Thread.currentThread().interrupt(); // as checkStall: an interrupt handed to the thread given up comes back
            }
            throw refused;
        }
    }

    /**
     * From the thread that waits for this generator's consumer, itself waiting here while it holds its
     * scheduler's turn (a thread in a class initializer, whose wait is watched, waiting for a coroutine, or
     * a generator's body, that consumes this generator, whose wait is not): if the body can never run (its
     * code is a lambda of the class that thread is initializing: {@link InitializerDeadlock}), gives up the
     * body's thread as {@link #checkStall} does, and hands the consumer the turn with the refusal, which its
     * {@link #resume()} throws: the generator is refused, not its consumer, which runs on in its turn.
     *
     * @return whether it did
     */
    boolean abandonIfStuck() {
        String host = InitializerDeadlock.waitedFor(thread, code);
        if (host == null) {
            return false;
        }
        PinnedException e = InitializerDeadlock.stuck(host, describe());
        Thread consumer;
        synchronized (turn) {
            if (turn.holder() != this || abandonedIn != null) {
                return false; // handed back meanwhile, or given up by the consumer's own look
            }
            consumer = resumer;
            resumer = null;
            resumedAs = null;
            resumedIn = null;
            abandonedIn = host;
            refusedFromAfar = e;
            turn.give(CONSUMERS_TURN);
        }
        LockSupport.unpark(consumer);
        return true;
    }

    /**
     * While the consumer waits: an interrupt of its thread goes to the body's, which runs the
     * consumer's code now, as the one thread of the continuation engine would be interrupted in the
     * body (a blocking JDK call there ends); false if the body has handed the turn back meanwhile, its
     * own interrupt with it, so that the consumer keeps this one. Under the lock of {@link #handBack},
     * so that the interrupt reaches the body before it hands back, or the consumer after.
     */
    private boolean relayInterrupt() {
        synchronized (turn) {
            if (turn.holder() != this) {
                return false;
            }
            thread.interrupt();
            return true;
        }
    }

    /**
     * While the consumer waits: throws if the body can never run (a class-initializer deadlock). The
     * body's thread, abandoned then, never ran the body: the consumer takes back the interrupt it handed
     * or relayed to that thread, which hands it nothing more (nor its context class loader) if the
     * initializer lets it run later. A body that has begun and waits, as the consumer, in the
     * {@code next()} of a generator nested in it whose body can never run, has that generator refused in
     * it ({@link #abandonIfStuck}), and runs on; this wait goes on.
     */
    private void checkStall() {
        String host = InitializerDeadlock.waitedFor(thread, code);
        if (host == null) {
            Context in = resumedIn; // its innermost generator is the body's, written by the body's thread: read as it is
            if (in != null && in.innermostGenerator instanceof Generator<?> g && g.stack instanceof ThreadGeneratorStack gs
                    && gs != this) {
                gs.abandonIfStuck();
            }
        } else {
            PinnedException e = InitializerDeadlock.stuck(host, describe());
            synchronized (turn) {
                resumer = null;
                resumedAs = null; // the abandoned thread never runs as the consumer's scheduler, nor keeps it
                resumedIn = null;
                abandonedIn = host;
            }
            if (thread.isInterrupted()) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
    }

    @Override
    public void suspend() {
        StackProbe.probe();
        handBack();
        turn.await(this);
        takeTurn();
    }

    /**
     * The body's thread: waits for the first resume, runs the body, hands the turn back for good. It runs as
     * the consumer's scheduler from the body's first call of coro on ({@link LateBinding}), not before: a thread
     * abandoned before the body began never does.
     */
    @Override
    public void run() {
        LateBinding.expect(this);
        turn.await(this);
        try {
            body.run();
        } finally {
            handBack();
        }
    }

    @Override
    public String givenUpIn() {
        synchronized (turn) {
            return abandonedIn;
        }
    }

    @Override
    public Scheduler runsAs() {
        return resumedAs;
    }

    @Override
    public String describe() {
        return "generator '" + SafeText.name(name) + "'";
    }

    @Override
    public String leftAs() {
        return "FAILED";
    }

    /** On the body's thread, given the turn: runs as the scheduler the resume handed over, and drops it here. */
    private void takeTurn() {
        Scheduler.bind(resumedAs);
        resumedAs = null;
    }

    /**
     * Gives the turn back to the thread parked in {@link #resume()} and wakes it; the body's thread no
     * longer runs as the scheduler (the next resume hands it over again).
     */
    private void handBack() {
        Thread r = resumer;
        resumer = null;
        resumedAs = null; // not taken if the body's first turn made no call of coro
        resumedIn = null; // nor the consumer's context kept: a generator that lives on does not keep it reachable
        Scheduler.bind(null);
        synchronized (turn) { // an interrupt the consumer relays (relayInterrupt) comes before, and goes back with the turn, or after
            if (r != null) {
                ThreadEngine.handLoaderAndInterrupt(r);
            }
            turn.give(CONSUMERS_TURN);
        }
        LockSupport.unpark(r);
    }
}
