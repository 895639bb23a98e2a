package dev.coro;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The carrier threads of the JVM's virtual threads, for tests whose programs need more than one: how many
 * there are, and the assumption of a second one on the thread engine, where a coroutine's body is a virtual
 * thread that may keep its carrier (parked under a native frame, or yielding in a loop with nothing else of
 * its thread to run, since the JDK never preempts a virtual thread).
 */
final class Carriers {

    private Carriers() {
    }

    /** How many carrier threads run virtual threads: the JDK's default (one per processor), or what the JVM was told. */
    static int count() {
        return Integer.getInteger("jdk.virtualThreadScheduler.parallelism", Runtime.getRuntime().availableProcessors());
    }

    /**
     * Skips the test on the thread engine with one carrier (a one-core machine, or a run pinned to one
     * processor), where its program cannot end and the context that keeps the carrier would hold it for
     * the JVM's life, every later test that needs one hanging too.
     *
     * @param why what keeps the carrier, and what needs the second one
     */
    static void assumeASecondOnTheThreadEngine(String why) {
        assumeTrue(!Engines.running().equals("threads") || count() >= 2, why);
    }
}
