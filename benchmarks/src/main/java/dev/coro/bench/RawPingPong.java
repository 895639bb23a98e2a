package dev.coro.bench;

import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * The raw-continuation version of {@link CoroPingPong}: two {@link Continuation}s A and B, each of
 * which names the other and yields to a trampoline on main's stack that runs whichever was named.
 *
 * <p>One {@link #run()}: the trampoline runs A; A and B make {@code transfers} one-way transfers
 * (each a yield of one continuation plus a {@code run()} of the other); A names no one and the
 * trampoline returns.
 */
final class RawPingPong {
    /** The scope of every raw continuation in the benchmarks. */
    static final ContinuationScope SCOPE = new ContinuationScope("dev.coro.bench");

    private Continuation a;
    private Continuation b;
    /** The continuation the trampoline runs next; null: back to main. */
    private Continuation next;

    /**
     * Creates A and B; neither runs yet.
     *
     * @param transfers one-way transfers between A and B per {@link #run()}; even
     */
    RawPingPong(int transfers) {
        int half = transfers / 2;
        a = new Continuation(SCOPE, () -> {
            while (true) {
                for (int i = 0; i < half; i++) {
                    next = this.b;
                    Continuation.yield(SCOPE);
                }
                next = null;
                Continuation.yield(SCOPE);
            }
        });
        b = new Continuation(SCOPE, () -> {
            while (true) {
                next = this.a;
                Continuation.yield(SCOPE);
            }
        });
    }

    /** The trampoline: runs A, then whoever was named, until no one is; on return main runs. */
    void run() {
        next = a;
        Continuation c;
        while ((c = next) != null) {
            c.run();
        }
    }
}
