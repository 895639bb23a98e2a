package dev.coro.net;

import dev.coro.BlockedLoops;
import dev.coro.Channel;
import dev.coro.Coroutine;
import dev.coro.CoroutinePool;
import dev.coro.CoroutineTimeoutException;
import dev.coro.Generator;
import dev.coro.LoopProbe;
import dev.coro.VirtualTime;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * The child JVM of {@link ProgramEndTest}: a program that ends untidily in the way its one argument
 * names, printing a line for each step it reaches, so that the test sees what ran and what did not,
 * and how the JVM ended.
 */
public final class ProgramEndMain {

    private ProgramEndMain() {
    }

    /**
     * Runs the scenario {@code args[0]}.
     *
     * @param args the scenario's name
     * @throws Exception whatever the scenario throws
     */
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "leftovers" -> leftovers();
            case "exit-in-coroutine", "exit-in-generator", "exit-in-virtual-time" -> exitWithHooksUsingCoro(args[0]);
            case "exit-in-pool-body" -> exitInAPoolBody();
            case "exit-in-main" -> exitWhileAHookClosesAChannelOfTheExitingThread();
            case "daemon-pool-never-closed" -> daemonPoolNeverClosed();
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /**
     * Main returns leaving a coroutine suspended, one parked on a channel, one asleep and a generator
     * suspended at an emit, each with a {@code finally} block, with the blocked-loop detector on, a name looked up on a look-up thread
     * and a listener dropped unclosed (so the socket cleaner runs).
     */
    private static void leftovers() throws IOException {
        BlockedLoops.detect(Duration.ofSeconds(10));
        TcpListener.bind(new InetSocketAddress("127.0.0.1", 0)); // dropped unclosed
        TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = ((InetSocketAddress) listener.localAddress()).getPort();
        listener.close(); // nothing listens there now: the look-up is made, the connect refused
        try {
            TcpConnection.connect("localhost", port).close();
            System.out.println("connected");
        } catch (IOException refused) {
            System.out.println("looked up localhost, connect refused");
        }
        // last, so that no later wait of main runs them again
        Channel<Integer> channel = new Channel<>("never-sent", 0);
        Coroutine parked = Coroutine.create("parked", () -> {
            try {
                channel.receive();
            } finally {
                System.out.println("finally of parked");
            }
        });
        parked.switchTo(); // each made once the one before waits, so that main is the only context left to run
        Coroutine sleeping = Coroutine.create("sleeping", () -> {
            try {
                Coroutine.sleep(Duration.ofHours(1));
            } finally {
                System.out.println("finally of sleeping");
            }
        });
        sleeping.switchTo();
        Coroutine suspended = Coroutine.create("suspended", () -> {
            try {
                Coroutine.yield();
            } finally {
                System.out.println("finally of suspended");
            }
        });
        suspended.switchTo();
        Generator<Integer> numbers = Generator.of("numbers", out -> {
            try {
                for (int i = 0; ; i++) {
                    out.emit(i);
                }
            } finally {
                System.out.println("finally of numbers");
            }
        });
        Iterator<Integer> taken = numbers.iterator();
        System.out.println("numbers gave " + taken.next() + " and " + taken.next());
        System.out.println("main returns on the " + LoopProbe.engine() + " engine: " + suspended.state() + ", " + parked.state() + ", " + sleeping.state() + ", " + numbers.state());
    }

    /**
     * {@code System.exit(3)} inside a coroutine, a generator's body or a {@code VirtualTime.run}, while a
     * pool runs a body that waits for the hook; a shutdown hook runs a {@code VirtualTime.run}, lets the
     * pool's body end and closes the pool.
     */
    private static void exitWithHooksUsingCoro(String where) {
        CoroutinePool pool = CoroutinePool.start(1);
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Void> hookRuns = new CompletableFuture<>();
        pool.execute(() -> {
            try {
                started.countDown();
                Coroutine.await(hookRuns);
            } finally {
                System.out.println("finally of the pool's body");
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            VirtualTime.run(() -> {
                long start = Coroutine.nanoTime();
                Coroutine.sleep(Duration.ofSeconds(5));
                System.out.println("hook slept " + Duration.ofNanos(Coroutine.nanoTime() - start) + " on a virtual clock");
            });
            hookRuns.complete(null);
            pool.close();
            System.out.println("hook closed " + pool);
        }, "hook"));
        awaitUninterruptibly(started);
        switch (where) {
            case "exit-in-coroutine" -> Coroutine.create("exiting", () -> exit(where)).switchTo();
            case "exit-in-generator" -> {
                try (Generator<Integer> lines = Generator.of("exiting", out -> {
                    out.emit(1);
                    exit(where);
                })) {
                    lines.forEach(v -> System.out.println("emitted " + v));
                }
            }
            default -> VirtualTime.run(() -> {
                Coroutine.create("exiting", () -> {
                    Coroutine.sleep(Duration.ofSeconds(1));
                    exit(where);
                }).join();
            });
        }
        System.out.println("after the exit");
    }

    /** Prints where it exits, and exits with status 3; its {@code finally} block must not run. */
    private static void exit(String where) {
        try {
            System.out.println(where + ": exits");
            System.exit(3);
        } finally {
            System.out.println("finally of " + where);
        }
    }

    /**
     * A pool body calls {@code System.exit(5)} while a shutdown hook closes that pool: the body never
     * ends, so the hook bounds its close by a {@code withTimeout}.
     */
    private static void exitInAPoolBody() throws InterruptedException {
        CoroutinePool pool = CoroutinePool.start(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(100), pool::close);
                System.out.println("hook closed " + pool);
            } catch (CoroutineTimeoutException e) {
                System.out.println("hook gave up: " + e.getMessage() + "; " + e.getCause().getMessage());
                System.out.println("pool " + pool);
            }
        }, "hook"));
        pool.execute("exiting", () -> {
            try {
                System.exit(5);
            } finally {
                System.out.println("finally of the pool's body");
            }
        });
        new CountDownLatch(1).await(); // main waits for ever: the body's exit ends the JVM
    }

    /**
     * Main calls {@code System.exit(7)} with a coroutine parked on its channel, which a shutdown hook
     * closes: the close posted to main is never run, so the hook bounds it by a {@code withTimeout}.
     */
    private static void exitWhileAHookClosesAChannelOfTheExitingThread() {
        Channel<Integer> jobs = new Channel<>("jobs", 0);
        Coroutine.create("worker", () -> {
            try {
                jobs.receive();
            } finally {
                System.out.println("finally of worker");
            }
        }).switchTo();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Coroutine.withTimeout(Duration.ofMillis(100), () -> jobs.close());
                System.out.println("hook closed " + jobs);
            } catch (CoroutineTimeoutException e) {
                System.out.println("hook gave up: " + e.getCause().getMessage().replaceAll("\\(#\\d+\\)", "(#N)"));
                System.out.println("channel " + jobs);
            }
        }, "hook"));
        System.exit(7);
    }

    /**
     * A daemon thread starts a pool, hands it a body that fails and one that sleeps, and ends; main
     * returns without closing the pool.
     */
    private static void daemonPoolNeverClosed() throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(2);
        Thread starter = Thread.ofPlatform().daemon().name("starter").start(() -> {
            CoroutinePool pool = CoroutinePool.start(1);
            pool.execute("failing", () -> {
                ran.countDown();
                throw new IllegalStateException("nobody sees this");
            });
            pool.execute("sleeping", () -> {
                try {
                    ran.countDown();
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    System.out.println("finally of sleeping");
                }
            });
            System.out.println("started " + pool + ", its threads daemons: " + Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("coro-pool-1-")).allMatch(Thread::isDaemon));
        });
        starter.join();
        ran.await();
        System.out.println("main returns");
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
