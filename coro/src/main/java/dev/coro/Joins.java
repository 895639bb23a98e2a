package dev.coro;

/** Waiting for threads to end without giving up on an interrupt: the interrupt is kept for the caller. */
final class Joins {

    private Joins() {
    }

    /**
     * Waits until {@code t} has terminated, however often the caller is interrupted meanwhile; the
     * caller's interrupt status is set again afterwards if an interrupt came.
     */
    static void uninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
