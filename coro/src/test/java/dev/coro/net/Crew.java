package dev.coro.net;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutineExit;
import java.util.ArrayList;
import java.util.List;

/**
 * The coroutines a network test starts on its thread, with a join that parks the caller until they
 * have all ended and then fails if any of them threw something unexpected.
 */
final class Crew {

    /** A coroutine's body, which may throw anything. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /** A body that runs in main and in a coroutine, given the caller's name as the library's messages give it. */
    @FunctionalInterface
    interface Caller {
        void run(String caller) throws Exception;
    }

    /** Runs {@code body} in main, then in a coroutine named {@code name}, failing if either fails. */
    static void inMainAndInACoroutine(String name, Caller body) throws Exception {
        body.run("main context 'main'");
        Crew crew = new Crew();
        crew.spawn(name, () -> body.run("coroutine '" + name + "'"));
        crew.join();
    }

    private final Channel<String> ended = new Channel<>("ended", Integer.MAX_VALUE);
    private final List<Throwable> failures = new ArrayList<>();
    private int running;

    /**
     * Starts a coroutine named {@code name} running {@code body}: what it throws is recorded for
     * {@link #join()}, a close of it unwinds it as usual.
     */
    Coroutine spawn(String name, Body body) {
        running++;
        return Coroutine.create(name, () -> {
            try {
                body.run();
            } catch (CoroutineExit e) {
                throw e;
            } catch (Throwable e) {
                failures.add(new AssertionError("coroutine '" + name + "' threw " + e, e));
            } finally {
                ended.trySend(name);
            }
        });
    }

    /** Parks the caller until one more coroutine of this crew has ended; returns its name. */
    String awaitOne() {
        String name = ended.receive();
        running--;
        return name;
    }

    /** Parks the caller until every coroutine of this crew has ended, then fails if any of them threw. */
    void join() {
        while (running > 0) {
            awaitOne();
        }
        check();
    }

    /** Fails if a coroutine of this crew threw. */
    void check() {
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError(failures.size() + " coroutines failed; the first: "
                    + failures.get(0).getMessage(), failures.get(0).getCause());
            for (Throwable f : failures.subList(1, Math.min(failures.size(), 5))) {
                e.addSuppressed(f);
            }
            throw e;
        }
    }

    /** How many of its coroutines have not ended yet (as far as the caller has seen). */
    int running() {
        return running;
    }
}
