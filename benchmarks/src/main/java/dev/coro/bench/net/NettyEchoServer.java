package dev.coro.bench.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * An echo server on Netty's NIO transport with exactly one event-loop thread, which both accepts and
 * serves every connection (the boss and worker group are the same single-thread group).
 *
 * <p>The handler writes each inbound buffer back as it is and flushes once per read burst
 * ({@code channelReadComplete}), Netty's idiomatic echo. Netty's defaults otherwise (its buffer allocator,
 * read sizing). Run alone: {@code java -cp benchmarks.jar dev.coro.bench.net.NettyEchoServer <port>}.
 */
public final class NettyEchoServer implements EchoServer {

    private final EventLoopGroup group;
    private final Channel listener;

    private NettyEchoServer(int port) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            listener = new ServerBootstrap()
                    .group(group, group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, BACKLOG)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(Echo.INSTANCE)
                    .bind(HOST, port).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * Starts the server on its single event loop.
     *
     * @param port the port on 127.0.0.1, 0 for any
     * @return the running server
     * @throws InterruptedException if interrupted while binding
     */
    public static NettyEchoServer start(int port) throws InterruptedException {
        return new NettyEchoServer(port);
    }

    /**
     * Runs the server until the JVM is stopped.
     *
     * @param args {@code <port>}
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        EchoServer.serveUntilStopped("netty", start(EchoServer.portArgument(args)));
    }

    @Override
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() throws InterruptedException {
        listener.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Writes every inbound buffer back; flushes when the read burst ends; closes on any error. */
    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        static final Echo INSTANCE = new Echo();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // reset by the peer (the load generator closes with RST)
        }
    }
}
