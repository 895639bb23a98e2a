package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.CoroutineTimeoutException;
import dev.coro.FreshThread;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connect to a host name: the name looked up on a look-up thread while the caller parks (the
 * thread's other coroutines run meanwhile), its addresses tried in turn, an unknown host and a
 * look-up that outlasts a {@code withTimeout} reported naming the caller, and no socket opened for
 * either; a look-up thread takes nothing of the caller whose look-up started it. The resolver is a
 * test's, so that nothing here asks a name server.
 */
@Tag("net")
@ExtendWith(FreshThread.class)
class NameLookupTest {

    private final NameLookup.Resolver realResolver = NameLookup.resolver;
    private final TcpConnection.Opener realOpener = TcpConnection.opener;
    /** How many sockets the connects opened. */
    private final AtomicInteger opened = new AtomicInteger();

    NameLookupTest() {
        TcpConnection.opener = () -> {
            opened.incrementAndGet();
            return realOpener.open();
        };
    }

    @AfterEach
    void restore() {
        NameLookup.resolver = realResolver;
        TcpConnection.opener = realOpener;
    }

    private static InetAddress ip(String literal) {
        return InetAddress.ofLiteral(literal);
    }

    @Test
    void aConnectToAHostNameParksWhileItIsLookedUpAndTheThreadsOtherCoroutinesRun() throws Exception {
        CompletableFuture<String> asked = new CompletableFuture<>();
        CompletableFuture<InetAddress[]> answer = new CompletableFuture<>();
        NameLookup.resolver = host -> {
            asked.complete(host + " on " + Thread.currentThread().getName().replaceAll("\\d+$", "N"));
            return answer.join();
        };
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            Coroutine.create("server", () -> {
                try (TcpConnection c = listener.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(1);
                    c.read(b);
                    log.add("server read " + b.get(0));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Coroutine.create("meanwhile", () -> {
                log.add("asked " + Coroutine.await(asked));
                log.add("answering");
                answer.complete(new InetAddress[] {ip("127.0.0.1")});
            });
            try (TcpConnection c = TcpConnection.connect("service.test", port)) {
                log.add("connected to " + c.remoteAddress());
                c.write(ByteBuffer.wrap(new byte[] {42}));
            }
            while (log.size() < 4) {
                Coroutine.yield();
            }
            assertThat(log).containsExactly("asked service.test on coro-name-lookup-N", "answering",
                    "connected to /127.0.0.1:" + port, "server read 42");
        }
    }

    /**
     * A look-up thread serves every caller of the JVM for as long as look-ups keep it busy: one started
     * by a caller's look-up inherits neither that caller's inheritable thread locals (a request's trace
     * id, which every later caller's look-up would run with) nor its context class loader (an
     * application's, which it would keep from being unloaded); it has the system class loader, as the
     * JDK's resolver provider is to be found with, and is a daemon. The connect's look-up may run on a
     * thread an earlier look-up started, so a thread is also started here by the look-ups' own factory.
     */
    @Test
    void aLookUpThreadInheritsNeitherTheInheritableThreadLocalsNorTheContextClassLoaderOfTheCallerThatStartedIt()
            throws Exception {
        InheritableThreadLocal<String> traceId = new InheritableThreadLocal<>();
        ClassLoader application = new ClassLoader("application", NameLookupTest.class.getClassLoader()) {};
        Thread caller = Thread.currentThread();
        ClassLoader callers = caller.getContextClassLoader();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Runnable look = () -> {
            Thread t = Thread.currentThread();
            ClassLoader loader = t.getContextClassLoader();
            seen.add(t.getName().replaceAll("\\d+$", "N") + (t.isDaemon() ? ", a daemon" : ", not a daemon")
                    + ", trace id " + traceId.get() + ", context class loader "
                    + (loader == ClassLoader.getSystemClassLoader() ? "the system's" : loader.getName()));
        };
        NameLookup.resolver = host -> {
            look.run();
            return new InetAddress[] {ip("127.0.0.1")};
        };
        traceId.set("request-7");
        caller.setContextClassLoader(application);
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            try (TcpConnection c = TcpConnection.connect("service.test", port);
                 TcpConnection s = listener.accept()) {
                assertThat(c.remoteAddress()).isEqualTo(new InetSocketAddress("127.0.0.1", port));
            }
            Thread started = NameLookup.EXECUTOR.getThreadFactory().newThread(look);
            started.start();
            started.join();
        } finally {
            traceId.remove();
            caller.setContextClassLoader(callers);
        }
        assertThat(seen).containsExactly(
                "coro-name-lookup-N, a daemon, trace id null, context class loader the system's",
                "coro-name-lookup-N, a daemon, trace id null, context class loader the system's");
    }

    @Test
    void theAddressesOfAHostAreTriedInTurnUntilOneConnects() throws Exception {
        // every 127/8 address is the loopback's, but the listener is bound to 127.0.0.1 alone: the others refuse
        NameLookup.resolver = host -> new InetAddress[] {
                InetAddress.getByAddress(host, new byte[] {127, 0, 0, 2}),
                InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            try (TcpConnection c = TcpConnection.connect(InetSocketAddress.createUnresolved("two.test", port))) {
                assertThat(c.remoteAddress()).hasToString("two.test/127.0.0.1:" + port);
            }
            assertThat(opened).as("a socket for each address tried").hasValue(2);
        }
    }

    @Test
    void whenEveryAddressFailsTheFirstsFailureIsThrownWithTheOthersSuppressed() throws Exception {
        int port;
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            port = ((InetSocketAddress) listener.localAddress()).getPort(); // nobody listens there once closed
        }
        NameLookup.resolver = host -> new InetAddress[] {
                InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1}),
                InetAddress.getByAddress(host, new byte[] {127, 0, 0, 3})};
        Throwable[] thrown = {null};
        Coroutine.create("dialer", () -> {
            try {
                TcpConnection.connect("none.test", port).close();
            } catch (IOException e) {
                thrown[0] = e;
            }
        });
        while (thrown[0] == null) {
            Coroutine.yield();
        }
        assertThat(thrown[0]).isExactlyInstanceOf(ConnectException.class) // the JDK's class, so that a catch of it matches
                .hasMessageStartingWith("coroutine 'dialer' cannot connect to none.test/127.0.0.1:" + port + ": ")
                .hasCauseInstanceOf(ConnectException.class);
        assertThat(thrown[0].getSuppressed()).singleElement().satisfies(s -> assertThat(s).isExactlyInstanceOf(ConnectException.class)
                .hasMessageStartingWith("coroutine 'dialer' cannot connect to none.test/127.0.0.3:" + port + ": ")
                .hasCauseInstanceOf(ConnectException.class));
    }

    @Test
    void anUnknownHostFailsNamingTheCallerTheAddressAndTheHostAndOpensNoSocket() {
        NameLookup.resolver = host -> {
            throw new UnknownHostException(host + ": Name or service not known");
        };
        InetSocketAddress nowhere = InetSocketAddress.createUnresolved("nowhere.invalid", 80);
        assertThatThrownBy(() -> TcpConnection.connect(nowhere))
                .isInstanceOf(UnknownHostException.class)
                .hasMessage("main context 'main' cannot connect to " + nowhere + ": host 'nowhere.invalid' has no"
                        + " address (java.net.UnknownHostException: nowhere.invalid: Name or service not known)")
                .cause().isInstanceOf(UnknownHostException.class);
        NameLookup.resolver = host -> new InetAddress[0];
        assertThatThrownBy(() -> TcpConnection.connect("empty.test", 80))
                .isInstanceOf(UnknownHostException.class)
                .hasMessage("main context 'main' cannot connect to empty.test/<unresolved>:80: host 'empty.test'"
                        + " has no address (its look-up found none)");
        NameLookup.resolver = host -> {
            throw new IllegalStateException("the resolver broke");
        };
        assertThatThrownBy(() -> TcpConnection.connect("broken.test", 80))
                .isInstanceOf(UnknownHostException.class)
                .hasMessage("main context 'main' cannot connect to broken.test/<unresolved>:80: the look-up of host"
                        + " 'broken.test' failed (java.lang.IllegalStateException: the resolver broke)")
                .cause().isInstanceOf(IllegalStateException.class);
        assertThat(opened).hasValue(0);
    }

    @Test
    void aLookUpThatOutlastsAWithTimeoutEndsTheConnectWithTheTimeoutAndItsLateAnswerOpensNoSocket() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            // the look-up must have started on its thread before the timeout expires (one still queued then is
            // dropped unrun, and has no late answer): on a loaded machine a look-up thread may take longer than
            // the timeout to start, so the scene is played again with a longer one until it has
            boolean started = false;
            for (long millis = 20; !started && millis <= 20_000; millis *= 10) {
                CompletableFuture<InetAddress[]> answer = new CompletableFuture<>();
                CompletableFuture<Void> entered = new CompletableFuture<>();
                CompletableFuture<Void> answered = new CompletableFuture<>();
                NameLookup.resolver = host -> {
                    entered.complete(null);
                    try {
                        return answer.join();
                    } finally {
                        answered.complete(null);
                    }
                };
                Duration timeout = Duration.ofMillis(millis);
                assertThatThrownBy(() -> Coroutine.callWithTimeout(timeout,
                        () -> TcpConnection.connect("slow.test", port)))
                        .isInstanceOf(CoroutineTimeoutException.class)
                        .hasMessage("main context 'main' timed out: withTimeout(" + timeout + ") expired before its"
                                + " body returned");
                started = entered.isDone();
                answer.complete(new InetAddress[] {ip("127.0.0.1")});
                if (started) {
                    Coroutine.await(answered);
                    Coroutine.yield(); // a scheduling point: a late answer, were it taken in, would act now
                }
                assertThat(opened).as("no socket opened, before or after the answer").hasValue(0);
            }
            assertThat(started).as("a look-up started before its connect's timeout expired").isTrue();
            // the next connect looks up again and connects
            NameLookup.resolver = host -> new InetAddress[] {ip("127.0.0.1")};
            try (TcpConnection c = TcpConnection.connect("slow.test", port)) {
                assertThat(c.isOpen()).isTrue();
            }
        }
    }

    @Test
    void anAddressLiteralIsConnectedToWithoutALookUp() throws Exception {
        NameLookup.resolver = host -> {
            throw new AssertionError("looked up " + host);
        };
        try (TcpListener listener = TcpListener.bind(LOOPBACK)) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            try (TcpConnection c = TcpConnection.connect("127.0.0.1", port)) {
                assertThat(c.remoteAddress()).isEqualTo(new InetSocketAddress("127.0.0.1", port));
            }
        }
    }

    @Test
    void localhostIsLookedUpByTheJdksResolverAndReachesAListenerOnTheLoopback() throws Exception {
        // whichever addresses the host's resolver gives localhost (::1 first, or 127.0.0.1 alone), one connects
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            try (TcpConnection c = TcpConnection.connect("localhost", port)) {
                assertThat(((InetSocketAddress) c.remoteAddress()).getAddress().isLoopbackAddress()).isTrue();
            }
        }
    }

    @Test
    void aPortOutOfRangeOrANullHostIsRefusedNamingTheCaller() {
        assertThatThrownBy(() -> TcpConnection.connect("localhost", 65536))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(Callers.plainThread() + " cannot connect to localhost:65536: the port is out of range (0 to 65535)");
        assertThatThrownBy(() -> TcpConnection.connect("localhost", -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot connect to localhost:-1: the port is out of range");
        assertThatThrownBy(() -> TcpConnection.connect((String) null, 80))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("host");
        assertThat(opened).hasValue(0);
    }
}
