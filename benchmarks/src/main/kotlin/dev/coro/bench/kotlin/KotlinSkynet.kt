// Skynet in kotlinx.coroutines: a 10-ary tree of coroutines whose 1,000,000 leaves return their numbers, summed up through channels.
package dev.coro.bench.kotlin

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.SendChannel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/** The skynet benchmark on `Dispatchers.Default`, for `SkynetBenchmark`. */
object KotlinSkynet {

    /**
     * Runs skynet with [leaves] leaves (a power of [div]) in `runBlocking(Dispatchers.Default)`: every
     * node is a coroutine; an inner node launches its [div] children, each sending its sum into the
     * node's channel of capacity [div], and sends the total of the [div] it receives to its parent.
     * Returns the root's sum, `leaves * (leaves - 1) / 2`.
     */
    @JvmStatic
    fun run(leaves: Long, div: Int): Long = run(leaves, div, CoroutineStart.DEFAULT)

    /**
     * The same, shaped as coro's `coroSkynet`: the root and its [div] subtrees are launched as usual (the
     * dispatcher spreads the subtrees over its threads), every node below them `CoroutineStart.UNDISPATCHED`,
     * so it runs at once in its parent's thread up to its first suspension (none: the channels have room)
     * and each subtree is walked depth first.
     */
    @JvmStatic
    fun runUndispatched(leaves: Long, div: Int): Long = run(leaves, div, CoroutineStart.UNDISPATCHED)

    private fun run(leaves: Long, div: Int, below: CoroutineStart): Long = runBlocking(Dispatchers.Default) {
        val root = Channel<Long>(1)
        node(root, 0, leaves, div, 0, below)
        root.receive()
    }

    private fun CoroutineScope.node(parent: SendChannel<Long>, num: Long, size: Long, div: Int, depth: Int, below: CoroutineStart) {
        launch(start = if (depth <= 1) CoroutineStart.DEFAULT else below) {
            if (size == 1L) {
                parent.send(num)
                return@launch
            }
            val sums = Channel<Long>(div)
            val child = size / div
            for (i in 0 until div) {
                node(sums, num + i * child, child, div, depth + 1, below)
            }
            var sum = 0L
            repeat(div) {
                sum += sums.receive()
            }
            parent.send(sum)
        }
    }
}
