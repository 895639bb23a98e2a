package dev.coro.bench;

import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.Generator;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Two builds of coro compared in one JVM, so that load from other processes cancels out: each build
 * is loaded by a class loader of its own (with its own schedulers), and the same workload runs on
 * both in alternating slices; the figure is the median over the slices of the ratio new / old.
 *
 * <p>JMH runs one jar after the other, and on a shared machine the same benchmark of the same jar
 * varies by tens of percent between forks minutes apart, far more than the few percent a change to
 * the switch path is to be held to. Here every slice ({@value #SLICE_OPS} ops of each build, the order
 * alternating) sees the same load as its neighbour. Workloads: {@code switch}, A and B switching to
 * each other as in {@link SwitchBenchmark} (one op = one one-way transfer); {@code yield}, main and two
 * coroutines yielding in turn as {@link YieldRoundRobinBenchmark}'s N = 2 (one op = one yield);
 * {@code round trip}, main switching to a coroutine that switches straight back (one op = one round trip);
 * {@code sleep}, {@link Sleepers} (one op = one sleep under virtual time); {@code sleep at scale}, {@link ScaledSleepers} (the same among 50,000 coroutines); {@code select}, {@link Selects}
 * (one op = one value received by a select); {@code channel}, {@link Messages} (one op = one message of
 * {@link ChannelBenchmark}'s ping-pong); {@code iterator}, {@link Iterated} (one op = one value a
 * {@code for} loop takes from a buffered channel); {@code generator}, {@link GeneratorNext}, {@code buffered}, {@link BufferedNext},
 * and {@code buffered sum}, {@link BufferedSum} (one op = one value). Each
 * runs on a fresh thread, so each build has a run list of its own. JVM flags (a recording, a system
 * property) apply to both builds alike.
 *
 * <p>Run: {@code benchmarks/run.sh buildratio OLD.jar NEW.jar [workloads]}, each a coro jar (e.g. the
 * {@code coro/target/coro-*.jar} of a worktree at the older commit, and of this one).
 */
public final class BuildRatio {

    static final int SLICE_OPS = 20_000;
    static final int WARMUP = 150;
    static final int SLICES = 400;
    /** The slices of a workload whose one run is more ops than a slice holds: warming up, then measured. */
    static final int SCALED_WARMUP = 20;
    static final int SCALED_SLICES = 60;

    private BuildRatio() {
    }

    /**
     * Compares the two builds on both workloads and prints a line per workload.
     *
     * @param args the old and the new coro jar
     * @throws Exception if a jar cannot be loaded, or the measuring thread is interrupted
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 3) {
            throw new IllegalArgumentException("usage: BuildRatio OLD.jar NEW.jar [workloads, a regex]");
        }
        ClassLoader oldBuild = build(args[0]);
        ClassLoader newBuild = build(args[1]);
        Pattern only = Pattern.compile(args.length == 3 ? args[2] : ".*");
        Map<String, Class<? extends Workload>> workloads = new LinkedHashMap<>();
        workloads.put("switch", PingPong.class);
        workloads.put("yield", Ring.class);
        workloads.put("round trip", RoundTrip.class);
        workloads.put("sleep", Sleepers.class);
        workloads.put("sleep at scale", ScaledSleepers.class);
        workloads.put("select", Selects.class);
        workloads.put("channel", Messages.class);
        workloads.put("iterator", Iterated.class);
        workloads.put("generator", GeneratorNext.class);
        workloads.put("buffered", BufferedNext.class);
        workloads.put("buffered sum", BufferedSum.class);
        for (Map.Entry<String, Class<? extends Workload>> w : workloads.entrySet()) {
            if (only.matcher(w.getKey()).matches()) {
                onFreshThread(() -> compare(w.getKey(), make(oldBuild, w.getValue()), make(newBuild, w.getValue())));
            }
        }
    }

    /** The workloads' interface, shared by both builds (the JDK's own). */
    public interface Workload extends Runnable {
        /** How many ops one {@link #run()} makes. */
        int ops();
    }

    /** A and B switch to each other: one run = {@value #TRANSFERS} one-way transfers. */
    public static final class PingPong implements Workload {
        static final int TRANSFERS = 1000;
        private final Coroutine a;

        /** Creates A and B in the calling thread's run list. */
        public PingPong() {
            Coroutine main = Coroutine.current();
            Coroutine[] peer = new Coroutine[1];
            a = Coroutine.create("a", () -> {
                Coroutine other = peer[0];
                while (true) {
                    for (int i = 0; i < TRANSFERS / 2; i++) {
                        other.switchTo();
                    }
                    main.switchTo();
                }
            });
            Coroutine self = a;
            peer[0] = Coroutine.create("b", () -> {
                while (true) {
                    self.switchTo();
                }
            });
        }

        @Override
        public void run() {
            a.switchTo();
        }

        @Override
        public int ops() {
            return TRANSFERS;
        }
    }

    /** Main switches to a coroutine that switches straight back: one run = {@value #TRIPS} round trips. */
    public static final class RoundTrip implements Workload {
        static final int TRIPS = 1000;
        private final Coroutine echo;

        /** Creates the coroutine in the calling thread's run list. */
        public RoundTrip() {
            Coroutine main = Coroutine.current();
            echo = Coroutine.create("echo", () -> {
                while (true) {
                    main.switchTo();
                }
            });
        }

        @Override
        public void run() {
            for (int i = 0; i < TRIPS; i++) {
                echo.switchTo();
            }
        }

        @Override
        public int ops() {
            return TRIPS;
        }
    }

    /** Main and two coroutines yielding in turn: one run = {@value #ROUNDS} rounds of 3 yields. */
    public static final class Ring implements Workload {
        static final int ROUNDS = 1000;

        /** Creates the two coroutines in the calling thread's run list. */
        public Ring() {
            for (int i = 0; i < 2; i++) {
                Coroutine.create(() -> {
                    while (true) {
                        Coroutine.yield();
                    }
                });
            }
        }

        @Override
        public void run() {
            for (int i = 0; i < ROUNDS; i++) {
                Coroutine.yield();
            }
        }

        @Override
        public int ops() {
            return 3 * ROUNDS;
        }
    }

    /**
     * {@link VirtualTimeDelayBenchmark#coroVirtualTimeSleep}'s shape: one run is a {@code VirtualTime.run}
     * of {@code coroutines} coroutines each sleeping {@code each} times 1 to 100 ms (a fixed table); one
     * op = one sleep.
     */
    abstract static class SleepersOf implements Workload {
        private final int coroutines;
        private final int each;
        private final java.time.Duration[] durations;

        SleepersOf(int coroutines, int each) {
            this.coroutines = coroutines;
            this.each = each;
            this.durations = VirtualTimeDelayBenchmark.durations(
                    new java.util.SplittableRandom(VirtualTimeDelayBenchmark.SEED).ints(coroutines * each, 1, 101).toArray());
        }

        @Override
        public void run() {
            VirtualTimeDelayBenchmark.sleepers(durations, coroutines);
        }

        @Override
        public int ops() {
            return coroutines * each;
        }
    }

    /** {@link SleepersOf} 1,000 coroutines × 10 sleeps: a smaller {@code coroVirtualTimeSleep}. */
    public static final class Sleepers extends SleepersOf {
        /** Draws the table. */
        public Sleepers() {
            super(1000, 10);
        }
    }

    /**
     * {@link SleepersOf} as many coroutines as one thread of {@code TimerLateness}'s pool of 2 holds:
     * 50,000 coroutines × 4 sleeps, so that their contexts and stacks are far larger than the caches,
     * and every wake misses on its own. One op = one sleep (the coroutines' creation and first run
     * included, one in four). Measured in {@value #SCALED_SLICES} slices after {@value #SCALED_WARMUP}:
     * a run takes tenths of a second.
     */
    public static final class ScaledSleepers extends SleepersOf {
        /** Draws the table. */
        public ScaledSleepers() {
            super(50_000, 4);
        }
    }

    /**
     * {@link SelectBenchmark#coroSelectReceive}: main runs one select over two rendezvous channels,
     * each fed by a producer; one run = {@value #VALUES} values received.
     */
    public static final class Selects implements Workload {
        static final int VALUES = 1000;
        private final SelectBenchmark.Producers producers = new SelectBenchmark.Producers();

        /** Makes the channels, the producers and the select in the calling thread's run list. */
        public Selects() {
            producers.setUp();
        }

        @Override
        public void run() {
            SelectBenchmark.selectReceive(producers, VALUES);
        }

        @Override
        public int ops() {
            return VALUES;
        }
    }

    /** {@link ChannelBenchmark#coroChannelPingPong}: main and an echo coroutine, two rendezvous channels; one run = {@value #MESSAGES} messages. */
    public static final class Messages implements Workload {
        static final int MESSAGES = 1000;
        private final ChannelBenchmark.CoroChannelPingPong pair = new ChannelBenchmark.CoroChannelPingPong(MESSAGES);

        /** Makes the channels and the echo coroutine in the calling thread's run list. */
        public Messages() {
        }

        @Override
        public void run() {
            pair.run();
        }

        @Override
        public int ops() {
            return MESSAGES;
        }
    }

    /**
     * The iterator a {@code for} loop over a channel uses, on a channel of {@value #CAPACITY} values that a
     * producer coroutine keeps full: one run = {@value #VALUES} values taken, a switch to the producer
     * every {@value #CAPACITY} or so.
     */
    public static final class Iterated implements Workload {
        static final int VALUES = 1000;
        static final int CAPACITY = 64;
        private final Iterator<Integer> values;
        private long sink;

        /** Makes the channel, its producer and the iterator in the calling thread's run list. */
        public Iterated() {
            Channel<Integer> ch = new Channel<>("values", CAPACITY);
            Integer one = 1;
            Coroutine.create("producer", () -> {
                while (true) {
                    ch.send(one);
                }
            });
            values = ch.iterator();
        }

        @Override
        public void run() {
            long sum = 0;
            for (int i = 0; i < VALUES; i++) {
                sum += values.next();
            }
            sink += sum;
        }

        @Override
        public int ops() {
            return VALUES;
        }
    }

    /** {@code next()} of an endless generator of 0, 1, 2, ...: one run = {@code values} values. */
    abstract static class Naturals implements Workload {
        private final Generator<Long> naturals;
        private final int values;
        private long sink;

        Naturals(Generator<Long> naturals, int values) {
            this.naturals = naturals;
            this.values = values;
        }

        /**
         * The body of an endless generator of 0, 1, 2, ...
         *
         * @param out its emitter
         */
        static void count(Generator.Emitter<Long, ?> out) {
            for (long i = 0; ; i++) {
                out.emit(i);
            }
        }

        @Override
        public final void run() {
            long sum = 0;
            for (int i = 0; i < values; i++) {
                sum += naturals.next();
            }
            sink += sum;
        }

        @Override
        public final int ops() {
            return values;
        }
    }

    /** {@link GeneratorBenchmark#coroGeneratorNext}: one run = 1,000 values. */
    public static final class GeneratorNext extends Naturals {
        /** Makes the generator on the calling thread; its body has not run yet. */
        public GeneratorNext() {
            super(Generator.of(Naturals::count), 1000);
        }
    }

    /** {@link GeneratorBenchmark#coroBufferedNext}: the same on a read-ahead generator; one run = 10,000 values. */
    public static final class BufferedNext extends Naturals {
        /** Makes the generator on the calling thread; its body has not run yet. */
        public BufferedNext() {
            super(Generator.buffered(GeneratorBenchmark.BUFFER, Naturals::count), 10_000);
        }
    }

    /**
     * {@link GeneratorBenchmark#coroBufferedSum1000}: a read-ahead generator of {@value GeneratorBenchmark#SUM_N}
     * values made, consumed and summed; one run = one generator, one op = one element.
     */
    public static final class BufferedSum implements Workload {
        private long sink;

        /** Nothing to make ahead. */
        public BufferedSum() {
        }

        @Override
        public void run() {
            sink += GeneratorBenchmark.coroBufferedSum(GeneratorBenchmark.SUM_N);
        }

        @Override
        public int ops() {
            return GeneratorBenchmark.SUM_N;
        }
    }

    /**
     * A class loader for one build: {@code dev.coro} classes (the library and these workloads) come
     * from the given jar and, for the workloads, from this program's own location, never from the
     * parent; everything else from the JDK.
     */
    private static ClassLoader build(String jar) throws IOException {
        URL self = BuildRatio.class.getProtectionDomain().getCodeSource().getLocation();
        return new URLClassLoader(new URL[] {Path.of(jar).toUri().toURL(), self}, ClassLoader.getPlatformClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (!name.startsWith("dev.coro.") || name.equals(Workload.class.getName())) {
                    return name.equals(Workload.class.getName()) ? Workload.class : super.loadClass(name, resolve);
                }
                synchronized (getClassLoadingLock(name)) {
                    Class<?> c = findLoadedClass(name);
                    return c != null ? c : findClass(name);
                }
            }
        };
    }

    private static Workload make(ClassLoader build, Class<? extends Workload> type) {
        try {
            return (Workload) build.loadClass(type.getName()).getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make " + type.getSimpleName() + " of a build", e);
        }
    }

    private static void onFreshThread(Runnable r) throws InterruptedException {
        Thread t = new Thread(r, "build-ratio");
        t.start();
        t.join();
    }

    private static void compare(String name, Workload oldSide, Workload newSide) {
        int runs = Math.max(1, SLICE_OPS / oldSide.ops());
        double opsPerSlice = (double) runs * oldSide.ops();
        boolean large = oldSide.ops() > SLICE_OPS;
        int slices = large ? SCALED_SLICES : SLICES;
        double[] o = new double[slices];
        double[] n = new double[slices];
        double[] ratio = new double[slices];
        for (int s = large ? -SCALED_WARMUP : -WARMUP; s < slices; s++) {
            long to;
            long tn;
            if ((s & 1) == 0) {
                to = time(oldSide, runs);
                tn = time(newSide, runs);
            } else {
                tn = time(newSide, runs);
                to = time(oldSide, runs);
            }
            if (s >= 0) {
                o[s] = to / opsPerSlice;
                n[s] = tn / opsPerSlice;
                ratio[s] = (double) tn / to;
            }
        }
        Arrays.sort(o);
        Arrays.sort(n);
        Arrays.sort(ratio);
        System.out.printf(Locale.ROOT, "%-10s old %.1f ns/op, new %.1f ns/op (medians); new / old: median %.3f (p25 %.3f, p75 %.3f)%n",
                name, o[slices / 2], n[slices / 2], ratio[slices / 2], ratio[slices / 4], ratio[3 * slices / 4]);
    }

    private static long time(Runnable r, int runs) {
        long t0 = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            r.run();
        }
        return System.nanoTime() - t0;
    }
}
