package dev.coro;

import java.io.Closeable;
import java.io.IOException;

/**
 * A close of a listener or a connection by a context of another thread than the one it belongs to, while
 * that thread runs: the first close of a channel of the owner's thread made for it, which is posted to that
 * thread and waited for as any channel's first close from another thread is (docs/THREADS.md), and runs
 * the resource's own close there before it marks the channel closed.
 *
 * <p>So it follows a channel's rules: a second close from another thread returns at once, the owner's
 * thread blocked outside the library delays it, a caller closed or whose {@code withTimeout} expires while
 * it waits for the answer throws the signal and the resource is closed all the same, and a caller that
 * cannot suspend does not wait. The resource is held weakly, through its {@link OpenResource} entry: the
 * post queued on the owner's thread keeps nothing reachable that its collection would close; and the entry
 * holds this close weakly, since its channel holds the owner's scheduler.
 */
final class RemoteClose implements Runnable {

    private final OpenResource entry;
    private final Channel<Void> channel;
    /**
     * What the resource's close threw on its thread; written there before the channel's first close completes the
     * operation of the caller that posted it, and read by that caller alone, once that operation is done
     * ({@link Channel#closeFirstFromAfar}), as the JDK tells a close's failure to the caller whose close performed it.
     */
    private Throwable failure;

    RemoteClose(Scheduler owner, OpenResource entry, String name) {
        this.entry = entry;
        this.channel = new Channel<>(owner, name, this);
    }

    /**
     * From another thread than {@code owner}'s: closes the resource of {@code entry}, named {@code name} (e.g.
     * {@code connection A -> B}), on its thread, and waits until that is done. The entry keeps the one made
     * first, so that every later close finds its channel closed, or its close under way.
     *
     * @return false, having closed nothing, if the owner's thread ended before it could run the close
     * @throws IOException as the resource's close on its thread threw it, to the caller whose close ran it there and
     *                     that waited for it alone: every other caller (one that found it closed, or whose close ran
     *                     after that one) returns normally, as a second close does
     */
    static boolean close(Scheduler owner, OpenResource entry, String name) throws IOException {
        RemoteClose c = entry.remoteClose(owner, name);
        boolean first;
        try {
            first = c.channel.closeFirstFromAfar();
        } catch (IllegalStateException e) {
            if (owner.owner.isAlive() && !owner.loop.isEnding()) {
                throw e;
            }
            // its thread ended before it ran the post, or its loop refused it as it ends (a pool thread leaving its
            // loop, alive still): the caller closes it as one left behind
            return false;
        }
        Throwable f = first ? c.failure : null; // only the first close's caller reads it, once: no other thread does
        if (f != null) {
            switch (f) {
                case IOException e -> throw e;
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                default -> throw new AssertionError(f);
            }
        }
        return true;
    }

    /** On the owner's thread, as the channel's first close runs: the resource's own close. */
    @Override
    public void run() {
        Closeable r = entry.get();
        if (r == null) {
            return; // collected unclosed: the cleaning thread closes its socket
        }
        try {
            r.close();
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
        }
    }
}
