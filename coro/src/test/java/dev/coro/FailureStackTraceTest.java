package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The stack trace of the {@link CoroutineException} a context catches shows where it was thrown: the
 * pending call of the context that resumed after the failure, on both engines.
 */
@ExtendWith(FreshThread.class)
class FailureStackTraceTest {

    private static List<String> methods(Throwable t) {
        return Arrays.stream(t.getStackTrace()).map(f -> f.getClassName() + "." + f.getMethodName()).toList();
    }

    private static void fails() {
        throw new IllegalStateException("boom");
    }

    @Test
    void theFailureMainCatchesShowsMainsCallThatThrewIt() {
        Coroutine c = Coroutine.create("fails", FailureStackTraceTest::fails);
        CoroutineException e = catchThrowableOfType(CoroutineException.class, c::switchTo);
        assertThat(methods(e)).contains("dev.coro.Coroutine.switchTo",
                FailureStackTraceTest.class.getName() + ".theFailureMainCatchesShowsMainsCallThatThrewIt");
        assertThat(methods(e.getCause())).contains(FailureStackTraceTest.class.getName() + ".fails");
    }

    /** The creator's body: runs its child, which fails, and catches the failure at its switch. */
    private static void creatorBody(AtomicReference<CoroutineException> caught) {
        Coroutine child = Coroutine.create("child", FailureStackTraceTest::fails);
        caught.set(catchThrowableOfType(CoroutineException.class, child::switchTo));
    }

    @Test
    void theFailureACreatorCatchesShowsTheCreatorsCallThatThrewIt() {
        AtomicReference<CoroutineException> caught = new AtomicReference<>();
        Coroutine.create("creator", () -> creatorBody(caught)).switchTo();
        assertThat(caught.get()).hasMessage("coroutine 'child' failed: java.lang.IllegalStateException: boom");
        assertThat(methods(caught.get())).contains("dev.coro.Coroutine.switchTo",
                FailureStackTraceTest.class.getName() + ".creatorBody");
    }

    @Test
    void theFailureMainsPendingYieldThrowsShowsThatYield() {
        Coroutine.create("fails", FailureStackTraceTest::fails);
        CoroutineException e = catchThrowableOfType(CoroutineException.class, Coroutine::yield);
        assertThat(e).hasMessage("coroutine 'fails' failed: java.lang.IllegalStateException: boom");
        assertThat(methods(e)).contains("dev.coro.Coroutine.yield",
                FailureStackTraceTest.class.getName() + ".theFailureMainsPendingYieldThrowsShowsThatYield")
                .as("not where the failure was made, as the body ended").doesNotContain("dev.coro.Scheduler.bodyEnded");
        assertThat(methods(e.getCause())).contains(FailureStackTraceTest.class.getName() + ".fails");
    }

    @Test
    void theFailureThatCancelsMainsParkedReceiveShowsThatReceive() {
        Channel<Integer> never = new Channel<>("never", 0);
        Coroutine.create("fails", FailureStackTraceTest::fails);
        CoroutineException e = catchThrowableOfType(CoroutineException.class, never::receive); // main parks; it fails
        assertThat(e).hasMessage("coroutine 'fails' failed: java.lang.IllegalStateException: boom");
        assertThat(methods(e)).contains("dev.coro.Channel.receive",
                FailureStackTraceTest.class.getName() + ".theFailureThatCancelsMainsParkedReceiveShowsThatReceive")
                .as("not where the failure was made, as the body ended").doesNotContain("dev.coro.Scheduler.bodyEnded");
        assertThat(methods(e.getCause())).contains(FailureStackTraceTest.class.getName() + ".fails");
    }

    @Test
    void theFailureACloserCatchesShowsTheCloseThatThrewIt() {
        Coroutine c = Coroutine.create("throwsWhenClosed", () -> {
            try {
                Coroutine.yield();
            } finally {
                fails();
            }
        });
        c.switchTo();
        CoroutineException e = catchThrowableOfType(CoroutineException.class, c::close);
        assertThat(methods(e)).contains("dev.coro.Coroutine.close",
                FailureStackTraceTest.class.getName() + ".theFailureACloserCatchesShowsTheCloseThatThrewIt");
    }
}
