package dev.coro.bench.probe;

import dev.coro.bench.VirtualTimeDelayBenchmark;
import java.time.Duration;
import java.util.Locale;

/**
 * The sleep target's workload, or the same with yields, run again and again for a given time: a
 * steady process for a profiler to attach to (1,000 coroutines × 100 sleeps of 1 to 100 ms under
 * virtual time, the table of {@link VirtualTimeDelayBenchmark}, one {@code Duration} per distinct
 * value; or as many yields). Prints the ns per op of every 50th run.
 *
 * <p>Run: {@code benchmarks/run.sh probe SleepLoop sleep|yield SECONDS}, e.g. with
 * {@code PROBE_FLAGS="-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer"}
 * and {@code perf record -g -p PID} once it is warm.
 */
public final class SleepLoop {

    private SleepLoop() {
    }

    /**
     * Runs the workload until the time is up.
     *
     * @param args {@code sleep} or {@code yield}, then the seconds to run
     */
    public static void main(String[] args) {
        boolean sleep = args[0].equals("sleep");
        long end = System.nanoTime() + Long.parseLong(args[1]) * 1_000_000_000L;
        Duration[] table = VirtualTimeDelayBenchmark.durations(VirtualTimeDelayBenchmark.delays());
        long sink = 0;
        for (long run = 1; System.nanoTime() < end; run++) {
            long t0 = System.nanoTime();
            sink += sleep ? VirtualTimeDelayBenchmark.sleepers(table, VirtualTimeDelayBenchmark.COROUTINES)
                    : VirtualTimeDelayBenchmark.yielders(VirtualTimeDelayBenchmark.COROUTINES, VirtualTimeDelayBenchmark.DELAYS_EACH);
            if (run % 50 == 0) {
                System.out.printf(Locale.ROOT, "%s %.1f ns per op (%d)%n", args[0],
                        (System.nanoTime() - t0) / (double) VirtualTimeDelayBenchmark.TOTAL, sink % 10);
            }
        }
    }
}
