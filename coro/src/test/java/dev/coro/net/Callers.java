package dev.coro.net;

/**
 * How the library's refusals name a calling thread that has no scheduler (none is made for a message),
 * spelled out by the tests themselves so that a refusal that names it otherwise fails them.
 */
final class Callers {

    private Callers() {
    }

    /** The calling thread as a refusal names it while it has no scheduler: {@code thread 'name' (#id)}. */
    static String plainThread() {
        Thread t = Thread.currentThread();
        return "thread '" + t.getName() + "' (#" + t.threadId() + ")";
    }
}
