package dev.coro;

import java.util.concurrent.atomic.AtomicReference;

/** Runs a call on another thread, started and joined here, and hands back what it threw. */
final class OtherThread {

    private OtherThread() {
    }

    /**
     * Runs {@code call} on a new platform thread named {@code name}.
     *
     * @return what the call threw, or null if it returned
     */
    static Throwable thrownOn(String name, Runnable call) throws InterruptedException {
        return thrownOn(Thread.ofPlatform().name(name), call);
    }

    /**
     * Runs {@code call} on a new thread made by {@code builder}.
     *
     * @return what the call threw, or null if it returned
     */
    static Throwable thrownOn(Thread.Builder builder, Runnable call) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = builder.unstarted(() -> {
            try {
                call.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        t.join();
        return thrown.get();
    }
}
