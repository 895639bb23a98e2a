// The kotlinx rival of Coroutine.yield(): coroutines of one runBlocking event loop passing the turn with yield().
package dev.coro.bench.kotlin

import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield

/** `yield()` between coroutines of one `runBlocking` (one thread, its event loop), for `YieldRoundRobinBenchmark`. */
object KotlinYield {

    /**
     * Runs `runBlocking`: its body and [launched] coroutines launched from it each call `yield()`
     * [rounds] times, so the event loop runs them in turn, like coro's main and its coroutines.
     * Blocks until all have finished; returns the number of yields, `(launched + 1) * rounds`.
     */
    @JvmStatic
    fun rounds(launched: Int, rounds: Int): Long {
        runBlocking {
            repeat(launched) {
                launch {
                    repeat(rounds) {
                        yield()
                    }
                }
            }
            repeat(rounds) {
                yield()
            }
        } // returns when the launched coroutines have finished too
        return (launched + 1).toLong() * rounds
    }
}
