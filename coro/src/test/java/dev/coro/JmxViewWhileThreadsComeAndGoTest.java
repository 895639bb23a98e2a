package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.management.CoroutinesMXBean;
import dev.coro.management.CoroutinesManagement;
import dev.coro.management.SchedulerInfo;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The JMX view read from another thread while threads make hundreds of coroutines each and end, and pools
 * start and close: no read fails, every row and every dump keeps the view's promises, and once the threads
 * have ended none of them has a row or a section of the dump.
 */
@ExtendWith({FreshThread.class, PoolsClosed.class})
class JmxViewWhileThreadsComeAndGoTest {

    private static final Pattern HEADER = Pattern.compile("(\\d+) contexts?, current index (\\d+)");

    @Test
    @Timeout(60)
    void readsWhileThreadsAndPoolsComeAndGoKeepThePromisesOfTheViewAndShowNoThreadOnceItHasEnded() throws Exception {
        CoroutinesMXBean view = CoroutinesManagement.mxBean();
        AtomicBoolean done = new AtomicBoolean();
        List<String> broken = Collections.synchronizedList(new ArrayList<>());
        Thread reader = Thread.ofPlatform().name("reader").start(() -> {
            for (int read = 0; !done.get() || read < 10; read++) {
                try {
                    for (SchedulerInfo r : view.getSchedulers()) {
                        if (r.contexts() < 1 || r.created() < 0 || r.running() < 0 || r.running() > 1
                                || r.suspended() < 0 || r.parked() < 0 || r.timers() < 0 || r.ioWaits() < 0
                                || r.created() + r.running() + r.suspended() + r.parked() != r.contexts()
                                || r.oldestParkedMillis() < -1 || r.oldestParked().isEmpty() != (r.oldestParkedMillis() == -1)) {
                            broken.add("row " + r);
                        }
                    }
                    if (view.getCoroutineCount() < 0) {
                        broken.add("CoroutineCount " + view.getCoroutineCount());
                    }
                    if (read % 3 == 0) {
                        checkDump(view.dump(2), broken);
                    }
                } catch (RuntimeException | Error e) {
                    broken.add("read " + e);
                }
            }
        });
        Set<Long> ended = ConcurrentHashMap.newKeySet();
        Set<String> poolThreads = ConcurrentHashMap.newKeySet();
        try {
            for (int round = 0; round < 10; round++) {
                List<Thread> makers = new ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    Thread.Builder b = k % 2 == 0 ? Thread.ofVirtual() : Thread.ofPlatform();
                    makers.add(b.name("maker-" + round + "-" + k).start(() -> makeAndLeave(broken)));
                }
                CoroutinePool pool = CoroutinePool.start("passing-" + round, 2);
                try {
                    List<CompletableFuture<String>> bodies = new ArrayList<>();
                    for (int i = 0; i < 10; i++) {
                        bodies.add(pool.submit(() -> {
                            Coroutine.yield();
                            Coroutine.create("left", Coroutine::yield); // left NEW to the thread's main
                            return Thread.currentThread().getName();
                        }));
                    }
                    for (CompletableFuture<String> body : bodies) {
                        poolThreads.add(body.join());
                    }
                } finally {
                    PoolsClosed.close(pool);
                }
                for (Thread t : makers) {
                    t.join();
                    ended.add(t.threadId());
                }
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertThat(broken).isEmpty();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (poolThreads.contains(t.getName())) {
                t.join(); // a closed pool's thread ends once its loop is left
            }
        }
        assertThat(view.getSchedulers()).filteredOn(r -> ended.contains(r.threadId()) || poolThreads.contains(r.threadName()))
                .as("rows of ended threads").isEmpty();
        assertThat(view.dump(2)).doesNotContain("thread 'maker-").doesNotContain("thread 'passing-");
    }

    /** Makes 300 coroutines parked on a channel, wakes half of them, closes some, and ends leaving the rest parked. */
    private static void makeAndLeave(List<String> broken) {
        try {
            Channel<Integer> ch = new Channel<>("ch", 0);
            List<Coroutine> all = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                all.add(Coroutine.create("w" + i, () -> {
                    ch.receive();
                }));
            }
            Coroutine.yield(); // each parks on the channel
            for (int i = 0; i < 150; i++) {
                ch.send(i);
            }
            for (int i = 0; i < 50; i++) {
                all.get(299 - i).close();
            }
        } catch (RuntimeException | Error e) {
            broken.add(Thread.currentThread().getName() + " " + e);
        }
    }

    /** Adds to {@code broken} what in {@code dump} breaks its promises: one section per thread counted, an index among its contexts, no failure. */
    private static void checkDump(String dump, List<String> broken) {
        int counted = Integer.parseInt(dump.substring(0, dump.indexOf(' ')));
        int sections = dump.split("\n\nthread ", -1).length - 1;
        if (counted != sections || dump.contains("its own dump failed") || dump.contains("was interrupted")) {
            broken.add("dump " + dump);
        }
        Matcher m = HEADER.matcher(dump);
        while (m.find()) {
            if (Integer.parseInt(m.group(2)) >= Integer.parseInt(m.group(1))) {
                broken.add("index past the contexts " + dump);
            }
        }
    }
}
