package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Parks recorded inside {@code VirtualTime.run} last the real time they took, on JFR's clock, not the
 * virtual time they waited for, which their {@code waitsFor} gives; their coroutines are numbered from 1
 * again, as default names are.
 */
@ExtendWith(FreshThread.class)
class JfrUnderVirtualTimeTest {

    @Test
    void aVirtualHoursSleepIsAParkOfTheRealTimeItTookAndSaysItsVirtualTimeInItsWait() throws Exception {
        Coroutine.create("outside", () -> { }).switchTo(); // number 1 outside the run
        List<RecordedEvent> events = JfrEventsTest.record(r -> {
            r.enable("dev.coro.Park").withThreshold(Duration.ZERO);
            r.enable("dev.coro.CoroutineEnd");
        }, () -> VirtualTime.run(() -> {
            Coroutine.create("sleeper", () -> Coroutine.sleep(Duration.ofHours(1)));
            Coroutine.sleep(Duration.ofHours(2));
        }), "dev.coro.Park", "dev.coro.CoroutineEnd");
        assertThat(events).extracting(e -> e.getEventType().getName().substring(9) + " " + e.getString("coroutine")
                        + " #" + e.getLong("coroutineNumber"))
                .containsExactlyInAnyOrder("Park main #0", "Park sleeper #1", "CoroutineEnd sleeper #1");
        RecordedEvent mainsPark = events.stream().filter(e -> e.getString("coroutine").equals("main")).findFirst().orElseThrow();
        RecordedEvent sleepersPark = events.stream()
                .filter(e -> e.getEventType().getName().equals("dev.coro.Park") && e.getString("coroutine").equals("sleeper"))
                .findFirst().orElseThrow();
        assertThat(mainsPark.getString("waitsFor"))
                .isEqualTo("sleep 7,200,000.000 ms (t=7,200,000.000 ms on the virtual clock, due)");
        assertThat(sleepersPark.getString("waitsFor"))
                .isEqualTo("sleep 3,600,000.000 ms (t=3,600,000.000 ms on the virtual clock, due)");
        assertThat(mainsPark.getDuration()).as("the real time of the park, not the virtual two hours")
                .isLessThan(Duration.ofHours(1));
        assertThat(sleepersPark.getDuration()).as("the real time of the park, not the virtual hour")
                .isLessThan(Duration.ofHours(1));
    }
}
