/**
 * Rival-only benchmarks: the kotlinx.coroutines sides of questions whose coro side does not exist
 * yet (virtual-time sleep, select); each class's Javadoc names the {@code coro*} method its coro side
 * is to add, which the report's coro-vs-kotlinx table picks up.
 */
package dev.coro.bench.rivals;
