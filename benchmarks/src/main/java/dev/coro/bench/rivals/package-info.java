/**
 * Rival-only benchmarks: the kotlinx.coroutines and JDK sides of questions whose coro side does not
 * exist yet (skynet, a cross-thread channel); each class's Javadoc names the {@code coro*} method its
 * coro side is to add, which the report's coro-vs-kotlinx table picks up. A class moves to
 * {@code dev.coro.bench} once it has its coro side (virtual-time sleep and select did).
 */
package dev.coro.bench.rivals;
