package dev.coro;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The warnings the library's logger ({@code dev.coro}) gets while a body runs, collected for a test. */
final class LoggedWarnings {

    private LoggedWarnings() {
    }

    /**
     * Runs {@code body}, adding to {@code into} (under its lock) the message of every warning the
     * {@code dev.coro} logger gets meanwhile that {@code which} accepts.
     *
     * @return what the body returned
     */
    static <T> T during(List<String> into, Predicate<String> which, Callable<T> body) throws Exception {
        Logger log = Logger.getLogger("dev.coro");
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel() == Level.WARNING && which.test(r.getMessage())) {
                    synchronized (into) {
                        into.add(r.getMessage());
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            return body.call();
        } finally {
            log.removeHandler(h);
        }
    }
}
