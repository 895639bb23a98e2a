package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every context and every generator body sees its own {@link ScopedValue} bindings, as a virtual
 * thread does: a body starts with none, and what one context binds is never seen by another.
 */
@ExtendWith(FreshThread.class)
class ScopedValueTest {

    private static final ScopedValue<String> USER = ScopedValue.newInstance();
    private static final ScopedValue<String> ROLE = ScopedValue.newInstance();

    private final List<String> seen = new ArrayList<>();

    private void see(String who) {
        seen.add(who + "=" + USER.orElse("-") + "/" + ROLE.orElse("-"));
    }

    @Test
    void aBindingMadeInACoroutineThatYieldsInsideItIsNotSeenByMain() {
        Coroutine.create(() -> ScopedValue.where(USER, "alice").run(() -> {
            see("body");
            Coroutine.yield();
            see("body");
        }));
        Coroutine.yield();
        see("main");
        ScopedValue.where(USER, "bob").run(() -> {
            Coroutine.yield(); // the body leaves its where(alice) and ends
            see("main");
        });
        see("main");
        assertThat(seen).containsExactly("body=alice/-", "main=-/-", "body=alice/-", "main=bob/-", "main=-/-");
    }

    @Test
    void aBodyStartsWithNoBindingsWhereverItWasCreatedOrFirstRun() {
        Coroutine[] c = new Coroutine[1];
        ScopedValue.where(USER, "creator").run(() -> c[0] = Coroutine.create(() -> see("body")));
        ScopedValue.where(USER, "resumer").run(() -> c[0].switchTo());
        assertThat(seen).containsExactly("body=-/-");
    }

    /**
     * A generator's body starts with no bindings too, whatever was bound where the generator was made
     * and around the call that first runs it, by main or by a coroutine.
     */
    @Test
    void aGeneratorBodyStartsWithNoBindingsWhereverItWasMadeOrFirstRun() {
        List<Generator<String>> made = new ArrayList<>();
        ScopedValue.where(USER, "maker").where(ROLE, "maker's").run(() -> {
            made.add(Generator.of("first", out -> out.emit("first=" + USER.orElse("-") + "/" + ROLE.orElse("-"))));
            made.add(Generator.of("second", out -> out.emit("second=" + USER.orElse("-") + "/" + ROLE.orElse("-"))));
        });
        ScopedValue.where(USER, "consumer").run(() -> seen.add(made.get(0).next()));
        Coroutine.create("reader", () -> ScopedValue.where(ROLE, "reader's").run(() -> seen.add(made.get(1).next()))).join();
        assertThat(seen).containsExactly("first=-/-", "second=-/-");
    }

    @Test
    void eachContextKeepsItsOwnNestedBindingsAcrossManySwitches() {
        Coroutine a = Coroutine.create("a", () -> ScopedValue.where(USER, "a").run(() -> {
            for (int i = 0; i < 3; i++) {
                see("a");
                ScopedValue.where(ROLE, "a-role").run(() -> {
                    Coroutine.yield();
                    see("a");
                });
                Coroutine.yield();
            }
        }));
        Coroutine b = Coroutine.create("b", () -> {
            for (int i = 0; i < 3; i++) {
                see("b");
                Coroutine.yield();
            }
        });
        ScopedValue.where(USER, "main").where(ROLE, "boss").run(() -> {
            while (!a.isFinished() || !b.isFinished()) {
                Coroutine.yield();
                see("main");
            }
        });
        assertThat(seen).isNotEmpty().allSatisfy(s -> assertThat(s).isIn(
                "a=a/-", "a=a/a-role", "b=-/-", "main=main/boss"));
        assertThat(seen).contains("a=a/-", "a=a/a-role", "b=-/-", "main=main/boss");
        for (String s : seen) {
            if (s.startsWith("a=a/a-role")) {
                assertThat(seen.indexOf(s)).isPositive();
            }
        }
    }

    @Test
    void aGeneratorBodyAndItsConsumerEachSeeTheirOwnBindings() {
        Generator<String> g = Generator.of("g", out -> {
            out.emit(USER.orElse("-"));
            ScopedValue.where(USER, "inside").run(() -> {
                out.emit(USER.orElse("-"));
                out.emit(USER.orElse("-"));
            });
            out.emit(USER.orElse("-"));
        });
        List<String> values = new ArrayList<>();
        ScopedValue.where(USER, "consumer").run(() -> {
            for (int i = 0; i < 4; i++) {
                values.add(g.next());
                values.add("consumer sees " + USER.orElse("-"));
            }
        });
        assertThat(values).containsExactly("-", "consumer sees consumer", "inside", "consumer sees consumer",
                "inside", "consumer sees consumer", "-", "consumer sees consumer");
    }

    @Test
    void aConsumerWithoutBindingsSeesNoneOfWhatItsGeneratorBodyBoundAroundAnEmit() {
        Generator<String> g = Generator.of("g", out -> ScopedValue.where(USER, "inside").run(() -> {
            out.emit(USER.orElse("-"));
            out.emit(USER.orElse("-"));
        }));
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            values.add(g.next());
            values.add("consumer sees " + USER.orElse("-"));
        }
        assertThat(values).containsExactly("inside", "consumer sees -", "inside", "consumer sees -");
    }

    @Test
    void aYieldInsideAGeneratorBodyKeepsTheBindingsOfTheBodyTheConsumerAndMain() {
        Generator<String> g = Generator.of("g", out -> ScopedValue.where(USER, "gen").run(() -> {
            Coroutine.yield();
            out.emit(USER.orElse("-"));
        }));
        List<String> values = new ArrayList<>();
        Coroutine consumer = Coroutine.create("consumer", () -> ScopedValue.where(ROLE, "consumer").run(() -> {
            values.add(g.next() + " " + ROLE.orElse("-"));
        }));
        ScopedValue.where(USER, "main").run(() -> {
            consumer.switchTo(); // the body yields: back here
            values.add("main " + USER.orElse("-") + " " + ROLE.orElse("-"));
            consumer.switchTo(); // the body emits, the consumer ends
            values.add("main " + USER.orElse("-") + " " + ROLE.orElse("-"));
        });
        assertThat(values).containsExactly("main main -", "gen consumer", "main main -");
    }

    @Test
    void switchesAroundAContextWithBindingsKeepAPendingInterruptOfTheThread() {
        Coroutine.create("bound", () -> ScopedValue.where(USER, "bound").run(Coroutine::yield));
        Thread.currentThread().interrupt();
        try {
            Coroutine.yield(); // the coroutine suspends inside its binding; main comes back without it
            see("main");
            assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is still pending").isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(seen).containsExactly("main=-/-");
    }

    @Test
    void switchesAroundAContextWithBindingsInterruptNoThread() {
        Coroutine.create("bound", () -> ScopedValue.where(USER, "bound").run(Coroutine::yield));
        Coroutine.yield(); // the coroutine suspends inside its binding; main comes back without it
        see("main");
        assertThat(seen).containsExactly("main=-/-");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    @EnabledIf(value = "dev.coro.ContinuationEngineTest#continuationEngineRuns",
            disabledReason = "the continuation engine's own machinery: on the thread engine every context has a thread of its own")
    void aThreadThatHasLeftEveryBindingCountsAsHavingNone() {
        ScopedBindings bindings = new ScopedBindings();
        assertThat(bindings.bare()).as("a thread that never bound anything").isTrue();
        ScopedValue.where(USER, "once").run(() -> assertThat(bindings.bare()).as("inside a binding").isFalse());
        assertThat(bindings.bare()).as("after leaving it").isTrue();
    }
}
