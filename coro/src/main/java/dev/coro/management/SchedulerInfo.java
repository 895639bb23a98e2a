package dev.coro.management;

/**
 * One scheduler thread as the JMX view shows it: its coroutines by state, how far it got, and its
 * oldest parked coroutine. Counted from another thread without stopping the scheduler's, so the
 * figures are those of a moment near the read (a coroutine that moves meanwhile may be missed or
 * counted twice).
 *
 * @param threadName        the scheduler thread's name
 * @param threadId          its {@link Thread#threadId()}
 * @param virtualThread     whether it is a virtual thread
 * @param engine            the JVM's coroutine engine: {@code continuation} or {@code threads}
 * @param contexts          live contexts: main and every coroutine that has not ended
 * @param created           coroutines created that have not run yet ({@code NEW})
 * @param running           the context running now: 1, or 0 while the thread waits in its event loop
 * @param suspended         contexts ready to run ({@code SUSPENDED})
 * @param parked            contexts waiting ({@code PARKED}): channel, semaphore, select, sleep, I/O, another thread,
 *                          a join
 * @param schedulingPoints  scheduling points passed so far (yields, switchTos, parks, ends of bodies): if
 *                          it does not move while {@code running} is 1, something blocks the thread
 * @param timers            pending timers
 * @param ioWaits           contexts waiting for I/O
 * @param oldestParked      the parked context that parked longest ago, e.g. {@code coroutine 'worker-3'};
 *                          empty if none is parked (or none parked since the view was registered). A pool
 *                          thread's main waiting for work (its idle wait, parked in again as it takes each
 *                          body) is named only if no other context is parked
 * @param oldestParkedWaits what it waits for, e.g. {@code receive from channel 'jobs'} (for a semaphore its call,
 *                          {@code acquire a permit of Semaphore[db, 0 of 10 permits free]}), then the generator whose
 *                          body it waits in, if any, as a dump says it ({@code , inside generator 'lines'}); empty
 *                          if none, and only then: a context counted as parked that ran again before its
 *                          wait was read is not named
 * @param oldestParkedMillis for how long it has been parked, in milliseconds; -1 if none, never
 *                          negative (a park recorded while the row is read counts 0). A context
 *                          parked before the view was registered counts only from a later park
 */
public record SchedulerInfo(String threadName, long threadId, boolean virtualThread, String engine,
                            int contexts, int created, int running, int suspended, int parked,
                            long schedulingPoints, int timers, int ioWaits,
                            String oldestParked, String oldestParkedWaits, long oldestParkedMillis) {
}
