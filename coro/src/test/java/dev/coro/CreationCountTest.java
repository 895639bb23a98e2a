package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A thread that has created billions of coroutines, generators and channels (a server's pool thread
 * running one coroutine per request for days) goes on numbering them: a count never wraps into a
 * negative name or into main's number. The counts are set as if the thread had made that many.
 */
@ExtendWith(FreshThread.class)
class CreationCountTest {

    @Test
    void theCoroutineGeneratorAndChannelAfterTwoToTheThirtyOneMinusOneOthersAreNumberedOnNotNegative() {
        Scheduler s = Scheduler.current();
        s.created = Integer.MAX_VALUE;
        s.generatorsCreated = Integer.MAX_VALUE;
        s.channelsCreated = Integer.MAX_VALUE;
        Coroutine c = Coroutine.create(() -> { });
        assertThat(c.name()).isEqualTo("coroutine-2147483648");
        assertThat(Generator.of(out -> { }).name()).isEqualTo("generator-2147483648");
        assertThat(new Channel<Integer>(1)).hasToString("Channel[channel-2147483648, capacity 1, 0 buffered, open]");
        c.switchTo();
        assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
    }

    @Test
    void theCoroutineAfterTwoToTheThirtyTwoMinusOneOthersIsACoroutineNotASecondMain() {
        Scheduler.current().created = (1L << 32) - 1;
        StringBuilder ran = new StringBuilder();
        Coroutine c = Coroutine.create(() -> ran.append(Coroutine.current().name()));
        assertThat(c.isMain()).isFalse();
        assertThat(c).hasToString("Coroutine[coroutine-4294967296, NEW]");
        assertThat(Coroutine.dump()).contains("  [0] main: RUNNING (the caller)\n")
                .endsWith("\n  [1] coroutine 'coroutine-4294967296': NEW\n");
        c.switchTo();
        assertThat(ran).hasToString("coroutine-4294967296");
        assertThat(c.state()).isEqualTo(Coroutine.State.FINISHED);
    }
}
