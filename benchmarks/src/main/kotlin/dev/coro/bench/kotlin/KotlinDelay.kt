// The kotlinx rival for sleeping in virtual time: delay() under runTest, whose scheduler skips the waits.
package dev.coro.bench.kotlin

import kotlin.time.Duration.Companion.minutes
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.test.runTest

/** `delay()` under `runTest` (kotlinx-coroutines-test's virtual time), for `VirtualTimeDelayBenchmark`. */
object KotlinDelay {

    /**
     * Runs `runTest` with [coroutines] coroutines; coroutine `c` calls `delay(delays[c * perCoroutine + k])`
     * for `k` in `0 until perCoroutine` (milliseconds, virtual). Blocks until all have finished;
     * returns the virtual time at the end, in milliseconds (the longest coroutine's total).
     */
    @JvmStatic
    fun run(delays: IntArray, coroutines: Int): Long {
        val perCoroutine = delays.size / coroutines
        var end = 0L
        runTest(timeout = 10.minutes) {
            for (c in 0 until coroutines) {
                launch {
                    val base = c * perCoroutine
                    for (k in 0 until perCoroutine) {
                        delay(delays[base + k].toLong())
                    }
                }
            }
            testScheduler.advanceUntilIdle()
            end = testScheduler.currentTime
        }
        return end
    }
}
