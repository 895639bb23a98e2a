package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Semaphore#release()} in a {@code finally} of a body being unwound (closed, or its
 * {@code withTimeout} expired), on the semaphore's thread, on a pool thread, and from a plain thread,
 * and acquires cancelled at every point: no permit is lost or made, on both engines; the permits free
 * afterwards are always those it was made with.
 */
@ExtendWith(FreshThread.class)
class SemaphoreUnwindTest {

    @Test
    void aReleaseInTheFinallyOfACoroutineClosedOrTimedOutOnTheSemaphoresThreadGivesThePermitBack() {
        VirtualTime.run(() -> {
            Semaphore s = new Semaphore("s", 2);
            s.acquire(); // main takes both; each coroutine gives one back as it is unwound
            s.acquire();
            Coroutine closed = Coroutine.create("closed", () -> {
                try {
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    s.release();
                }
            });
            Coroutine.create("timedOut", () -> {
                try {
                    Coroutine.withTimeout(Duration.ofMillis(3), () -> {
                        try {
                            Coroutine.sleep(Duration.ofHours(1));
                        } finally {
                            s.release();
                        }
                    });
                } catch (CoroutineTimeoutException expected) {
                    // its sleep was cut short: the release in its finally ran meanwhile
                }
            });
            Coroutine.yield();
            closed.close();
            assertThat(s.availablePermits()).isEqualTo(1);
            Coroutine.sleep(Duration.ofMillis(5));
            assertThat(s.availablePermits()).isEqualTo(2);
        });
    }

    @Test
    void aPermitMainTookThatAPoolBodyReleasesAsItsWithTimeoutExpiresIsGivenBack() {
        // the release is the first operation of the pool thread on the semaphore: it must be posted to main
        Semaphore s = new Semaphore("slots", 1);
        CompletableFuture<Object> body;
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            s.acquire(); // a slot for the body, which gives it back however it ends
            body = pool.submit(() -> {
                Coroutine.withTimeout(Duration.ofMillis(1), () -> {
                    try {
                        Coroutine.sleep(Duration.ofHours(1));
                    } finally {
                        s.release();
                    }
                });
                return null;
            });
            assertThatThrownBy(() -> Coroutine.await(body))
                    .isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(CoroutineTimeoutException.class);
        }
        Coroutine.yield(); // main runs the posts it holds: the release, which its caller did not wait for
        assertThat(s.availablePermits()).isEqualTo(1);
    }

    @Test
    void aPermitMainTookThatAPoolBodyReleasesAsItIsClosedIsGivenBack() {
        Semaphore s = new Semaphore("slots", 1);
        CompletableFuture<String> started = new CompletableFuture<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            s.acquire();
            CompletableFuture<Object> body = pool.submit(() -> {
                try {
                    started.complete("started");
                    Coroutine.sleep(Duration.ofHours(1));
                } finally {
                    s.release();
                }
                return null;
            });
            Coroutine.await(started);
            body.cancel(true); // its thread's main closes the body's coroutine
        }
        Coroutine.yield(); // main runs the posts it holds: the release, which its caller did not wait for
        assertThat(s.availablePermits()).isEqualTo(1);
    }

    @Test
    void aReleasePostedFromAPoolThreadWhoseCallerIsClosedWhileItWaitsForTheAnswerStillGivesThePermitBack() {
        Semaphore s = new Semaphore("slots", 2);
        CountDownLatch closedIt = new CountDownLatch(1);
        AtomicReference<String> release = new AtomicReference<>("not called");
        List<Coroutine.State> states = new ArrayList<>();
        try (CoroutinePool pool = CoroutinePool.start(1)) {
            s.acquire();
            s.acquire();
            CompletableFuture<Object> body = pool.submit(() -> {
                Coroutine releaser = Coroutine.create("releaser", () -> {
                    try {
                        s.release(); // posted to main, which is blocked: it waits for the answer
                        release.set("returned");
                    } catch (Throwable e) {
                        release.set("threw " + e);
                        throw e;
                    } finally {
                        s.release(); // the second, its caller being unwound: posted, not waited for
                    }
                });
                Coroutine.yield();
                states.add(releaser.state());
                releaser.close(); // while its release waits for main's answer
                states.add(releaser.state());
                closedIt.countDown();
                return null;
            });
            awaitHoldingTheThread(closedIt); // main runs nothing meanwhile: the posted release waits
            Coroutine.await(body);
        }
        // the close interrupted its wait for the answer: the release returned, its permit on its way; the second
        // release, in the finally, ran too; the close's signal came at the next scheduling point, the body's end
        assertThat(states).containsExactly(Coroutine.State.PARKED, Coroutine.State.CLOSED);
        assertThat(release.get()).isEqualTo("returned");
        Coroutine.yield(); // main runs the posts it holds: the release among them
        assertThat(s.availablePermits()).isEqualTo(2);
    }

    @Test
    void aPermitReleasedFromAPlainThreadIsGivenBack() throws Exception {
        Semaphore s = new Semaphore("slots", 2);
        s.acquire();
        s.acquire();
        CompletableFuture<Integer> released = new CompletableFuture<>();
        Thread plain = new Thread(() -> {
            s.release(); // posted to main, which answers while it awaits
            released.complete(s.availablePermits());
        }, "plain");
        plain.start();
        assertThat(Coroutine.await(released)).isEqualTo(1);
        plain.join();
        s.release();
        assertThat(s.availablePermits()).isEqualTo(2);
    }

    @Test
    void acquiresAndWithPermitsOnTheSemaphoresThreadUnderATimeoutExpiringAtEveryPointLoseAndMakeNone() {
        for (int t = 0; t <= 14; t++) {
            int timeout = t;
            VirtualTime.run(() -> {
                Semaphore s = new Semaphore("s", 2);
                for (int i = 0; i < 4; i++) {
                    int n = i;
                    Coroutine.create("c" + n, () -> {
                        try {
                            Coroutine.withTimeout(Duration.ofMillis(timeout + n), () -> {
                                s.withPermit(() -> Coroutine.sleep(Duration.ofMillis(3)));
                                s.acquire();
                                try {
                                    Coroutine.sleep(Duration.ofMillis(2));
                                } finally {
                                    s.release();
                                }
                                if (s.tryAcquire(Duration.ofMillis(4))) {
                                    s.release();
                                }
                            });
                        } catch (CoroutineTimeoutException expected) {
                            // expired somewhere: what matters is the count below
                        }
                    });
                }
                Coroutine.sleep(Duration.ofMillis(100));
                assertThat(s.availablePermits()).as("free permits after a timeout of %d ms", timeout).isEqualTo(2);
            });
        }
    }


    /**
     * On the thread engine each body and user is a virtual thread, which the JDK never preempts: the bodies of one
     * pool thread that yield in a loop until their users' steps are done hand the turn to one another, and with one
     * carrier (a one-core machine) the JDK's scheduler keeps running them, never the other pool thread's users that
     * hold the permits they wait for (seen in repetitions on one cpu); so the test needs two carriers there.
     */
    @Test
    void withPermitsOfPoolBodiesClosedAtEveryPointLoseAndMakeNone() {
        Carriers.assumeASecondOnTheThreadEngine("yield loops of one pool thread's bodies keep the one carrier from the other pool thread's users");
        Semaphore s = new Semaphore("shared", 2);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        int users = 3;
        int rounds = 3;
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Object>> bodies = new ArrayList<>();
            // each user of a body takes a permit and gives it back, rounds times: 2 steps each; the body
            // closes its users after k of their steps, for every k, wherever each is then: waiting for a
            // permit, holding one, giving it back, or done
            for (int k = 0; k <= 2 * users * rounds; k++) {
                int closeAfter = k;
                bodies.add(pool.submit(() -> {
                    AtomicInteger steps = new AtomicInteger();
                    List<Coroutine> started = new ArrayList<>();
                    for (int u = 0; u < users; u++) {
                        started.add(Coroutine.create("user" + u, () -> {
                            for (int round = 0; round < rounds; round++) {
                                s.withPermit(() -> {
                                    steps.incrementAndGet();
                                    most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                                    try {
                                        Coroutine.yield();
                                    } finally {
                                        holding.decrementAndGet();
                                    }
                                });
                                steps.incrementAndGet();
                                Coroutine.yield();
                            }
                        }));
                    }
                    while (steps.get() < closeAfter) {
                        Coroutine.yield();
                    }
                    for (Coroutine c : started) {
                        c.close();
                    }
                    return null;
                }));
            }
            // main, the semaphore's thread, takes part too
            for (int i = 0; i < 10; i++) {
                s.withPermit(Coroutine::yield);
            }
            for (CompletableFuture<Object> b : bodies) {
                Coroutine.await(b);
            }
        }
        Coroutine.yield(); // main runs the posts it holds: a release whose caller did not wait among them
        assertThat(s.availablePermits()).isEqualTo(2);
        assertThat(most.get()).isBetween(1, 2);
    }

    @Test
    void withPermitsOfPoolBodiesUnderTimeoutsExpiringAnywhereLoseAndMakeNone() {
        Semaphore s = new Semaphore("shared", 2);
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            List<CompletableFuture<Object>> bodies = new ArrayList<>();
            for (int k = 0; k < 40; k++) {
                long micros = 20L * k;
                bodies.add(pool.submit(() -> {
                    try {
                        Coroutine.withTimeout(Duration.ofNanos(micros * 1000), () -> {
                            for (int round = 0; round < 5; round++) {
                                s.withPermit(() -> Coroutine.sleep(Duration.ofNanos(50_000)));
                                if (s.tryAcquire(Duration.ofNanos(30_000))) {
                                    s.release();
                                }
                            }
                        });
                    } catch (CoroutineTimeoutException expected) {
                        // expired somewhere: what matters is the count below
                    }
                    return null;
                }));
            }
            for (CompletableFuture<Object> b : bodies) {
                Coroutine.await(b);
            }
        }
        Coroutine.yield(); // main runs the posts it holds: a release whose caller did not wait among them
        assertThat(s.availablePermits()).isEqualTo(2);
    }

    /** Blocks the whole thread (its scheduler runs nothing) until {@code latch} is open. */
    private static void awaitHoldingTheThread(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
