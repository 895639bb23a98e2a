package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(FreshThread.class)
class TimeSmokeTest {
    private final List<String> log = new ArrayList<>();

    @Test
    void sleepsUnderVirtualTime() {
        VirtualTime.run(() -> {
            for (int i = 1; i <= 3; i++) {
                int k = i;
                Coroutine.create("c" + k, () -> {
                    Coroutine.sleep(Duration.ofMinutes(4 - k));
                    log.add("c" + k + " at " + Coroutine.nanoTime() / 60_000_000_000L);
                });
            }
            Coroutine.sleep(Duration.ofHours(1));
            log.add("main at " + Coroutine.nanoTime() / 60_000_000_000L);
        });
        assertThat(log).containsExactly("c3 at 1", "c2 at 2", "c1 at 3", "main at 60");
    }

    @Test
    void yieldLoopEndsWhileSleeperSleeps() {
        VirtualTime.run(() -> {
            Coroutine c = Coroutine.create(() -> Coroutine.sleep(Duration.ofSeconds(5)));
            while (!c.isFinished()) {
                Coroutine.yield();
            }
            log.add("t=" + Coroutine.nanoTime());
        });
        assertThat(log).containsExactly("t=5000000000");
    }

    @Test
    void realSleepYieldLoop() {
        Coroutine c = Coroutine.create(() -> Coroutine.sleep(Duration.ofMillis(5)));
        while (!c.isFinished()) {
            Coroutine.yield();
        }
        Coroutine.sleep(Duration.ofMillis(2));
        assertThat(c.isFinished()).isTrue();
    }

    @Test
    void timeoutsAndSelect() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            assertThat(ch.tryReceive(Duration.ofSeconds(1))).isEmpty();
            assertThat(ch.trySend(1, Duration.ofSeconds(1))).isFalse();
            assertThat(Coroutine.nanoTime()).isEqualTo(2_000_000_000L);
            assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> ch.receive()))
                    .isInstanceOf(CoroutineTimeoutException.class).hasMessageContaining("main");
            Coroutine.create("p", () -> {
                Coroutine.sleep(Duration.ofSeconds(1));
                ch.send(42);
            });
            String r = new Select<String>().onReceive(ch, v -> "got " + v)
                    .onTimeout(Duration.ofSeconds(5), () -> "timeout").select();
            log.add(r + " at " + Coroutine.nanoTime() / 1_000_000_000L);
            r = new Select<String>().onReceive(ch, v -> "got " + v)
                    .onTimeout(Duration.ofSeconds(5), () -> "timeout").select();
            log.add(r + " at " + Coroutine.nanoTime() / 1_000_000_000L);
            Integer v = Coroutine.withTimeout(Duration.ofSeconds(10), () -> {
                try {
                    return Coroutine.withTimeout(Duration.ofSeconds(1), () -> ch.receive());
                } catch (CoroutineTimeoutException e) {
                    return -1;
                }
            });
            log.add("nested " + v);
        });
        assertThat(log).containsExactly("got 42 at 4", "timeout at 9", "nested -1");
    }

    @Test
    void outerTimeoutIsNotSwallowed() {
        VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofSeconds(1), () -> {
                Coroutine.withTimeout(Duration.ofSeconds(10), () -> {
                    try {
                        ch.receive();
                    } finally {
                        log.add("inner finally at " + Coroutine.nanoTime());
                    }
                });
                log.add("not here");
            })).isInstanceOf(CoroutineTimeoutException.class).hasMessageContaining("PT1S");
        });
        assertThat(log).containsExactly("inner finally at 1000000000");
    }

    @Test
    void deadlockUnderVirtualTime() {
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            Channel<Integer> ch = new Channel<>("ch", 0);
            Coroutine.create("stuck", () -> ch.receive());
        })).isInstanceOf(DeadlockException.class).hasMessageContaining("stuck");
    }
}
