package dev.coro;

/** What an engine runs a coroutine's body on: a stack of its own (a continuation, or a thread). */
interface Strand {

    /**
     * The frames of the suspended body, innermost first.
     *
     * @return the stack trace; empty if the body has not started
     */
    StackTraceElement[] stackTrace();
}
