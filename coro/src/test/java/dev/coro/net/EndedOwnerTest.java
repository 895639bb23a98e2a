package dev.coro.net;

import static dev.coro.net.TcpConnectionTest.LOOPBACK;
import static dev.coro.net.TcpConnectionTest.name;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coro.FreshThread;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The listeners and connections of a thread as other threads see them: whether they are open, and
 * whose they are.
 */
@Tag("net") // left out of the interpreted-only and C1-only passes of CI: sockets, not frames
@ExtendWith(FreshThread.class)
class EndedOwnerTest {

    @Test
    void isOpenMayBeAskedFromAnyThreadWhileTheOwnerRunsAndCloseFromAnotherThreadIsStillRefused() throws Exception {
        Thread me = Thread.currentThread();
        try (TcpListener listener = TcpListener.bind(LOOPBACK);
             TcpConnection client = TcpConnection.connect(listener.localAddress());
             TcpConnection server = listener.accept()) {
            AtomicReference<Object> seen = new AtomicReference<>();
            Thread other = Thread.ofPlatform().name("onlooker").start(() -> {
                boolean open = client.isOpen() && listener.isOpen();
                try {
                    client.close();
                    seen.set(open);
                } catch (Throwable e) {
                    seen.set(open + " " + e.getMessage());
                }
            });
            other.join();
            assertThat(seen.get()).isEqualTo("true cannot close " + name(client) + " (state open) from thread "
                    + describe(other) + ": it belongs to thread " + describe(me));
            assertThat(client.isOpen()).isTrue();
            assertThat(server.isOpen()).isTrue();
            server.close();
            listener.close();
            assertThat(server.isOpen()).isFalse();
            assertThat(listener.isOpen()).isFalse();
        }
    }

    private static String describe(Thread t) {
        return "'" + t.getName() + "' (#" + t.threadId() + ")";
    }
}
