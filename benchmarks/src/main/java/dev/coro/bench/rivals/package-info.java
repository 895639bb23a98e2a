/**
 * Rival-only benchmarks: the kotlinx.coroutines and JDK sides of questions whose coro side does not
 * exist yet (virtual-time sleep, select, skynet, a cross-thread channel); each class's Javadoc names
 * the {@code coro*} method its coro side is to add, which the report's coro-vs-kotlinx table picks up.
 */
package dev.coro.bench.rivals;
