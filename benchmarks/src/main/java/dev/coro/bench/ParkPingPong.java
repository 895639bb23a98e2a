package dev.coro.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * Two threads A and B handing a turn to each other with {@code LockSupport.park/unpark} and a
 * volatile turn flag, driven from the thread that builds it (main).
 *
 * <p>One {@link #run()}: main hands the turn to A; A and B make {@code transfers} one-way handoffs
 * (A to B, B to A, ...); A hands the turn back to main, which parks until it has it.
 */
final class ParkPingPong implements AutoCloseable {
    private static final int MAIN = 0;
    private static final int A = 1;
    private static final int B = 2;

    private final int half;
    private final Thread main;
    private final Thread a;
    private final Thread b;
    /** Who may run: MAIN, A or B. */
    private volatile int turn = MAIN;
    private volatile boolean stopped;

    /**
     * Starts A and B (they wait for their turn).
     *
     * @param threads   how A and B are made: virtual or platform
     * @param transfers one-way handoffs between A and B per {@link #run()}; even
     */
    ParkPingPong(Thread.Builder threads, int transfers) {
        this.half = transfers / 2;
        this.main = Thread.currentThread();
        this.a = threads.unstarted(this::runA);
        this.b = threads.unstarted(this::runB);
        a.start();
        b.start();
    }

    /** Main hands the turn to A and waits for it back; on return A and B made their handoffs. */
    void run() {
        pass(A, a);
        await(MAIN);
    }

    private void runA() {
        while (await(A)) {
            for (int i = 0; i < half; i++) {
                pass(B, b);
                if (!await(A)) {
                    return;
                }
            }
            pass(MAIN, main);
        }
    }

    private void runB() {
        while (await(B)) {
            pass(A, a);
        }
    }

    /** Parks until the turn is {@code me}; returns false if stopped first. */
    private boolean await(int me) {
        while (turn != me) {
            if (stopped) {
                return false;
            }
            LockSupport.park(this);
        }
        return true;
    }

    private void pass(int to, Thread t) {
        turn = to;
        LockSupport.unpark(t);
    }

    /** Stops A and B and waits for them to end. */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        LockSupport.unpark(a);
        LockSupport.unpark(b);
        a.join();
        b.join();
    }
}
