package dev.coro;

/**
 * A task that sits in a thread's {@link Inbox} as its own node, so that posting it allocates nothing
 * and the owner reads one object, the one the poster has just written, instead of a node and then
 * the task: a wait that another thread completes. It is in at most one inbox, at most once, at a time.
 */
interface Posted {

    /** The post below it in the inbox (the next older one), or, once taken, the next to run. */
    Posted nextPosted();

    /** Links it to {@code next}; only the thread that holds it (its poster, then the inbox's owner) calls this. */
    void nextPosted(Posted next);

    /** Runs it on the inbox's thread. */
    void runPosted();

    /**
     * The inbox's owner ended without running it (its loop closed): its poster's work is told, if it must be
     * (a pool's body fails). By default nothing. Called on the owner thread, as its loop closes.
     */
    default void postRefused() {
    }

    /**
     * A post that holds its link here: the base of one whose class extends nothing else (a task of a pool, a
     * node of a plain task, a future's completion). One that extends another class (a wait, a weak reference)
     * holds its link itself.
     */
    abstract class Linked implements Posted {
        private Posted next;

        @Override
        public final Posted nextPosted() {
            return next;
        }

        @Override
        public final void nextPosted(Posted next) {
            this.next = next;
        }
    }
}
