package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Coroutines made inside the elements of a parallel stream belong to whichever thread runs the element
 * (a worker of the common pool, or the thread of the terminal operation, a coroutine's body too): each
 * element that joins its own coroutines gets its result and leaves its thread nothing.
 */
@ExtendWith(FreshThread.class)
class ParallelStreamCoroutinesTest {

    /** An element's work: a coroutine of its thread sends {@code i * i} through a channel that the element receives from. */
    private static int squareThroughACoroutine(int i, Set<String> leftOver) {
        Channel<Integer> reply = new Channel<>("reply-" + i, 0);
        Coroutine c = Coroutine.create("square-" + i, () -> reply.send(i * i));
        int v = reply.receive();
        c.join();
        String dump = Coroutine.dump();
        String head = dump.substring(0, dump.indexOf('\n'));
        if (!head.endsWith(": 1 context, current index 0") && !head.endsWith(": 2 contexts, current index 1")) {
            leftOver.add(head); // more than main (and, inside a coroutine's body, that coroutine) is left on the thread
        }
        return v;
    }

    private static final int EXPECTED = IntStream.range(0, 64).map(i -> i * i).sum();

    @Test
    @Timeout(20)
    void eachElementOfAParallelStreamGetsWhatItsOwnCoroutineSentAndLeavesItsThreadNothing() {
        Set<String> leftOver = ConcurrentHashMap.newKeySet();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();

        int sum = IntStream.range(0, 64).parallel().map(i -> {
            threads.add(Thread.currentThread());
            return squareThroughACoroutine(i, leftOver);
        }).sum();

        assertThat(sum).isEqualTo(EXPECTED);
        assertThat(leftOver).isEmpty();
        assertThat(threads).contains(Thread.currentThread()); // the thread of the terminal operation takes part
    }

    @Test
    @Timeout(20)
    void aParallelStreamInsideACoroutinesBodyGetsEveryElementsResultAndLeavesEveryThreadNothing() {
        Set<String> leftOver = ConcurrentHashMap.newKeySet();
        List<String> outcome = new java.util.concurrent.CopyOnWriteArrayList<>();
        Coroutine body = Coroutine.create("streaming", () -> {
            int sum = IntStream.range(0, 64).parallel().map(i -> squareThroughACoroutine(i, leftOver)).sum();
            outcome.add("sum " + sum + " in " + Coroutine.current().name());
        });

        body.join();

        assertThat(outcome).containsExactly("sum " + EXPECTED + " in streaming");
        assertThat(leftOver).isEmpty();
        assertThat(body.state()).isEqualTo(Coroutine.State.FINISHED);
    }
}
