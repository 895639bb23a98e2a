package dev.coro;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;

/**
 * A selectable channel's registration with its thread's event loop: the selection key, and the
 * contexts waiting on the channel ({@link IoWait}s) in the order they came.
 *
 * <p>The key's interest is kept lazily: operations stay in it after the wait that wanted them has
 * completed (a connection read again and again pays no system call per read), and an operation is
 * taken out only when the selector reports it ready while nobody waits for it.
 */
final class IoKey extends WaitQueue.Node<IoKey> {

    final SelectableChannel channel;
    final SelectionKey key;
    private final EventLoop loop;
    private final WaitQueue<IoWait> waits = new WaitQueue<>();
    /** An ended wait kept for the next one on this channel; null if none (or it is in use). */
    private IoWait spare;

    IoKey(EventLoop loop, SelectableChannel channel, SelectionKey key) {
        this.loop = loop;
        this.channel = channel;
        this.key = key;
    }

    /** A wait on this channel for {@code context}: the kept one if there is one, else a new one. */
    IoWait take(Context context, int ops, Object operation) {
        IoWait w = spare;
        if (w == null) {
            w = new IoWait(this);
        } else {
            spare = null;
        }
        return w.start(context, ops, operation);
    }

    /** Keeps {@code w}, a wait of this key that has ended and whose result its context has read. */
    void recycle(IoWait w) {
        w.clear();
        spare = w;
    }

    /**
     * Queues {@code w}, last or, if {@code first}, ahead of the others, and makes sure the selector
     * watches its operations. The queueing comes last, a call with none inside: a stack overflow at
     * any call before it has queued nothing (the key may stay listed as waiting, and watched for those
     * operations, which does no harm).
     *
     * @throws ClosedChannelException if the key was cancelled: another thread closed the channel
     *                                since the caller found it open (nothing is queued)
     */
    void add(IoWait w, boolean first) throws ClosedChannelException {
        try {
            int interest = key.interestOps();
            if ((interest & w.ops) != w.ops) {
                key.interestOps(interest | w.ops);
            }
        } catch (CancelledKeyException e) {
            // a wait on a closed channel, refused as any is; its registration ends with the caller's release or close
            throw new ClosedChannelException();
        }
        if (waits.isEmpty()) {
            loop.keyWaiting(this);
        }
        if (first) {
            waits.addFirst(w);
        } else {
            waits.add(w);
        }
    }

    /** Takes {@code w} out of the queue if it is there. */
    void remove(IoWait w) {
        if (w.queued) {
            waits.remove(w);
            loop.ioWaitEnded();
            if (waits.isEmpty()) {
                loop.keyIdle(this);
            }
        }
    }

    /**
     * The selector reports the channel ready for {@code readyOps}: completes every wait they satisfy,
     * but of the waits for {@code OP_ACCEPT} alone only the first (the one that began waiting first).
     * One report of a listener says that a connection waits in its backlog, maybe no more than one:
     * waking every acceptor would run them all, for one to take it and the others to wait again (a
     * thundering herd). The others stay queued and keep the interest, and the selector reports the
     * listener ready again for as long as a connection waits in its backlog: a woken acceptor that
     * never takes its turn (closed before it runs) leaves that connection to the next one in line at
     * the next select. (One whose timeout expires once it is woken keeps the wake, as a completed wait
     * keeps its result, and takes its turn.) A woken acceptor that takes a connection wakes the next one
     * itself ({@link #passAccept}), so a burst of connections is drained in one round.
     */
    void ready(int readyOps) {
        int wanted = 0;
        boolean acceptorWoken = false;
        for (IoWait w = waits.first(), next; w != null; w = next) {
            next = waits.next(w);
            wanted |= w.ops; // a wait completed now is served too: its context will most likely wait again
            if ((w.ops & readyOps) != 0) {
                if (w.ops == SelectionKey.OP_ACCEPT) {
                    if (acceptorWoken) {
                        continue;
                    }
                    acceptorWoken = true;
                }
                remove(w);
                w.complete(null);
            }
        }
        int unwanted = readyOps & ~wanted;
        if (unwanted != 0) {
            unwatch(unwanted);
        }
    }

    /**
     * An acceptor woken in its turn (by {@link #ready} or by this) took a connection, and there may be
     * more in the backlog: wakes the first wait for {@code OP_ACCEPT} alone, which takes the next or,
     * finding the backlog empty, waits again in its place (ending the chain of wakes); nothing if
     * none waits.
     */
    void passAccept() {
        for (IoWait w = waits.first(); w != null; w = waits.next(w)) {
            if (w.ops == SelectionKey.OP_ACCEPT) {
                remove(w);
                w.complete(null);
                return;
            }
        }
    }

    /**
     * Stops watching {@code ops}, which nobody waits for (the selector reported them ready with nobody
     * waiting, or a connect is over), until someone does. Nobody
     * waits on the channel then, so the cleaning thread may be closing it now (its listener or
     * connection was dropped unclosed), which cancels the key at any moment.
     */
    void unwatch(int ops) {
        try {
            if (key.isValid()) {
                key.interestOps(key.interestOps() & ~ops);
            }
        } catch (CancelledKeyException e) {
            // cancelled since: its registration ends at the owner's next scheduling point
        }
    }

    /**
     * The socket's connect is over, though the selector watches {@code OP_CONNECT} on it, which the JDK
     * reports only while a connect is in progress (see {@code EventLoop.connectOverIfWatched}): completes
     * every wait for {@code OP_CONNECT}, as its readiness does ({@link #ready}), and stops watching it,
     * which readiness leaves watched while a completed wait asked for it.
     */
    void connectOver() {
        ready(SelectionKey.OP_CONNECT);
        unwatch(SelectionKey.OP_CONNECT);
    }

    /** The channel is closed or unusable: every wait fails, its context throwing an exception that says {@code why}. */
    void fail(String why) {
        for (IoWait w; (w = waits.first()) != null; ) {
            remove(w);
            w.complete(why);
        }
    }

    /** The thread's selector failed with {@code e} (and is closed): every wait fails, its context throwing an exception caused by {@code e}. */
    void selectorFailed(IOException e) {
        for (IoWait w; (w = waits.first()) != null; ) {
            remove(w);
            w.selectorFailed(e);
        }
    }

    /** How many contexts wait on this channel: one walk of its queue, for a refusal's message. */
    int waitCount() {
        int n = 0;
        for (IoWait w = waits.first(); w != null; w = waits.next(w)) {
            n++;
        }
        return n;
    }

    /** Whether a context waits on this channel. */
    boolean hasWaits() {
        return !waits.isEmpty();
    }
}
