package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Values whose {@code equals}, {@code hashCode} and {@code toString()} throw pass through every way a
 * value travels (a rendezvous and a buffered channel, a select's {@code onSend} and {@code onReceive},
 * a value given back by a receiver closed before it ran, a timed receive, a generator, an await) each
 * exactly once and by identity: the library never asks a value to compare, hash or print itself, and
 * a dump of a context parked with one says what it waits for without it.
 */
@ExtendWith(FreshThread.class)
class HostileValueTest {

    /** A value that refuses to compare, hash or print itself. */
    static final class Hostile {
        final int n;

        Hostile(int n) {
            this.n = n;
        }

        @Override
        public boolean equals(Object o) {
            throw new AssertionError("equals of value " + n);
        }

        @Override
        public int hashCode() {
            throw new AssertionError("hashCode of value " + n);
        }

        @Override
        public String toString() {
            throw new AssertionError("toString of value " + n);
        }
    }

    @Test
    void hostileValuesCrossChannelsAndSelectsEachOnceByIdentity() {
        List<Hostile> values = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            values.add(new Hostile(i));
        }
        List<Object> got = new ArrayList<>();
        String[] dump = new String[1];
        VirtualTime.run(() -> {
            Channel<Hostile> rendezvous = new Channel<>("rendezvous", 0);
            Channel<Hostile> buffered = new Channel<>("buffered", 1);
            Channel<Hostile> givenBack = new Channel<>("given back", 0);
            Coroutine sender = Coroutine.create("sender", () -> {
                rendezvous.send(values.get(0));
                new Select<String>().onSend(rendezvous, values.get(1), () -> "sent").select();
                buffered.send(values.get(2));
                rendezvous.send(values.get(4));
            });
            sender.switchTo();
            dump[0] = Coroutine.dump();
            got.add(rendezvous.receive());
            got.add(new Select<Hostile>().onReceive(rendezvous, v -> v).onTimeout(Duration.ofSeconds(1), () -> null).select());
            got.add(buffered.receive());
            Coroutine closed = Coroutine.create("closed", () -> got.add(givenBack.receive()));
            closed.switchTo(); // parks in its receive
            assertThat(givenBack.trySend(values.get(3))).as("handed to the parked receiver").isTrue();
            closed.close(); // before it ran: the value goes back into the channel
            assertThat(closed.state()).isEqualTo(State.CLOSED);
            got.add(givenBack.tryReceive(Duration.ofSeconds(1)).orElseThrow());
            got.add(rendezvous.receive());
            assertThat(buffered.trySend(values.get(5))).isTrue();
            got.add(buffered.tryReceive().orElseThrow());
            sender.join();
            assertThat(sender.state()).isEqualTo(State.FINISHED);
        });
        assertThat(dump[0]).contains("[1] coroutine 'sender': PARKED, waits to send to channel 'rendezvous'\n");
        assertThat(got).hasSize(6);
        for (int i = 0; i < 6; i++) {
            assertThat(got.get(i)).as("value %d", i).isSameAs(values.get(i));
        }
    }

    @Test
    void hostileValuesComeOutOfAGeneratorAndAnAwaitByIdentity() {
        Hostile a = new Hostile(1);
        Hostile b = new Hostile(2);
        Generator<Hostile> g = Generator.buffered("g", 2, out -> {
            out.emit(a);
            out.emit(b);
        });
        assertThat(g.next()).isSameAs(a);
        assertThat(g.next()).isSameAs(b);
        assertThat(g.hasNext()).isFalse();
        CompletableFuture<Hostile> f = new CompletableFuture<>();
        Coroutine.create("completer", () -> f.complete(a));
        assertThat(Coroutine.await(f)).isSameAs(a);
        assertThat(new Select<Hostile>().onComplete(f, v -> v).select()).isSameAs(a);
    }
}
