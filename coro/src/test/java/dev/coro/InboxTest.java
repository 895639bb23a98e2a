package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A thread's inbox: posts run oldest first; once closed, it refuses posts and hands back those it never ran. */
class InboxTest {

    private final Inbox inbox = new Inbox();
    private final List<String> ran = new ArrayList<>();

    /** A task that records its name when it runs, and says its name. */
    private Runnable task(String name) {
        return new Runnable() {
            @Override
            public void run() {
                ran.add(name);
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    @Test
    void closingHandsBackThePostsNotRunOldestFirstAndRefusesLaterOnes() {
        assertThat(inbox.post(task("a"))).isTrue();
        inbox.drain();
        for (String name : List.of("b", "c", "d")) {
            assertThat(inbox.post(task(name))).isTrue();
        }
        assertThat(inbox.close()).extracting(Object::toString).containsExactly("b", "c", "d");
        assertThat(inbox.post(task("e"))).as("refused: it would never run").isFalse();
        inbox.drain();
        assertThat(ran).as("only what was posted before the drain ran").containsExactly("a");
        assertThat(inbox.close()).as("closing again hands back nothing").isEmpty();
    }

    /** A task that is its own node: records its name when it runs. */
    private final class Own implements Posted {
        private final String name;
        private Posted next;

        Own(String name) {
            this.name = name;
        }

        @Override
        public Posted nextPosted() {
            return next;
        }

        @Override
        public void nextPosted(Posted next) {
            this.next = next;
        }

        @Override
        public void runPosted() {
            ran.add(name);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @Test
    void tasksThatAreTheirOwnNodesRunInPostOrderWithTheOthersAndCanBePostedAgainOnceRun() {
        Own x = new Own("x");
        Own y = new Own("y");
        assertThat(inbox.postAsNode(x)).isTrue();
        assertThat(inbox.post(task("a"))).isTrue();
        assertThat(inbox.postAsNode(y)).isTrue();
        assertThat(inbox.post(task("b"))).isTrue();
        inbox.drain();
        assertThat(ran).containsExactly("x", "a", "y", "b");
        assertThat(inbox.isEmpty()).isTrue();
        assertThat(inbox.postAsNode(y)).isTrue();
        assertThat(inbox.postAsNode(x)).isTrue();
        inbox.drain();
        assertThat(ran).as("each ran again, once, with no link left from its first post").containsExactly("x", "a", "y", "b", "y", "x");
        assertThat(inbox.postAsNode(x)).isTrue();
        assertThat(inbox.close()).extracting(Object::toString).containsExactly("x");
        assertThat(inbox.postAsNode(y)).as("refused: it would never run").isFalse();
    }
}
