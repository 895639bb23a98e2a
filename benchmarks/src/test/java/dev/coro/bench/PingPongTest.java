package dev.coro.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The A↔B pairs the benchmarks time really hand control back and forth and return to main. */
class PingPongTest {

    @Test
    void coroutinePairReturnsToMainAfterEachRunAndCloses() {
        CoroPingPong pair = new CoroPingPong(10);
        pair.run();
        pair.run();
        pair.close();
    }

    @Test
    void rawPairReturnsToMainAfterEachRun() {
        RawPingPong pair = new RawPingPong(10);
        pair.run();
        pair.run();
    }

    @Test
    void virtualAndPlatformParkPairsReturnToMainAndStop() throws InterruptedException {
        for (Thread.Builder threads : new Thread.Builder[] {Thread.ofVirtual(), Thread.ofPlatform().daemon()}) {
            ParkPingPong pair = new ParkPingPong(threads, 10);
            pair.run();
            pair.run();
            pair.close();
        }
    }

    @Test
    void queuePairReturnsToMainAndStops() throws InterruptedException {
        QueuePingPong pair = new QueuePingPong(Thread.ofVirtual(), 10);
        pair.run();
        pair.run();
        pair.close();
    }

    @Test
    void scaleWorkloadCountsEveryYieldOfCoroutinesAndRawContinuations() {
        // 1,000 coroutines x 3 yields, plus main's 4 yields (3 rounds and the one in which they return)
        assertThat(ScaleWorkload.coro(1000, 3)).isEqualTo(3004);
        assertThat(ScaleWorkload.raw(1000, 3)).isEqualTo(3000);
    }
}
