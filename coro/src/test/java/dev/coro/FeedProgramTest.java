package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole program: generators on two pool threads feed one channel of the caller's thread, read
 * through a generator of the caller that is closed midway; every value sent is taken exactly once.
 */
@ExtendWith(FreshThread.class)
class FeedProgramTest {

    /** What one producer did: how many values its sends delivered, and how its generator ended. */
    record Produced(String name, int sent, Generator.State generator, String refusal) {
    }

    @Test
    void closingTheReadingGeneratorMidwayClosesTheFeedAndEveryDeliveredValueIsTakenOnce() throws Exception {
        Channel<String> feed = new Channel<>("feed", 8);
        List<String> generatorsEnded = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Produced>> producers = new ArrayList<>();
        List<String> read = new ArrayList<>();
        List<String> drained = new ArrayList<>();
        String[] readerEnd = new String[1];
        try (CoroutinePool pool = CoroutinePool.start(2)) {
            for (String p : List.of("a", "b")) {
                producers.add(pool.submit("producer " + p, () -> {
                    Generator<String> values = Generator.buffered("values " + p, 4, out -> {
                        try {
                            for (int i = 0; i < 10_000; i++) {
                                out.emit(p + i);
                            }
                        } finally {
                            generatorsEnded.add(p);
                        }
                    });
                    int sent = 0;
                    String refusal = null;
                    try (values) {
                        for (String v : values) {
                            feed.send(v);
                            sent++;
                        }
                    } catch (ChannelClosedException e) {
                        refusal = e.getMessage();
                    }
                    return new Produced(p, sent, values.state(), refusal);
                }));
            }
            Generator<String> reader = Generator.of("reader", out -> {
                try {
                    for (String v : feed) {
                        out.emit(v);
                    }
                    readerEnd[0] = "drained";
                } finally {
                    if (readerEnd[0] == null) {
                        readerEnd[0] = "unwound";
                    }
                    feed.close();
                }
            });
            for (int i = 0; i < 300 && reader.hasNext(); i++) {
                read.add(reader.next());
            }
            reader.close();
            assertThat(reader.state()).isEqualTo(Generator.State.CLOSED);
            assertThat(readerEnd[0]).isEqualTo("unwound");
            assertThat(feed.isClosed()).isTrue();
            List<Produced> results = new ArrayList<>();
            for (CompletableFuture<Produced> f : producers) {
                results.add(f.join());
            }
            for (String v : feed) {
                drained.add(v);
            }
            int sent = 0;
            for (Produced r : results) {
                sent += r.sent();
                assertThat(r.generator()).isEqualTo(Generator.State.CLOSED);
                assertThat(r.refusal()).matches("coroutine 'producer " + r.name() + "' of thread 'coro-pool-\\d+-\\d'"
                        + " \\(#\\d+\\) cannot send to channel 'feed' \\(closed\\): (a closed channel takes no more values"
                        + "|the channel was closed while it waited), and the value was not delivered");
            }
            assertThat(read).hasSize(300);
            assertThat(read.size() + drained.size()).isEqualTo(sent);
        }
        assertThat(generatorsEnded).containsExactlyInAnyOrder("a", "b");
        List<String> all = new ArrayList<>(read);
        all.addAll(drained);
        for (String p : List.of("a", "b")) {
            List<Integer> mine = all.stream().filter(v -> v.startsWith(p)).map(v -> Integer.parseInt(v.substring(1)))
                    .toList();
            for (int i = 0; i < mine.size(); i++) {
                assertThat(mine.get(i)).isEqualTo(i);
            }
        }
    }
}
