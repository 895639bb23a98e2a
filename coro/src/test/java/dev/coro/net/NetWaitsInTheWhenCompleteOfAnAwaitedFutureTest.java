package dev.coro.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.Coroutine;
import dev.coro.FreshThread;
import dev.coro.HookedFuture;
import dev.coro.LoopProbe;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A wait of {@code dev.coro.net} made by the user's code in the {@code whenComplete} of a future of a class of its
 * own, which coro calls as an await of that future starts (the await half made), is refused as every scheduling
 * point there is, on both engines, naming the caller, the wait and the future: a read (of the connection and of its
 * {@code input()}), an accept, an {@link Io#await} and a connect (whose socket is closed). Nothing is left waiting,
 * the await is made whole and woken by the future's completion, and the connection and the listener work on.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
@Timeout(20)
class NetWaitsInTheWhenCompleteOfAnAwaitedFutureTest {

    /** A call of the network API, which may throw a checked exception. */
    interface NetCall {
        void run() throws Exception;
    }

    /** What {@code call} threw; fails if it returned. */
    private static Throwable thrown(NetCall call) {
        try {
            call.run();
        } catch (Throwable e) {
            return e;
        }
        throw new AssertionError("the call returned");
    }

    /** The refusal of {@code operation} to coroutine 'awaiter' inside the {@code whenComplete} of {@code f}. */
    private static String refusal(String operation, Object f) {
        return "coroutine 'awaiter' (state RUNNING) cannot " + operation + " inside the whenComplete of " + f.getClass().getName()
                + "@" + Integer.toHexString(System.identityHashCode(f)) + ", which coro calls as a wait for that future starts:"
                + " the wait is half made until it returns, and nothing could wake it rightly; a future's whenComplete must"
                + " not yield, park, switch to or close a coroutine";
    }

    @Test
    void aReadAnAcceptAnAwaitOrAConnectInTheWhenCompleteOfAnAwaitedFutureIsRefusedAndLeavesNothingWaiting() throws Exception {
        List<Throwable> refused = new ArrayList<>();
        List<String> log = new ArrayList<>();
        try (TcpListener listener = TcpListener.bind(new InetSocketAddress("127.0.0.1", 0));
             Pipe.SourceChannel source = Pipe.open().source()) {
            source.configureBlocking(false);
            TcpConnection[] accepted = new TcpConnection[1];
            Coroutine acceptor = NetWaitsWhereTheJdkCannotSuspendTest.acceptor(listener, accepted);
            try (TcpConnection c = TcpConnection.connect(listener.localAddress())) {
                acceptor.join();
                HookedFuture<String> f = new HookedFuture<>();
                f.action = () -> {
                    refused.add(thrown(() -> c.read(ByteBuffer.allocate(4))));
                    refused.add(thrown(() -> c.input().read()));
                    refused.add(thrown(listener::accept));
                    refused.add(thrown(() -> Io.await(source, SelectionKey.OP_READ)));
                    refused.add(thrown(() -> TcpConnection.connect(listener.localAddress())));
                    log.add("I/O waits left: " + LoopProbe.ioWaits());
                };
                Coroutine awaiter = Coroutine.create("awaiter", () -> log.add("got " + Coroutine.await(f)));
                awaiter.switchTo();
                f.complete("done");
                awaiter.join();

                String connection = "connection " + c.localAddress() + " -> " + c.remoteAddress();
                assertThat(refused).allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class))
                        .extracting(Throwable::getMessage).containsExactly(
                                refusal("read from " + connection, f),
                                refusal("read from " + connection, f),
                                refusal("accept on listener " + listener.localAddress(), f),
                                refusal("await OP_READ on " + source, f),
                                refusal("connect to " + listener.localAddress(), f));
                assertThat(log).containsExactly("I/O waits left: 0", "got done");
                NetWaitsWhereTheJdkCannotSuspendTest.workOn(c, accepted[0], listener);
                assertThat(LoopProbe.ioWaits()).isZero();
                assertThat(LoopProbe.hasPending()).as("no wait and no timer left").isFalse();
            }
        }
    }
}
