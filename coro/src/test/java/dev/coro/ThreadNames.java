package dev.coro;

/**
 * How the library's messages name a platform thread, spelled out by the tests themselves (not taken
 * from the library) so that a message that names it otherwise fails them.
 */
final class ThreadNames {

    private ThreadNames() {
    }

    /** The calling (platform) thread as the library's messages name it: {@code 'name' (#id)}. */
    static String thread() {
        Thread t = Thread.currentThread();
        return "'" + t.getName() + "' (#" + t.threadId() + ")";
    }
}
