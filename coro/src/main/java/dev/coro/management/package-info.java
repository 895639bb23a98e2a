/**
 * The JMX view of the JVM's coroutines: {@link dev.coro.management.CoroutinesMXBean}, registered as
 * {@code dev.coro:type=Coroutines} by {@link dev.coro.management.CoroutinesManagement} on first use;
 * each scheduler thread as a {@link dev.coro.management.SchedulerInfo} row.
 */
package dev.coro.management;
