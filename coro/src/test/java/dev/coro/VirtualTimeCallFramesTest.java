package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Main's frames inside a {@link VirtualTime#call} ({@link Coroutine#stackTrace()}, {@link Coroutine#dump()}) show the
 * call as those inside a {@link VirtualTime#run} show the run, and none of the library's machinery: in the body, its
 * frames, then {@code VirtualTime.call}, then its caller's; while it waits for the coroutines to end,
 * {@code VirtualTime.call} first.
 */
@ExtendWith(FreshThread.class)
@Timeout(20)
class VirtualTimeCallFramesTest {

    private static final String TEST = "dev.coro.VirtualTimeCallFramesTest.";

    /**
     * The first {@code n} of {@code frames} as {@code Class.method} strings, a lambda's number left out
     * ({@code Test.lambda$method$3} as {@code Test.lambda$method}), so that a list can be spelled out.
     */
    private static List<String> first(int n, StackTraceElement[] frames) {
        return Arrays.stream(frames).limit(n).map(f -> f.getClassName() + "." + f.getMethodName().replaceFirst("\\$\\d+$", ""))
                .toList();
    }

    /** What main's frames are while it sleeps in {@code body} and while it waits for the coroutines to end. */
    private static void recordMainsFrames(List<Object> seen) {
        Coroutine main = Coroutine.current();
        Coroutine.create("peek", () -> seen.add(first(4, main.stackTrace())));
        Coroutine.create("late", () -> {
            Coroutine.sleep(Duration.ofSeconds(2));
            seen.add(first(2, main.stackTrace()));
            seen.add(Coroutine.dump().lines().filter(l -> l.startsWith("        at ")).findFirst().orElseThrow());
        });
        Coroutine.sleep(Duration.ofSeconds(1));
    }

    @Test
    void mainsFramesInsideACallShowTheCallAsThoseInsideARunShowTheRun() {
        List<Object> inRun = new ArrayList<>();
        VirtualTime.run(() -> recordMainsFrames(inRun));
        List<Object> inCall = new ArrayList<>();
        int value = VirtualTime.call(() -> {
            recordMainsFrames(inCall);
            return 1;
        });
        assertThat(value).isEqualTo(1);
        String body = TEST + "lambda$mainsFramesInsideACallShowTheCallAsThoseInsideARunShowTheRun";
        String test = TEST + "mainsFramesInsideACallShowTheCallAsThoseInsideARunShowTheRun";
        assertThat(inRun).hasSize(3);
        assertThat(inRun.get(0)).isEqualTo(List.of("dev.coro.Coroutine.sleep", TEST + "recordMainsFrames", body, "dev.coro.VirtualTime.run"));
        assertThat(inRun.get(1)).isEqualTo(List.of("dev.coro.VirtualTime.run", test));
        assertThat((String) inRun.get(2)).as("main's top frame in a dump").startsWith("        at dev.coro.VirtualTime.run(VirtualTime.java:");
        assertThat(inCall).hasSize(3);
        assertThat(inCall.get(0)).isEqualTo(List.of("dev.coro.Coroutine.sleep", TEST + "recordMainsFrames", body, "dev.coro.VirtualTime.call"));
        assertThat(inCall.get(1)).isEqualTo(List.of("dev.coro.VirtualTime.call", test));
        assertThat((String) inCall.get(2)).as("main's top frame in a dump").startsWith("        at dev.coro.VirtualTime.call(VirtualTime.java:");
    }
}
