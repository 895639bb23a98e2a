package dev.coro;

import java.util.List;

/**
 * Every context of a thread is parked and nothing could ever wake any of them.
 *
 * <p>It is thrown instead of hanging: from the operation that would have parked the last runnable
 * context (which then does not park), or, when the last runnable coroutine's body ends with
 * everything else parked, from main's pending wait, which is cancelled. The message names the parked
 * contexts and what each waits for, one per line, the first {@value #SHOWN} of them and then how many
 * more; {@link #waits()} has them all.
 */
public final class DeadlockException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** How many parked contexts the message lists before it gives the count of the rest. */
    static final int SHOWN = 20;

    /** Every parked context and its wait, one line each. */
    private final List<String> waits;

    DeadlockException(String headline, List<String> waits) {
        super(message(headline, waits));
        this.waits = List.copyOf(waits);
    }

    /**
     * Every parked context with what it waits for, e.g. {@code coroutine 'consumer' waits to receive
     * from channel 'jobs'}, and the generator whose body it waits in, if any, as {@link Coroutine#dump()}
     * names it ({@code …, inside generator 'lines'}), in run-list order; the message shows only the
     * first {@value #SHOWN}.
     *
     * @return the lines, unmodifiable
     */
    public List<String> waits() {
        return waits;
    }

    private static String message(String headline, List<String> waits) {
        StringBuilder b = new StringBuilder(headline).append(" (deadlock):");
        int shown = Math.min(SHOWN, waits.size());
        for (int k = 0; k < shown; k++) {
            b.append("\n  ").append(waits.get(k));
        }
        if (waits.size() > shown) {
            b.append("\n  ... and ").append(waits.size() - shown).append(" more parked (DeadlockException.waits() lists them all)");
        }
        return b.toString();
    }
}
