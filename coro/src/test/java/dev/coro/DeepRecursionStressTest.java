package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A coroutine 10,000 frames deep yields at depth and resumes with every frame's locals intact. */
@Tag("stress")
@ExtendWith(FreshThread.class)
class DeepRecursionStressTest {

    private static final int DEPTH = 10_000;

    private final List<Integer> yieldedAt = new ArrayList<>();

    /** Recurses to {@link #DEPTH}, yielding every 1,000 frames and three times at the bottom. */
    private long descend(int depth, long token) {
        long mine = token * 31 + depth;
        if (depth % 1_000 == 0) {
            yieldedAt.add(depth);
            Coroutine.yield();
        }
        long below;
        if (depth == DEPTH) {
            for (int i = 0; i < 3; i++) {
                yieldedAt.add(depth);
                Coroutine.yield();
            }
            below = 0;
        } else {
            below = descend(depth + 1, mine);
        }
        if (mine != token * 31 + depth) {
            throw new AssertionError("frame " + depth + " lost its local");
        }
        return below + depth;
    }

    @Test
    void recursionTenThousandFramesDeepYieldsAtDepthAndResumesCorrectly() {
        StressFigures figures = StressFigures.start();
        long[] result = {-1};
        Coroutine deep = Coroutine.create("deep", () -> result[0] = descend(0, 7));

        int switches = 0;
        while (!deep.isFinished()) {
            deep.switchTo();
            switches++;
        }
        figures.print("recursion " + DEPTH + " frames deep, " + switches + " switches");

        assertThat(result[0]).isEqualTo((long) DEPTH * (DEPTH + 1) / 2);
        assertThat(switches).isEqualTo(DEPTH / 1_000 + 1 + 3 + 1);
        assertThat(yieldedAt).hasSize(DEPTH / 1_000 + 1 + 3).endsWith(DEPTH, DEPTH, DEPTH, DEPTH);
        assertThat(deep.state()).isEqualTo(Coroutine.State.FINISHED);
    }
}
