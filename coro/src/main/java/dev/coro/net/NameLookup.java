package dev.coro.net;

import dev.coro.Coroutine;
import dev.coro.internal.IoBridge;
import dev.coro.internal.SharedThreads;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The look-up of a host name's addresses on threads of its own, while the caller parks: the JDK's
 * look-up blocks its thread (a call into the system's resolver), which on a coroutine's thread would
 * hold every other coroutine of that thread and its event loop for as long as a name server takes.
 *
 * <p>Look-ups run on up to {@link #THREADS} daemon platform threads named {@code coro-name-lookup-N},
 * started when needed and ended after {@link #KEEP_ALIVE_SECONDS} seconds idle; further look-ups
 * queue. A look-up thread serves every caller, so it inherits no inheritable thread local of the
 * caller whose look-up started it, and has the system class loader as its context class loader, normal
 * priority and the root thread group, whatever that caller's ({@link SharedThreads}). If the JVM cannot
 * start a thread (out of threads, or of memory for their stacks), a look-up is queued for the look-up
 * threads that run, and, if none does, fails with an {@link UnknownHostException} naming the caller, the
 * operation and the host, the JVM's {@code OutOfMemoryError} its cause; the next look-up starts a thread
 * again. The caller parks as in {@link Coroutine#await} ({@link IoBridge#awaitHelper}): a
 * {@code withTimeout} or a close of the caller ends its wait, and the look-up, which cannot be
 * stopped once started, runs to its end on its thread and its answer is dropped; one still queued
 * then never runs. Dumps and signals name the wait
 * as the caller's operation, e.g. {@code connect to db.internal/<unresolved>:5432 (looking up its host)},
 * and it is no exchange with another thread: a look-up thread reaches nothing of the caller's, so
 * the caller's thread still reports its deadlocks once the look-up is over.
 */
final class NameLookup {

    /** How many look-ups run at once, at most. */
    static final int THREADS = 16;
    /** How long a look-up thread waits for the next look-up before it ends. */
    static final long KEEP_ALIVE_SECONDS = 30;

    private NameLookup() {}

    /** What looks a host name up: the JDK's resolver, or a test's. */
    @FunctionalInterface
    interface Resolver {
        /** Every address of {@code host}, in the order to try them; throws if it has none. */
        InetAddress[] lookUp(String host) throws UnknownHostException;
    }

    /** The {@link Resolver} of every look-up: the JDK's, or a test's. */
    static volatile Resolver resolver = InetAddress::getAllByName;

    /** The look-up threads; package-private for tests, which count the look-ups it has run. */
    static final ThreadPoolExecutor EXECUTOR = executor();

    private static ThreadPoolExecutor executor() {
        // a look-up thread serves every caller of the JVM, for as long as look-ups keep it busy: it takes
        // nothing of the caller whose look-up happened to start it (a request's trace id in an inheritable
        // thread local, an application's context class loader, which it would keep from being unloaded, its
        // priority, its thread group: the virtual threads' for a thread-engine coroutine); and its factory is the
        // JDK's, which an idle look-up thread keeps (through its executor) for up to KEEP_ALIVE_SECONDS: one of
        // this library's would keep this copy of it from being unloaded meanwhile (an application server's redeploy)
        ThreadPoolExecutor e = new ThreadPoolExecutor(THREADS, THREADS, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), SharedThreads.factory("coro-name-lookup-"));
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    /**
     * Hands {@code task} to a look-up thread. The executor starts a thread for each look-up while fewer
     * than {@link #THREADS} run, idle ones or not, and throws the JVM's {@link OutOfMemoryError} if it
     * cannot start one (the JVM is out of threads, or of memory for their stacks), though an idle look-up
     * thread could run it: the look-up is then queued for the look-up threads that run, as the executor
     * queues one it need start no thread for.
     *
     * @throws OutOfMemoryError if no thread could be started and no look-up thread runs; nothing is queued
     */
    private static void start(Runnable task) {
        try {
            EXECUTOR.execute(task);
        } catch (OutOfMemoryError e) {
            // the executor forgot the thread it could not start; those that run take from the queue. One that
            // ends idle just as this queues is counted until it is gone, and starts a thread for the queue as it
            // goes (which fails too): the look-up then waits for the next look-up's thread, or its caller's timeout
            if (EXECUTOR.getPoolSize() == 0 || !EXECUTOR.getQueue().offer(task)) {
                throw e;
            }
            if (EXECUTOR.getPoolSize() == 0 && EXECUTOR.remove(task)) {
                throw e; // the last one ended, idle, as it was queued: nobody would run it
            }
        }
    }

    /**
     * The addresses of {@code host}: itself if it is an IP address literal (no look-up), else those
     * the resolver finds, looked up on a look-up thread while the caller parks.
     *
     * @param io        the caller's bridge to its thread's loop, which names it
     * @param host      the host name or address literal
     * @param operation what the caller does, for the message and, with {@code (looking up its host)}
     *                  after it, for dumps of the wait, e.g. {@code connect to host/<unresolved>:80}, its
     *                  user's objects already made safe for one line ({@link IoBridge#text})
     * @throws UnknownHostException naming the caller, the operation and the host, if the host has no
     *                              address or its look-up failed (the resolver's exception as its cause), or
     *                              could not start: no look-up thread runs and the JVM could start none (its
     *                              {@code OutOfMemoryError} the cause)
     */
    static InetAddress[] addressesOf(IoBridge io, String host, String operation) throws UnknownHostException {
        try {
            return new InetAddress[] {InetAddress.ofLiteral(host)};
        } catch (IllegalArgumentException notALiteral) {
            // a name: looked up below
        }
        Resolver r = resolver;
        CompletableFuture<InetAddress[]> lookUp = new CompletableFuture<>();
        Runnable task = () -> {
            if (lookUp.isDone()) {
                return; // its caller gave up while it was queued: it never runs (see below)
            }
            try {
                lookUp.complete(r.lookUp(host));
            } catch (Throwable e) { // as CompletableFuture.supplyAsync completes it: the failure its cause
                lookUp.completeExceptionally(new CompletionException(e));
            }
        };
        try {
            start(task);
        } catch (OutOfMemoryError e) {
            UnknownHostException f = new UnknownHostException(io.caller() + " cannot " + operation + ": the look-up of host '"
                    + io.name(host) + "' could not start: no look-up thread runs and the JVM could start none (" + io.text(e) + ")");
            f.initCause(e);
            throw f;
        }
        InetAddress[] found;
        try {
            found = io.awaitHelper(lookUp, operation + " (looking up its host)");
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            UnknownHostException f = new UnknownHostException(io.caller() + " cannot " + operation + ": "
                    + (cause instanceof UnknownHostException ? "host '" + io.name(host) + "' has no address"
                            : "the look-up of host '" + io.name(host) + "' failed") + " (" + io.text(cause) + ")");
            f.initCause(cause);
            throw f;
        } catch (RuntimeException | Error e) { // the caller gave up: a withTimeout, a close, a failure thrown into main's wait
            // a look-up still queued then never runs (the future done, its task does nothing): it would hold a
            // look-up thread for nobody while the resolver is slow, and delay the look-ups queued behind it
            lookUp.cancel(false);
            throw e;
        }
        if (found == null || found.length == 0) { // a resolver of a test's, or of the user's provider
            throw new UnknownHostException(io.caller() + " cannot " + operation + ": host '" + io.name(host)
                    + "' has no address (its look-up found none)");
        }
        return found;
    }
}
