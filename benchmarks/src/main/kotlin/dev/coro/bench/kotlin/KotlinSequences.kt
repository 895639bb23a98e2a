// The kotlinx rival of coro's Generator: Kotlin's sequence { yield(x) } builder, driven from Java.
package dev.coro.bench.kotlin

/** Kotlin `sequence {}` generators for `GeneratorBenchmark`; plain blocking calls, no coroutine library needed. */
object KotlinSequences {

    /** An endless sequence 0, 1, 2, ...: one `next()` resumes the builder to its next `yield`. */
    @JvmStatic
    fun naturals(): Iterator<Long> = sequence {
        var i = 0L
        while (true) {
            yield(i++)
        }
    }.iterator()

    /** Builds a sequence of 0 until [n], consumes it element by element and returns the sum. */
    @JvmStatic
    fun sum(n: Int): Long {
        val it = sequence {
            for (i in 0 until n) {
                yield(i.toLong())
            }
        }.iterator()
        var sum = 0L
        while (it.hasNext()) {
            sum += it.next()
        }
        return sum
    }
}
