package dev.coro;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The library's call of a function its user handed it to run inside one of its calls (the body of a
 * {@code withTimeout} or a {@code withPermit}, a select clause's function, a {@code forEach}'s action),
 * made through a frame of this class, so that the frames of a context parked in that function tell where
 * the user's code begins ({@link StackTraces}). Without it a function that is a reference to the library's
 * own method ({@code rows::receive}, {@code out::send}) has no frame between that method's and the
 * library's call that ran it, and reads as that call's own machinery.
 */
final class Callback {

    private Callback() {
    }

    /** {@code f.get()}. */
    static <T> T get(Supplier<? extends T> f) {
        return f.get();
    }

    /** {@code f.get()}, throwing what it throws as it is. */
    static <T, X extends Exception> T call(ThrowingSupplier<? extends T, X> f) throws X {
        return f.get();
    }

    /** {@code f.apply(v)}. */
    static <T, R> R apply(Function<? super T, ? extends R> f, T v) {
        return f.apply(v);
    }

    /** {@code action.accept(v)}. */
    static <T> void accept(Consumer<? super T> action, T v) {
        action.accept(v);
    }
}
