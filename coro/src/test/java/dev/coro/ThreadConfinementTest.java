package dev.coro;

import static dev.coro.ThreadNames.thread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A coroutine belongs to the thread that created it: other threads get an exception naming both threads. */
@ExtendWith(FreshThread.class)
class ThreadConfinementTest {

    @Test
    void switchToFromAnotherThreadNamesTheCoroutineItsStateAndBothThreads() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        Thread.Builder other = Thread.ofPlatform().name("intruder");

        Throwable e = OtherThread.thrownOn(other, c::switchTo);

        assertThat(e).isInstanceOf(IllegalStateException.class)
                .hasMessageMatching("cannot switchTo coroutine 'worker' \\(NEW\\) from thread 'intruder'"
                        + " \\(#\\d+\\): it belongs to thread " + java.util.regex.Pattern.quote(thread()));
        assertThat(c.state()).isEqualTo(Coroutine.State.NEW);
    }

    @Test
    void everyCheckedCallFromAnotherThreadThrowsAndNamesTheOperation() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        List<String> messages = new ArrayList<>();
        for (Consumer<Coroutine> call : List.<Consumer<Coroutine>>of(
                Coroutine::switchTo, Coroutine::close, Coroutine::isFinished, Coroutine::state, Coroutine::stackTrace)) {
            messages.add(OtherThread.thrownOn(Thread.ofPlatform(), () -> call.accept(c)).getMessage());
        }
        assertThat(messages).satisfiesExactly(
                m -> assertThat(m).startsWith("cannot switchTo coroutine 'worker'"),
                m -> assertThat(m).startsWith("cannot close coroutine 'worker'"),
                m -> assertThat(m).startsWith("cannot ask isFinished() of coroutine 'worker' (NEW) from thread"),
                m -> assertThat(m).startsWith("cannot read the state of coroutine 'worker' (NEW) from thread"),
                m -> assertThat(m).startsWith("cannot take the stack trace of coroutine 'worker'"));
        assertThat(c.state()).isEqualTo(Coroutine.State.NEW);
    }

    @Test
    void aVirtualThreadIsNamedAsVirtual() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        Throwable e = OtherThread.thrownOn(Thread.ofVirtual().name("fiber"), c::close);
        assertThat(e).hasMessageMatching("cannot close coroutine 'worker' \\(NEW\\) from thread 'fiber'"
                + " \\(#\\d+, virtual\\): it belongs to thread .*");
    }

    @Test
    void nameAndToStringMayBeReadFromAnyThread() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        AtomicReference<String> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn(Thread.ofPlatform(), () -> seen.set(c.name() + " " + c + " " + c.isMain()))).isNull();
        assertThat(seen.get()).isEqualTo("worker Coroutine[worker, NEW] false");
    }

    @Test
    void eachThreadHasItsOwnRunListAndMain() throws InterruptedException {
        Coroutine mine = Coroutine.create("mine", () -> { });
        Coroutine myMain = Coroutine.current();
        AtomicReference<String> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn(Thread.ofPlatform(), () -> {
            Coroutine theirs = Coroutine.create(() -> { });
            seen.set(Coroutine.current().isMain() + " " + (Coroutine.current() != myMain) + " " + theirs.name()
                    + " " + Coroutine.currentId());
        })).isNull();
        assertThat(seen.get()).isEqualTo("true true coroutine-1 0");
        assertThat(mine.name()).isEqualTo("mine");
        assertThat(myMain.isMain()).isTrue();
        assertThat(mine.isMain()).isFalse();
    }

    @Test
    void aThreadBoundToAnotherThreadsSchedulerPassesItsOwnerCheck() throws InterruptedException {
        Coroutine c = Coroutine.create("worker", () -> { });
        Scheduler s = Scheduler.current();
        AtomicReference<Coroutine.State> seen = new AtomicReference<>();
        assertThat(OtherThread.thrownOn(Thread.ofPlatform(), () -> {
            assertThat(Scheduler.currentOrNull()).isNull();
            Scheduler.bind(s);
            assertThat(Scheduler.currentOrNull()).isSameAs(s);
            seen.set(c.state());
        })).isNull();
        assertThat(seen.get()).isEqualTo(Coroutine.State.NEW);
    }
}
