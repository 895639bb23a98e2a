package dev.coro.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.CoroutinePool;
import dev.coro.VirtualTime;
import dev.coro.bench.kotlin.KotlinChannels;
import dev.coro.bench.kotlin.KotlinDelay;
import dev.coro.bench.kotlin.KotlinSelect;
import dev.coro.bench.kotlin.KotlinSequences;
import dev.coro.bench.kotlin.KotlinSkynet;
import dev.coro.bench.kotlin.KotlinYield;
import java.util.Arrays;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/** The workloads the benchmarks time (A↔B pairs, generators, channels, the kotlinx rivals) do the work they claim and return. */
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

    @Test
    void coroChannelPairEchoesEveryValueAndCloses() {
        ChannelBenchmark.CoroChannelPingPong pair = new ChannelBenchmark.CoroChannelPingPong(10);
        assertThat(pair.run()).isEqualTo(0 + 1 + 2 + 3 + 4);
        assertThat(pair.run()).isEqualTo(10);
        pair.close();
    }

    @Test
    void generatorsAndSequencesYieldTheSameElements() {
        assertThat(GeneratorBenchmark.coroSum(1000)).isEqualTo(499_500);
        assertThat(KotlinSequences.sum(1000)).isEqualTo(499_500);
        Iterator<Long> naturals = KotlinSequences.naturals();
        assertThat(naturals.next()).isZero();
        assertThat(naturals.next()).isEqualTo(1);
    }

    @Test
    void kotlinRivalsDoTheirWork() {
        assertThat(KotlinYield.rounds(2, 10)).isEqualTo(30);
        assertThat(KotlinChannels.pingPong(5)).isEqualTo(10);
        assertThat(KotlinChannels.pingPongDefaultDispatcher(5)).isEqualTo(10);
        assertThat(KotlinChannels.selectPingPongDefaultDispatcher(5)).isEqualTo(10);
        assertThat(KotlinSelect.receive(100)).isBetween(100L, 200L);
        assertThat(KotlinSkynet.run(1000, 10)).isEqualTo(499_500);
        assertThat(KotlinSkynet.runUndispatched(1000, 10)).isEqualTo(499_500);
    }

    @Test
    void delaysRunInVirtualTimeOverTheSeededTable() {
        int[] delays = VirtualTimeDelayBenchmark.delays();
        assertThat(delays).hasSize(VirtualTimeDelayBenchmark.TOTAL);
        assertThat(Arrays.stream(delays).min().getAsInt()).isEqualTo(1);
        assertThat(Arrays.stream(delays).max().getAsInt()).isEqualTo(100);
        assertThat(VirtualTimeDelayBenchmark.delays()).isEqualTo(delays);
        // two coroutines of three delays: the virtual clock ends at the longer total
        assertThat(KotlinDelay.run(new int[] {1, 2, 3, 10, 20, 30}, 2)).isEqualTo(60);
        long longest = 0;
        for (int c = 0; c < VirtualTimeDelayBenchmark.COROUTINES; c++) {
            int from = c * VirtualTimeDelayBenchmark.DELAYS_EACH;
            longest = Math.max(longest, Arrays.stream(delays, from, from + VirtualTimeDelayBenchmark.DELAYS_EACH).sum());
        }
        assertThat(KotlinDelay.run(delays, VirtualTimeDelayBenchmark.COROUTINES)).isEqualTo(longest);
    }

    @Test
    void coroSleepersEndAtTheLongestTotalOfTheTableLikeKotlinsDelay() {
        int[] delays = {1, 2, 3, 10, 20, 30};
        assertThat(VirtualTimeDelayBenchmark.sleepers(VirtualTimeDelayBenchmark.durations(delays), 2)).isEqualTo(60);
        int[] table = VirtualTimeDelayBenchmark.delays();
        assertThat(VirtualTimeDelayBenchmark.sleepers(VirtualTimeDelayBenchmark.durations(table), VirtualTimeDelayBenchmark.COROUTINES))
                .isEqualTo(KotlinDelay.run(table, VirtualTimeDelayBenchmark.COROUTINES));
        assertThat(VirtualTimeDelayBenchmark.yielders(1000, 100)).isEqualTo(100_000);
    }

    @Test
    void selectAndPlainReceivesTakeFromBothProducers() {
        SelectBenchmark.Producers s = new SelectBenchmark.Producers();
        s.setUp();
        // a plain receive alternates: 1 + 2 per pair
        assertThat(SelectBenchmark.receiveAlternating(s, 100)).isEqualTo(150);
        long reused = SelectBenchmark.selectReceive(s, 1000);
        long built = SelectBenchmark.selectReceiveBuiltEachTime(s, 1000);
        // each select received a 1 or a 2, and both producers were served
        assertThat(reused).isGreaterThan(1000).isLessThan(2000);
        assertThat(built).isGreaterThan(1000).isLessThan(2000);
        s.tearDown();
    }

    @Test
    void timerLatenessRecordsEveryWakeAndOnAVirtualClockNoneIsLate() {
        TimerLateness.Round[] r = new TimerLateness.Round[1];
        VirtualTime.run(() -> r[0] = TimerLateness.round(100, 2));
        assertThat(r[0].lateness().count()).isEqualTo(200);
        assertThat(r[0].lateness().max()).isZero();
    }

    @Test
    void virtualThreadSkynetSumsEveryLeaf() throws InterruptedException {
        assertThat(SkynetBenchmark.virtualThreadSkynet(1000, 10)).isEqualTo(499_500);
    }

    @Test
    void coroSkynetSumsEveryLeafOnThePool() {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            for (boolean depthFirst : new boolean[] {true, false}) {
                assertThat(SkynetBenchmark.coroSkynet(pool, 1000, 10, depthFirst)).isEqualTo(499_500);
                assertThat(SkynetBenchmark.coroSkynet(pool, 10, 10, depthFirst)).isEqualTo(45);
            }
        }
    }

    @Test
    void crossThreadWorkloadsEchoEveryValue() throws InterruptedException {
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            assertThat(CrossThreadChannelBenchmark.coroPingPong(pool, 5)).isEqualTo(10);
            assertThat(CrossThreadChannelBenchmark.coroPingPong(pool, 100)).isEqualTo(4950);
            assertThat(CrossThreadChannelBenchmark.coroSelectPingPong(pool, 5)).isEqualTo(10);
            assertThat(CrossThreadChannelBenchmark.coroSelectPingPong(pool, 100)).isEqualTo(4950);
            // each side awaits 0 .. 9 once
            assertThat(AwaitBenchmark.coroAwaitCrossThread(pool, 10)).isEqualTo(90);
        }
        assertThat(AwaitBenchmark.threadsJoinCrossThread(Thread.ofVirtual(), 10)).isEqualTo(90);
        assertThat(AwaitBenchmark.threadsJoinCrossThread(Thread.ofPlatform(), 10)).isEqualTo(90);
    }
}
