package dev.coro.bench.probe;

import dev.coro.Coroutine;
import dev.coro.VirtualTime;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Locale;
import javax.management.JMException;
import javax.management.ObjectName;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * How many bytes of frozen stack a context holds while it waits in a sleep or a yield, against a raw
 * continuation in {@code Continuation.yield}: the frames each switch copies out at the freeze and back
 * at the thaw (the JDK thaws a small stack whole), and what a freeze allocates anew once a collection
 * has moved a stack out of the young generation.
 *
 * <p>It runs the loop of the sleep benchmark's workload (each coroutine sleeping or yielding five
 * times under {@link VirtualTime#run}) until the JIT has compiled it, then holds {@code N} coroutines
 * suspended in that same compiled code (main sleeps or yields meanwhile), and reads the heap's class histogram
 * through the platform's diagnostic command bean: its {@code jdk.internal.vm.StackChunk} bytes over
 * {@code N}. The figure depends on what the JIT compiled into which frame; several JVMs tell more
 * than one.
 *
 * <p>Run: {@code benchmarks/run.sh probe FrozenStack sleep|yield|raw [N]} (N 2,000 by default).
 */
public final class FrozenStack {

    private static final ContinuationScope SCOPE = new ContinuationScope("dev.coro.bench.probe.frozen");
    private static long sink;

    private FrozenStack() {
    }

    /**
     * Prints the stack-chunk bytes per held context.
     *
     * @param args {@code sleep|yield|raw [N]}
     */
    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "sleep";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        if (!mode.equals("sleep") && !mode.equals("yield") && !mode.equals("raw")) {
            throw new IllegalArgumentException("mode must be sleep, yield or raw: " + mode);
        }
        for (int round = 0; round < 30; round++) {
            if (mode.equals("raw")) {
                for (int i = 0; i < 20_000; i++) {
                    Continuation c = raw();
                    while (!c.isDone()) {
                        c.run();
                    }
                }
            } else {
                VirtualTime.run(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        coroutine(mode);
                    }
                });
            }
        }
        long[] bytes = new long[1];
        Object[] held = new Object[n];
        if (mode.equals("raw")) {
            for (int i = 0; i < n; i++) {
                Continuation c = raw();
                c.run();
                held[i] = c;
            }
            bytes[0] = stackChunkBytes();
        } else {
            VirtualTime.run(() -> {
                for (int i = 0; i < n; i++) {
                    held[i] = coroutine(mode);
                }
                if (mode.equals("sleep")) {
                    Coroutine.sleep(Duration.ofMillis(1)); // every coroutine runs to its first sleep meanwhile
                } else {
                    Coroutine.yield(); // every coroutine runs to its first yield meanwhile
                }
                bytes[0] = stackChunkBytes();
                for (Object c : held) {
                    ((Coroutine) c).close();
                }
            });
        }
        System.out.printf(Locale.ROOT, "%s: %.1f B of frozen stack per context (%d held)%n", mode,
                bytes[0] / (double) n, held.length);
    }

    private static Continuation raw() {
        return new Continuation(SCOPE, () -> {
            for (int j = 0; j < 5; j++) {
                sink += j;
                Continuation.yield(SCOPE);
            }
        });
    }

    private static Coroutine coroutine(String mode) {
        if (mode.equals("sleep")) {
            return Coroutine.create(() -> {
                for (int j = 0; j < 5; j++) {
                    Coroutine.sleep(Duration.ofMillis(10 + j));
                }
            });
        }
        return Coroutine.create(() -> {
            for (int j = 0; j < 5; j++) {
                Coroutine.yield();
            }
        });
    }

    /** The bytes of every {@code jdk.internal.vm.StackChunk} on the heap, from its class histogram. */
    private static long stackChunkBytes() {
        try {
            String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {null}, new String[] {String[].class.getName()});
            return histogram.lines().filter(l -> l.contains(" jdk.internal.vm.StackChunk "))
                    .mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[2])).sum();
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }
}
