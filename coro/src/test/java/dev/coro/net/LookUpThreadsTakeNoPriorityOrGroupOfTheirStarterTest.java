package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A name look-up thread serves every caller of the JVM, so it takes neither the priority nor the thread group of
 * the thread whose look-up happened to start it, as the library's other shared threads: a high-priority thread of
 * an application's group, or a virtual thread (a thread-engine coroutine's), starts a daemon of normal priority in
 * the JVM's root thread group, {@code system}, not one of that priority in that group or in the virtual threads'.
 * The threads are made by the look-ups' own factory, as a look-up would start one.
 */
class LookUpThreadsTakeNoPriorityOrGroupOfTheirStarterTest {

    /** What a look-up thread made by the look-ups' factory on the calling thread is. */
    private static String made() {
        Thread t = NameLookup.EXECUTOR.getThreadFactory().newThread(() -> { });
        return t.getName().replaceAll("\\d+$", "N") + ": priority " + t.getPriority() + ", group "
                + t.getThreadGroup().getName() + (t.isDaemon() ? ", a daemon" : ", not a daemon");
    }

    @Test
    @Timeout(60)
    void aLookUpThreadStartedByAHighPriorityThreadOfAnApplicationsGroupOrByAVirtualThreadIsOfNormalPriorityInTheRootGroup()
            throws Exception {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        ThreadGroup application = new ThreadGroup("application");
        Thread high = Thread.ofPlatform().group(application).priority(Thread.MAX_PRIORITY).name("high")
                .start(() -> seen.add("from high: " + made()));
        high.join();
        Thread virtual = Thread.ofVirtual().name("virtual").start(() -> seen.add("from virtual: " + made()));
        virtual.join();
        assertThat(seen).containsExactly(
                "from high: coro-name-lookup-N: priority 5, group system, a daemon",
                "from virtual: coro-name-lookup-N: priority 5, group system, a daemon");
    }
}
