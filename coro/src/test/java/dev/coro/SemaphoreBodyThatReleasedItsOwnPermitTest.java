package dev.coro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A body run by any of the four forms of {@code withPermit} and {@code callWithPermit} that gives its permit back
 * itself leaves the form's own release refused, as {@link Semaphore#release()} refuses a release too many:
 * a body that returned has that refusal thrown, with the caller and the semaphore named, and a body that
 * threw has its exception thrown, the refusal suppressed in it, as try-with-resources suppresses a failing
 * close. No permit is made: the semaphore has as many free as it was made with.
 */
@ExtendWith(FreshThread.class)
@Timeout(10)
class SemaphoreBodyThatReleasedItsOwnPermitTest {

    private static final String REFUSED = "main context 'main' cannot release Semaphore[s, 1 of 1 permits free]: all its"
            + " permits are free already (more releases than acquires)";

    @Test
    void eachFormWhoseBodyReleasedItsPermitAndReturnedThrowsTheRefusalOfItsOwnRelease() {
        Semaphore s = new Semaphore("s", 1);
        List<Throwable> refused = List.of(
                catchThrowable(() -> s.withPermit(() -> {
                    s.release();
                    return "value";
                })),
                catchThrowable(() -> s.withPermit(s::release)),
                catchThrowable(() -> s.<String, IOException>callWithPermit(() -> {
                    s.release();
                    return "value";
                })),
                catchThrowable(() -> s.<IOException>callWithPermit(s::release)));
        assertThat(refused).allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class).hasMessage(REFUSED));
        assertThat(s.availablePermits()).isEqualTo(1);
    }

    @Test
    void eachFormWhoseBodyReleasedItsPermitAndThrewThrowsWhatTheBodyThrewWithTheRefusalSuppressed() {
        Semaphore s = new Semaphore("s", 1);
        IOException failure = new IOException("the body failed");
        List<Throwable> thrown = List.of(
                catchThrowable(() -> s.withPermit(() -> {
                    s.release();
                    throw new IllegalArgumentException("the body failed");
                })),
                catchThrowable(() -> s.<String, IOException>callWithPermit(() -> {
                    s.release();
                    throw failure;
                })),
                catchThrowable(() -> s.<IOException>callWithPermit(() -> {
                    s.release();
                    throw failure;
                })));
        assertThat(thrown.get(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(thrown.subList(1, 3)).allSatisfy(e -> assertThat(e).isSameAs(failure));
        assertThat(thrown.get(0).getSuppressed()).singleElement().satisfies(e -> assertThat(e)
                .isInstanceOf(IllegalStateException.class).hasMessage(REFUSED));
        assertThat(failure.getSuppressed()).hasSize(2).allSatisfy(e -> assertThat(e)
                .isInstanceOf(IllegalStateException.class).hasMessage(REFUSED));
        assertThat(s.availablePermits()).isEqualTo(1);
    }
}
