package dev.coro.bench;

import dev.coro.Coroutine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import jdk.internal.vm.Continuation;

/**
 * Question 6: how many bytes of heap does one suspended coroutine hold, against a raw continuation
 * suspended at the same stack depth, measured in the same process?
 *
 * <p>A plain program, not JMH: heap-in-use deltas around forced full GCs ({@code System.gc()}, then
 * {@link MemoryMXBean#getHeapMemoryUsage()}). For each depth (1 frame with 1,000,000 kept; 20 frames
 * with 100,000 kept) it suspends that many raw continuations, then that many coroutines, each in a
 * chain of {@code depth} frames of the same recursive method whose innermost frame suspends (a raw
 * {@code Continuation.yield}; a coroutine's {@code switchTo} back to main). The holder array is
 * allocated before the first reading, so it is not counted; the run list of the library is. A
 * warm-up round first lets the JIT compile the frames, so the chunks hold compiled frames, as in steady state.
 *
 * <p>Run it with the flags of {@link #JVM_FLAGS}: compilation in the foreground (so the warm-up really
 * ends with compiled frames) and the two suspend methods never inlined into the recursive frames. Without
 * the latter, C2 inlines the whole suspension path into every frame of the chain and sizes each frame
 * for it, so the comparison would measure inlining decisions rather than the library.
 *
 * <p>Run: {@code benchmarks/run.sh memory} (prints a table; with an argument, also writes JSON there).
 */
public final class MemoryFootprint {

    /** The JVM flags this program expects besides the exports; {@code run.sh memory} passes them. */
    public static final String JVM_FLAGS = "-XX:-BackgroundCompilation "
            + "-XX:CompileCommand=quiet -XX:CompileCommand=dontinline,dev.coro.bench.MemoryFootprint::*Suspend";
    /** The same as {@link #JVM_FLAGS}, for the Javadoc. */
    static final String DONT_INLINE = JVM_FLAGS;

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();
    /** Main's handle, where the innermost coroutine frame switches to (a field: the frames match the raw ones). */
    private static Coroutine mainHandle;

    private MemoryFootprint() {
    }

    /**
     * Measures and prints bytes per suspended context; writes JSON to {@code args[0]} if given.
     *
     * @param args optional output file
     * @throws IOException if the JSON cannot be written
     */
    public static void main(String[] args) throws IOException {
        // warm-up: compile the frames that get frozen
        for (int round = 0; round < 4; round++) {
            raw(1, 50_000);
            coro(1, 50_000);
            raw(20, 20_000);
            coro(20, 20_000);
        }
        int[][] cases = {{1, 1_000_000}, {20, 100_000}};
        StringBuilder json = new StringBuilder("[\n");
        for (int k = 0; k < cases.length; k++) {
            int depth = cases[k][0];
            int count = cases[k][1];
            double raw = raw(depth, count);
            double coro = coro(depth, count);
            System.out.printf(Locale.ROOT, "depth %2d, %,9d kept: raw continuation %7.1f B, coroutine %7.1f B, ratio %.3f%n",
                    depth, count, raw, coro, coro / raw);
            json.append(String.format(Locale.ROOT,
                    "  {\"depth\": %d, \"count\": %d, \"rawBytes\": %.1f, \"coroBytes\": %.1f}%s%n",
                    depth, count, raw, coro, k + 1 < cases.length ? "," : ""));
        }
        json.append("]\n");
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), json);
        }
    }

    /** Bytes per raw continuation suspended {@code depth} frames deep, {@code count} of them kept. */
    static double raw(int depth, int count) {
        Continuation[] kept = new Continuation[count];
        Runnable body = () -> rawDive(depth);
        long before = usedAfterGc();
        for (int i = 0; i < count; i++) {
            Continuation c = new Continuation(RawPingPong.SCOPE, body);
            c.run();
            kept[i] = c;
        }
        long after = usedAfterGc();
        for (Continuation c : kept) {
            c.run();
        }
        return (after - before) / (double) count;
    }

    /** Bytes per coroutine suspended {@code depth} frames deep, {@code count} of them kept. */
    static double coro(int depth, int count) {
        Coroutine[] kept = new Coroutine[count];
        mainHandle = Coroutine.current();
        Runnable body = () -> coroDive(depth);
        long before = usedAfterGc();
        for (int i = 0; i < count; i++) {
            Coroutine c = Coroutine.create(body);
            c.switchTo();
            kept[i] = c;
        }
        long after = usedAfterGc();
        // main's yield resumes the last one; each that returns is removed and the one before runs
        Coroutine.yield();
        if (!kept[0].isFinished()) {
            throw new IllegalStateException("coroutines left unfinished after the measurement");
        }
        return (after - before) / (double) count;
    }

    private static void rawDive(int depth) {
        if (depth <= 1) {
            rawSuspend();
        } else {
            rawDive(depth - 1);
        }
    }

    private static void coroDive(int depth) {
        if (depth <= 1) {
            coroSuspend();
        } else {
            coroDive(depth - 1);
        }
    }

    /** Suspends a raw continuation; kept out of line (see {@link #DONT_INLINE}) so the dive frames match. */
    static void rawSuspend() {
        Continuation.yield(RawPingPong.SCOPE);
    }

    /** Suspends a coroutine back to main; kept out of line (see {@link #DONT_INLINE}) so the dive frames match. */
    static void coroSuspend() {
        mainHandle.switchTo();
    }

    /** Heap in use after full collections, in bytes. */
    private static long usedAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, MEMORY.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
