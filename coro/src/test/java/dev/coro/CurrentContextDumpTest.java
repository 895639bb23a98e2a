package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import dev.coro.management.CoroutinesManagement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The frames a dump made for another thread shows of the context marked {@code (current)}. */
class CurrentContextDumpTest {

    /**
     * Main of a thread parks in an await after its coroutine parked: the dump is made in main's idle
     * wait, and lists under main the await it parks in and the lambda that called it, none of the
     * dump's own frames.
     */
    @Test
    void mainParkedInAnAwaitAsTheCurrentContextIsListedWithItsAwaitAndItsCaller() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        CountDownLatch ready = new CountDownLatch(1);
        Thread helper = Thread.ofPlatform().name("awaiting-main").start(() -> {
            Channel<Integer> tick = new Channel<>("tick", 0);
            Coroutine ticker = Coroutine.create("ticker", () -> tick.receive());
            ticker.switchTo();
            ready.countDown();
            Coroutine.await(release);
            ticker.close();
        });
        String dump;
        try {
            ready.await();
            Scheduler s = schedulerOf(helper);
            while (s.main.state() != State.PARKED) {
                Thread.onSpinWait();
            }
            dump = CoroutinesManagement.mxBean().dump(5);
        } finally {
            release.complete(null);
            helper.join();
        }
        String section = CoroutinesMXBeanTest.section(dump, "awaiting-main");
        assertThat(section).contains("  [0] main: PARKED (current), waits to await java.util.concurrent.CompletableFuture@")
                .containsPattern("\\[Not completed, 1 dependents\\]\n        at dev\\.coro\\.Coroutine\\.await\\([^\n]*\n"
                        + "        at dev\\.coro\\.CurrentContextDumpTest\\.lambda\\$mainParkedInAnAwait[^\n]*\n  \\[1\\] coroutine 'ticker'")
                .doesNotContain("ThreadDump", "MonitorSupport", "StackTraces", "Inbox", "EventLoop", "getStackTrace");
    }

    private static Scheduler schedulerOf(Thread t) {
        return Monitoring.live().stream().filter(s -> s.owner == t).findFirst().orElseThrow();
    }
}
