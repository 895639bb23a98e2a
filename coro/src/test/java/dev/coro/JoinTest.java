package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link Coroutine#join} parks its caller until a coroutine of its thread has ended. */
@ExtendWith(FreshThread.class)
@Timeout(60)
class JoinTest {

    private final List<String> log = new ArrayList<>();

    @Test
    void aJoinParksTheCallerUntilTheCoroutineHasEndedAndTheDumpShowsTheJoin() {
        Coroutine b = Coroutine.create("b", () -> {
            for (int i = 1; i <= 3; i++) {
                log.add("b " + i);
                if (i == 2) {
                    log.add(Coroutine.dump().lines().filter(l -> l.startsWith("  [0]")).findFirst().orElseThrow());
                }
                Coroutine.yield();
            }
        });
        b.join();
        log.add("main joined b: " + b.state());
        assertThat(log).containsExactly("b 1", "b 2", "  [0] main: PARKED, waits to join coroutine 'b'", "b 3",
                "main joined b: FINISHED");
    }

    @Test
    void aJoinIsAParkEventForTheJoinNamingTheCoroutine() throws Exception {
        List<jdk.jfr.consumer.RecordedEvent> parks = JfrEventsTest.record(
                r -> r.enable("dev.coro.Park").withThreshold(Duration.ZERO), () -> {
                    Coroutine b = Coroutine.create("b", Coroutine::yield);
                    b.join();
                }, "dev.coro.Park");
        assertThat(parks).extracting(e -> e.getString("coroutine") + " / " + e.getString("reason") + " / "
                + e.getString("waitsFor")).containsExactly("main / join / join coroutine 'b'");
    }

    @Test
    void aJoinOfAnEndedCoroutineReturnsAtOnceWithoutASwitch() {
        Coroutine b = Coroutine.create("b", () -> log.add("b"));
        b.switchTo();
        Coroutine.create("c", () -> log.add("c"));
        b.join();
        log.add("main");
        assertThat(log).containsExactly("b", "main");
        Coroutine.yield();
        assertThat(log).containsExactly("b", "main", "c");
    }

    @Test
    void everyJoinerWakesWhenTheCoroutineEndsAndRunsInTheUsualOrder() {
        Coroutine t = Coroutine.create("t", () -> {
            log.add("t starts");
            Coroutine.yield();
            log.add("t ends");
        });
        for (String name : List.of("j1", "j2", "j3")) {
            Coroutine.create(name, () -> {
                t.join();
                log.add(name + " joined t: " + t.state());
            });
        }
        t.switchTo();
        assertThat(log).containsExactly("t starts");
        Coroutine.yield(); // j3, j2 and j1 park in their joins, then t ends and wakes all three
        Coroutine.yield(); // they run in the run list's order, as woken receivers do (t's place went to j3)
        assertThat(log).containsExactly("t starts", "t ends", "j2 joined t: FINISHED", "j1 joined t: FINISHED",
                "j3 joined t: FINISHED");
        assertThat(Coroutine.dump()).doesNotContain("PARKED");
    }

    @Test
    void aCoroutineClosedBeforeItRanWakesItsJoiners() {
        Coroutine[] t = new Coroutine[1];
        Coroutine j = Coroutine.create("j", () -> {
            t[0].join();
            log.add("j joined t: " + t[0].state());
        });
        t[0] = Coroutine.create("t", () -> log.add("t ran"));
        j.switchTo(); // parks in the join, and main, the previous runnable context, runs on
        assertThat(j.state()).isEqualTo(State.PARKED);
        t[0].close();
        assertThat(j.state()).isEqualTo(State.SUSPENDED);
        j.join();
        assertThat(log).containsExactly("j joined t: CLOSED");
    }

    @Test
    void aCoroutineClosedWhileSuspendedWakesItsJoinersOnceItHasUnwound() {
        Coroutine t = Coroutine.create("t", () -> {
            try {
                while (true) {
                    Coroutine.yield();
                }
            } finally {
                log.add("t unwound");
            }
        });
        t.switchTo();
        Coroutine j = Coroutine.create("j", () -> {
            t.join();
            log.add("j joined t: " + t.state());
        });
        j.switchTo();
        t.close();
        j.join();
        assertThat(log).containsExactly("t unwound", "j joined t: CLOSED");
    }

    @Test
    void aCreatorParkedInAJoinOfItsFailingChildGetsTheFailureFromTheJoinAndAnotherJoinerReturns() {
        Coroutine[] child = new Coroutine[1];
        Coroutine parent = Coroutine.create("parent", () -> {
            child[0] = Coroutine.create("child", () -> {
                Coroutine.yield();
                throw new IllegalStateException("boom");
            });
            try {
                child[0].join();
                log.add("parent joined normally");
            } catch (CoroutineException e) {
                log.add("parent: " + e.getMessage());
            }
        });
        Coroutine other = Coroutine.create("other", () -> {
            Coroutine.yield(); // the parent has made the child by now
            child[0].join();
            log.add("other joined child: " + child[0].state());
        });
        parent.switchTo();
        Coroutine.yield();
        other.join();
        parent.join();
        assertThat(log).hasSize(2);
        assertThat(log.get(0)).startsWith("parent: coroutine 'child' failed").contains("IllegalStateException: boom");
        assertThat(log.get(1)).isEqualTo("other joined child: FAILED");
        assertThat(parent.state()).isEqualTo(State.FINISHED);
    }

    @Test
    void aCreatorParkedInAJoinOfAnotherCoroutineCountsAsParkedAndItsChildsFailureGoesToMain() {
        Coroutine[] child = new Coroutine[1];
        Coroutine other = Coroutine.create("other", () -> {
            Coroutine.yield();
            log.add("other ends");
        });
        Coroutine parent = Coroutine.create("parent", () -> {
            child[0] = Coroutine.create("child", () -> {
                throw new IllegalStateException("boom");
            });
            other.join();
            log.add("parent joined other: " + other.state());
        });
        parent.switchTo(); // the parent parks in its join; 'other' runs, yields, and main runs again
        assertThat(parent.state()).isEqualTo(State.PARKED);
        assertThatThrownBy(Coroutine::yield).isInstanceOf(CoroutineException.class) // the child ran, and failed
                .hasMessageStartingWith("coroutine 'child' failed").hasRootCauseMessage("boom");
        assertThat(parent.state()).isEqualTo(State.PARKED);
        assertThatThrownBy(child[0]::switchTo).hasMessageEndingWith("its failure was delivered to main context 'main',"
                + " its creator coroutine 'parent' being parked");
        parent.join();
        assertThat(log).containsExactly("other ends", "parent joined other: FINISHED");
    }

    @Test
    void mainParkedInAJoinOfItsFailingChildGetsTheFailureFromTheJoin() {
        Coroutine child = Coroutine.create("child", () -> {
            Coroutine.yield();
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(child::join).isInstanceOf(CoroutineException.class)
                .hasMessageStartingWith("coroutine 'child' failed").hasRootCauseMessage("boom");
        assertThat(child.state()).isEqualTo(State.FAILED);
        child.join(); // ended: returns at once, and the failure is not thrown twice
    }

    @Test
    void joiningItselfMainOrACoroutineOfAnotherThreadIsRefusedByName() throws Exception {
        Coroutine self = Coroutine.create("self", () -> {
            Coroutine me = Coroutine.current();
            try {
                me.join();
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            }
        });
        self.switchTo();
        assertThat(log).containsExactly(
                "coroutine 'self' cannot join coroutine 'self' (RUNNING): a coroutine cannot wait for its own end");
        Coroutine main = Coroutine.current();
        Coroutine.create("c", () -> {
            try {
                main.join();
            } catch (IllegalStateException e) {
                log.add(e.getMessage());
            }
        }).switchTo();
        assertThat(log.get(1)).isEqualTo("coroutine 'c' cannot join main context 'main' (SUSPENDED) of thread "
                + ThreadNames.thread() + ": it is the thread itself, which never ends as a coroutine does");
        Coroutine parked = Coroutine.create("mine", () -> Coroutine.sleep(Duration.ofHours(1)));
        parked.switchTo();
        Throwable[] refused = new Throwable[1];
        Thread intruder = new Thread(() -> {
            try {
                parked.join();
            } catch (Throwable t) {
                refused[0] = t;
            }
        }, "intruder");
        intruder.start();
        intruder.join();
        assertThat(refused[0]).isInstanceOf(IllegalStateException.class)
                .hasMessage("thread 'intruder' (#" + intruder.threadId() + ") cannot join coroutine 'mine' (PARKED): it belongs to thread "
                        + ThreadNames.thread());
        parked.close();
    }

    @Test
    void aJoinUnderWithTimeoutExpiresLeavesNoWaitBehindAndAJoinAfterItStillWakes() {
        VirtualTime.run(() -> {
            Coroutine t = Coroutine.create("t", () -> Coroutine.sleep(Duration.ofSeconds(1)));
            for (int i = 0; i < 100; i++) {
                assertThatThrownBy(() -> Coroutine.withTimeout(Duration.ofMillis(1), t::join))
                        .isInstanceOf(CoroutineTimeoutException.class)
                        .hasStackTraceContaining("its join coroutine 't' throws this signal");
            }
            assertThat(Scheduler.current().joinWaits()).isZero();
            assertThat(t.state()).isEqualTo(State.PARKED);
            t.join();
            assertThat(Coroutine.nanoTime()).isEqualTo(Duration.ofSeconds(1).toNanos());
            assertThat(t.state()).isEqualTo(State.FINISHED);
        });
    }

    @Test
    void twoCoroutinesJoiningEachOtherAreADeadlockThatNamesBothJoins() {
        Coroutine[] b = new Coroutine[1];
        assertThatThrownBy(() -> VirtualTime.run(() -> {
            Coroutine a = Coroutine.create("a", () -> b[0].join());
            b[0] = Coroutine.create("b", a::join);
        })).isInstanceOf(DeadlockException.class)
                .hasMessageContaining("join coroutine 'a'")
                .hasMessageContaining("join coroutine 'b'");
    }

    @Test
    void aJoinerClosedWhileItWaitsUnwindsAndTheCoroutineGoesOn() {
        Coroutine t = Coroutine.create("t", () -> {
            Coroutine.yield();
            log.add("t ends");
        });
        Coroutine j = Coroutine.create("j", () -> {
            try {
                t.join();
                log.add("j joined");
            } finally {
                log.add("j unwound");
            }
        });
        j.switchTo();
        j.close();
        assertThat(j.state()).isEqualTo(State.CLOSED);
        assertThat(Scheduler.current().joinWaits()).isZero();
        t.join();
        assertThat(log).containsExactly("j unwound", "t ends");
    }

    @Test
    void tenThousandJoinersOfOneCoroutineAreAllWokenOnceWhenItEnds() {
        // they wait in a queue as a channel's receivers do, entered and left in O(1) (a list walked from its
        // start for each join took n * n / 2 steps); the cost is not asserted here, only that each is woken once
        int n = 10_000;
        int[] joined = {0};
        VirtualTime.run(() -> {
            Coroutine t = Coroutine.create("t", () -> Coroutine.sleep(Duration.ofSeconds(1)));
            for (int i = 0; i < n; i++) {
                Coroutine.create("j" + i, () -> {
                    t.join();
                    joined[0]++;
                });
            }
            Coroutine.yield(); // every joiner parks in its join
            assertThat(Scheduler.current().joinWaits()).isEqualTo(n);
        });
        assertThat(joined[0]).isEqualTo(n);
        assertThat(Scheduler.current().joinWaits()).isZero();
    }
}
