// Skynet in kotlinx.coroutines: a 10-ary tree of coroutines whose 1,000,000 leaves return their numbers, summed up through channels.
package dev.coro.bench.kotlin

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.SendChannel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/** The skynet benchmark on `Dispatchers.Default`, for `rivals.SkynetBenchmark`. */
object KotlinSkynet {

    /**
     * Runs skynet with [leaves] leaves (a power of [div]) in `runBlocking(Dispatchers.Default)`: every
     * node is a coroutine; an inner node launches its [div] children, each sending its sum into the
     * node's channel of capacity [div], and sends the total of the [div] it receives to its parent.
     * Returns the root's sum, `leaves * (leaves - 1) / 2`.
     */
    @JvmStatic
    fun run(leaves: Long, div: Int): Long = runBlocking(Dispatchers.Default) {
        val root = Channel<Long>(1)
        node(root, 0, leaves, div)
        root.receive()
    }

    private fun CoroutineScope.node(parent: SendChannel<Long>, num: Long, size: Long, div: Int) {
        launch {
            if (size == 1L) {
                parent.send(num)
                return@launch
            }
            val sums = Channel<Long>(div)
            val child = size / div
            for (i in 0 until div) {
                node(sums, num + i * child, child, div)
            }
            var sum = 0L
            repeat(div) {
                sum += sums.receive()
            }
            parent.send(sum)
        }
    }
}
