package dev.coro.bench;

import dev.coro.Coroutine;

/**
 * Two coroutines A and B switching to each other with {@code switchTo}, driven from main.
 *
 * <p>One {@link #run()}: main switches to A; A and B then make {@code transfers} one-way transfers
 * (A to B, B to A, ...); A switches back to main. Build it, run it and close it on one thread.
 */
final class CoroPingPong implements AutoCloseable {
    private final Coroutine a;
    private final Coroutine b;

    /**
     * Creates A and B in the calling thread's run list; neither runs yet.
     *
     * @param transfers one-way transfers between A and B per {@link #run()}; even
     */
    CoroPingPong(int transfers) {
        int half = transfers / 2;
        Coroutine main = Coroutine.current();
        Coroutine[] peer = new Coroutine[1];
        a = Coroutine.create("a", () -> {
            Coroutine other = peer[0];
            while (true) {
                for (int i = 0; i < half; i++) {
                    other.switchTo();
                }
                main.switchTo();
            }
        });
        Coroutine self = a;
        b = Coroutine.create("b", () -> {
            while (true) {
                self.switchTo();
            }
        });
        peer[0] = b;
    }

    /** Main switches to A, A and B exchange the transfers, A switches back; on return main runs. */
    void run() {
        a.switchTo();
    }

    /** Unwinds both coroutines. */
    @Override
    public void close() {
        a.close();
        b.close();
    }
}
