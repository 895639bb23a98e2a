// The kotlinx rival of coro's Channel: rendezvous Channel ping-pong between two coroutines, in one thread or across threads.
package dev.coro.bench.kotlin

import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.EmptyCoroutineContext
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.selects.select

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

    /**
     * The ping-pong of [pingPongDefaultDispatcher] whose echo receives each value through
     * `select { ping.onReceive; quiet.onReceive }`, `quiet` a second rendezvous channel nobody sends to:
     * the rival of a coro `Select` over another thread's channels.
     */
    @JvmStatic
    fun selectPingPongDefaultDispatcher(roundTrips: Int): Long =
        runBlocking(Dispatchers.Default) {
            val ping = Channel<Int>(Channel.RENDEZVOUS)
            val pong = Channel<Int>(Channel.RENDEZVOUS)
            val quiet = Channel<Int>(Channel.RENDEZVOUS)
            launch {
                repeat(roundTrips) {
                    val v = select<Int> {
                        ping.onReceive { it }
                        quiet.onReceive { it }
                    }
                    pong.send(v)
                }
            }
            var sum = 0L
            for (i in 0 until roundTrips) {
                ping.send(i)
                sum += pong.receive()
            }
            sum
        }

    /** The ping-pong in [context], the echo coroutine in [echoContext] added to it. */
    private fun pingPong(context: CoroutineContext, roundTrips: Int, echoContext: CoroutineContext = EmptyCoroutineContext): Long =
        runBlocking(context) {
            val ping = Channel<Int>(Channel.RENDEZVOUS)
            val pong = Channel<Int>(Channel.RENDEZVOUS)
            launch(echoContext) {
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

    /**
     * Two threads, each running one dispatcher (`Executors.newSingleThreadExecutor().asCoroutineDispatcher()`,
     * kotlinx's way to confine coroutines to a thread): the sender on one, the echo coroutine on the
     * other, so that every message crosses threads, as between coroutines on two coro pool threads.
     * `Dispatchers.Default` instead mostly runs both on one worker.
     */
    class TwoThreads : AutoCloseable {
        private val senderThread: ExecutorService = Executors.newSingleThreadExecutor()
        private val echoThread: ExecutorService = Executors.newSingleThreadExecutor()
        private val sender = senderThread.asCoroutineDispatcher()
        private val echo = echoThread.asCoroutineDispatcher()

        /** The ping-pong of [pingPong] with the sender on one thread and the echo on the other; the sum received back. */
        fun pingPong(roundTrips: Int): Long = KotlinChannels.pingPong(sender, roundTrips, echo)

        /** Stops both threads. */
        override fun close() {
            senderThread.shutdown()
            echoThread.shutdown()
        }
    }
}
