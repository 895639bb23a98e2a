package dev.coro.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.management.SchedulerInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The doors from the library's other packages to the scheduler: each has one implementation, installed once. */
class BridgesTest {

    @Test
    void theMonitoringBridgeIsTheLibrarysOwnAndASecondCannotReplaceIt() {
        MonitorBridge bridge = MonitorBridge.get();
        assertThat(bridge).isNotNull().isSameAs(MonitorBridge.get());
        assertThatThrownBy(() -> MonitorBridge.install(new MonitorBridge() {
            @Override
            public String caller() {
                return "";
            }

            @Override
            public void recordParkTimes() {
            }

            @Override
            public List<SchedulerInfo> schedulers() {
                return List.of();
            }

            @Override
            public String dump(int maxPerThread) {
                return "";
            }

            @Override
            public long blockedThresholdMillis() {
                return 0;
            }

            @Override
            public void setBlockedThresholdMillis(long millis) {
            }
        })).isInstanceOf(IllegalStateException.class).hasMessage("the monitoring bridge is installed already");
        assertThat(MonitorBridge.get()).isSameAs(bridge);
    }

    @Test
    void theIoBridgeIsTheLibrarysOwnAndASecondCannotReplaceIt() {
        IoBridge bridge = IoBridge.get();
        assertThat(bridge).isNotNull().isSameAs(IoBridge.get());
        assertThatThrownBy(() -> IoBridge.install(null)).isInstanceOf(IllegalStateException.class)
                .hasMessage("the I/O bridge is installed already");
        assertThat(IoBridge.get()).isSameAs(bridge);
    }
}
