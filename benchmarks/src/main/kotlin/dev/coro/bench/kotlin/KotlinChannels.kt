// The kotlinx rival of coro's Channel: rendezvous Channel ping-pong between two coroutines, in one thread or across threads.
package dev.coro.bench.kotlin

import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.EmptyCoroutineContext
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/** Rendezvous-channel ping-pong between two coroutines, for `ChannelBenchmark` and `CrossThreadChannelBenchmark`. */
object KotlinChannels {

    /**
     * In `runBlocking` (one thread): the body sends a value to an echo coroutine over one rendezvous
     * channel and receives it back over another, [roundTrips] times: `2 * roundTrips` messages.
     * Returns the sum of the values received back.
     */
    @JvmStatic
    fun pingPong(roundTrips: Int): Long = pingPong(EmptyCoroutineContext, roundTrips)

    /** The same with both coroutines on `Dispatchers.Default`, free to run on different threads. */
    @JvmStatic
    fun pingPongDefaultDispatcher(roundTrips: Int): Long = pingPong(Dispatchers.Default, roundTrips)

    private fun pingPong(context: CoroutineContext, roundTrips: Int): Long = runBlocking(context) {
        val ping = Channel<Int>(Channel.RENDEZVOUS)
        val pong = Channel<Int>(Channel.RENDEZVOUS)
        launch {
            repeat(roundTrips) {
                pong.send(ping.receive())
            }
        }
        var sum = 0L
        for (i in 0 until roundTrips) {
            ping.send(i)
            sum += pong.receive()
        }
        sum
    }
}
