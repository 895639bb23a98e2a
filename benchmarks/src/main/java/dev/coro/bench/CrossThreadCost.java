package dev.coro.bench;

import dev.coro.CoroutinePool;
import dev.coro.bench.kotlin.KotlinChannels;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the time of a message across threads goes: runs the workloads of
 * {@link CrossThreadChannelBenchmark} and {@link AwaitBenchmark} (not under JMH) and prints, per
 * message or await, the wall time, the context switches of the JVM's threads (voluntary: a thread
 * blocked; involuntary: the kernel preempted it; from {@code /proc/self/task/*}/status, so Linux
 * only) and the CPU time each busy thread used.
 *
 * <p>Run: {@code java --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * dev.coro.bench.CrossThreadCost [round trips]} (default 50,000; each workload runs 3 times first).
 */
public final class CrossThreadCost {

    private CrossThreadCost() {
    }

    /** A workload of {@code ops} messages or awaits. */
    private interface Workload {
        void run() throws Exception;
    }

    /**
     * Measures each workload and prints a line for it.
     *
     * @param args optional: the round trips per workload
     * @throws Exception if a workload fails
     */
    public static void main(String[] args) throws Exception {
        int roundTrips = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int messages = 2 * roundTrips;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            measure("coro channel, 2 pool threads", messages, () -> CrossThreadChannelBenchmark.coroPingPong(pool, roundTrips));
            measure("kotlinx channel, Default", messages, () -> KotlinChannels.pingPongDefaultDispatcher(roundTrips));
            QueuePingPong queues = new QueuePingPong(Thread.ofVirtual(), messages);
            measure("SynchronousQueue, virtual threads", messages, queues::run);
            queues.close();
            measure("coro await, 2 pool threads", messages, () -> AwaitBenchmark.coroAwaitCrossThread(pool, roundTrips));
            measure("join, virtual threads", messages, () -> AwaitBenchmark.threadsJoinCrossThread(Thread.ofVirtual(), roundTrips));
        }
    }

    private static void measure(String name, int ops, Workload w) throws Exception {
        for (int i = 0; i < 3; i++) {
            w.run();
        }
        long[] switches0 = contextSwitches();
        Map<Long, Long> cpu0 = cpuTimes();
        long t0 = System.nanoTime();
        w.run();
        long wall = System.nanoTime() - t0;
        long[] switches1 = contextSwitches();
        Map<Long, Long> cpu1 = cpuTimes();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> busy = new TreeMap<>();
        for (Map.Entry<Long, Long> e : cpu1.entrySet()) {
            long used = e.getValue() - cpu0.getOrDefault(e.getKey(), 0L);
            ThreadInfo info = mx.getThreadInfo(e.getKey());
            if (info != null && used > wall / 20) {
                busy.put(info.getThreadName(), used);
            }
        }
        StringBuilder cpu = new StringBuilder();
        busy.forEach((thread, used) -> cpu.append(String.format(Locale.ROOT, " %s %.0f ns", thread, (double) used / ops)));
        System.out.printf(Locale.ROOT, "%-34s %8.0f ns wall, %.2f voluntary + %.2f involuntary context switches; CPU:%s%n",
                name, (double) wall / ops, (double) (switches1[0] - switches0[0]) / ops,
                (double) (switches1[1] - switches0[1]) / ops, cpu);
    }

    /** The voluntary and involuntary context switches of the JVM's live threads so far. */
    private static long[] contextSwitches() throws IOException {
        long voluntary = 0;
        long involuntary = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                try {
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            voluntary += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            involuntary += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                        }
                    }
                } catch (IOException ended) {
                    // the thread ended meanwhile
                }
            }
        }
        return new long[] {voluntary, involuntary};
    }

    /** The CPU time of every live thread, by id. */
    private static Map<Long, Long> cpuTimes() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Long> m = new HashMap<>();
        for (long id : mx.getAllThreadIds()) {
            m.put(id, mx.getThreadCpuTime(id));
        }
        return m;
    }
}
