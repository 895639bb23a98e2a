package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code create(body, arg)} passes its argument to the body, as the seed's {@code create_ctx(fn, arg)}. */
@ExtendWith(FreshThread.class)
class CoroutineArgumentTest {

    @Test
    void anUnnamedCoroutineGetsItsArgumentAndADefaultName() {
        List<String> got = new ArrayList<>();
        Coroutine c = Coroutine.create((String s) -> got.add(s + " in " + Coroutine.current().name()), "hello");
        c.switchTo();
        assertThat(got).containsExactly("hello in coroutine-1");
        assertThat(c.isFinished()).isTrue();
    }

    @Test
    void aNamedCoroutineGetsItsArgument() {
        List<Integer> got = new ArrayList<>();
        Coroutine c = Coroutine.create("adder", (Integer n) -> got.add(n + 1), 41);
        c.switchTo();
        assertThat(got).containsExactly(42);
        assertThat(c.name()).isEqualTo("adder");
        assertThat(c).hasToString("Coroutine[adder, FINISHED]");
    }
}
