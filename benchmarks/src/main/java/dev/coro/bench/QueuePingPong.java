package dev.coro.bench;

import java.util.concurrent.SynchronousQueue;

/**
 * Two threads A and B handing a token to each other through {@link SynchronousQueue}s, driven from
 * the thread that builds it (main).
 *
 * <p>One {@link #run()}: main puts the token to A; A and B make {@code transfers} one-way handoffs
 * (one {@code put}/{@code take} rendezvous each); A puts it back to main.
 */
public final class QueuePingPong implements AutoCloseable {
    private static final Object TOKEN = new Object();

    private final int half;
    private final SynchronousQueue<Object> toMain = new SynchronousQueue<>();
    private final SynchronousQueue<Object> toA = new SynchronousQueue<>();
    private final SynchronousQueue<Object> toB = new SynchronousQueue<>();
    private final Thread a;
    private final Thread b;

    /**
     * Starts A and B (they wait for the token).
     *
     * @param threads   how A and B are made: virtual or platform
     * @param transfers one-way handoffs between A and B per {@link #run()}; even
     */
    public QueuePingPong(Thread.Builder threads, int transfers) {
        this.half = transfers / 2;
        this.a = threads.unstarted(this::runA);
        this.b = threads.unstarted(this::runB);
        a.start();
        b.start();
    }

    /**
     * Main hands the token to A and waits for it back.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public void run() throws InterruptedException {
        toA.put(TOKEN);
        toMain.take();
    }

    private void runA() {
        try {
            while (true) {
                toA.take();
                for (int i = 0; i < half; i++) {
                    toB.put(TOKEN);
                    toA.take();
                }
                toMain.put(TOKEN);
            }
        } catch (InterruptedException stop) {
            // closed
        }
    }

    private void runB() {
        try {
            while (true) {
                toA.put(toB.take());
            }
        } catch (InterruptedException stop) {
            // closed
        }
    }

    /** Interrupts A and B and waits for them to end. */
    @Override
    public void close() throws InterruptedException {
        a.interrupt();
        b.interrupt();
        a.join();
        b.join();
    }
}
