// The kotlinx select expression receiving from whichever of two rendezvous channels is ready, as a rival for a coro select.
package dev.coro.bench.kotlin

import kotlinx.coroutines.cancelChildren
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.selects.select

/** `select { a.onReceive; b.onReceive }` over two rendezvous channels, for `SelectBenchmark`. */
object KotlinSelect {

    /**
     * In `runBlocking` (one thread): two producer coroutines send 1s and 2s forever, each into its own
     * rendezvous channel; the body makes [selects] selects receiving from whichever is ready, then
     * cancels the producers. Returns the sum received (between `selects` and `2 * selects`).
     */
    @JvmStatic
    fun receive(selects: Int): Long = runBlocking {
        val a = Channel<Int>(Channel.RENDEZVOUS)
        val b = Channel<Int>(Channel.RENDEZVOUS)
        launch {
            while (true) {
                a.send(1)
            }
        }
        launch {
            while (true) {
                b.send(2)
            }
        }
        var sum = 0L
        repeat(selects) {
            sum += select<Int> {
                a.onReceive { it }
                b.onReceive { it }
            }
        }
        coroutineContext.cancelChildren()
        sum
    }
}
