package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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

    /**
     * For an observer of a thread whose main is alone and running, the posts that nobody waits for do
     * not count: a completion of a wait of the thread (its main waits for nothing then), an operation
     * of another thread whose caller gave up, the withdrawal of one, a dump's request; an operation
     * someone waits for does.
     */
    @Test
    void onlyAPostThatSomeoneWaitsForCountsForAnObserverOfAThreadWhoseMainIsAlone() {
        Context main = Scheduler.current().currentContext();
        Channel<String> jobs = new Channel<>("jobs", 0);
        RemoteOp<String> gaveUp = new RemoteOp<>(jobs, RemoteOp.RECEIVE, main, null, "receive from");
        assertThat(gaveUp.ticket.interrupt()).isTrue();
        inbox.post(gaveUp);
        inbox.post((Inbox.Unawaited) () -> ran.add("withdrawal"));
        inbox.postAsNode(new ForeignWait(main, Thread.currentThread(), "a late completion"));
        inbox.post((Inbox.Observation) () -> ran.add("a dump's request"));
        assertThat(inbox.holdsAwaitedPost()).isFalse();
        inbox.post(new RemoteOp<>(jobs, RemoteOp.RECEIVE, main, null, "receive from"));
        assertThat(inbox.holdsAwaitedPost()).isTrue();
    }

    /**
     * For an observer of a thread with contexts besides main, an operation of another thread whose
     * caller gave up, its withdrawal and a dump's request wait for nobody, as with main alone; but a
     * completion of a wait may wake a context parked on it, and counts.
     */
    @Test
    void withContextsBesidesMainACompletionCountsAndAnOperationWhoseCallerGaveUpDoesNot() {
        Context main = Scheduler.current().currentContext();
        Channel<String> jobs = new Channel<>("jobs", 0);
        RemoteOp<String> gaveUp = new RemoteOp<>(jobs, RemoteOp.RECEIVE, main, null, "receive from");
        assertThat(gaveUp.ticket.interrupt()).isTrue();
        inbox.post(gaveUp);
        inbox.post((Inbox.Unawaited) () -> ran.add("withdrawal"));
        inbox.post((Inbox.Observation) () -> ran.add("a dump's request"));
        assertThat(inbox.holdsAwaitedPost(false)).isFalse();
        inbox.postAsNode(new ForeignWait(main, Thread.currentThread(), "a completion"));
        assertThat(inbox.holdsAwaitedPost(false)).as("it may wake a context parked on it").isTrue();
        assertThat(inbox.holdsAwaitedPost(true)).as("with main alone and running, it wakes nobody").isFalse();
    }

    /**
     * However many posts that nobody waits for the inbox holds (a thread that went on to other work
     * after many of its awaits timed out, their futures completing later), they do not count; one that
     * someone waits for still does, however deep under them. Past 64 such posts the answer was yes.
     */
    @Test
    void anyNumberOfPostsThatNobodyWaitsForDoesNotCountAndOneAwaitedUnderThemDoes() {
        Context main = Scheduler.current().currentContext();
        Channel<String> jobs = new Channel<>("jobs", 0);
        inbox.post(new RemoteOp<>(jobs, RemoteOp.RECEIVE, main, null, "receive from")); // the oldest: someone waits for it
        for (int k = 0; k < 1000; k++) {
            inbox.post((Inbox.Unawaited) () -> ran.add("withdrawal"));
        }
        assertThat(inbox.holdsAwaitedPost()).isTrue();
        Inbox stale = new Inbox();
        for (int k = 0; k < 1000; k++) {
            stale.post((Inbox.Unawaited) () -> ran.add("withdrawal"));
        }
        assertThat(stale.holdsAwaitedPost()).isFalse();
    }

    /**
     * A post that throws as it runs (a stack overflow, no memory left) loses none of the posts taken
     * with it: the drain throws what it threw, and the next drain runs the rest first, oldest first,
     * then those posted since.
     */
    @Test
    void aPostThatThrowsLosesNoneAfterItTheNextDrainRunsThemFirstInTheirOrder() {
        IllegalStateException thrown = new IllegalStateException("no room");
        inbox.post(task("a"));
        inbox.post(() -> {
            ran.add("b throws");
            inbox.post(task("posted by b"));
            throw thrown;
        });
        inbox.post(task("c"));
        inbox.post(task("d"));
        try {
            inbox.drain();
            throw new AssertionError("the drain did not throw what b threw");
        } catch (IllegalStateException e) {
            assertThat(e).isSameAs(thrown);
        }
        assertThat(inbox.isEmpty()).isFalse();
        inbox.post(task("e"));
        inbox.drain();
        assertThat(ran).containsExactly("a", "b throws", "c", "d", "posted by b", "e");
        assertThat(inbox.isEmpty()).isTrue();
    }

    /**
     * A post that closes its inbox and then throws: the posts after it are left to nobody, as any post
     * left at a close is: none runs, later posts are refused, and nothing (no node shared by closed
     * inboxes) keeps them.
     */
    @Test
    @Timeout(30)
    void aPostThatClosesItsInboxAndThrowsLeavesThePostsAfterItToNobody() {
        IllegalStateException thrown = new IllegalStateException("closed and failed");
        inbox.post(() -> {
            ran.add("a closes and throws");
            assertThat(inbox.close()).as("the drain took every post").isEmpty();
            throw thrown;
        });
        List<WeakReference<Runnable>> later = new ArrayList<>();
        for (String name : List.of("b", "c")) {
            Runnable t = task(name);
            later.add(new WeakReference<>(t));
            inbox.post(t);
        }
        try {
            inbox.drain();
            throw new AssertionError("the drain did not throw what a threw");
        } catch (IllegalStateException e) {
            assertThat(e).isSameAs(thrown);
        }
        assertThat(inbox.post(task("d"))).as("refused: the inbox is closed").isFalse();
        inbox.drain();
        assertThat(ran).containsExactly("a closes and throws");
        assertThat(Collected.all(later)).as("the posts after a are kept by nothing").isTrue();
    }

    /** A selector that counts the wake-ups asked of it and never blocks. */
    private static final class CountingSelector extends Selector {
        final AtomicInteger wakeups = new AtomicInteger();

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public SelectorProvider provider() {
            return SelectorProvider.provider();
        }

        @Override
        public Set<SelectionKey> keys() {
            return Set.of();
        }

        @Override
        public Set<SelectionKey> selectedKeys() {
            return Set.of();
        }

        @Override
        public int selectNow() {
            return 0;
        }

        @Override
        public int select(long timeout) {
            return 0;
        }

        @Override
        public int select() {
            return 0;
        }

        @Override
        public Selector wakeup() {
            wakeups.incrementAndGet();
            return this;
        }

        @Override
        public void close() {
        }
    }

    /**
     * A thread that sleeps in its selector (it has I/O waits) is woken by a post through the selector,
     * which an unpark would not wake; once awake, a post asks no wake-up.
     */
    @Test
    void aPostToAThreadSleepingInItsSelectorWakesTheSelector() {
        CountingSelector selector = new CountingSelector();
        inbox.sleeping(selector);
        assertThat(inbox.isSleeping()).isTrue();
        assertThat(inbox.post(task("a"))).isTrue();
        assertThat(selector.wakeups.get()).as("wake-ups after a post to the sleeper").isEqualTo(1);
        inbox.awake();
        assertThat(inbox.post(task("b"))).isTrue();
        assertThat(selector.wakeups.get()).as("wake-ups after a post to the thread awake").isEqualTo(1);
        inbox.drain();
        assertThat(ran).containsExactly("a", "b");
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

    /** A post of one poster thread that is its own node, posted again as soon as it has run: the way a wait is. */
    private static final class Ping implements Posted {
        final String name;
        final Queue<String> failures;
        /** Set by its poster before the post, cleared when it runs: it is in the inbox. */
        volatile boolean in;
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger runs = new AtomicInteger();
        private Posted next;

        Ping(String name, Queue<String> failures) {
            this.name = name;
            this.failures = failures;
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
            if (!in) {
                failures.add(name + " ran while not posted");
            }
            runs.incrementAndGet();
            int before = accepted.get();
            in = false; // its poster may post it again at once, while the drain goes on with the next ones
            for (int i = 0; i < 1_000 && accepted.get() == before; i++) {
                Thread.onSpinWait(); // and often does, before the drain takes the next one
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * Three threads post their own-node tasks again and again, each again as soon as it has run, while
     * the owner drains; halfway through, the owner closes the inbox. Every post that was accepted ran
     * exactly once or was handed back by the close, none was handed back twice, and every post after
     * the close was refused: no node was in the inbox twice, and no post was lost or repeated.
     */
    @Test
    void ownNodesPostedAgainByOtherThreadsAsSoonAsTheyRunAreNeitherLostNorRepeatedUpToAClose() throws InterruptedException {
        int posters = 3;
        int postsEach = 10_000;
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        List<Ping> pings = new ArrayList<>();
        AtomicLong accepted = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < posters; t++) {
            List<Ping> own = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                own.add(new Ping("ping-" + t + "-" + k, failures));
            }
            pings.addAll(own);
            threads.add(Thread.ofPlatform().name("poster-" + t).start(() -> {
                for (int i = 0; i < postsEach; i++) {
                    Ping p = own.get(i % own.size());
                    while (p.in) {
                        Thread.yield(); // until the owner has run it (or the close handed it back): it is in no inbox then
                    }
                    p.in = true;
                    if (!inbox.postAsNode(p)) {
                        p.in = false;
                        return; // closed: every later post would be refused too
                    }
                    p.accepted.incrementAndGet();
                    accepted.incrementAndGet();
                }
            }));
        }
        long half = posters * (long) postsEach / 2;
        long ran = 0;
        long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos(); // a guard against a hang: lost posts
        while (ran < half && System.nanoTime() - giveUp < 0) {
            inbox.drain();
            ran = pings.stream().mapToLong(p -> p.runs.get()).sum();
            Thread.yield();
        }
        List<Object> left = inbox.close();
        for (Object o : left) {
            ((Ping) o).in = false; // its poster goes on, and finds the inbox closed
        }
        for (Thread t : threads) {
            t.join(Duration.ofSeconds(30)); // a guard against a hang: a post lost keeps its poster waiting for it
            assertThat(t.isAlive()).as(t.getName() + " has ended (a post of it was lost otherwise)").isFalse();
        }
        assertThat(failures).isEmpty();
        Map<Object, Integer> handedBack = new IdentityHashMap<>();
        for (Object o : left) {
            handedBack.merge(o, 1, Integer::sum);
        }
        assertThat(handedBack.values()).as("posts handed back by the close, each once").allMatch(n -> n == 1);
        for (Ping p : pings) {
            assertThat(p.runs.get() + handedBack.getOrDefault(p, 0)).as(p + ": posts accepted, run or handed back")
                    .isEqualTo(p.accepted.get());
        }
        assertThat(accepted.get()).as("posts accepted").isGreaterThanOrEqualTo(half).isLessThan(posters * (long) postsEach);
        assertThat(inbox.postAsNode(pings.get(0))).as("refused after the close").isFalse();
    }
}
