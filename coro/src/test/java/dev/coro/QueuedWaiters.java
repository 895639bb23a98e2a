package dev.coro;

import java.lang.reflect.Field;

/** How many waiters one of a channel's (or a semaphore's) queues holds now, stale ones included: for tests of what a wait leaves behind. */
final class QueuedWaiters {

    private QueuedWaiters() {
    }

    /**
     * Counts the waiters of {@code ch}'s queue {@code which}.
     *
     * @param ch    the channel (a semaphore's permits are one)
     * @param which {@code "senders"} or {@code "receivers"}
     * @return how many waiters that queue links now
     */
    static int of(Channel<?> ch, String which) {
        try {
            Field f = Channel.class.getDeclaredField(which);
            f.setAccessible(true);
            WaitQueue<?> q = (WaitQueue<?>) f.get(ch);
            int n = 0;
            for (Object w = q.first(); w != null; w = ((ChannelWaiter<?>) w).next) {
                n++;
            }
            return n;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
