/**
 * Network I/O on each thread's event loop: straight-line socket code, one coroutine per connection.
 *
 * <p>A read that finds no data, a write that finds the socket's buffer full, an accept with no
 * connection waiting and a connect in progress park the calling context (main or a coroutine) on
 * its thread's event loop, and the thread's other contexts run meanwhile; when none can run, the
 * thread blocks in one {@code select} until a channel is ready or the next timer is due.
 *
 * <ul>
 *   <li>{@link dev.coro.net.TcpListener}: {@code bind}, {@code accept}; {@code bind(address, true)}
 *       ({@code SO_REUSEPORT}) lets one listener per thread share a port; {@code setOption} sets the
 *       listening socket's options ({@code SO_RCVBUF}: what the connections it accepts afterwards start with).</li>
 *   <li>{@link dev.coro.net.TcpConnection}: {@code connect}, {@code read}, {@code write}, and
 *       {@code java.io} stream views that park instead of blocking; {@code connect(host, port)} looks
 *       the host up on a look-up thread while the caller parks (the JDK's look-up would block the
 *       thread), and tries its addresses in turn; {@code connect(address, configurer)} sets the socket up
 *       first ({@link dev.coro.net.SocketConfigurer}: the options that must precede the handshake, a local
 *       bind).</li>
 *   <li>{@link dev.coro.net.Io#await}: park until any non-blocking NIO channel is ready.</li>
 * </ul>
 *
 * <p>Listeners and connections belong to the thread that made them, like coroutines: a call that
 * acts on one from another thread throws {@link IllegalStateException} naming the calling context
 * and both threads. Only
 * the calls that describe them ({@code isOpen()}, the addresses, {@code toString()}) answer any
 * thread, a connection's {@code input()} and {@code output()} hand their views to any thread (every
 * call of which but {@code close()} and {@code flush()} is confined as the connection's are, those that
 * do nothing too: a skip of no bytes, {@code mark}), and {@code close()} may be called from
 * any thread: while their thread runs it is posted there and waited for (a coroutine parked on them
 * there fails as for a close on its own thread), and once their thread has ended it releases their
 * descriptors at once, as may the
 * output's {@code flush()}, which has nothing to do, so that a buffering wrapper's {@code close()}
 * (which flushes first) closes it too, from any thread. A
 * {@link dev.coro.CoroutinePool} thread that ends closes those its coroutines left open, and its selector.
 * A connection moves to another thread whole: {@link dev.coro.net.TcpConnection#detach()} hands its open channel
 * back, unregistered, which {@link dev.coro.net.TcpConnection#adopt} on the other thread makes a connection of that
 * thread (one thread accepting, a pool's threads serving).
 *
 * <p>Close what you open: {@code close()} (try-with-resources) releases a socket at once. A listener
 * or connection dropped unclosed is not kept by its thread's event loop, which holds it weakly: once
 * the garbage collector finds it unreachable, a cleaning thread closes its socket, as a
 * {@code java.net.Socket}'s is closed then. The peer of a connection reads the end of the stream, and
 * the descriptor (a listener's port) is released by the thread's next scheduling point (the thread's
 * selector holds that of a socket registered with it until then). When that happens is the
 * collector's choice, so this is a safety net for a close forgotten on an error path, not a way to
 * close. (A socket opened while the JVM can start no thread, when the cleaning thread has yet to
 * start, goes without it; the next socket starts it.) One a coroutine is parked on (in {@code accept}, {@code read} or {@code write}) is reachable
 * through that coroutine, and is never closed under it; once a plain thread has ended, its coroutines
 * are unreachable too, and what only they held (one parked on it, one sleeping with it in a frame) is
 * closed once collected, with the ended thread's selector.
 *
 * <p>Timeouts come
 * from {@link dev.coro.Coroutine#withTimeout(java.time.Duration, java.util.function.Supplier)}. Under
 * {@link dev.coro.VirtualTime} I/O waits are real: while a context waits on I/O the virtual clock jumps
 * to the next timer only once no channel has become ready for as long, in real time, as that timer
 * is away (so a {@code withTimeout} around a read that no byte reaches expires).
 */
package dev.coro.net;
