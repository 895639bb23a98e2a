package dev.coro.examples;

import dev.coro.Coroutine;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The C runtime's {@code ping_pong} example: explicit {@link Coroutine#switchTo()} handoff
 * between two partners, five turns each.
 */
public final class PingPong {
    private static final int TURNS = 5;

    private final PrintStream out;

    private PingPong(PrintStream out) {
        this.out = out;
    }

    /** One player: a label, a number of turns and a partner to hand the turn to. */
    private static final class Player {
        final String label;
        final int turns;
        Coroutine partner;

        Player(String label, int turns) {
            this.label = label;
            this.turns = turns;
        }
    }

    /**
     * Runs the example on the calling thread, printing to {@code out}.
     *
     * @param out where the lines go
     */
    public static void run(PrintStream out) {
        new PingPong(out).main();
    }

    /**
     * Runs the example, printing to standard output.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        run(System.out);
    }

    private void play(Player me) {
        for (int turn = 1; turn <= me.turns; turn++) {
            out.printf(Locale.ROOT, "[%s | ctx %d] turn %d%n", me.label, Coroutine.currentId(), turn);
            if (me.partner != null && !me.partner.isFinished()) {
                me.partner.switchTo();
            } else {
                Coroutine.yield();
            }
        }
    }

    private void main() {
        Player ping = new Player("ping", TURNS);
        Player pong = new Player("pong", TURNS);
        Coroutine pingCo = Coroutine.create("ping", this::play, ping);
        Coroutine pongCo = Coroutine.create("pong", this::play, pong);
        ping.partner = pongCo;
        pong.partner = pingCo;
        pingCo.switchTo();
        while (!pingCo.isFinished() || !pongCo.isFinished()) {
            Coroutine.yield();
        }
        pingCo.close();
        pongCo.close();
    }
}
