package dev.coro;

import dev.coro.internal.IoBridge;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.CompletableFuture;

/** The scheduler's side of the {@link IoBridge}: I/O waits as parks on the calling thread's event loop. */
final class IoSupport extends IoBridge {

    static {
        IoBridge.install(new IoSupport());
    }

    private IoSupport() {
    }

    @Override
    public boolean refusedToSuspend(Throwable t) {
        return PinnedException.refusedTheCallersPark(t);
    }

    @Override
    public void note(Throwable unwinding, Throwable note) {
        if (unwinding instanceof CoroutineExit exit) {
            exit.addNote(note);
        } else {
            unwinding.addSuppressed(note);
        }
    }

    @Override
    public void await(SelectableChannel channel, int ops, Object operation) throws IOException {
        await(channel, ops, operation, false);
    }

    @Override
    public void await(SelectableChannel channel, int ops, Object operation, boolean first) throws IOException {
        Scheduler s = Scheduler.currentOrNull();
        if (s == null) {
            if (!channel.isOpen()) { // a refusal makes the thread no scheduler (SEMANTICS): it names the thread
                throw new ClosedChannelWait(Scheduler.describeCaller(), operation);
            }
            s = Scheduler.current();
        }
        Context self = s.currentContext();
        if (!channel.isOpen()) {
            throw new ClosedChannelWait(self, operation);
        }
        IoWait w;
        try {
            w = s.loop.register(channel, ops, self, operation, first);
        } catch (IOException e) {
            throw cannotRegister(self, operation, e);
        } catch (IllegalBlockingModeException e) {
            throw blockingMode(self, operation, e);
        } catch (IllegalSelectorException e) {
            throw notTheProvidersOwn(self, channel, operation, e);
        }
        try {
            s.park(w);
        } catch (Throwable t) {
            // by field writes alone, before the clean-up's first call (see Channel.parkOn): if a stack
            // overflow stops it, self finishes it at its next scheduling point or its end; if another
            // clean-up is marked still (the park threw at its check), this one is made at once, unmarked
            if (self.unfinishedCleanup == null) {
                self.unfinishedCleanup = w;
                if (self.pendingThrow == null) {
                    self.pendingThrow = Context.CLEANUP_LEFT;
                }
                self.finishCleanup();
            } else {
                w.interrupt();
            }
            throw t;
        }
        if (w.failure != null) {
            throw failed(self, w);
        }
        w.key.recycle(w);
    }

    /**
     * Why {@code self} could not start its wait, naming the caller, the wait and the state of what it
     * waits on (an {@link IoBridge.Operation}'s) as every refusal does: a channel closed meanwhile as a
     * {@link ClosedChannelException} still; anything else (the selector cannot be opened: no
     * descriptor left) as an {@link IOException} whose cause it is, of its class if that is one of
     * {@code java.net}'s ({@link IoBridge#failure}), as every failure of the network package.
     */
    private static IOException cannotRegister(Context self, Object operation, IOException e) {
        if (e instanceof ClosedChannelException) {
            return new ClosedChannelWait(self, operation);
        }
        String state = operation instanceof IoBridge.Operation o ? " (" + o.state() + ")" : "";
        return IoBridge.failure(self.describe() + " cannot " + operation + state + ": " + SafeText.line(e), e);
    }

    /**
     * Why {@code self} could not start its wait on a channel put in blocking mode after the caller's
     * up-front check ({@code Io.await}'s), by another thread or by the caller's own code between that
     * check and the registration, whose refusal {@code e} (the JDK's) has no message: the same refusal
     * in words as the up-front check's, naming the caller and the wait, {@code e} its cause.
     */
    private static IllegalArgumentException blockingMode(Context self, Object operation, IllegalBlockingModeException e) {
        return new IllegalArgumentException(self.describe() + " cannot " + operation
                + ": it is in blocking mode; call configureBlocking(false) first", e);
    }

    /**
     * Why {@code self} could not start its wait on {@code channel}, whose provider is the default one
     * ({@code Io.await} refuses another provider's channels up front) but which is no channel that
     * provider made (a class of the user's own built on {@code AbstractSelectableChannel} with that
     * provider), so that the thread's selector refuses it with {@code e}, the JDK's message-less
     * refusal: naming the caller, the wait, the channel's class and the provider, {@code e} its cause.
     */
    private static IllegalArgumentException notTheProvidersOwn(Context self, SelectableChannel channel, Object operation,
                                                               IllegalSelectorException e) {
        String provider = SelectorProvider.provider().getClass().getName();
        return new IllegalArgumentException(self.describe() + " cannot " + operation + ": it names the default selector provider ("
                + provider + ") but is a channel of its own class (" + channel.getClass().getName() + "), not one that provider"
                + " made, and the thread's event loop watches only those", e);
    }

    /**
     * The failure of {@code self}'s wait {@code w}, made here so that its stack trace is the waiter's,
     * naming the caller, the wait and the state of what it waited on as the other refusals of a
     * call on a connection or listener do, e.g. {@code coroutine 'reader' cannot read from connection
     * /127.0.0.1:40000 -> /127.0.0.1:8080 (closed): the connection was closed while it waited}. A
     * wait fails only when its channel is closed under it ({@link IoWait#failure}), so the state is
     * {@code closed}; unless the wait failed because the thread's selector failed ({@link IoWait#cause}):
     * that failure is reported as the selector's failure to open is, naming the state of what it waited
     * on, e.g. {@code coroutine 'reader' cannot read from connection A -> B (open): java.io.IOException: ...},
     * the selector's exception its cause.
     */
    private static IOException failed(Context self, IoWait w) {
        IOException e = w.cause != null
                ? cannotRegister(self, w.operation(), w.cause) // the selector failed: as when it cannot be opened
                : new IOException(self.describe() + " cannot " + w + " (closed): " + w.failure);
        w.key.recycle(w);
        return e;
    }

    @Override
    public <T> T awaitHelper(CompletableFuture<T> f, String operation) {
        Scheduler s = Scheduler.current(); // made first, whether the helper is done yet or not: a failure names its caller alike
        if (!f.isDone()) {
            s.awaitLibrary(f, null, operation);
        }
        return Coroutine.joined(f);
    }

    @Override
    public void release(SelectableChannel channel) {
        Scheduler s = Scheduler.currentOrNull(); // a thread without one registered nothing: none is made to say so
        if (s != null) {
            s.loop.release(channel);
        }
    }

    @Override
    public void passAccept(SelectableChannel channel) {
        Scheduler.current().loop.passAccept(channel);
    }

    @Override
    public int waitsOn(SelectableChannel channel) {
        return Scheduler.current().loop.waitsOn(channel);
    }

    @Override
    public void connected(SelectableChannel channel) {
        Scheduler.current().loop.unwatch(channel, SelectionKey.OP_CONNECT);
    }

    @Override
    public void closing(Object owner, SelectableChannel channel, String why) {
        ((Scheduler) owner).loop.closing(channel, why);
    }

    @Override
    public Object adopt(Object owner, Closeable resource, SelectableChannel channel) {
        Scheduler s = (Scheduler) owner;
        return s.loop.adopt(resource, channel, s.owner);
    }

    @Override
    public boolean takeOver(Object entry) {
        return ((OpenResource) entry).takeOver();
    }

    @Override
    public void disown(Object owner, Object entry) {
        ((Scheduler) owner).loop.disown((OpenResource) entry);
    }

    @Override
    public void handOff(Object owner, Object entry, SelectableChannel channel) {
        ((Scheduler) owner).loop.handOff((OpenResource) entry, channel);
    }

    @Override
    public boolean closeAbandoned(Object owner, Object entry) throws IOException {
        return ((Scheduler) owner).loop.closeAbandoned((OpenResource) entry);
    }

    @Override
    public boolean closeFromAfar(Object owner, Object entry, String name) throws IOException {
        return RemoteClose.close((Scheduler) owner, (OpenResource) entry, name);
    }

    @Override
    public boolean ownerEnded(Object owner) {
        Scheduler s = (Scheduler) owner;
        return !s.owner.isAlive() || s.loop.hasEnded();
    }

    @Override
    public Object owner() {
        return Scheduler.current();
    }

    @Override
    public long schedulingPoints(Object owner) {
        return ((Scheduler) owner).schedulingPoints;
    }

    @Override
    public boolean isOwner(Object owner) {
        return ((Scheduler) owner).isCaller();
    }

    @Override
    public void checkOwner(Object owner, String operation, String target, Object state) {
        Scheduler s = (Scheduler) owner;
        if (!s.isCaller()) {
            throw s.notOwner(operation, target, state); // saying whether that thread has ended
        }
    }

    @Override
    public String threadOf(Object owner) {
        return Scheduler.describe(((Scheduler) owner).owner);
    }

    @Override
    public String caller() {
        return Scheduler.describeCaller(); // a thread without a scheduler is named as such: a refusal makes none
    }

    @Override
    public String text(Object o) {
        return SafeText.line(o);
    }

    @Override
    public String name(String name) {
        return SafeText.name(name);
    }
}
