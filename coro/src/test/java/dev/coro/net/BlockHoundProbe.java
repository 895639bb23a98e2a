package dev.coro.net;

import dev.coro.Channel;
import dev.coro.CoroBlockHound;
import dev.coro.Coroutine;
import dev.coro.CoroutineException;
import dev.coro.CoroutineTimeoutException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import reactor.blockhound.BlockHound;

/**
 * Run in a child JVM by {@link BlockHoundTest}, with BlockHound installed with coro's integration:
 * {@code echo} has main wait for a sleeping coroutine, then runs an echo server and clients as
 * coroutines of one thread, and prints what came back; {@code sleep} has a coroutine call {@code Thread.sleep} while another waits, and prints
 * what that call threw; {@code gave-up} has main call {@code Thread.sleep} after another thread gave up
 * a receive on main's channel that main never ran, and prints what that call threw, if anything.
 */
final class BlockHoundProbe {

    private BlockHoundProbe() {
    }

    public static void main(String[] args) throws Exception {
        BlockHound.install(new CoroBlockHound());
        switch (args[0]) {
            case "echo" -> System.out.println(echo());
            case "sleep" -> System.out.println(sleepInACoroutine());
            case "gave-up" -> System.out.println(sleepAfterAnotherThreadGaveUp());
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static List<String> echo() throws IOException {
        List<String> got = new ArrayList<>();
        // main parks while a coroutine sleeps: the thread waits in its event loop for the timer
        Channel<String> woke = new Channel<>("woke", 0);
        Coroutine.create("napper", () -> {
            Coroutine.sleep(Duration.ofMillis(5));
            woke.send("woke");
        });
        got.add(woke.receive());
        try (TcpListener l = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0))) {
            Coroutine server = Coroutine.create("server", () -> {
                for (int i = 0; i < 2; i++) {
                    TcpConnection c = accept(l);
                    Coroutine.create("conn" + i, () -> {
                        try (c) {
                            ByteBuffer buf = ByteBuffer.allocate(64);
                            while (c.read(buf.clear()) >= 0) {
                                c.write(buf.flip());
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                }
            });
            Channel<String> replies = new Channel<>("replies", 0);
            for (int k = 0; k < 2; k++) {
                int n = k;
                Coroutine.create("client" + n, () -> {
                    try (TcpConnection c = TcpConnection.connect(l.localAddress())) {
                        PrintWriter out = new PrintWriter(c.output(), true, StandardCharsets.UTF_8);
                        BufferedReader in = new BufferedReader(new InputStreamReader(c.input(), StandardCharsets.UTF_8));
                        out.println("hello " + n);
                        replies.send(in.readLine());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            // main parks: while every coroutine waits on I/O the thread waits in its event loop's select
            got.add(replies.receive());
            got.add(replies.receive());
            while (!server.isFinished()) {
                Coroutine.yield();
            }
        }
        got.sort(null);
        return got;
    }

    private static TcpConnection accept(TcpListener l) {
        try {
            return l.accept();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Main makes a channel and waits outside coro (with nothing pending: allowed) while another thread's
     * receive on that channel, posted to main's thread, times out; then main sleeps, holding only the
     * posts of that receive and of its withdrawal, which nobody waits for.
     */
    private static String sleepAfterAnotherThreadGaveUp() throws InterruptedException {
        Channel<String> jobs = new Channel<>("jobs", 0);
        Thread main = Thread.currentThread();
        CountDownLatch gaveUp = new CountDownLatch(1);
        Thread.ofPlatform().name("gave-up").start(() -> {
            while (main.getState() != Thread.State.WAITING) {
                Thread.onSpinWait(); // until main waits, outside coro, for this thread to give up
            }
            try {
                Coroutine.withTimeout(Duration.ofMillis(1), () -> jobs.receive());
            } catch (CoroutineTimeoutException e) {
                gaveUp.countDown();
            }
        });
        gaveUp.await();
        try {
            Thread.sleep(1);
            return "no error";
        } catch (Error e) {
            return e.toString();
        }
    }

    private static String sleepInACoroutine() {
        Coroutine.create("waiting", () -> { });
        Coroutine sleeper = Coroutine.create("sleeper", () -> {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            sleeper.switchTo();
            return "no error";
        } catch (CoroutineException e) {
            return e.getMessage();
        }
    }
}
