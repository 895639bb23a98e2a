package dev.coro;

/**
 * A check, before a thread hands its turn away, that it has the stack its wait for the turn will
 * need: so that a stack overflow strikes before anything was transferred, never while two threads
 * hold the turn.
 *
 * <p>Handing the turn away and then parking cannot be undone halfway: if parking overflowed the
 * stack after the turn was given, the giver would run on beside the new holder. So the thread engine
 * first calls {@link #probe}, which descends {@value #FRAMES} frames, each keeping eight longs alive
 * across its call (several times what {@code LockSupport.park} and a virtual thread's unmount use);
 * a {@link StackOverflowError} then is thrown before the transfer, where the scheduler puts every
 * state back and the caller gets the error as its own.
 *
 * <p>The margin is also what keeps a parked virtual thread resumable: the JDK resumes one only if its
 * carrier has room for all its frozen frames and some hundred bytes more, so a park that froze right
 * at the stack's end could never be resumed (JDK 25.0.3 then crashes, throwing the overflow from
 * {@code Continuation.run} on the carrier). Measured on the scenes of {@code StackExhaustionTest}, a
 * park at every depth near the end on the thread engine: with a probe of 1 or 8 frames the JVM
 * crashed so within a minute, and once two threads ran one scheduler (an overflow after the turn
 * was given); with 16 frames ten rounds passed, and with {@value #FRAMES} sixty. The probe is paid at
 * every switch of the thread engine, so it is not made deeper than that measure asks.
 */
final class StackProbe {

    /** How many frames the probe descends. */
    static final int FRAMES = 32;

    private StackProbe() {
    }

    /**
     * Descends {@link #FRAMES} frames and returns.
     *
     * @throws StackOverflowError if the calling thread's stack is too short for a wait
     */
    static void probe() {
        descend(FRAMES, 1, 2, 3, 4, 5, 6, 7, 8);
    }

    private static long descend(int n, long a, long b, long c, long d, long e, long f, long g, long h) {
        if (n == 0) {
            return a;
        }
        long r = descend(n - 1, b, c, d, e, f, g, h, a);
        return r + a + b + c + d + e + f + g + h;
    }
}
