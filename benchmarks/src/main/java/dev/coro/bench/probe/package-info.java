/**
 * Probes: small plain programs behind the analysis's experiments (per-round timing at scale, allocation
 * per yield, the read-ahead sum against kotlinx at two sizes, a heap of suspended contexts for a class
 * histogram, the cost of a sleep by how the sleeps fall, the cost of the order of its wake-ups at three counts of coroutines, the floor of a message between two cores, a cross-thread ping-pong pinned to two cores, the same ping-pong against its rivals round by round, the parts of an
 * {@code await} of a completed future, a duration's text written out against the formatter, the timer-lateness workload on bare continuations), each run by {@code benchmarks/run.sh probe NAME ARGS...}. They print what they measure
 * and assert nothing; the JMH suite and the report are the benchmarks.
 */
package dev.coro.bench.probe;
