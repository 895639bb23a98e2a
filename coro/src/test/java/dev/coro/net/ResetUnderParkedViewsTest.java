package dev.coro.net;

import static dev.coro.net.IoTimeoutTest.patterned;
import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.bytes;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coro.Coroutine;
import dev.coro.Coroutine.State;
import dev.coro.FreshThread;
import dev.coro.LoopProbe;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A peer's reset while calls of a connection's {@code java.io} views are parked on it: a write parked
 * part way, a write waiting behind it and a {@code readNBytes} that has read some of its bytes each
 * fail with an {@code IOException} naming its own coroutine, its call, the connection and the state,
 * the two that had done something saying how much, and the connection's later calls fail naming the
 * state {@code open, failed}.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class ResetUnderParkedViewsTest {

    /**
     * The kernel tells the first call that looks of the reset, and whichever of the writer and the
     * reader runs first is told: its message gives the state {@code open}, the two others' {@code open,
     * failed}, and the cause of each is the reset or what follows it; the rest of each message is fixed.
     * Each fails with a {@code SocketException}, so that a {@code catch (SocketException e)} written for
     * {@code java.net.Socket} matches: a reset read's is the JDK's class, and a write's plain
     * {@code IOException} (or the read that reports it again) is made one, as {@code java.net.Socket}'s
     * stream makes it. The write behind the one parked part way wrote nothing, so it gives no count; the
     * writer's count of the bytes that went out and the reader's of the three bytes it read are in an
     * {@code IOException} suppressed in each.
     */
    @Test
    @Timeout(30)
    void aWriteParkedPartWayTheWriteBehindItAndAReadNBytesPartWayEachFailNamingItsOwnCallAndWhatItDid() throws Exception {
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             SocketChannel peer = SocketChannel.open(listener.localAddress()); // blocking; never reads
             TcpConnection c = listener.accept()) {
            String connection = name(c);
            InputStream in = c.input();
            OutputStream out = c.output();
            byte[] data = patterned(16 << 20); // far more than the two sockets' buffers hold
            Map<String, String> failures = new TreeMap<>();
            Map<String, IOException> thrown = new TreeMap<>();
            List<String> returned = new ArrayList<>();
            peer.write(bytes("abc"));
            List<Coroutine> parked = new ArrayList<>();
            for (String who : List.of("writer", "behind", "reader")) { // each parked before the next starts
                ViewCall call = switch (who) {
                    case "writer" -> () -> out.write(data); // fills the sockets' buffers and parks part way
                    case "behind" -> () -> out.write(new byte[100]); // waits for the writer's end
                    default -> () -> in.readNBytes(new byte[10], 0, 10); // takes abc and waits for more
                };
                Coroutine p = Coroutine.create(who, () -> call(who, call, failures, thrown, returned));
                while (!p.isFinished() && p.state() != State.PARKED) {
                    Coroutine.yield();
                }
                assertThat(p.state()).as(who).isEqualTo(State.PARKED);
                parked.add(p);
            }
            assertThat(Coroutine.dump()).contains(
                    "coroutine 'writer': PARKED, waits to write to " + connection,
                    "coroutine 'behind': PARKED, waits to write to " + connection,
                    "coroutine 'reader': PARKED, waits to read from " + connection);

            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // linger 0: the close sends a reset, which loopback delivers before the close returns
            for (Coroutine p : parked) {
                p.join();
            }

            assertThat(returned).as("no call returned").isEmpty();
            String state = " \\(open(, failed)?\\): ";
            String quoted = Pattern.quote(connection);
            assertThat(failures.keySet()).containsExactly("behind", "reader", "writer");
            // each fails with a SocketException: the reader told of the reset, the JDK's; a write, or the read
            // that reports a write's failure again, the JDK's plain IOException made one, as java.net.Socket makes it
            assertThat(thrown.values()).allSatisfy(e -> assertThat(e).isExactlyInstanceOf(SocketException.class));
            assertThat(failures.get("writer")).matches("coroutine 'writer' cannot write to " + quoted + state + "\\S.*")
                    .doesNotContain("bytes of this write");
            Pattern count = Pattern.compile("coroutine 'writer' failed writing to " + quoted
                    + " \\(open, failed\\): (\\d+) of the " + data.length + " bytes of this write were written before it");
            String said = thrown.get("writer").getSuppressed()[0].getMessage();
            assertThat(thrown.get("writer").getSuppressed()).as("the count of the part that went out, in an IOException suppressed in it")
                    .singleElement().asInstanceOf(InstanceOfAssertFactories.THROWABLE).isExactlyInstanceOf(IOException.class)
                    .message().matches(count);
            assertThat(failures.get("behind")).as("it wrote nothing, so gives no count")
                    .matches("coroutine 'behind' cannot write to " + quoted + state + "\\S.*")
                    .doesNotContain("bytes of this write");
            assertThat(thrown.get("behind").getSuppressed()).isEmpty();
            IOException reader = thrown.get("reader");
            if (reader.getCause() instanceof SocketException) { // told of the reset first: the JDK's class
                assertThat(reader).hasCauseExactlyInstanceOf(SocketException.class)
                        .hasMessage("coroutine 'reader' cannot read from " + connection + " (open): java.net.SocketException: Connection reset");
            } else { // the writer was told first: the end of the stream after it reports the writer's failure again
                assertThat(failures.get("reader")).matches("coroutine 'reader' cannot read from " + quoted
                        + " \\(open, failed\\): \\S.*, reported to an earlier call; the end of the stream that follows it is not the peer's");
            }
            assertThat(reader.getSuppressed()).singleElement().asInstanceOf(InstanceOfAssertFactories.THROWABLE)
                    .isExactlyInstanceOf(IOException.class).hasMessage("coroutine 'reader' failed reading from " + connection
                            + " (open, failed): 3 of the 10 bytes of this read were read into the array before it");
            assertThat(failures.values()).as("the first told of the reset finds the connection open, the others failed")
                    .filteredOn(m -> m.contains(" (open): ")).hasSize(1);
            java.util.regex.Matcher m = count.matcher(said);
            assertThat(m.matches()).isTrue();
            int written = Integer.parseInt(m.group(1));
            assertThat(written).as("the part of the write that went out").isBetween(1, data.length - 1);
            assertThat(LoopProbe.ioWaits()).as("no wait left behind").isZero();

            assertThat(c).hasToString("TcpConnection[" + c.localAddress() + " -> " + c.remoteAddress() + ", open, failed]");
            assertThatThrownBy(() -> out.write('x'))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot write to " + connection + " (open, failed): ");
            assertThatThrownBy(in::read)
                    .as("not the end of the stream: the peer reset the connection")
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("main context 'main' cannot read from " + connection + " (open, failed): ");
        }
    }

    /** A call of a view that returns nothing useful here, or throws. */
    @FunctionalInterface
    private interface ViewCall {
        void call() throws IOException;
    }

    /** Runs {@code call} of coroutine {@code who}, recording the exception it fails with and its message, or that it returned. */
    private static void call(String who, ViewCall call, Map<String, String> failures, Map<String, IOException> thrown,
                             List<String> returned) {
        try {
            call.call();
            returned.add(who);
        } catch (IOException e) {
            failures.put(who, e.getMessage());
            thrown.put(who, e);
        }
    }
}
